//! The hub: every rule of natter as one deterministic state machine.
//!
//! The shell feeds it connections, frames and the time. The hub never calls
//! out: it queues what each connection is to be sent, and the shell takes
//! those bytes when the socket can take them (`poll_ready`,
//! `poll_transmit`), and the slow work it needs done (`poll_event`). It
//! never blocks, reads a clock or allocates.
//!
//! This file holds the entry points and the plumbing; the rules are in
//! `admission.rs` (who may connect), `login.rs` (R4-R8), `commands.rs`
//! (R10-R16) and `private.rs` (R19-R24); `timeouts.rs` keeps the
//! deadlines (R9); `transmit.rs` turns a connection's queue into bytes.

use crate::capacity::{Capacity, CapacityError};
use crate::credential::{self, CredentialProblem};
use crate::event::Event;
use crate::limits::{
    CLOSING_MS, COMMAND_BURST, COMMANDS_PER_SECOND, IDLE_WARNING_MS, LOGIN_MS, MAX_BAD_FRAMES,
    PRIVATE_ANSWER_MS, PROMPTS_PER_ADDRESS, SIGNUPS_PER_HOUR,
};
use crate::output::Output;
use crate::protocol::{self, ByeReason, ClientFrame, FrameBuf, FrameError, ServerFrame};
use crate::rate::Rate;
use crate::session::{ConnId, Phase, Session, Sessions};
use crate::signup::{SignUp, SignUps};
use crate::store::Store;
use crate::suspects::Suspects;
use crate::table::{List, Ring, Table};
use crate::time::Instant;
use crate::timers::Timers;
use crate::user::{AccountsFull, UserId, Users};

/// The server's settings (R1), in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long three wrong passwords block a username (R8).
    pub block_ms: u64,
    /// How long a user may stay idle before being logged out (R9).
    pub timeout_ms: u64,
    /// How long before that logout the user is warned; 0: never.
    pub warning_ms: u64,
    /// How long a private messaging request waits for its answer (R19).
    pub answer_ms: u64,
    /// How fast one connection may send commands.
    pub rate: Rate,
    /// How long a connection may take to finish the login prompts.
    pub login_ms: u64,
    /// Connections from one address at the login prompts at once; 0: no
    /// limit.
    pub per_address: u8,
    /// Whether failed logins slow down, then block, their address
    /// (`suspects.rs`).
    pub guard_addresses: bool,
    /// Who may create an account (`signup.rs`).
    pub signup: SignUp,
    /// A journal makes the durable state survive a restart
    /// (`durable.rs`): frames that promise durability wait for its sync,
    /// and senders are told when their letters are accepted. Without
    /// one, nothing is promised and nothing waits.
    pub journal: bool,
}

impl Config {
    /// The settings for these durations, with the warning `IDLE_WARNING_MS`
    /// before the idle logout (or a tenth of the timeout if that is
    /// shorter), `PRIVATE_ANSWER_MS` to answer a private request,
    /// `COMMANDS_PER_SECOND` with a burst of `COMMAND_BURST`, `LOGIN_MS` to
    /// log in, `PROMPTS_PER_ADDRESS`, failed logins guarded against per
    /// address, sign-up open to `SIGNUPS_PER_HOUR` per address, and a
    /// journal.
    pub fn new(block_ms: u64, timeout_ms: u64) -> Config {
        Config {
            block_ms,
            timeout_ms,
            warning_ms: IDLE_WARNING_MS.min(timeout_ms / 10),
            answer_ms: PRIVATE_ANSWER_MS,
            rate: Rate {
                per_second: COMMANDS_PER_SECOND,
                burst: COMMAND_BURST,
            },
            login_ms: LOGIN_MS,
            per_address: PROMPTS_PER_ADDRESS,
            guard_addresses: true,
            signup: SignUp::Open {
                per_hour: SIGNUPS_PER_HOUR,
            },
            journal: true,
        }
    }
}

