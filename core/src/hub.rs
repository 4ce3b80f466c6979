//! The hub: every rule of natter as one deterministic state machine.
//!
//! The shell feeds it connections, frames and the time; the hub answers
//! through [`Effects`]. It never blocks, reads a clock or allocates.
//!
//! This file holds the entry points and the plumbing; the rules are in
//! `login.rs` (R4-R8) and `commands.rs` (R10-R16).

use crate::credential::{self, CredentialProblem};
use crate::effects::Effects;
use core::net::IpAddr;

use crate::limits::{
    IDLE_WARNING_MS, MAX_ACCOUNTS, MAX_BAD_FRAMES, MAX_CONNECTIONS, PRIVATE_ANSWER_MS,
};
use crate::protocol::{ByeReason, ClientFrame, FrameError, Prompt, ServerFrame};
use crate::session::{ConnId, Phase, Session, Sessions};
use crate::store::Store;
use crate::time::Instant;
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
}

impl Config {
    /// The settings for these durations, with the warning `IDLE_WARNING_MS`
    /// before the idle logout (or a tenth of the timeout if that is
    /// shorter), and `PRIVATE_ANSWER_MS` to answer a private request.
    pub fn new(block_ms: u64, timeout_ms: u64) -> Config {
        Config {
            block_ms,
            timeout_ms,
            warning_ms: IDLE_WARNING_MS.min(timeout_ms / 10),
            answer_ms: PRIVATE_ANSWER_MS,
        }
    }
}

/// Why an account from the credentials file was not added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddAccountError {
    BadName(CredentialProblem),
    BadPassword(CredentialProblem),
    Duplicate,
    Full,
}

/// A frame that is not a command of a logged-in user.
struct NotACommand;

/// Every connection slot is taken (R26).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerFull;

/// The whole state of a natter server.
#[derive(Debug)]
pub struct Hub {
    config: Config,
    users: Users,
    sessions: Sessions,
    store: Store,
    /// Private requests waiting for an answer: at most one per target.
    introductions: heapless::Vec<Introduction, MAX_CONNECTIONS>,
    /// The time of the call being handled.
    now: Instant,
}

impl Hub {
    pub fn new(config: Config) -> Self {
        Hub {
            config,
            users: Users::default(),
            sessions: Sessions::default(),
            store: Store::default(),
            introductions: heapless::Vec::new(),
            now: Instant(0),
        }
    }

    /// Adds an account read from durable storage at start-up.
    pub fn add_account(&mut self, name: &str, password: &str) -> Result<UserId, AddAccountError> {
        let name = credential::to_name(name).map_err(AddAccountError::BadName)?;
        let password = credential::to_password(password).map_err(AddAccountError::BadPassword)?;
        if self.users.find(&name).is_some() {
            return Err(AddAccountError::Duplicate);
        }
        self.users
            .push(name, password)
            .map_err(|AccountsFull| AddAccountError::Full)
    }

    /// Number of accounts.
    pub fn accounts(&self) -> usize {
        self.users.len()
    }

    /// A new connection from `peer`: asks for a username (R4).
    pub fn connect(
        &mut self,
        now: Instant,
        peer: IpAddr,
        out: &mut impl Effects,
    ) -> Result<ConnId, ServerFull> {
        self.now = now;
        let session = Session::new(peer, now, self.config.timeout_ms);
        let conn = self.sessions.insert(session).map_err(|_| ServerFull)?;
        self.ask(conn, Prompt::Username, out);
        Ok(conn)
    }

    /// A frame from `conn`.
    pub fn receive(
        &mut self,
        conn: ConnId,
        frame: ClientFrame,
        now: Instant,
        out: &mut impl Effects,
    ) {
        self.now = now;
        let Some(session) = self.sessions.get(conn) else {
            return;
        };
        let phase = session.phase.clone();
        match (phase, frame) {
            (_, ClientFrame::Logout {}) => return self.end(conn, ByeReason::LoggedOut, out),
            (Phase::Username, ClientFrame::Username { name }) => self.username(conn, name, out),
            (Phase::Password(user), ClientFrame::Password { password }) => {
                self.password(conn, user, &password, now, out)
            }
            (Phase::NewPassword(name), ClientFrame::Password { password }) => {
                self.new_password(conn, name, password, now, out)
            }
            (Phase::Online(user), ClientFrame::Received { id }) => {
                // Everything up to `id` was shown. Receiving is not
                // activity (R9).
                self.store.acknowledge(user, id);
                return;
            }
            (Phase::Online(user), frame) => match self.command(conn, user, frame, out) {
                Ok(()) => {}
                Err(NotACommand) => return self.reject(conn, FrameError::Unexpected, now, out),
            },
            // Out of place: a bad frame (R25), and not activity (R9).
            _ => return self.reject(conn, FrameError::Unexpected, now, out),
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
    pub fn reject(
        &mut self,
        conn: ConnId,
        error: FrameError,
        now: Instant,
        out: &mut impl Effects,
    ) {
        self.now = now;
        let Some(session) = self.sessions.get_mut(conn) else {
            return;
        };
        session.bad_frames = session.bad_frames.saturating_add(1);
        if session.bad_frames >= MAX_BAD_FRAMES {
            self.end(conn, ByeReason::TooManyErrors, out);
        } else {
            self.send(conn, &ServerFrame::Error { error }, out);
        }
    }

    /// `conn` went away without logging out.
    pub fn disconnect(&mut self, conn: ConnId, now: Instant, out: &mut impl Effects) {
        self.now = now;
        self.forget(conn, out);
    }

    /// When [`Hub::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let lead = self.config.warning_ms;
        let sessions = self
            .sessions
            .iter()
            .map(|(_, session)| session.warn_at(lead).unwrap_or(session.deadline));
        let requests = self.introductions.iter().map(|i| i.expires);
        sessions.chain(requests).min()
    }

    /// Ends every session whose deadline has passed (R9), warns those whose
    /// deadline is near, and voids private requests left unanswered.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut impl Effects) {
        self.now = now;
        self.end_idle(now, out);
        self.warn_idle(now, out);
        self.expire_introductions(now, out);
    }

