//! Connections as the hub tracks them: a fixed table of slots.

use crate::credential::{Name, Password};
use crate::limits::MAX_CONNECTIONS;
use crate::output::Output;
use crate::rate::{Bucket, Rate};
use crate::time::Instant;
use crate::user::UserId;

/// A connection handle. The generation makes a handle stale once its slot
/// is reused, so a late call about a closed connection cannot touch a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId {
    slot: u8,
    generation: u16,
}

impl ConnId {
    /// The slot index, below `MAX_CONNECTIONS`: shells may index tables by it.
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

#[derive(Clone, Debug, Default)]
struct Slot {
    generation: u16,
    session: Option<Session>,
}

/// Every live connection, in `MAX_CONNECTIONS` fixed slots.
#[derive(Debug)]
pub struct Sessions {
    slots: [Slot; MAX_CONNECTIONS],
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            slots: core::array::from_fn(|_| Slot::default()),
        }
    }
}

impl Sessions {
    /// Takes a free slot for `session`, or gives it back if none is free.
    pub fn insert(&mut self, session: Session) -> Result<ConnId, Session> {
        let Some((index, slot)) = self
            .slots
            .iter_mut()
            .enumerate()
            .find(|(_, slot)| slot.session.is_none())
        else {
            return Err(session);
        };
        slot.session = Some(session);
        Ok(ConnId {
            // MAX_CONNECTIONS is checked below 256 at compile time (lib.rs).
            slot: index as u8,
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

    fn live_slot(&mut self, conn: ConnId) -> Option<&mut Slot> {
        let slot = self.slots.get_mut(conn.slot())?;
        (slot.generation == conn.generation && slot.session.is_some()).then_some(slot)
    }

    /// Every live connection with its handle.
    pub fn iter(&self) -> impl Iterator<Item = (ConnId, &Session)> {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            let session = slot.session.as_ref()?;
            Some((
                ConnId {
                    slot: index as u8,
                    generation: slot.generation,
                },
                session,
            ))
        })
    }
}
