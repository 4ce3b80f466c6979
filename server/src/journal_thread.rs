//! The journal's own thread (issue 24): the event loop never writes or
//! syncs a file. Each turn the loop hands the hub's changes, as one batch
//! of records, to this thread, which writes and syncs them while the loop
//! goes on relaying, then wakes the loop with the batch's fate; the hub
//! lets out what waited for that batch (`Stored`, `Accepted`, blocks).
//!
//! One batch is in hand at a time; while it syncs, the hub's dirty state
//! gathers everything that changes meanwhile, and the next batch takes it
//! all: group commit, with nothing queued between the two but one buffer
//! that goes back and forth. The loop decides what a batch is (changes,
//! or the whole state for a compaction or the retry after a failed
//! write); the thread does the file's work ([`Journal`]).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

use natter_core::hub::Hub;
use natter_core::journal::{CHANGE_MAX, ChangeBuf};
use natter_core::time::Instant;

use crate::journal::Journal;
use crate::record;
use crate::waker::Waker;

/// The smallest size at which the journal is compacted; it is also
/// compacted once it is twice what the last compaction left.
pub const COMPACT_AT: u64 = 1024 * 1024;

/// How long after a failed write (a full disk) the next is tried: letters
/// are refused meanwhile.
const RETRY_MS: u64 = 1_000;

/// The loop's side: what it hands the thread, and what it knows of the
/// file.
pub struct JournalThread {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    path: PathBuf,
    /// The next batch's records; the buffer goes to the thread with the
    /// batch and comes back with its answer, so nothing is allocated once
    /// it has grown to a batch's size.
    records: Vec<u8>,
    change: Box<ChangeBuf>,
    /// The batch the thread has: its number, and whether it is the whole
    /// state.
    writing: Option<(u64, bool)>,
    /// Bytes of whole records in the file.
    len: u64,
    /// Compact once the file is this long.
    compact_at: u64,
    /// The smallest `compact_at`.
    compact_floor: u64,
    /// The last write failed: the next is the whole state, in a new file,
    /// not before this time.
    retry_at: Option<Instant>,
    /// Syncs so far, for the benchmark's figures.
    pub syncs: u64,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a batch is handed over, answered, or the thread is
    /// to stop.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    batch: Option<Batch>,
    done: Option<Done>,
    stop: bool,
    /// The thread is gone (it panicked, or was told to stop).
    ended: bool,
}

struct Batch {
    records: Vec<u8>,
    /// The whole state: it replaces the file.
    whole: bool,
    /// Something in it was promised to someone: synced, not just written.
    sync: bool,
}