    /// Warns every user whose idle logout is near (R9).
    fn warn_idle(&mut self, now: Instant, out: &mut impl Effects) {
        let lead = self.config.warning_ms;
        loop {
            let due = self
                .sessions
                .iter()
                .find(|(_, session)| session.warn_at(lead).is_some_and(|at| at <= now))
                .map(|(conn, session)| (conn, session.deadline));
            let Some((conn, deadline)) = due else {
                return;
            };
            if let Some(session) = self.sessions.get_mut(conn) {
                session.warned = true;
            }
            let left = deadline.millis().saturating_sub(now.millis());
            let seconds = left.div_ceil(1000);
            self.send(conn, &ServerFrame::IdleWarning { seconds }, out);
        }
    }

    /// Ends every session whose deadline has passed (R9).
    fn end_idle(&mut self, now: Instant, out: &mut impl Effects) {
        loop {
            let expired = self
                .sessions
                .iter()
                .find(|(_, session)| session.deadline <= now)
                .map(|(conn, session)| (conn, matches!(session.phase, Phase::Online(_))));
            let Some((conn, online)) = expired else {
                return;
            };
            let reason = if online {
                ByeReason::TimedOut
            } else {
                ByeReason::LoginTimedOut
            };
            self.end(conn, reason, out);
        }
    }

    /// Tells everyone the server is going away and closes every connection.
    pub fn shutdown(&mut self, out: &mut impl Effects) {
        loop {
            let first = self.sessions.iter().next().map(|(conn, _)| conn);
            let Some(conn) = first else {
                return;
            };
            let bye = ServerFrame::Bye {
                reason: ByeReason::ShuttingDown,
            };
            // Not `self.send`: a full queue would close `conn` there and
            // again below, and tell the others it left.
            let _ = out.send(conn, &bye);
            if let Some(Session {
                phase: Phase::Online(user),
                ..
            }) = self.sessions.remove(conn)
            {
                // Nobody is told: everyone is leaving.
                self.users.get_mut(user).online = None;
            }
            out.close(conn);
        }
    }

    /// Says goodbye to `conn` for `reason` and closes it.
    fn end(&mut self, conn: ConnId, reason: ByeReason, out: &mut impl Effects) {
        // If the queue is full the client is not reading: closing is all
        // that is left to do either way.
        let _ = out.send(conn, &ServerFrame::Bye { reason });
        out.close(conn);
        self.forget(conn, out);
    }

    /// Drops `conn`; if a user was online on it, the others hear of it (R11).
    fn forget(&mut self, conn: ConnId, out: &mut impl Effects) {
        if let Some(Session {
            phase: Phase::Online(user),
            ..
        }) = self.sessions.remove(conn)
        {
            let account = self.users.get_mut(user);
            account.online = None;
            account.last_logout = Some(self.now);
            let name = account.name.clone();
            self.tell_others(user, &ServerFrame::LoggedOut { user: name }, out);
            self.cancel_introductions(user, out);
        }
    }

    /// Sends a presence notice about `user` to every other online user that
    /// `user` has not blocked (R11, R15).
    fn tell_others(&mut self, user: UserId, frame: &ServerFrame, out: &mut impl Effects) {
        let blacklist = self.users.get(user).blacklist;
        let others: heapless::Vec<ConnId, MAX_ACCOUNTS> = self
            .users
            .online()
            .filter(|&(other, _)| other != user && !blacklist.contains(other))
            .map(|(_, conn)| conn)
            .collect();
        for conn in others {
            self.send(conn, frame, out);
        }
    }

    /// Queues `frame` for `conn`. Its queue holds far more than one request's
    /// replies plus the notices between two reads, so a full queue means the
    /// client stopped reading: it is disconnected rather than left with a
    /// hole in what it was told.
    ///
    /// Returns whether `conn` is still there. Letters sent to a connection
    /// that is then dropped stay in their mailbox for the next login.
    fn send(&mut self, conn: ConnId, frame: &ServerFrame, out: &mut impl Effects) -> bool {
        if self.sessions.get(conn).is_none() {
            return false;
        }
        if out.send(conn, frame).is_err() {
            out.close(conn);
            self.forget(conn, out);
            return false;
        }
        true
    }
}

mod commands;
mod login;
mod private;

use private::Introduction;

#[cfg(test)]
mod tests;
