//! What the hub must get back after a restart (issue 11), as changes for
//! the shell's journal: letters waiting, what each user has read,
//! blacklists and password blocks.
//!
//! Dirty state, not a queue of events, so nothing can overflow: a cursor
//! says up to which letter id the letters were handed out, and a bit per
//! user says that their read mark, blacklist or block changed since.
//! `poll_change` encodes the next change from the live state; a letter
//! read before its turn came needs no record at all.
//!
//! The shell takes the changes in numbered *batches* (`start_batch`, then
//! `poll_change` until none is left), writes and syncs each, and says so
//! (`journal_synced`). A frame that promises durability waits behind a
//! barrier for the batch its change will be in (`output.rs`), and each
//! sender is told its letters are accepted once theirs is synced; every
//! other frame goes out at once. So the shell may sync on another thread,
//! one batch while the next gathers, and nothing promised can reach a
//! socket before it is on disk.

use super::Hub;
use crate::journal::Blocked;
use crate::journal::Change;
use crate::limits::{CLOSING_MS, JOURNAL_GATHER_MS};
use crate::output::Next;
use crate::protocol::{self, ByeReason, Refusal, ServerFrame};
use crate::session::{Phase, Session};
use crate::store::RestoreError;
use crate::table::{Ring, Table};
use crate::time::Instant;
use crate::user::{Unsaved, UserId};

/// What changed since the shell last took the changes.
#[derive(Debug)]
pub(super) struct Dirty {
    /// `Change::Ids` is due: the start of a compaction.
    ids: bool,
    /// Letters up to this id were handed out (or read before their turn).
    letters: u64,
    /// Letters posted and not handed out yet, in the order posted, so the
    /// next is found without a walk of every mailbox.
    posted: Ring<Posted>,
    /// `posted` overflowed, or every letter is due again (`journal_all`):
    /// the next batch takes the letters past the cursor mailbox by mailbox.
    walk: Option<Walk>,
    /// Users whose read mark changed (`Unsaved::READ`), each once.
    read: Ring<UserId>,
    /// Users whose blacklist changed or who were blocked for wrong
    /// passwords (R8) (`Unsaved::BLACKLIST`, `Unsaved::BLOCKED`), each once.
    others: Ring<UserId>,
    /// The last write failed (a full disk): letters are refused until a
    /// write succeeds.
    failing: bool,
    /// The last batch started: changes made now are in the next one.
    batch: u64,
    /// Every batch up to this one is durable.
    synced: u64,
    /// Every batch up to this one is synced or failed: the frames that
    /// waited for them may go.
    settled: u64,
    /// When the oldest change not taken yet was made.
    since: Option<Instant>,
    /// A frame waits for the next batch: take it at once.
    urgent: bool,
}

/// One change, encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Polled {
    /// Its length, line feed included.
    pub len: usize,
    /// Someone is or will be told of it (a letter accepted or stored, a
    /// block): its batch must be synced, not just written.
    pub promised: bool,
}

/// Why a change from the journal was left out at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// It names a user who has no account any more (the owner removed
    /// it): what was kept for them goes with it.
    UnknownUser,
    /// A letter that no longer fits the store (its limits shrank since).
    NoRoom,
}

/// Where a walk of the mailboxes is: at the mailbox of account `at`,
/// after letter `after` in it. A batch is taken whole, with nothing posted
/// or read meanwhile, so the letters a walk hands out all coexist, and may
/// be replayed in any order: each mailbox's stay in theirs.
#[derive(Clone, Copy, Debug, Default)]
struct Walk {
    at: usize,
    after: u64,
}

/// A letter posted, for the journal to take.
#[derive(Clone, Copy, Debug, Default)]
pub struct Posted {
    id: u64,
    to: UserId,
}

impl Dirty {
    /// Nothing changed yet, for as many users as each table has rows, and
    /// as many letters posted at once as `posted` has.
    pub(super) fn new(read: Table<UserId>, others: Table<UserId>, posted: Table<Posted>) -> Dirty {
        Dirty {
            ids: false,
            letters: 0,
            posted: Ring::new(posted),
            walk: None,
            read: Ring::new(read),
            others: Ring::new(others),
            failing: false,
            batch: 0,
            synced: 0,
            settled: 0,
            since: None,
            urgent: false,
        }
    }
}

impl Hub {
    /// The next change for the journal, encoded as one line into `buf`
    /// (at least `journal::CHANGE_MAX` long), or `None` when every change
    /// was taken.
    pub fn poll_change(&mut self, buf: &mut [u8]) -> Option<Polled> {
        let change = self.next_change()?;
        // Every change fits CHANGE_MAX (journal.rs tests it).
        let len = protocol::encode(&change, buf).ok()?;
        // Losing a read mark only shows a letter again, which
        // at-least-once delivery allows: it needs no sync of its own.
        let promised = !matches!(change, Change::Read { .. });
        Some(Polled { len, promised })
    }