struct Done {
    records: Vec<u8>,
    written: io::Result<()>,
    len: u64,
    syncs: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state half changed: each
        // change is one assignment.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl JournalThread {
    /// Starts the thread, which owns `journal` from now on and wakes the
    /// loop with `waker` when a batch is written (or it ended).
    pub fn spawn(journal: Journal, compact_floor: u64, waker: Waker) -> io::Result<JournalThread> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let (path, len) = (journal.path().to_owned(), journal.len());
        let theirs = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("natter-journal".into())
            .spawn(move || write_batches(journal, &theirs, waker))?;
        Ok(JournalThread {
            shared,
            thread: Some(thread),
            path,
            records: Vec::new(),
            change: Box::new([0; CHANGE_MAX]),
            writing: None,
            len,
            compact_at: compact_floor.max(2 * len),
            compact_floor,
            retry_at: None,
            syncs: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When [`JournalThread::commit`] has something to do: the hub's
    /// changes are due and the thread is free, or a retry is due.
    pub fn due(&self, hub: &Hub) -> Option<Instant> {
        if self.writing.is_some() {
            return None;
        }
        let due = hub.journal_due()?;
        Some(self.retry_at.map_or(due, |at| at.max(due)))
    }

    /// Hands the hub's changes to the thread as the next batch, if it has
    /// none in hand and they are due (`Hub::journal_due`; the whole state
    /// when the file is due for compaction, or a write failed and its
    /// retry is due). Returns whether a batch ended at once, all its
    /// changes needing no record: the hub may have frames let out.
    pub fn commit(&mut self, hub: &mut Hub, now: Instant) -> bool {
        self.due(hub).is_some_and(|at| at <= now) && self.hand_over(hub)
    }

    /// Hands the hub's changes over, whenever they are due; as
    /// [`JournalThread::commit`].
    fn hand_over(&mut self, hub: &mut Hub) -> bool {
        let whole = self.retry_at.is_some() || self.len >= self.compact_at;
        if whole {
            hub.journal_all();
        }
        let batch = hub.start_batch();
        self.records.clear();
        let mut sync = false;
        while let Some(polled) = hub.poll_change(&mut self.change[..]) {
            // The record holds the line without its line feed.
            record::encode(&self.change[..polled.len - 1], &mut self.records);
            sync |= polled.promised;
        }
        if self.records.is_empty() {
            // Letters read before their turn came: nothing to write.
            hub.journal_synced(batch);
            return true;
        }
        let records = std::mem::take(&mut self.records);
        self.writing = Some((batch, whole));
        let mut state = self.shared.lock();
        state.batch = Some(Batch {
            records,
            whole,
            sync,
        });
        self.shared.changed.notify_all();
        false
    }

    /// Tells the hub how the batch in hand ended, if it has: synced (what
    /// waited for it goes out, senders are told `Accepted`) or failed
    /// (refused letters until a retry, a second later, writes the whole
    /// state). An error if the thread is gone: promises would wait
    /// forever.
    pub fn take_done(&mut self, hub: &mut Hub, now: Instant) -> io::Result<()> {
        let (done, ended) = {
            let mut state = self.shared.lock();
            (state.done.take(), state.ended)
        };
        if let Some(done) = done {
            self.finished(done, hub, now);
        }
        if ended {
            return Err(gone());
        }
        Ok(())
    }

    fn finished(&mut self, done: Done, hub: &mut Hub, now: Instant) {
        let Some((batch, whole)) = self.writing.take() else {
            return;
        };
        self.records = done.records;
        self.len = done.len;
        self.syncs = done.syncs;
        match done.written {
            Ok(()) => {
                if whole {
                    self.compact_at = self.compact_floor.max(2 * self.len);
                }
                if self.retry_at.take().is_some() {
                    eprintln!("natter-server: {}: written again", self.path.display());
                }
                hub.journal_synced(batch);
            }
            Err(error) => {
                if self.retry_at.is_none() {
                    eprintln!(
                        "natter-server: {}: {error}; messages are refused until it can be written",
                        self.path.display()
                    );
                }
                self.retry_at = Some(now.after(RETRY_MS));
                hub.journal_failed(batch);
            }
        }
    }

    /// Waits for the batch in hand, if any, then writes whatever changed
    /// since and waits for that: the journal as of now, on disk, or what
    /// the disk refused. For shutdown and tests; the loop never waits.
    pub fn flush(&mut self, hub: &mut Hub, now: Instant) -> io::Result<()> {
        self.wait(hub, now)?;
        // Now, not at the next retry or after gathering: nothing comes
        // after.
        while hub.has_changes() && self.hand_over(hub) {}
        self.wait(hub, now)
    }

    /// Waits until the batch in hand is done, and tells the hub.
    fn wait(&mut self, hub: &mut Hub, now: Instant) -> io::Result<()> {
        if self.writing.is_none() {
            return Ok(());
        }
        let done = {
            let mut state = self.shared.lock();
            loop {
                if let Some(done) = state.done.take() {
                    break done;
                }
                if state.ended {
                    return Err(gone());
                }
                state = self
                    .shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        self.finished(done, hub, now);
        Ok(())
    }
}

impl Drop for JournalThread {
    /// Lets the batch in hand finish, so no record is left half written.
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread is gone with promises in its hands.
fn gone() -> io::Error {
    io::Error::other("the journal thread stopped")
}

/// Says the thread ended, however it ends (a panic, say): to the loop
/// waiting on the condition, and to the loop waiting on its poller.
struct Ended<'a>(&'a Shared, Waker);

impl Drop for Ended<'_> {
    fn drop(&mut self) {
        self.0.lock().ended = true;
        self.0.changed.notify_all();
        self.1.wake();
    }
}

/// The thread: each batch handed over, written (and synced) or written
/// whole, and answered, until told to stop.
fn write_batches(mut journal: Journal, shared: &Shared, waker: Waker) {
    let ended = Ended(shared, waker);
    let waker = &ended.1;
    loop {
        let batch = {
            let mut state = shared.lock();
            loop {
                if let Some(batch) = state.batch.take() {
                    break batch;
                }
                if state.stop {
                    return;
                }
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let written = if batch.whole {
            journal.rewrite(&batch.records)
        } else {
            journal.append(&batch.records, batch.sync)
        };
        shared.lock().done = Some(Done {
            records: batch.records,
            written,
            len: journal.len(),
            syncs: journal.syncs,
        });
        shared.changed.notify_all();
        waker.wake();
    }
}