/// Why an account from the credentials file was not added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddAccountError {
    BadName(CredentialProblem),
    BadPassword(CredentialProblem),
    Duplicate,
    /// The hub holds this many accounts already, as many as it can.
    Full {
        most: usize,
    },
}

/// A frame that is not a command of a logged-in user.
struct NotACommand;

/// The whole state of a natter server.
#[derive(Debug)]
pub struct Hub {
    config: Config,
    users: Users,
    sessions: Sessions,
    /// When each connection next needs `handle_timeout` (`timeouts.rs`).
    timers: Timers,
    store: Store,
    /// Private requests waiting for an answer: at most one per target.
    introductions: List<Introduction>,
    /// The time of the call being handled.
    now: Instant,
    /// The slots of connections with something new for the shell, in the
    /// order they got it: so the shell writes in the order the rules
    /// decided (a private target hears of its peer before the peer hears
    /// of it). Each slot is in it once (`Sessions::mark_ready`).
    ready: Ring<u16>,
    /// Connections whose queue overflowed during this call, each once
    /// (`Sessions::mark_unread`): dropped once the call's rules are done,
    /// so a drop never re-enters the rule that caused it.
    unread: Ring<ConnId>,
    /// The next private secret's randomness, given by the shell.
    entropy: Option<[u8; 16]>,
    /// Addresses with failed logins.
    suspects: Suspects,
    /// Accounts made per address.
    signups: SignUps,
    /// Work handed to the shell and not answered yet (`login.rs`): as
    /// many as there are connections, counting those whose connection has
    /// gone meanwhile: their answers still count (a wrong password
    /// against R8, a saved account as an account), so hanging up does not
    /// make guessing free. More wait their turn.
    jobs: List<Job>,
    /// Connections whose password or new account waits to be handed to
    /// the shell (`Phase::Checking`/`Phase::Saving` not `asked`), in the
    /// order they came: so `poll_event` finds them without a walk of every
    /// connection. A handle whose connection moved on is skipped.
    asks: Ring<ConnId>,
    /// `asks` overflowed (connections came and went faster than the shell
    /// answered): the connections are walked until none waits.
    asks_lost: bool,
    /// Slots of the connections at the prompts, sorted by address when one
    /// must make room for a newcomer (`admission.rs`).
    candidates: Table<u16>,
    /// The connection the last `connect` let go to make room.
    made_room: Option<ConnId>,
    /// What the journal has not been given yet (`durable.rs`).
    dirty: durable::Dirty,
    /// What the shell should log, oldest first (`poll_event`).
    notices: heapless::Deque<Event, NOTICES>,
    /// Where a frame is encoded before it is queued.
    scratch: FrameBuf,
}

/// Log notices held for the shell: one call makes at most two, and the
/// shell takes them after each call.
const NOTICES: usize = 8;

impl Hub {
    /// A hub of the default [`Capacity`], its tables allocated now.
    #[cfg(feature = "alloc")]
    pub fn new(config: Config) -> Self {
        let tables = Tables::allocate(Capacity::default());
        Hub::build(config, tables)
    }

    /// A hub of `capacity`, its tables allocated now, if a server can be
    /// that large.
    #[cfg(feature = "alloc")]
    pub fn with_capacity(config: Config, capacity: Capacity) -> Result<Self, CapacityError> {
        capacity.check()?;
        Ok(Hub::build(config, Tables::allocate(capacity)))
    }

    /// A hub in the tables the shell set aside, if they agree with each
    /// other (`Tables::capacity`).
    pub fn in_tables(config: Config, tables: Tables) -> Result<Self, CapacityError> {
        tables.capacity()?;
        Ok(Hub::build(config, tables))
    }

