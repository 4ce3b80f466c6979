//! What the hub has to say to one connection, until the shell takes it.
//!
//! Frames other than messages are kept encoded, in order, in a ring of
//! [`CONTROL_BYTES`]. Messages are not copied in: the ring holds a mark,
//! "letters up to id N", where they come in the order of things, and the
//! hub reads them from the store when the shell takes its bytes
//! (`Hub::poll_transmit`). So a burst of messages costs the ring nine bytes,
//! and a message is encoded once, straight into the shell's buffer.
//!
//! Frames that promise durability (`Stored`, `UserBlocked`,
//! `UserUnblocked`, a block for wrong passwords) come after a *barrier*,
//! "not before the journal's batch N is settled" (synced, or failed and
//! said so): nothing behind it goes out before that, so the order a
//! reader sees stays the order the rules decided, and nothing is promised
//! before it is on disk, however the shell takes the bytes.
//!
//! The answer to `whoelse` or `whoelsesince` is not copied in either: the
//! ring holds a *listing*, "the users seen since S, from account N on",
//! and the hub writes them as `Users` frames of a few dozen names when the
//! shell takes the bytes, however many there are (issue 26).
//!
//! A mark is a zero byte and the id, little-endian; a barrier a one byte
//! and the batch; a listing a two byte, the time and the account; a frame
//! is its JSON line. JSON never holds a raw zero, one or two byte (control
//! characters are escaped), so they cannot be confused.

use heapless::Deque;

use crate::limits::CONTROL_BYTES;
use crate::time::Instant;
use crate::user::UserId;

const MARK: u8 = 0;
const BARRIER: u8 = 1;
const LISTING: u8 = 2;
/// A mark or a barrier: its kind, then a little-endian `u64`.
const MARK_BYTES: usize = 1 + 8;
/// A listing: its kind, then two little-endian `u64`: the time its users
/// were seen since, plus one (0: online now); and the account it is for
/// (bits 32 to 47) and the next account (bits 0 to 31).
const LISTING_BYTES: usize = 1 + 8 + 8;

/// The ring has no room: the client is not reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

/// The oldest thing waiting to go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// An encoded frame of this many bytes, line feed included.
    Frame(usize),
    /// Every letter up to this id that was not sent yet.
    Letters(u64),
    /// Nothing more before the journal has settled this batch.
    Barrier(u64),
    /// The users online now (`since` = None), or seen since then, that
    /// `asker` may see, from account index `from` on. For the user who
    /// asked, whatever the connection became since (logged out, closing):
    /// the answer goes out before what followed it.
    Listing {
        asker: UserId,
        since: Option<Instant>,
        from: usize,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Output {
    ring: Deque<u8, CONTROL_BYTES>,
    /// The ring ends with a mark, which a newer one can replace.
    ends_with_mark: bool,
    /// The highest barrier queued: a frame that needs no later batch is
    /// behind one already.
    barrier: u64,
    /// The id of the last letter put in the shell's buffer.
    pub sent: u64,
    /// Letters this connection posted whose `Accepted` waits for a sync.
    pub unaccepted: Unaccepted,
}

/// The last letters a connection posted, by the journal batch that holds
/// them, that it was not yet told are accepted (durable). Two batches at
/// most are open at a time, the one syncing and the one gathering, so two
/// entries suffice; a third merges into the newer (told later, never
/// sooner).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unaccepted([Option<Posted>; 2]);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Posted {
    id: u64,
    batch: u64,
}

impl Unaccepted {
    /// Letter `id` is in journal batch `batch`.
    pub fn post(&mut self, id: u64, batch: u64) {
        let posted = Posted { id, batch };
        // Entries are kept oldest first, with no gap (`told`).
        match &mut self.0 {
            [older @ None, _] => *older = Some(posted),
            [Some(older), None] if older.batch == batch => older.id = id,
            [Some(_), newer @ None] => *newer = Some(posted),
            // The same batch, or a later one merged in.
            [Some(_), Some(newer)] => *newer = posted,
        }
    }

    /// The highest id of the letters in batches up to `synced`: what to
    /// tell the sender is accepted, if anything.
    pub fn due(&self, synced: u64) -> Option<u64> {
        self.0
            .iter()
            .flatten()
            .filter(|posted| posted.batch <= synced)
            .map(|posted| posted.id)
            .max()
    }

    /// The sender was told of the letters in batches up to `synced`.
    pub fn told(&mut self, synced: u64) {
        for entry in &mut self.0 {
            if entry.is_some_and(|posted| posted.batch <= synced) {
                *entry = None;
            }
        }
        if self.0[0].is_none() {
            self.0.swap(0, 1);
        }
    }
}

impl Output {
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Bytes that can be queued still.
    pub fn room(&self) -> usize {
        CONTROL_BYTES - self.ring.len()
    }

