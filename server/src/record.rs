//! The journal's records on disk (issue 11): each is its payload's length
//! (u32, little-endian), the payload's CRC-32 (u32, little-endian), then
//! the payload. Reading a journal tells a torn tail, what a power cut
//! mid-write leaves and recovery cuts off, from damage in the middle,
//! which stops start-up rather than guess.

/// The largest payload a record may have: a record claiming more is
/// damage, not a record.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// Bytes before each payload: length and checksum.
pub const HEADER: usize = 8;

/// Appends one record holding `payload` to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    debug_assert!(!payload.is_empty() && payload.len() <= MAX_PAYLOAD);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// A journal read whole.
#[derive(Debug, PartialEq, Eq)]
pub struct Journal<'a> {
    /// Every good record's payload, in order.
    pub records: Vec<&'a [u8]>,
    /// Where the good records end: the rest (if any) is a torn tail.
    pub good: usize,
}

/// A record that is damaged though good ones follow it.
#[derive(Debug, PartialEq, Eq)]
pub struct Corrupt {
    /// Where the damaged record starts, in bytes from the file's start.
    pub offset: usize,
}

/// Reads every record of `bytes`. A bad record with no good one after it
/// (cut short, failing its checksum, zeros where a record should begin)
/// is a torn tail: the records before it are the journal, `good` says
/// where to cut. A bad record with a good one after it is corruption.
pub fn read(bytes: &[u8]) -> Result<Journal<'_>, Corrupt> {
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match record_at(bytes, at) {
            Some((payload, next)) => {
                records.push(payload);
                at = next;
            }
            None if torn(bytes, at) => break,
            None => return Err(Corrupt { offset: at }),
        }
    }
    Ok(Journal { records, good: at })
}

/// The good record at `at` and where the next begins.
fn record_at(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let header = bytes.get(at..at.checked_add(HEADER)?)?;
    let (length, checksum) = header.split_at(4);
    let length = u32::from_le_bytes(length.try_into().ok()?) as usize;
    let checksum = u32::from_le_bytes(checksum.try_into().ok()?);
    if length == 0 || length > MAX_PAYLOAD {
        return None;
    }
    let end = at + HEADER + length;
    let payload = bytes.get(at + HEADER..end)?;
    (crc32fast::hash(payload) == checksum).then_some((payload, end))
}

/// Whether the bad record at `at` is the journal's last write, cut off
/// or garbled: no good record begins anywhere after it. (A flipped bit in
/// a length can make a middle record claim to run past the end; the good
/// records behind it tell that apart from a tail. A chance match of a
/// checksum in the garbage is one in 2^32 per offset.)
fn torn(bytes: &[u8], at: usize) -> bool {
    (at + 1..bytes.len()).all(|start| record_at(bytes, start).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(payloads: &[&[u8]]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for payload in payloads {
            encode(payload, &mut bytes);
            ends.push(bytes.len());
        }
        (bytes, ends)
    }

    const PAYLOADS: [&[u8]; 4] = [
        b"{\"Posted\":{\"id\":1}}",
        b"x",
        b"{\"Blocked\":{\"user\":\"yoda\",\"other\":\"hans\"}}",
        &[0u8; 300],
    ];

    #[test]
    fn a_journal_reads_back_as_written() {
        let (bytes, ends) = journal(&PAYLOADS);
        let read = read(&bytes).unwrap();
        assert_eq!(read.records, PAYLOADS);
        assert_eq!(read.good, *ends.last().unwrap());
        assert_eq!(super::read(&[]).unwrap().records.len(), 0);
    }

    #[test]
    fn every_prefix_reads_as_its_whole_records_and_a_torn_tail() {
        let (bytes, ends) = journal(&PAYLOADS);
        for cut in 0..=bytes.len() {
            let read = read(&bytes[..cut])
                .unwrap_or_else(|e| panic!("a cut at {cut} read as corrupt at {}", e.offset));
            let whole = ends.iter().filter(|&&end| end <= cut).count();
            assert_eq!(read.records, PAYLOADS[..whole], "cut at {cut}");
            assert_eq!(read.good, if whole == 0 { 0 } else { ends[whole - 1] });
        }
    }

    #[test]
    fn a_flipped_byte_in_the_last_record_is_a_torn_tail() {
        let (bytes, ends) = journal(&PAYLOADS);
        let last = ends[ends.len() - 2];
        for at in last..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            let read = read(&damaged).unwrap_or_else(|e| panic!("flip at {at}: {e:?}"));
            assert_eq!(read.records, PAYLOADS[..3], "flip at {at}");
            assert_eq!(read.good, last);
        }
    }

    #[test]
    fn a_flipped_byte_in_the_middle_is_corruption_at_its_record() {
        let (bytes, ends) = journal(&PAYLOADS);
        let starts = [0, ends[0], ends[1], ends[2]];
        for at in 0..ends[2] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            let record = starts.iter().rposition(|&s| s <= at).unwrap();
            match read(&damaged) {
                Err(Corrupt { offset }) => assert_eq!(offset, starts[record], "flip at {at}"),
                Ok(read) => panic!("flip at {at} read as {} records", read.records.len()),
            }
        }
    }

    #[test]
    fn zeros_after_the_last_record_are_a_torn_tail() {
        let (mut bytes, ends) = journal(&PAYLOADS[..2]);
        bytes.extend_from_slice(&[0u8; 4096]);
        let read = read(&bytes).unwrap();
        assert_eq!(read.records, PAYLOADS[..2]);
        assert_eq!(read.good, ends[1]);
    }
}