    /// A hub in `tables`, which agree with each other.
    fn build(config: Config, tables: Tables) -> Self {
        Hub {
            config,
            users: Users::new(tables.users, tables.names),
            sessions: Sessions::new(tables.slots, tables.touched),
            timers: Timers::new(tables.timer_heap, tables.timers),
            store: Store::new(tables.chunks, tables.links, tables.mailboxes),
            introductions: List::new(tables.introductions),
            now: Instant(0),
            ready: Ring::new(tables.ready),
            unread: Ring::new(tables.unread),
            entropy: None,
            suspects: Suspects::default(),
            signups: SignUps::default(),
            jobs: List::new(tables.jobs),
            asks: Ring::new(tables.asks),
            asks_lost: false,
            candidates: tables.candidates,
            made_room: None,
            dirty: durable::Dirty::new(tables.unsaved_reads, tables.unsaved_others, tables.posted),
            notices: heapless::Deque::new(),
            scratch: [0; crate::limits::FRAME_MAX + 1],
        }
    }

    /// How large this hub is.
    pub fn capacity(&self) -> Capacity {
        Capacity {
            accounts: self.users.capacity(),
            connections: self.sessions.capacity(),
            store_bytes: self.store.capacity() * crate::limits::CHUNK_BYTES,
        }
    }

    /// Adds an account read from durable storage at start-up.
    /// `stored` is the password, or its hash, as the file has it.
    pub fn add_account(&mut self, name: &str, stored: &str) -> Result<UserId, AddAccountError> {
        let name = credential::to_name(name).map_err(AddAccountError::BadName)?;
        let password = credential::to_secret(stored).map_err(AddAccountError::BadPassword)?;
        if self.users.find(&name).is_some() {
            return Err(AddAccountError::Duplicate);
        }
        self.users
            .push(name, password)
            .map_err(|AccountsFull| AddAccountError::Full {
                most: self.users.capacity(),
            })
    }

    /// Number of accounts.
    pub fn accounts(&self) -> usize {
        self.users.len()
    }

    /// A frame from `conn`. It is borrowed, not moved: a frame is as large
    /// as its longest text, and each move of it copies half a kilobyte.
    pub fn receive(&mut self, conn: ConnId, frame: &ClientFrame, now: Instant) {
        self.now = now;
        self.handle(conn, frame, now);
        self.drop_unread();
    }

    fn handle(&mut self, conn: ConnId, frame: &ClientFrame, now: Instant) {
        let rate = self.config.rate;
        let Some(session) = self.sessions.get_mut(conn) else {
            return;
        };
        if !matches!(frame, ClientFrame::Received { .. }) {
            // Acknowledgements are free: a reader must never be slowed.
            session.bucket.spend(rate, now);
        }
        let phase = session.phase.clone();
        match (phase, frame) {
            (Phase::Closing, _) => return,
            (_, ClientFrame::Logout {}) => return self.end(conn, ByeReason::LoggedOut),
            (Phase::Username, ClientFrame::Username { name }) => self.username(conn, name.clone()),
            (Phase::Password(user), ClientFrame::Password { password }) => {
                self.password(conn, user, password.clone(), now)
            }
            (Phase::NewPassword(name), ClientFrame::Password { password }) => {
                self.new_password(conn, name, password.clone())
            }
            // Nothing is read while its password is checked: the client
            // waits for the answer.
            (Phase::Checking { .. }, _) => return self.bad_frame(conn, FrameError::Unexpected),
            (Phase::Online(user), &ClientFrame::Received { id }) => {
                // Everything up to `id` was shown. Receiving is not
                // activity (R9).
                self.store.acknowledge(user, id);
                // No mark past the letters there are: later ones would be
                // read before they were written (a client's id is its own).
                let id = id.min(self.store.latest());
                let account = self.users.get_mut(user);
                if id > account.read {
                    account.read = id;
                    self.read_changed(user);
                }
                return;
            }
            (Phase::Online(user), frame) => match self.command(conn, user, frame) {
                Ok(()) => {}
                Err(NotACommand) => return self.bad_frame(conn, FrameError::Unexpected),
            },
            // Out of place: a bad frame (R25), and not activity (R9).
            _ => return self.bad_frame(conn, FrameError::Unexpected),
        };
        // A frame that fits is activity (R9) and ends a run of bad ones
        // (R25), if the connection is still there.
        if let Some(session) = self.sessions.get_mut(conn) {
            session.bad_frames = 0;
            session.active(now, self.config.timeout_ms);
        }
    }