    fn next_change(&mut self) -> Option<Change> {
        if self.dirty.ids {
            self.dirty.ids = false;
            return Some(Change::Ids {
                latest: self.store.latest(),
            });
        }
        // Read marks before letters: what was read this turn may have made
        // the room a letter of this turn took, and a replay must find it.
        // (A mark only covers letters sent already, so older ones.)
        if let Some(id) = self.dirty.read.pop_front() {
            let user = self.users.get_mut(id);
            user.unsaved.remove(Unsaved::READ);
            return Some(Change::Read {
                user: user.name.clone(),
                id: user.read,
            });
        }
        if let Some(change) = self.next_letter() {
            return Some(change);
        }
        let id = self.dirty.others.front()?;
        let user = self.users.get_mut(id);
        let change = if user.unsaved.contains(Unsaved::BLACKLIST) {
            user.unsaved.remove(Unsaved::BLACKLIST);
            let list = &self.users.get(id).blacklist;
            let blocked: Blocked = list
                .iter()
                .map(|other| self.users.get(other).name.clone())
                .collect();
            let user = self.users.get(id).name.clone();
            Change::Blacklist { user, blocked }
        } else {
            user.unsaved.remove(Unsaved::BLOCKED);
            Change::Blocked {
                user: user.name.clone(),
                until: user.attempts.blocked_until().map_or(0, Instant::millis),
            }
        };
        if !self.users.get(id).unsaved.intersects(Unsaved::OTHERS) {
            self.dirty.others.pop_front();
        }
        Some(change)
    }

    /// Letter `id` to `to` was posted: the journal takes it next turn.
    pub(super) fn posted(&mut self, id: u64, to: UserId) {
        if self.dirty.posted.push_back(Posted { id, to }).is_err() {
            // More than a gathering holds (a slow disk): the next batch
            // walks the mailboxes.
            self.dirty.walk = Some(Walk::default());
        }
    }

    /// The oldest letter above the cursor, in any mailbox.
    fn next_letter(&mut self) -> Option<Change> {
        let after = self.dirty.letters;
        let latest = self.store.latest();
        // Most turns post nothing.
        if after >= latest {
            return None;
        }
        let oldest = if let Some(walk) = &mut self.dirty.walk {
            // Each account's letters past the cursor, one account after
            // another: every mailbox once, not once a letter.
            loop {
                if walk.at >= self.users.len() {
                    break None;
                }
                let to = UserId::from_index(walk.at);
                let letters = self.store.letters_after(to, after.max(walk.after));
                match letters.next_id() {
                    Some(id) => {
                        walk.after = id;
                        break Some((to, id, letters));
                    }
                    None => {
                        *walk = Walk {
                            at: walk.at + 1,
                            after: 0,
                        }
                    }
                }
            }
        } else {
            // Posted in the order of their ids: the first still in its
            // mailbox is the oldest.
            loop {
                let Some(Posted { id, to }) = self.dirty.posted.pop_front() else {
                    break None;
                };
                let letters = self.store.letters_after(to, id.saturating_sub(1));
                if id > after && letters.next_id() == Some(id) {
                    break Some((to, id, letters));
                }
            }
        };
        let Some((to, id, mut letters)) = oldest else {
            // Every letter past the cursor was handed out, or read before
            // its turn came: none needs a record.
            self.dirty.letters = latest;
            if self.dirty.walk.take().is_some() {
                // What the queue holds was all handed out.
                self.dirty.posted.clear();
            }
            return None;
        };
        // Past it whatever follows, so a letter that could not be read
        // back (the store holds only what was checked when posted) is
        // never tried again. (A walk moves its own cursor.)
        if self.dirty.walk.is_none() {
            self.dirty.letters = id;
        }
        let mut bytes = [0u8; crate::limits::NAME_MAX + crate::limits::TEXT_MAX];
        let letter = letters.read_next(&mut bytes)?;
        Some(Change::Letter {
            id: letter.id,
            to: self.users.get(to).name.clone(),
            from: letter.from.try_into().ok()?,
            text: letter.text.try_into().ok()?,
            broadcast: letter.broadcast,
            posted: letter.posted.millis(),
            kept: letter.kept,
        })
    }