    /// Queues an encoded frame (ending in a line feed), whole or not at all.
    pub fn push_frame(&mut self, line: &[u8]) -> Result<(), Full> {
        if CONTROL_BYTES - self.ring.len() < line.len() {
            return Err(Full);
        }
        for &byte in line {
            // Room was checked above.
            let _ = self.ring.push_back(byte);
        }
        self.ends_with_mark = false;
        Ok(())
    }

    /// Queues the letters up to `id`, after everything queued so far.
    pub fn push_letters(&mut self, id: u64) -> Result<(), Full> {
        if self.ends_with_mark {
            // Nothing was queued since the last mark: move it on.
            let start = self.ring.len() - 8;
            for (i, byte) in id.to_le_bytes().into_iter().enumerate() {
                if let Some(slot) = self.ring.get_mut(start + i) {
                    *slot = byte;
                }
            }
            return Ok(());
        }
        self.push_word(MARK, id)?;
        self.ends_with_mark = true;
        Ok(())
    }

    /// Holds back whatever is queued after this until the journal has
    /// settled `batch`. Batches only grow, so a barrier for a batch no
    /// later than the last one queued is there already.
    pub fn push_barrier(&mut self, batch: u64) -> Result<(), Full> {
        if batch <= self.barrier {
            return Ok(());
        }
        self.push_word(BARRIER, batch)?;
        self.barrier = batch;
        self.ends_with_mark = false;
        Ok(())
    }

    /// The highest batch a barrier was queued for: what is queued now
    /// goes out no sooner than that batch is settled.
    pub fn last_barrier(&self) -> u64 {
        self.barrier
    }

    /// Queues the answer to `asker`'s `whoelse` (`since` = None) or
    /// `whoelsesince`.
    pub fn push_listing(&mut self, asker: UserId, since: Option<Instant>) -> Result<(), Full> {
        if CONTROL_BYTES - self.ring.len() < LISTING_BYTES {
            return Err(Full);
        }
        let since = since.map_or(0, |since| since.millis().saturating_add(1));
        let _ = self.ring.push_back(LISTING);
        // Account indices are 16 bits (`capacity::CEILING`).
        let accounts = (asker.index() as u64) << 32;
        for word in [since, accounts] {
            for byte in word.to_le_bytes() {
                let _ = self.ring.push_back(byte);
            }
        }
        self.ends_with_mark = false;
        Ok(())
    }

    /// The listing in front goes on from account index `from`.
    pub fn advance_listing(&mut self, from: usize) {
        for (i, byte) in (from as u32).to_le_bytes().into_iter().enumerate() {
            if let Some(slot) = self.ring.get_mut(1 + 8 + i) {
                *slot = byte;
            }
        }
    }

    /// Drops the listing in front: its users are all out.
    pub fn drop_listing(&mut self) {
        for _ in 0..LISTING_BYTES {
            self.ring.pop_front();
        }
        self.ends_with_mark &= !self.ring.is_empty();
    }

    fn push_word(&mut self, kind: u8, word: u64) -> Result<(), Full> {
        if CONTROL_BYTES - self.ring.len() < MARK_BYTES {
            return Err(Full);
        }
        let _ = self.ring.push_back(kind);
        for byte in word.to_le_bytes() {
            let _ = self.ring.push_back(byte);
        }
        Ok(())
    }

    /// What comes out next, if anything.
    pub fn next(&self) -> Option<Next> {
        let word = |at: usize| {
            let mut bytes = [0u8; 8];
            for (i, byte) in bytes.iter_mut().enumerate() {
                *byte = self.ring.get(at + i).copied().unwrap_or(0);
            }
            u64::from_le_bytes(bytes)
        };
        match *self.ring.front()? {
            MARK => Some(Next::Letters(word(1))),
            BARRIER => Some(Next::Barrier(word(1))),
            LISTING => Some(Next::Listing {
                asker: UserId::from_index((word(9) >> 32) as u16 as usize),
                since: word(1).checked_sub(1).map(Instant),
                from: (word(9) as u32) as usize,
            }),
            _ => {
                // Every frame was pushed whole, line feed last.
                let end = self.ring.iter().position(|&b| b == b'\n')?;
                Some(Next::Frame(end + 1))
            }
        }
    }

    /// Moves the next frame, of `into.len()` bytes, into `into`.
    pub fn take_frame(&mut self, into: &mut [u8]) {
        for byte in into {
            *byte = self.ring.pop_front().unwrap_or(b'\n');
        }
        self.ends_with_mark &= !self.ring.is_empty();
    }

    /// Drops the next mark (its letters are all out) or barrier (its
    /// batch is settled).
    pub fn drop_mark(&mut self) {
        for _ in 0..MARK_BYTES {
            self.ring.pop_front();
        }
        self.ends_with_mark &= !self.ring.is_empty();
    }