    /// A frame from `conn` that could not be read (R25). Answered with an
    /// error; a flood of them closes the connection.
    pub fn reject(&mut self, conn: ConnId, error: FrameError, now: Instant) {
        self.now = now;
        let rate = self.config.rate;
        if let Some(session) = self.sessions.get_mut(conn) {
            session.bucket.spend(rate, now);
        }
        self.bad_frame(conn, error);
        self.drop_unread();
    }

    fn bad_frame(&mut self, conn: ConnId, error: FrameError) {
        let Some(session) = self.sessions.get_mut(conn) else {
            return;
        };
        if session.phase == Phase::Closing {
            return;
        }
        session.bad_frames = session.bad_frames.saturating_add(1);
        if session.bad_frames >= MAX_BAD_FRAMES {
            self.end(conn, ByeReason::TooManyErrors);
        } else {
            self.send(conn, &ServerFrame::Error { error });
        }
    }

    /// `conn` went away without logging out, or the shell closed it after
    /// its last bytes: its slot is free at once.
    pub fn disconnect(&mut self, conn: ConnId, now: Instant) {
        self.now = now;
        self.go_offline(conn);
        self.sessions.remove(conn);
        self.drop_unread();
    }

    /// Tells everyone the server is going away and lets go of every
    /// connection; the shell sends what is queued, then closes them.
    pub fn shutdown(&mut self, now: Instant) {
        self.now = now;
        for slot in 0..self.sessions.capacity() {
            let Some((conn, session)) = self.sessions.at(slot) else {
                continue;
            };
            let phase = session.phase.clone();
            if phase == Phase::Closing {
                continue;
            }
            if let Phase::Online(user) = phase {
                // Nobody is told: everyone is leaving.
                self.users.get_mut(user).online = None;
            }
            self.close(conn, ByeReason::ShuttingDown);
        }
        self.drop_unread();
    }

    /// Says goodbye to `conn` for `reason` and lets it go.
    fn end(&mut self, conn: ConnId, reason: ByeReason) {
        self.go_offline(conn);
        self.close(conn, reason);
    }

    /// Queues the goodbye and moves `conn` to closing: the shell closes it
    /// once everything is written (`poll_transmit` says so), or the hub
    /// frees it after `CLOSING_MS` and the shell drops it.
    fn close(&mut self, conn: ConnId, reason: ByeReason) {
        self.send(conn, &ServerFrame::Bye { reason });
        let deadline = self.now.after(CLOSING_MS);
        if let Some(session) = self.sessions.get_mut(conn) {
            session.phase = Phase::Closing;
            session.deadline = deadline;
        }
        self.mark_ready(conn);
    }

    /// If a user is online on `conn`, they are not any more, and the others
    /// hear of it (R11).
    fn go_offline(&mut self, conn: ConnId) {
        let Some(Session {
            phase: Phase::Online(user),
            ..
        }) = self.sessions.get(conn)
        else {
            return;
        };
        let user = *user;
        if let Some(session) = self.sessions.get_mut(conn) {
            // Its letters stay in the store for the next login.
            session.phase = Phase::Username;
        }
        let account = self.users.get_mut(user);
        account.online = None;
        account.last_logout = Some(self.now);
        let name = account.name.clone();
        self.tell_others(user, &ServerFrame::LoggedOut { user: name });
        self.cancel_introductions(user);
    }

    /// Drops every connection whose queue overflowed in this call, without
    /// a goodbye (it is not reading), telling the others as for any
    /// logout. Telling them may overflow more queues: they are dropped in
    /// the same loop.
    fn drop_unread(&mut self) {
        while let Some(conn) = self.unread.pop_front() {
            self.sessions.clear_unread(conn);
            self.go_offline(conn);
            let deadline = self.now.after(CLOSING_MS);
            if let Some(session) = self.sessions.get_mut(conn) {
                session.output.clear();
                session.phase = Phase::Closing;
                session.deadline = deadline;
            }
            self.mark_ready(conn);
        }
    }