    /// Starts a batch of changes for the journal: the changes
    /// [`Hub::poll_change`] gives from now until it gives `None` are in it,
    /// and whatever changes after this call is in the next one. Returns
    /// the batch's number, for [`Hub::journal_synced`].
    pub fn start_batch(&mut self) -> u64 {
        self.dirty.batch += 1;
        self.dirty.since = None;
        self.dirty.urgent = false;
        self.dirty.batch
    }

    /// Whether there are changes for the journal to take.
    pub fn has_changes(&self) -> bool {
        let dirty = &self.dirty;
        dirty.ids
            || !dirty.read.is_empty()
            || !dirty.others.is_empty()
            || dirty.letters < self.store.latest()
    }

    /// When the journal should take the next batch, if there are changes:
    /// at once if a frame waits for them (or the whole state is due),
    /// otherwise [`JOURNAL_GATHER_MS`] after the oldest, so that letters to
    /// users online that are read meanwhile need no record at all.
    pub fn journal_due(&self) -> Option<Instant> {
        if !self.has_changes() {
            return None;
        }
        let dirty = &self.dirty;
        match dirty.since {
            Some(since) if !dirty.urgent && !dirty.ids => Some(since.after(JOURNAL_GATHER_MS)),
            _ => Some(Instant(0)),
        }
    }

    /// A change for the journal was made now; `urgent`: a frame waits for
    /// it.
    pub(super) fn changed(&mut self, urgent: bool) {
        self.dirty.since.get_or_insert(self.now);
        self.dirty.urgent |= urgent;
    }

    /// The batch that changes made now will be in.
    pub(super) fn next_batch(&self) -> u64 {
        self.dirty.batch + 1
    }

    /// Every change of the batches up to `batch` is durable: the frames
    /// that waited for them may go, and each sender is told which of its
    /// letters are accepted (`poll_transmit` writes the `Accepted` after
    /// what the queue lets out: it is not in the queue, so a later
    /// barrier does not hold it).
    pub fn journal_synced(&mut self, batch: u64) {
        self.dirty.failing = false;
        self.dirty.synced = self.dirty.synced.max(batch);
        self.settled(batch);
    }

    /// The batch could not be written (a full disk). What waited for it
    /// goes out all the same: the letters are kept in memory, and the
    /// promise that the disk refused is the one PROTOCOL.md states. Their
    /// senders are not told they are accepted until a later batch is
    /// synced; until then new letters are refused, and the next batch is
    /// the whole state (`journal_all`).
    pub fn journal_failed(&mut self, batch: u64) {
        self.journal_all();
        self.dirty.failing = true;
        self.settled(batch);
    }

    /// Batches up to `batch` are written or failed: every connection with
    /// something that waited for them is ready. A closing one gets its
    /// `CLOSING_MS` from now: the wait was the disk's, not the client's.
    fn settled(&mut self, batch: u64) {
        self.dirty.settled = self.dirty.settled.max(batch);
        let (synced, settled) = (self.dirty.synced, self.dirty.settled);
        let deadline = self.now.after(CLOSING_MS);
        for slot in 0..self.sessions.capacity() {
            let Some((conn, session)) = self.sessions.at(slot) else {
                continue;
            };
            let due = session.output.unaccepted.due(synced).is_some()
                || matches!(session.output.next(), Some(Next::Barrier(b)) if b <= settled);
            if !due {
                continue;
            }
            if let Some(session) = self.sessions.get_mut(conn)
                && session.phase == Phase::Closing
            {
                session.deadline = deadline;
            }
            self.mark_ready(conn);
        }
    }

    /// Whether `session`'s next bytes wait for a batch not settled yet: a
    /// closing one is then not let go for its deadline.
    pub(super) fn held_by_journal(&self, session: &Session) -> bool {
        session.phase == Phase::Closing
            && matches!(session.output.next(), Some(Next::Barrier(b)) if b > self.dirty.settled)
    }

    /// Whether `frame` tells its reader that something is durable: it is
    /// queued behind a barrier for the batch that holds it. (`Accepted` is
    /// sent only once its batch is synced.)
    pub(super) fn promises_durability(frame: &ServerFrame) -> bool {
        matches!(
            frame,
            ServerFrame::Stored { .. }
                | ServerFrame::UserBlocked { .. }
                | ServerFrame::UserUnblocked { .. }
                | ServerFrame::Bye {
                    reason: ByeReason::NowBlocked { .. }
                }
        )
    }

    /// Every batch up to these is durable, and synced or failed.
    pub(super) fn synced(&self) -> (u64, u64) {
        (self.dirty.synced, self.dirty.settled)
    }