    /// Forgets everything queued: the connection is dropped unread.
    pub fn clear(&mut self) {
        self.ring.clear();
        self.ends_with_mark = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_keeps_its_place_its_asker_and_its_cursor() {
        let (hans, yoda) = (UserId::from_index(0), UserId::from_index(65_534));
        let listing = |asker, since, from| Some(Next::Listing { asker, since, from });
        let mut out = Output::default();
        out.push_letters(3).unwrap();
        out.push_listing(yoda, Some(Instant(5_000))).unwrap();
        out.push_letters(4).unwrap();
        out.push_listing(hans, None).unwrap();
        assert_eq!(out.next(), Some(Next::Letters(3)));
        out.drop_mark();
        let since = Some(Instant(5_000));
        assert_eq!(out.next(), listing(yoda, since, 0));
        out.advance_listing(65_000);
        assert_eq!(out.next(), listing(yoda, since, 65_000));
        out.drop_listing();
        // The mark after a listing is not merged into one before it.
        assert_eq!(out.next(), Some(Next::Letters(4)));
        out.drop_mark();
        assert_eq!(out.next(), listing(hans, None, 0));
        out.drop_listing();
        assert!(out.is_empty());
        // The time 0 is a time, not "online now".
        out.push_listing(hans, Some(Instant(0))).unwrap();
        assert_eq!(out.next(), listing(hans, Some(Instant(0)), 0));
    }

    #[test]
    fn frames_and_marks_come_out_in_order_and_marks_coalesce() {
        let mut out = Output::default();
        out.push_frame(b"{\"A\":{}}\n").unwrap();
        out.push_letters(3).unwrap();
        out.push_letters(5).unwrap();
        out.push_frame(b"{\"B\":{}}\n").unwrap();
        out.push_letters(6).unwrap();
        assert_eq!(out.next(), Some(Next::Frame(9)));
        let mut line = [0; 9];
        out.take_frame(&mut line);
        assert_eq!(&line, b"{\"A\":{}}\n");
        assert_eq!(out.next(), Some(Next::Letters(5)));
        out.drop_mark();
        assert_eq!(out.next(), Some(Next::Frame(9)));
        out.take_frame(&mut line);
        assert_eq!(out.next(), Some(Next::Letters(6)));
        out.drop_mark();
        assert_eq!(out.next(), None);
        assert!(out.is_empty());
    }

    #[test]
    fn a_full_ring_takes_nothing_but_a_burst_of_letters_never_fills_it() {
        let mut out = Output::default();
        let line = [b'x'; CONTROL_BYTES - 4];
        out.push_frame(&line).unwrap();
        assert_eq!(out.push_frame(b"{}\n\n\n"), Err(Full));
        assert_eq!(out.push_letters(1), Err(Full));
        out.clear();
        for id in 1..10_000 {
            out.push_letters(id).unwrap();
        }
        assert_eq!(out.next(), Some(Next::Letters(9_999)));
    }

    #[test]
    fn a_barrier_keeps_its_place_and_is_queued_once_per_batch() {
        let mut out = Output::default();
        out.push_letters(1).unwrap();
        out.push_barrier(4).unwrap();
        out.push_frame(b"{\"S\":{}}\n").unwrap();
        // Already behind the barrier for batch 4: no second one.
        out.push_barrier(4).unwrap();
        out.push_barrier(3).unwrap();
        out.push_frame(b"{\"T\":{}}\n").unwrap();
        // A letter after the barrier waits behind it, not with letter 1.
        out.push_letters(2).unwrap();
        out.push_barrier(5).unwrap();
        assert_eq!(out.next(), Some(Next::Letters(1)));
        out.drop_mark();
        assert_eq!(out.next(), Some(Next::Barrier(4)));
        out.drop_mark();
        let mut line = [0; 9];
        for want in [b"{\"S\":{}}\n", b"{\"T\":{}}\n"] {
            assert_eq!(out.next(), Some(Next::Frame(9)));
            out.take_frame(&mut line);
            assert_eq!(&line, want);
        }
        assert_eq!(out.next(), Some(Next::Letters(2)));
        out.drop_mark();
        assert_eq!(out.next(), Some(Next::Barrier(5)));
        out.drop_mark();
        assert!(out.is_empty());
    }

    #[test]
    fn unaccepted_letters_are_told_by_batch_and_never_before_theirs() {
        let mut unaccepted = Unaccepted::default();
        unaccepted.post(1, 5);
        unaccepted.post(2, 5);
        unaccepted.post(3, 6);
        assert_eq!(unaccepted.due(4), None);
        assert_eq!(unaccepted.due(5), Some(2));
        assert_eq!(unaccepted.due(6), Some(3));
        unaccepted.told(5);
        unaccepted.post(4, 7);
        // A third open batch: letter 4 is told with letter 5, not sooner.
        unaccepted.post(5, 8);
        assert_eq!(unaccepted.due(6), Some(3));
        unaccepted.told(6);
        assert_eq!(unaccepted.due(7), None);
        assert_eq!(unaccepted.due(8), Some(5));
        unaccepted.told(8);
        assert_eq!(unaccepted, Unaccepted::default());
    }
}