    /// Sends a presence notice about `user` to every other online user that
    /// `user` has not blocked (R11, R15).
    fn tell_others(&mut self, user: UserId, frame: &ServerFrame) {
        for slot in 0..self.sessions.capacity() {
            let Some((conn, other)) = self.sessions.online_at(slot) else {
                continue;
            };
            if other != user && !self.users.get(user).blacklist.contains(other) {
                self.send(conn, frame);
            }
        }
    }

    /// Queues `frame` for `conn`. Its queue holds far more than one
    /// request's replies plus the notices between two reads, on top of
    /// what the socket holds, so a full queue means the client stopped
    /// reading: it is dropped at the end of the call rather than left with
    /// a hole in what it was told.
    ///
    /// Returns whether the frame was queued.
    fn send(&mut self, conn: ConnId, frame: &ServerFrame) -> bool {
        // Nothing is promised before it is on disk (`durable.rs`).
        let barrier =
            (self.config.journal && Hub::promises_durability(frame)).then(|| self.next_batch());
        self.send_behind(conn, frame, barrier)
    }

    /// Queues `frame` for `conn` behind a barrier for `barrier`, if any
    /// (as [`Hub::send`]).
    fn send_behind(&mut self, conn: ConnId, frame: &ServerFrame, barrier: Option<u64>) -> bool {
        let queued = self.push_to(conn, |output, scratch| {
            // Every frame fits FRAME_MAX by construction (limits.rs); one
            // that did not would be a hole too.
            barrier.is_none_or(|batch| output.push_barrier(batch).is_ok())
                && match protocol::encode(frame, scratch) {
                    Ok(n) => output.push_frame(&scratch[..n]).is_ok(),
                    Err(_) => false,
                }
        });
        if queued && barrier.is_some() {
            // Someone waits for it: the journal takes it at once.
            self.changed(true);
        }
        queued
    }

    /// Queues the letters of `conn`'s user up to `id`, in their place among
    /// its frames; returns whether they were (as [`Hub::send`]).
    fn send_letters(&mut self, conn: ConnId, id: u64) -> bool {
        self.push_to(conn, |output, _| output.push_letters(id).is_ok())
    }

    /// Queues the answer to `asker`'s `whoelse` (`since` = None) or
    /// `whoelsesince` for `conn`, written as the shell takes it
    /// (`transmit.rs`); returns whether it was queued (as [`Hub::send`]).
    fn send_listing(&mut self, conn: ConnId, asker: UserId, since: Option<Instant>) -> bool {
        self.push_to(conn, |output, _| output.push_listing(asker, since).is_ok())
    }

    /// Pushes onto `conn`'s queue with `push` (given the scratch buffer to
    /// encode in), if the queue takes anything: the connection is there,
    /// not closing, and not to be dropped for an overflow this call.
    fn push_to(
        &mut self,
        conn: ConnId,
        push: impl FnOnce(&mut Output, &mut FrameBuf) -> bool,
    ) -> bool {
        if self.sessions.is_unread(conn) {
            return false;
        }
        let Some(session) = self.sessions.get_mut(conn) else {
            return false;
        };
        if session.phase == Phase::Closing {
            return false;
        }
        let queued = push(&mut session.output, &mut self.scratch);
        self.queued(conn, queued)
    }

    /// After a push to `conn`'s ring: ready if it took it, or to be
    /// dropped at the end of the call if it overflowed.
    fn queued(&mut self, conn: ConnId, queued: bool) -> bool {
        if queued {
            self.mark_ready(conn);
        } else if self.sessions.mark_unread(conn) {
            // Once per slot, so the ring never overflows.
            let _ = self.unread.push_back(conn);
        }
        queued
    }