    /// Every change again, from the whole live state: what a compacted
    /// journal holds.
    pub fn journal_all(&mut self) {
        let now = self.now;
        self.dirty.ids = true;
        self.dirty.letters = 0;
        self.dirty.walk = Some(Walk::default());
        // Read marks need no record of their own: the letters they cover
        // are gone from the store, so are not written.
        while let Some(id) = self.dirty.read.pop_front() {
            self.users.get_mut(id).unsaved.remove(Unsaved::READ);
        }
        // A new hub starts with no one blocked: only what differs is told.
        for index in 0..self.users.len() {
            let id = UserId::from_index(index);
            let user = self.users.get(id);
            let mut unsaved = Unsaved::default();
            if !user.blacklist.is_empty() {
                unsaved.insert(Unsaved::BLACKLIST);
            }
            if user.attempts.is_blocked(now) {
                unsaved.insert(Unsaved::BLOCKED);
            }
            self.mark_unsaved(id, unsaved);
        }
    }

    /// `unsaved` of `user` is to be written, in its queue.
    fn mark_unsaved(&mut self, id: UserId, unsaved: Unsaved) {
        let user = self.users.get_mut(id);
        let before = user.unsaved;
        user.unsaved.insert(unsaved);
        // Each user is in a queue at most once, so the queues, as long as
        // the account table, never overflow.
        if unsaved.contains(Unsaved::READ) && !before.contains(Unsaved::READ) {
            let _ = self.dirty.read.push_back(id);
        }
        if unsaved.intersects(Unsaved::OTHERS) && !before.intersects(Unsaved::OTHERS) {
            let _ = self.dirty.others.push_back(id);
        }
    }

    /// Whether letters are refused because the journal cannot be written.
    pub(super) fn journal_failing(&self) -> bool {
        self.dirty.failing
    }

    /// `user`'s read mark, blacklist or block changed.
    pub(super) fn read_changed(&mut self, user: UserId) {
        self.mark_unsaved(user, Unsaved::READ);
        self.changed(false);
    }

    pub(super) fn blacklist_changed(&mut self, user: UserId) {
        self.mark_unsaved(user, Unsaved::BLACKLIST);
        self.changed(false);
    }

    pub(super) fn block_changed(&mut self, user: UserId) {
        self.mark_unsaved(user, Unsaved::BLOCKED);
        self.changed(false);
    }

    /// Rebuilds state from a journal's change at start-up, after the
    /// accounts were added and before any connection, at `now`. What it
    /// restores needs no new record.
    pub fn replay(&mut self, change: Change, now: Instant) -> Result<(), ReplayError> {
        let find = |hub: &Hub, name: &str| hub.users.find(name).ok_or(ReplayError::UnknownUser);
        match change {
            Change::Ids { latest } => self.store.resume_after(latest),
            Change::Letter {
                id,
                to,
                from,
                text,
                broadcast,
                posted,
                kept,
            } => {
                self.dirty.letters = self.dirty.letters.max(id);
                self.store.resume_after(id);
                let (to, sender) = (find(self, &to)?, find(self, &from)?);
                let post = crate::store::Post {
                    to,
                    sender,
                    from: &from,
                    text: &text,
                    broadcast,
                    kept,
                    now: Instant(posted),
                };
                match self.store.restore(post, id) {
                    Ok(()) | Err(RestoreError::Again) => {}
                    Err(RestoreError::Full(_)) => return Err(ReplayError::NoRoom),
                }
            }
            Change::Read { user, id } => {
                // A letter read was given its id, though it needed no
                // record: no letter after the restart may take that id
                // again, or the mark would cover it (issue 25: found by
                // the simulator, seed 2605).
                self.store.resume_after(id);
                let user = find(self, &user)?;
                self.store.acknowledge(user, id);
                let account = self.users.get_mut(user);
                account.read = account.read.max(id);
            }
            Change::Blacklist { user, blocked } => {
                let user = find(self, &user)?;
                let mut list = crate::blacklist::Blacklist::default();
                for other in blocked.iter().filter_map(|n| self.users.find(n)) {
                    // No more than a blacklist holds were written.
                    let _ = list.insert(other);
                }
                self.users.get_mut(user).blacklist = list;
            }
            Change::Blocked { user, until } => {
                let user = find(self, &user)?;
                // A clock set back since (a board without a real-time
                // clock, booted before it learnt the time) must not make
                // a block longer than a block is.
                let until = Instant(until).min(now.after(self.config.block_ms));
                self.users.get_mut(user).attempts.block_until(until);
            }
        }
        Ok(())
    }

    /// A letter was refused because the journal cannot be written.
    pub(super) fn not_kept() -> ServerFrame {
        ServerFrame::Refused {
            refusal: Refusal::NotKept,
        }
    }
}

#[cfg(test)]
mod tests;
