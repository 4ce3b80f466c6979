//! The journal's file as the simulator keeps it: the synced part, and the
//! one batch in hand (as the server's journal thread has it), which a
//! crash may leave torn at any byte. Records are the hub's change lines;
//! the server's checksummed framing around them has its own tests and
//! fuzz target.

use std::collections::{BTreeMap, BTreeSet};

use natter_core::journal::{self, Change};
use natter_core::time::Instant;

/// The journal's bound before a rewrite, at least (`COMPACT_AT` in the
/// server is larger; small here, so histories compact often).
const COMPACT_FLOOR: usize = 2048;

/// After a failed write, the next try (`RETRY_MS` in the server).
pub const RETRY_MS: u64 = 1000;

/// A batch handed to the disk, not done yet.
pub struct Pending {
    pub batch: u64,
    pub bytes: Vec<u8>,
    /// The whole state, replacing the file (compaction, or a retry).
    pub whole: bool,
}

#[derive(Default)]
pub struct Disk {
    /// What is synced: whole lines only.
    pub file: Vec<u8>,
    pub pending: Option<Pending>,
    pub compact_at: usize,
    /// A write failed and none succeeded since: the hub refuses letters.
    pub failing: bool,
    /// Failed writes so far.
    pub failures: u64,
    pub retry_at: Option<Instant>,
    /// Letter ids whose record is synced.
    pub durable_letters: BTreeSet<u64>,
    /// Each user's read mark as synced.
    pub durable_reads: BTreeMap<String, u64>,
}

impl Disk {
    pub fn new() -> Disk {
        Disk {
            compact_at: COMPACT_FLOOR,
            ..Disk::default()
        }
    }

    /// Whether the next batch should be the whole state.
    pub fn wants_whole(&self) -> bool {
        self.retry_at.is_some() || self.file.len() >= self.compact_at
    }

    /// The batch in hand is written and synced.
    pub fn synced(&mut self) -> u64 {
        let pending = self.pending.take().expect("a batch in hand");
        if pending.whole {
            self.durable_letters.clear();
            self.durable_reads.clear();
            self.learn(&pending.bytes);
            self.file = pending.bytes;
            self.compact_at = COMPACT_FLOOR.max(2 * self.file.len());
        } else {
            self.learn(&pending.bytes);
            self.file.extend_from_slice(&pending.bytes);
        }
        self.failing = false;
        self.retry_at = None;
        pending.batch
    }

    /// The batch in hand failed (a full disk): the file is as it was.
    pub fn failed(&mut self, now: Instant) -> u64 {
        let pending = self.pending.take().expect("a batch in hand");
        self.failing = true;
        self.failures += 1;
        self.retry_at = Some(now.after(RETRY_MS));
        pending.batch
    }

    /// The file a crash leaves: the synced part, then as much of the batch
    /// in hand as reached the disk (any prefix of an append; a rewrite
    /// whole or not at all), cut back to its last whole record as the
    /// server cuts a torn tail.
    pub fn crash(&mut self, cut: u64, renamed: bool) -> usize {
        let mut file = std::mem::take(&mut self.file);
        if let Some(pending) = self.pending.take() {
            if pending.whole {
                if renamed {
                    file = pending.bytes;
                }
            } else {
                let cut = (cut % (pending.bytes.len() as u64 + 1)) as usize;
                file.extend_from_slice(&pending.bytes[..cut]);
            }
        }
        let good = file.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let torn = file.len() - good;
        file.truncate(good);
        *self = Disk {
            file,
            compact_at: COMPACT_FLOOR,
            failures: self.failures,
            ..Disk::default()
        };
        self.compact_at = COMPACT_FLOOR.max(2 * self.file.len());
        let file = std::mem::take(&mut self.file);
        self.learn(&file);
        self.file = file;
        torn
    }

    /// Every record of the file, decoded.
    pub fn changes(&self) -> Vec<Change> {
        decode_all(&self.file)
    }

    /// What records newly synced promise.
    fn learn(&mut self, records: &[u8]) {
        for change in decode_all(records) {
            match change {
                Change::Letter { id, .. } => {
                    self.durable_letters.insert(id);
                }
                Change::Read { user, id } => {
                    let mark = self.durable_reads.entry(user.to_string()).or_default();
                    *mark = (*mark).max(id);
                }
                _ => {}
            }
        }
    }
}

/// Every record of `records`, decoded: the hub's own, so each decodes.
fn decode_all(records: &[u8]) -> Vec<Change> {
    records
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| match journal::decode(line) {
            Ok(change) => change,
            Err(error) => panic!(
                "a journal record does not decode ({error:?}): {}",
                String::from_utf8_lossy(line)
            ),
        })
        .collect()
}