    fn mark_ready(&mut self, conn: ConnId) {
        // Once per slot, so the ring never overflows; a stale handle gives
        // way to the slot's new connection.
        if self.sessions.mark_ready(conn) {
            let _ = self.ready.push_back(conn.slot() as u16);
        }
    }

    /// A connection with something new to send or to be closed, if any.
    /// The shell takes its bytes with [`Hub::poll_transmit`], at once or
    /// when its socket can take them.
    pub fn poll_ready(&mut self) -> Option<ConnId> {
        let slot = self.ready.pop_front()?;
        self.sessions.take_ready(usize::from(slot))
    }

    /// Slow work for the shell, if any: it reports back when done; or a
    /// notice to log.
    pub fn poll_event(&mut self) -> Option<Event> {
        if let Some(notice) = self.notices.pop_front() {
            return Some(notice);
        }
        if self.jobs.is_full() {
            // The rest wait for an answer.
            return None;
        }
        let waits = |s: &Session| {
            matches!(
                s.phase,
                Phase::Saving { asked: false, .. } | Phase::Checking { asked: false, .. }
            )
        };
        let next = loop {
            if self.asks_lost {
                let found = self.sessions.iter().find(|(_, s)| waits(s));
                if found.is_none() {
                    self.asks_lost = false;
                }
                break found;
            }
            let conn = self.asks.pop_front()?;
            if let Some(session) = self.sessions.get(conn).filter(|s| waits(s)) {
                break Some((conn, session));
            }
        };
        let (conn, session) = next?;
        let (phase, event) = match session.phase.clone() {
            Phase::Saving { name, password, .. } => (
                Phase::Saving {
                    name: name.clone(),
                    password: password.clone(),
                    asked: true,
                },
                Event::SaveAccount {
                    conn,
                    name,
                    password,
                },
            ),
            Phase::Checking { user, password, .. } => {
                let account = self.users.get(user);
                let event = Event::CheckPassword {
                    conn,
                    name: account.name.clone(),
                    secret: account.password.clone(),
                    password: password.clone(),
                };
                let phase = Phase::Checking {
                    user,
                    password,
                    asked: true,
                };
                (phase, event)
            }
            _ => return None,
        };
        let work = match &phase {
            Phase::Saving { name, .. } => Work::Save(name.clone()),
            Phase::Checking { user, .. } => Work::Check(*user),
            _ => return None,
        };
        let peer = session.peer;
        let _ = self.jobs.push(Job { conn, peer, work });
        if let Some(session) = self.sessions.get_mut(conn) {
            session.phase = phase;
        }
        Some(event)
    }

    /// `conn`'s password or new account waits to be handed to the shell.
    fn ask_shell(&mut self, conn: ConnId) {
        if self.asks.push_back(conn).is_err() {
            self.asks_lost = true;
        }
    }

    /// Queues a notice for the shell to log; the oldest gives way.
    fn notice(&mut self, event: Event) {
        if self.notices.is_full() {
            self.notices.pop_front();
        }
        let _ = self.notices.push_back(event);
    }

    /// Whether the hub has no randomness for the next private secret.
    pub fn wants_entropy(&self) -> bool {
        self.entropy.is_none()
    }

    /// 16 bytes from a cryptographically secure source, for the next secret
    /// that admits a private peer (R28). The shell gives them whenever
    /// [`Hub::wants_entropy`].
    pub fn add_entropy(&mut self, bytes: [u8; 16]) {
        self.entropy = Some(bytes);
    }
}

mod admission;
#[cfg(any(test, feature = "testing"))]
mod audit;
mod commands;
mod durable;
mod login;
mod private;
mod reading;
mod tables;
mod timeouts;
mod transmit;

#[cfg(any(test, feature = "testing"))]
pub use audit::{Letter, View};
pub use durable::{Polled, Posted, ReplayError};
pub use login::Job;
use login::Work;
pub use private::Introduction;
pub use reading::Stall;
pub use tables::{BYTES_PER_ACCOUNT, BYTES_PER_CHUNK, BYTES_PER_CONNECTION, Tables};

#[cfg(test)]
mod tests;
