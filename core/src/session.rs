//! Connections as the hub tracks them: a fixed table of slots.

use crate::credential::{Name, Password};
use crate::output::Output;
use crate::rate::{Bucket, Rate};
use crate::table::{Ring, Table};
use crate::time::Instant;
use crate::user::UserId;

/// A connection handle. The generation makes a handle stale once its slot
/// is reused, so a late call about a closed connection cannot touch a new one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId {
    slot: u16,
    generation: u16,
}

impl ConnId {
    /// The slot index, below the capacity's connections: shells may index
    /// tables by it.
    pub fn slot(self) -> usize {
        usize::from(self.slot)
    }
}

/// Where a connection is in the dialogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Asked for a username.
    Username,
    /// Asked for the password of an existing account.
    Password(UserId),
    /// The shell is checking this password for the account
    /// (`Event::CheckPassword`); `asked`: it was handed the work.
    Checking {
        user: UserId,
        password: Password,
        asked: bool,
    },
    /// Asked for the password of a new account with this name.
    NewPassword(Name),
    /// A new account with this name is being saved by the shell; the name
    /// is taken meanwhile. `asked`: the shell was handed the work.
    Saving {
        name: Name,
        password: Password,
        asked: bool,
    },
    /// Logged in.
    Online(UserId),
    /// Let go: what is queued goes out, then the shell closes it. Nothing
    /// it sends is read any more.
    Closing,
}

/// One live connection.
#[derive(Clone, Debug)]
pub struct Session {
    pub phase: Phase,
    /// The client's address, as this server sees it: what a private peer
    /// connects to (R19).
    pub peer: core::net::IpAddr,
    /// When the connection times out unless the user acts (R9).
    pub deadline: Instant,
    /// When the login prompts must be done by, however busy they are kept.
    pub login_by: Instant,
    /// Admitted into a slot reserved for existing accounts: it may log in,
    /// not sign up.
    pub reserved: bool,
    /// The user was warned that `deadline` is near.
    pub warned: bool,
    /// Bad frames in a row (R25).
    pub bad_frames: u8,
    /// What is waiting to go out to it.
    pub output: Output,
    /// How fast it may send commands.
    pub bucket: Bucket,
    /// Not read, and why (`hub/reading.rs`).
    pub stall: Option<crate::hub::Stall>,
}

impl Session {
    /// A new connection from `peer` at `now`, asked for a username, with
    /// `login_ms` to finish the prompts.
    pub fn new(
        peer: core::net::IpAddr,
        now: Instant,
        timeout_ms: u64,
        login_ms: u64,
        rate: Rate,
    ) -> Session {
        let login_by = now.after(login_ms);
        Session {
            phase: Phase::Username,
            peer,
            deadline: now.after(timeout_ms).min(login_by),
            login_by,
            reserved: false,
            warned: false,
            bad_frames: 0,
            output: Output::default(),
            bucket: Bucket::new(rate, now),
            stall: None,
        }
    }

    /// The user acted at `now`: the idle clock starts again (R9), within
    /// the login deadline while at the prompts.
    pub fn active(&mut self, now: Instant, timeout_ms: u64) {
        self.deadline = now.after(timeout_ms);
        if self.at_prompts() {
            self.deadline = self.deadline.min(self.login_by);
        }
        self.warned = false;
    }

    /// Waiting for the shell to check a password or save an account: the
    /// user is not idle, the server is, so no idle clock runs (R9).
    pub fn waiting_on_shell(&self) -> bool {
        matches!(self.phase, Phase::Checking { .. } | Phase::Saving { .. })
    }

    /// Still logging in: not online, not closing.
    pub fn at_prompts(&self) -> bool {
        !matches!(self.phase, Phase::Online(_) | Phase::Closing)
    }

    /// At the prompts without having named an existing account: it may
    /// be signing up.
    pub fn unproven(&self) -> bool {
        matches!(
            self.phase,
            Phase::Username | Phase::NewPassword(_) | Phase::Saving { .. }
        )
    }

    /// When to warn a logged-in user, `lead_ms` (not 0) before the idle
    /// logout, unless they were warned already.
    pub fn warn_at(&self, lead_ms: u64) -> Option<Instant> {
        let online = matches!(self.phase, Phase::Online(_));
        (online && !self.warned && lead_ms > 0)
            .then(|| Instant(self.deadline.millis().saturating_sub(lead_ms)))
    }
}

/// A row of the connection table.
#[derive(Clone, Debug, Default)]
pub struct Slot {
    generation: u16,
    session: Option<Session>,
    /// The handle the hub last marked ready in this slot, until the shell
    /// takes it (`Hub::poll_ready`): so the slot is queued once.
    ready: Option<ConnId>,
    /// Its queue overflowed during this call: it is to be dropped.
    unread: bool,
    /// Its session may have changed since the hub last looked at when it
    /// next needs it (`Sessions::take_touched`).
    touched: bool,
}

