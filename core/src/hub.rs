//! The hub: every rule of natter as one deterministic state machine.
//!
//! The shell feeds it connections, frames and the time; the hub answers
//! through [`Effects`]. It never blocks, reads a clock or allocates.

use crate::credential::{self, CredentialProblem, Name, Password};
use crate::effects::{Effects, StoreFailed};
use crate::limits::{MAX_ACCOUNTS, MAX_BAD_FRAMES};
use crate::protocol::{ByeReason, ClientFrame, FrameError, Prompt, ServerFrame};
use crate::session::{ConnId, Phase, Session, Sessions};
use crate::time::Instant;
use crate::user::{AccountsFull, Failure, UserId, Users};

/// The server's settings (R1), in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long three wrong passwords block a username (R8).
    pub block_ms: u64,
    /// How long a user may stay idle before being logged out (R9).
    pub timeout_ms: u64,
}

/// Why an account from the credentials file was not added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddAccountError {
    BadName(CredentialProblem),
    BadPassword(CredentialProblem),
    Duplicate,
    Full,
}

/// Every connection slot is taken (R26).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerFull;

/// The whole state of a natter server.
#[derive(Debug)]
pub struct Hub {
    config: Config,
    users: Users,
    sessions: Sessions,
}

impl Hub {
    pub fn new(config: Config) -> Self {
        Hub {
            config,
            users: Users::default(),
            sessions: Sessions::default(),
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

    /// A new connection: asks for a username (R4).
    pub fn connect(&mut self, now: Instant, out: &mut impl Effects) -> Result<ConnId, ServerFull> {
        let session = Session {
            phase: Phase::Username,
            deadline: now.after(self.config.timeout_ms),
            bad_frames: 0,
        };
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
        let Some(session) = self.sessions.get(conn) else {
            return;
        };
        let phase = session.phase.clone();
        match (phase, frame) {
            (_, ClientFrame::Logout {}) => self.end(conn, ByeReason::LoggedOut, out),
            (Phase::Username, ClientFrame::Username { name }) => self.username(conn, name, out),
            (Phase::Password(user), ClientFrame::Password { password }) => {
                self.password(conn, user, &password, now, out)
            }
            (Phase::NewPassword(name), ClientFrame::Password { password }) => {
                self.new_password(conn, name, password, now, out)
            }
            // Out of place: a bad frame (R25), and not activity (R9).
            _ => return self.reject(conn, FrameError::Unexpected, out),
        }
        // A frame that fits is activity (R9) and ends a run of bad ones
        // (R25), if the connection is still there.
        if let Some(session) = self.sessions.get_mut(conn) {
            session.bad_frames = 0;
            session.deadline = now.after(self.config.timeout_ms);
        }
    }

    /// A frame from `conn` that could not be read (R25). Answered with an
    /// error; a flood of them closes the connection.
    pub fn reject(&mut self, conn: ConnId, error: FrameError, out: &mut impl Effects) {
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
    pub fn disconnect(&mut self, conn: ConnId, out: &mut impl Effects) {
        self.forget(conn, out);
    }

    /// When [`Hub::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sessions
            .iter()
            .map(|(_, session)| session.deadline)
            .min()
    }

    /// Ends every session whose deadline has passed (R9).
    pub fn handle_timeout(&mut self, now: Instant, out: &mut impl Effects) {
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

    fn username(&mut self, conn: ConnId, name: Name, out: &mut impl Effects) {
        match self.users.find(&name) {
            Some(user) if self.users.get(user).online.is_some() => {
                self.send(conn, &ServerFrame::AlreadyLoggedIn { user: name }, out);
                self.ask(conn, Prompt::Username, out);
            }
            // A blocked user is still asked for a password and refused after
            // it, as in the sample session L3.
            Some(user) => self.set_phase(conn, Phase::Password(user), Prompt::Password, out),
            None => {
                if let Err(problem) = credential::check_name(&name) {
                    self.send(conn, &ServerFrame::BadUsername { problem }, out);
                    self.ask(conn, Prompt::Username, out);
                } else if self.users.is_full() {
                    self.send(conn, &ServerFrame::AccountsFull {}, out);
                    self.ask(conn, Prompt::Username, out);
                } else {
                    self.set_phase(conn, Phase::NewPassword(name), Prompt::NewPassword, out);
                }
            }
        }
    }

    fn password(
        &mut self,
        conn: ConnId,
        user: UserId,
        password: &str,
        now: Instant,
        out: &mut impl Effects,
    ) {
        let block_ms = self.config.block_ms;
        let account = self.users.get_mut(user);
        if account.attempts.is_blocked(now) {
            return self.end(conn, ByeReason::Blocked, out);
        }
        if account.password != password {
            match account.attempts.fail(now, block_ms) {
                Failure::NowBlocked => self.end(conn, ByeReason::NowBlocked, out),
                Failure::TryAgain => {
                    self.send(conn, &ServerFrame::WrongPassword {}, out);
                    self.ask(conn, Prompt::Password, out);
                }
            }
            return;
        }
        if account.online.is_some() {
            // Logged in elsewhere since the username was given (R7).
            let name = account.name.clone();
            self.send(conn, &ServerFrame::AlreadyLoggedIn { user: name }, out);
            return self.set_phase(conn, Phase::Username, Prompt::Username, out);
        }
        account.attempts.succeed();
        self.log_in(conn, user, now, out);
    }

    fn new_password(
        &mut self,
        conn: ConnId,
        name: Name,
        password: Password,
        now: Instant,
        out: &mut impl Effects,
    ) {
        if let Err(problem) = credential::check_password(&password) {
            self.send(conn, &ServerFrame::BadPassword { problem }, out);
            return self.ask(conn, Prompt::NewPassword, out);
        }
        // Another connection may have taken the name or the last free
        // account while this user was choosing a password.
        let refusal = if self.users.find(&name).is_some() {
            Some(ServerFrame::UsernameTaken { user: name.clone() })
        } else if self.users.is_full() {
            Some(ServerFrame::AccountsFull {})
        } else if let Err(StoreFailed) = out.store_account(&name, &password) {
            Some(ServerFrame::AccountNotSaved {})
        } else {
            None
        };
        if let Some(refusal) = refusal {
            self.send(conn, &refusal, out);
            return self.set_phase(conn, Phase::Username, Prompt::Username, out);
        }
        match self.users.push(name, password) {
            Ok(user) => self.log_in(conn, user, now, out),
            // Checked just above; kept total rather than trusted.
            Err(AccountsFull) => {
                self.send(conn, &ServerFrame::AccountsFull {}, out);
                self.set_phase(conn, Phase::Username, Prompt::Username, out);
            }
        }
    }

    /// `user` is online on `conn`: welcome them and tell the others (R5, R11).
    fn log_in(&mut self, conn: ConnId, user: UserId, now: Instant, out: &mut impl Effects) {
        self.send(conn, &ServerFrame::Welcome {}, out);
        // Gone if its queue was full: then it never was online, and nobody
        // hears of it.
        let Some(session) = self.sessions.get_mut(conn) else {
            return;
        };
        session.phase = Phase::Online(user);
        session.deadline = now.after(self.config.timeout_ms);
        self.users.get_mut(user).online = Some(conn);
        let name = self.users.get(user).name.clone();
        self.tell_others(user, &ServerFrame::LoggedIn { user: name }, out);
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
            self.users.get_mut(user).online = None;
            let name = self.users.get(user).name.clone();
            self.tell_others(user, &ServerFrame::LoggedOut { user: name }, out);
        }
    }

    /// Sends a presence notice about `user` to every other online user (R11).
    fn tell_others(&mut self, user: UserId, frame: &ServerFrame, out: &mut impl Effects) {
        let others: heapless::Vec<ConnId, MAX_ACCOUNTS> = self
            .users
            .online()
            .filter(|&(other, _)| other != user)
            .map(|(_, conn)| conn)
            .collect();
        for conn in others {
            self.send(conn, frame, out);
        }
    }

    fn set_phase(&mut self, conn: ConnId, phase: Phase, prompt: Prompt, out: &mut impl Effects) {
        if let Some(session) = self.sessions.get_mut(conn) {
            session.phase = phase;
        }
        self.ask(conn, prompt, out);
    }

    fn ask(&mut self, conn: ConnId, prompt: Prompt, out: &mut impl Effects) {
        self.send(conn, &ServerFrame::Ask { prompt }, out);
    }

    /// Queues `frame` for `conn`. Its queue holds far more than one request's
    /// replies plus the notices between two reads, so a full queue means the
    /// client stopped reading: it is disconnected rather than left with a
    /// hole in what it was told.
    fn send(&mut self, conn: ConnId, frame: &ServerFrame, out: &mut impl Effects) {
        if self.sessions.get(conn).is_some() && out.send(conn, frame).is_err() {
            out.close(conn);
            self.forget(conn, out);
        }
    }
}

#[cfg(test)]
mod tests;
