//! The journal as the server reads it at start-up (server/src/journal.rs,
//! `Journal::open`): `record::read` on any bytes never panics; its records
//! and `good` agree (the records re-encoded are exactly the bytes up to
//! `good`; a corrupt offset is where the good records end). Every record
//! goes through `journal::decode`, and what decodes re-encodes to itself
//! and is replayed (`Hub::replay`) into a hub with the sample accounts
//! (credentials.txt). The hub's state is then compacted (`journal_all`,
//! as the journal's thread rewrites the file): the compaction decodes,
//! replays into a fresh hub without a refusal, and compacts again to the
//! same bytes.
//!
//! Input: a mode byte, then either a journal file (even mode: bytes as
//! they are on disk), or (odd mode) payloads one a line, which the target
//! writes as records itself: a fuzzer cannot forge a record's CRC by
//! mutation, so this is how it reaches `journal::decode` and the replay
//! with payloads of its own. Such a journal must read back whole.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use natter_core::hub::{Config, Hub};
use natter_core::journal::{self, CHANGE_MAX};
use natter_core::protocol::encode;
use natter_core::testing::SAMPLE_ACCOUNTS;
use natter_core::time::Instant;
use natter_server::record::{self, Corrupt, MAX_PAYLOAD};

/// Start-up time: a wall clock in milliseconds, as the server's.
const NOW: Instant = Instant(1_700_000_000_000);

thread_local! {
    /// Two hubs' memory, reused from one input to the next: a new 300 KiB
    /// box each time is a fresh mapping, and its page faults halve the rate.
    static HUBS: RefCell<[Option<Box<Hub>>; 2]> = const { RefCell::new([None, None]) };
}

/// A hub as `natter-server 5000 60 300` loads it before the journal, in
/// `slot`'s memory.
fn sample_hub(slot: &mut Option<Box<Hub>>) -> &mut Hub {
    let new = Hub::new(Config::new(60_000, 300_000));
    let hub = match slot {
        Some(hub) => {
            **hub = new;
            hub
        }
        None => slot.insert(Box::new(new)),
    };
    for (name, password) in SAMPLE_ACCOUNTS {
        hub.add_account(name, password).expect("a sample account");
    }
    hub
}

/// The hub's whole state as journal records, as a compaction writes it.
fn compact(hub: &mut Hub) -> Vec<u8> {
    hub.journal_all();
    hub.start_batch();
    let mut change = [0u8; CHANGE_MAX];
    let mut records = Vec::new();
    while let Some(polled) = hub.poll_change(&mut change) {
        assert_eq!(change[polled.len - 1], b'\n');
        record::encode(&change[..polled.len - 1], &mut records);
    }
    assert!(!hub.has_changes(), "a compaction left changes behind");
    records
}

/// `lines` written as a journal, a record for each line that is not empty.
fn written(lines: &[u8]) -> (Vec<u8>, Vec<&[u8]>) {
    let payloads: Vec<&[u8]> = lines
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| &line[..line.len().min(MAX_PAYLOAD)])
        .collect();
    let mut bytes = Vec::new();
    for payload in &payloads {
        record::encode(payload, &mut bytes);
    }
    (bytes, payloads)
}

/// What `Journal::open` would replay from `bytes`; what is left to check.
fn check(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let read = match record::read(bytes) {
        Ok(read) => read,
        Err(Corrupt { offset }) => {
            // Damage is where the good records stop, with a good one after.
            assert!(offset < bytes.len());
            let before = record::read(&bytes[..offset]).expect("the records before damage read");
            assert_eq!(before.good, offset, "damage not at a record's start");
            return None;
        }
    };
    assert!(read.good <= bytes.len());
    let mut again = Vec::new();
    for payload in &read.records {
        assert!(!payload.is_empty() && payload.len() <= MAX_PAYLOAD);
        record::encode(payload, &mut again);
    }
    assert_eq!(again, &bytes[..read.good], "records and good disagree");
    Some(read.records)
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else {
        return;
    };
    let (bytes, records) = if mode % 2 == 0 {
        (rest.to_vec(), None)
    } else {
        let (bytes, payloads) = written(rest);
        (bytes, Some(payloads))
    };
    let Some(read) = check(&bytes) else {
        assert!(records.is_none(), "a journal as written read as damaged");
        return;
    };
    if let Some(records) = records {
        assert_eq!(read, records, "a journal as written read back otherwise");
    }

    HUBS.with_borrow_mut(|[first, second]| replay(&read, first, second));
});

/// Replays `records` into a hub (in `first`), then checks its compaction
/// against a hub that replays it (in `second`).
fn replay(records: &[&[u8]], first: &mut Option<Box<Hub>>, second: &mut Option<Box<Hub>>) {
    let mut changes = Vec::new();
    for payload in records {
        let Ok(change) = journal::decode(payload) else {
            continue;
        };
        // Larger than CHANGE_MAX: names in a record need not be accounts'
        // (control characters take six bytes escaped).
        let mut buf = vec![0u8; 4 * CHANGE_MAX];
        let n = encode(&change, &mut buf).expect("a decoded change encodes");
        assert_eq!(journal::decode(&buf[..n - 1]).as_ref(), Ok(&change));
        changes.push(change);
    }
    // The hubs are made only for a journal with a change in it: most
    // inputs have none.
    if changes.is_empty() {
        return;
    }
    let hub = sample_hub(first);
    for change in changes {
        // Unknown users and letters with no room are counted, not errors.
        let _ = hub.replay(change, NOW);
    }

    let compacted = compact(hub);
    let fresh = sample_hub(second);
    let read = record::read(&compacted).expect("a compaction reads back");
    assert_eq!(read.good, compacted.len());
    for payload in read.records {
        let change = journal::decode(payload).expect("a compaction decodes");
        let shown = format!("{change:?}");
        if let Err(e) = fresh.replay(change, NOW) {
            panic!("a compaction's change refused on replay: {e:?}: {shown}");
        }
    }
    assert_eq!(compact(fresh), compacted, "compaction is not stable");
}