/// Every live connection, in a fixed table of slots.
#[derive(Debug)]
pub struct Sessions {
    slots: Table<Slot>,
    /// Slots whose session was taken mutably, added or removed since
    /// `take_touched` last gave them out: each once, so as many rows as
    /// `slots` suffice.
    touched: Ring<u16>,
}

impl Sessions {
    /// No connection yet, in `slots`; `touched` as long.
    pub fn new(slots: Table<Slot>, touched: Table<u16>) -> Sessions {
        Sessions {
            slots,
            touched: Ring::new(touched),
        }
    }

    /// A slot whose session may have changed (or gone), taken: every
    /// change goes through `get_mut`, `insert` or `remove`, so the hub
    /// sees each (its timers, `hub/timeouts.rs`) without a walk.
    pub fn take_touched(&mut self) -> Option<usize> {
        let index = usize::from(self.touched.pop_front()?);
        if let Some(slot) = self.slots.get_mut(index) {
            slot.touched = false;
        }
        Some(index)
    }

    /// Whether slot `index` is waiting in `take_touched`.
    pub fn is_touched(&self, index: usize) -> bool {
        self.slots.get(index).is_some_and(|slot| slot.touched)
    }

    fn touch(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index)
            && !core::mem::replace(&mut slot.touched, true)
        {
            // Each slot is in the ring once, so it never fills.
            let _ = self.touched.push_back(index as u16);
        }
    }

    /// How many connections it can hold.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Takes a free slot for `session`, or gives it back if none is free.
    pub fn insert(&mut self, session: Session) -> Result<ConnId, Session> {
        let Some(index) = self.slots.iter().position(|slot| slot.session.is_none()) else {
            return Err(session);
        };
        self.touch(index);
        let slot = &mut self.slots[index];
        slot.session = Some(session);
        Ok(ConnId {
            // Connection tables are at most `capacity::CEILING` long.
            slot: index as u16,
            generation: slot.generation,
        })
    }

    /// Frees `conn`'s slot; stale handles are ignored.
    pub fn remove(&mut self, conn: ConnId) -> Option<Session> {
        let slot = self.live_slot(conn)?;
        slot.generation = slot.generation.wrapping_add(1);
        slot.session.take()
    }

    pub fn get(&self, conn: ConnId) -> Option<&Session> {
        let slot = self.slots.get(conn.slot())?;
        (slot.generation == conn.generation)
            .then_some(slot.session.as_ref())
            .flatten()
    }

    pub fn get_mut(&mut self, conn: ConnId) -> Option<&mut Session> {
        self.live_slot(conn)?.session.as_mut()
    }

    /// `conn`'s slot, touched: the caller may change its session.
    fn live_slot(&mut self, conn: ConnId) -> Option<&mut Slot> {
        let slot = self.slots.get(conn.slot())?;
        if slot.generation != conn.generation || slot.session.is_none() {
            return None;
        }
        self.touch(conn.slot());
        self.slots.get_mut(conn.slot())
    }

    /// Every live connection with its handle.
    pub fn iter(&self) -> impl Iterator<Item = (ConnId, &Session)> {
        (0..self.slots.len()).filter_map(|index| self.at(index))
    }

    /// The connection in slot `index`, if there is one.
    pub fn at(&self, index: usize) -> Option<(ConnId, &Session)> {
        let slot = self.slots.get(index)?;
        let session = slot.session.as_ref()?;
        let conn = ConnId {
            slot: index as u16,
            generation: slot.generation,
        };
        Some((conn, session))
    }

    /// The user logged in on the connection in slot `index`, if any.
    pub fn online_at(&self, index: usize) -> Option<(ConnId, UserId)> {
        match self.at(index)? {
            (
                conn,
                Session {
                    phase: Phase::Online(user),
                    ..
                },
            ) => Some((conn, *user)),
            _ => None,
        }
    }

    /// Marks `conn` ready; whether its slot was not queued yet (the
    /// caller queues it then). A later handle of the slot replaces a
    /// stale one.
    pub fn mark_ready(&mut self, conn: ConnId) -> bool {
        let Some(slot) = self.slots.get_mut(conn.slot()) else {
            return false;
        };
        slot.ready.replace(conn).is_none()
    }

    /// The handle marked ready in slot `index`, taken.
    pub fn take_ready(&mut self, index: usize) -> Option<ConnId> {
        self.slots.get_mut(index)?.ready.take()
    }

    /// Marks `conn`'s slot unread; whether it was not yet.
    pub fn mark_unread(&mut self, conn: ConnId) -> bool {
        self.slots
            .get_mut(conn.slot())
            .is_some_and(|slot| !core::mem::replace(&mut slot.unread, true))
    }

    pub fn is_unread(&self, conn: ConnId) -> bool {
        self.slots.get(conn.slot()).is_some_and(|slot| slot.unread)
    }

    pub fn clear_unread(&mut self, conn: ConnId) {
        if let Some(slot) = self.slots.get_mut(conn.slot()) {
            slot.unread = false;
        }
    }
}
