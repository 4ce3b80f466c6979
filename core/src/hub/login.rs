//! Logging in (R4-R8): usernames, passwords, new accounts, three strikes.

use super::{Hub, Stall};
use crate::credential::{self, Name, Password, Secret};
use core::net::IpAddr;

use crate::event::{Checked, Event, StoreFailed};
use crate::protocol::{ByeReason, Prompt, ServerFrame};
use crate::session::{ConnId, Phase};
use crate::signup::SignUp;
use crate::suspects::Penalty;
use crate::time::Instant;
use crate::user::{AccountsFull, Failure, UserId};

/// Slow work handed to the shell (`Hub::poll_event`), kept until it is
/// answered even if its connection goes meanwhile.
#[derive(Clone, Debug)]
pub struct Job {
    pub(super) conn: ConnId,
    /// The connection's address: a wrong password counts against it.
    pub(super) peer: IpAddr,
    pub(super) work: Work,
}

#[derive(Clone, Debug)]
pub(super) enum Work {
    /// Checking a password for this account.
    Check(UserId),
    /// Saving a new account with this name.
    Save(Name),
}

impl Hub {
    pub(super) fn username(&mut self, conn: ConnId, name: Name) {
        match self.users.find(&name) {
            Some(user) if self.users.get(user).online.is_some() => {
                self.send(conn, &ServerFrame::AlreadyLoggedIn { user: name });
                self.ask(conn, Prompt::Username);
            }
            // A blocked user is still asked for a password and refused after
            // it, as in the sample session L3.
            Some(user) => self.set_phase(conn, Phase::Password(user), Prompt::Password),
            // A reserved slot is for existing accounts (`Hub::connect`).
            None if self.sessions.get(conn).is_some_and(|s| s.reserved) => {
                self.end(conn, ByeReason::ExistingAccountsOnly)
            }
            None => {
                let too_many = self.too_many_signups(conn);
                if self.config.signup == SignUp::Closed {
                    self.send(conn, &ServerFrame::SignUpClosed {});
                    self.ask(conn, Prompt::Username);
                } else if let Err(problem) = credential::check_name(&name) {
                    self.send(conn, &ServerFrame::BadUsername { problem });
                    self.ask(conn, Prompt::Username);
                } else if let Some(like) = self.users.find_like(&name) {
                    let existing = self.users.get(like).name.clone();
                    self.send(
                        conn,
                        &ServerFrame::UsernameTooLike {
                            user: name,
                            existing,
                        },
                    );
                    self.ask(conn, Prompt::Username);
                } else if too_many {
                    self.send(conn, &ServerFrame::TooManySignUps {});
                    self.ask(conn, Prompt::Username);
                } else if self.being_saved(&name) {
                    self.send(conn, &ServerFrame::UsernameTaken { user: name });
                    self.ask(conn, Prompt::Username);
                } else if self.accounts_full() {
                    self.send(conn, &self.accounts_full_frame());
                    self.ask(conn, Prompt::Username);
                } else {
                    self.set_phase(conn, Phase::NewPassword(name), Prompt::NewPassword);
                }
            }
        }
    }

    pub(super) fn password(
        &mut self,
        conn: ConnId,
        user: UserId,
        password: Password,
        now: Instant,
    ) {
        let Some(peer) = self.sessions.get(conn).map(|s| s.peer) else {
            return;
        };
        let account = self.users.get(user);
        if account.attempts.is_blocked(now) {
            let seconds = account.attempts.seconds_left(now);
            return self.end(conn, ByeReason::Blocked { seconds });
        }
        // Sooner than its address may try again (a shell that did not wait
        // for `read_after`): not even checked, and not the account's fault.
        if self.config.guard_addresses && self.suspects.read_after(peer, now).is_some() {
            return self.wrong_password(conn, user, peer, false, now);
        }
        // The shell checks it (`poll_event`), off its event loop.
        if let Some(session) = self.sessions.get_mut(conn) {
            session.phase = Phase::Checking {
                user,
                password,
                asked: false,
            };
            self.ask_shell(conn);
        }
    }

    /// The shell checked the password `conn` gave (`Event::CheckPassword`),
    /// whether or not `conn` is still there: a wrong one counts anyway.
    pub fn password_checked(&mut self, conn: ConnId, checked: Checked, now: Instant) {
        self.now = now;
        let Some(Job { peer, work, .. }) = self.take_job(conn, |w| matches!(w, Work::Check(_)))
        else {
            return;
        };
        let Work::Check(user) = work else {
            return;
        };
        if let Some(stored) = checked.stored {
            self.users.get_mut(user).password = stored;
        }
        let waiting = self
            .sessions
            .get(conn)
            .is_some_and(|s| matches!(s.phase, Phase::Checking { .. }));
        if !waiting {
            // Hung up, or let go, meanwhile: the guess still counts,
            // unless the name is blocked already (as when connected).
            if !checked.right && !self.users.get(user).attempts.is_blocked(now) {
                self.count_wrong(user, peer, true, now);
            }
            return self.drop_unread();
        }
        let timeout_ms = self.config.timeout_ms;
        if let Some(session) = self.sessions.get_mut(conn) {
            session.phase = Phase::Password(user);
            // The time the check took was the server's, not the user's.
            session.active(now, timeout_ms);
        }
        let account = self.users.get_mut(user);
        if account.attempts.is_blocked(now) {
            // Blocked by others' guesses meanwhile (R8).
            let seconds = account.attempts.seconds_left(now);
            self.end(conn, ByeReason::Blocked { seconds });
        } else if !checked.right {
            self.wrong_password(conn, user, peer, true, now);
        } else if account.online.is_some() {
            // Logged in elsewhere since the username was given (R7).
            let name = account.name.clone();
            self.send(conn, &ServerFrame::AlreadyLoggedIn { user: name });
            self.set_phase(conn, Phase::Username, Prompt::Username);
        } else {
            account.attempts.succeed();
            // Back after signing up: letters kept for them count as anyone's.
            self.store.set_newcomer(user, false);
            self.log_in(conn, user, now);
        }
        self.drop_unread();
    }

    /// A wrong password from `conn`, for `user`, from `peer`: counted
    /// against the username (R8) if `counts`, and against the address.
    fn wrong_password(
        &mut self,
        conn: ConnId,
        user: UserId,
        peer: IpAddr,
        counts: bool,
        now: Instant,
    ) {
        match self.count_wrong(user, peer, counts, now) {
            (Failure::NowBlocked, _) => {
                let seconds = self.users.get(user).attempts.seconds_left(now);
                self.end(conn, ByeReason::NowBlocked { seconds })
            }
            (Failure::TryAgain, Penalty::Blocked(ms)) => {
                let seconds = ms / 1000;
                self.end(conn, ByeReason::AddressBlocked { seconds })
            }
            (Failure::TryAgain, _) => {
                self.send(conn, &ServerFrame::WrongPassword {});
                self.ask(conn, Prompt::Password);
            }
        }
    }

    /// Counts a wrong password for `user` from `peer`: against the
    /// username (R8) if `counts`, and against the address; logs it.
    fn count_wrong(
        &mut self,
        user: UserId,
        peer: IpAddr,
        counts: bool,
        now: Instant,
    ) -> (Failure, Penalty) {
        let block_ms = self.config.block_ms;
        let account = self.users.get_mut(user);
        let name = account.name.clone();
        let failure = if counts {
            account.attempts.fail(now, block_ms)
        } else {
            Failure::TryAgain
        };
        let seconds = account.attempts.seconds_left(now);
        self.notice(Event::LoginFailed {
            peer,
            name: name.clone(),
        });
        let penalty = if self.config.guard_addresses {
            self.suspects.fail(peer, now)
        } else {
            Penalty::None
        };
        if failure == Failure::NowBlocked {
            self.block_changed(user);
            self.notice(Event::UserBlocked {
                peer,
                name,
                seconds,
            });
        }
        if let Penalty::Blocked(ms) = penalty {
            let seconds = ms / 1000;
            self.notice(Event::AddressBlocked { peer, seconds });
        }
        (failure, penalty)
    }

    pub(super) fn new_password(&mut self, conn: ConnId, name: Name, password: Password) {
        if let Err(problem) = credential::check_password(&password) {
            self.send(conn, &ServerFrame::BadPassword { problem });
            return self.ask(conn, Prompt::NewPassword);
        }
        // Another connection may have taken the name or the last free
        // account while this user was choosing a password.
        let refusal = if self.users.find_like(&name).is_some() || self.being_saved(&name) {
            ServerFrame::UsernameTaken { user: name }
        } else if self.accounts_full() {
            self.accounts_full_frame()
        } else if self.too_many_signups(conn) {
            // Counted when the account is asked for, not when it is saved,
            // so many connections at once from one address cannot pass.
            ServerFrame::TooManySignUps {}
        } else {
            // The shell saves it (`poll_event`); the name is taken meanwhile.
            if let Some(session) = self.sessions.get_mut(conn) {
                session.phase = Phase::Saving {
                    name,
                    password,
                    asked: false,
                };
                self.ask_shell(conn);
            }
            return;
        };
        self.send(conn, &refusal);
        self.set_phase(conn, Phase::Username, Prompt::Username);
    }

    /// The shell saved the account `conn` is creating, or could not.
    /// `saved` is the secret as stored: the password's hash. Saved, it is
    /// an account, whether or not `conn` is still there to use it.
    pub fn account_saved(
        &mut self,
        conn: ConnId,
        saved: Result<Secret, StoreFailed>,
        now: Instant,
    ) {
        self.now = now;
        let Some(Job { peer, work, .. }) = self.take_job(conn, |w| matches!(w, Work::Save(_)))
        else {
            return;
        };
        let Work::Save(name) = work else {
            return;
        };
        let account = match saved {
            Err(StoreFailed) => Err(ServerFrame::AccountNotSaved {}),
            Ok(secret) => self
                .users
                .push(name, secret)
                // Reserved while saving; kept total rather than trusted.
                .map_err(|AccountsFull| self.accounts_full_frame()),
        };
        if let Ok(user) = account {
            self.store.set_newcomer(user, true);
            self.signups.made(peer, now);
        }
        let waiting = self
            .sessions
            .get(conn)
            .is_some_and(|s| matches!(s.phase, Phase::Saving { .. }));
        if !waiting {
            return;
        }
        let timeout_ms = self.config.timeout_ms;
        if let Some(session) = self.sessions.get_mut(conn) {
            // The time the save took was the server's, not the user's.
            session.active(now, timeout_ms);
        }
        match account {
            Ok(user) => self.log_in(conn, user, now),
            Err(refusal) => {
                self.send(conn, &refusal);
                self.set_phase(conn, Phase::Username, Prompt::Username);
            }
        }
        self.drop_unread();
    }

    /// The job of `conn` whose work is `kind`, no longer waited for:
    /// `conn` is read again.
    fn take_job(&mut self, conn: ConnId, kind: fn(&Work) -> bool) -> Option<Job> {
        let job = self
            .jobs
            .remove_first(|job| job.conn == conn && kind(&job.work))?;
        self.resume(conn, |stall| stall == Stall::Answer);
        Some(job)
    }

    /// Accounts being made: by the shell (jobs, even if their connection
    /// has gone), or about to be handed to it; as `(name, address)`.
    fn pending_saves(&self) -> impl Iterator<Item = (&Name, IpAddr)> {
        let handed = self.jobs.iter().filter_map(|job| match &job.work {
            Work::Save(name) => Some((name, job.peer)),
            Work::Check(_) => None,
        });
        let waiting = self.sessions.iter().filter_map(|(_, s)| match &s.phase {
            Phase::Saving {
                name, asked: false, ..
            } => Some((name, s.peer)),
            _ => None,
        });
        handed.chain(waiting)
    }

    /// Whether an account called `name`, but for case, is being made.
    fn being_saved(&self, name: &Name) -> bool {
        self.pending_saves()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// No room for one more account, counting those being made.
    /// The refusal when there is no room for another account.
    fn accounts_full_frame(&self) -> ServerFrame {
        ServerFrame::AccountsFull {
            most: self.users.capacity() as u32,
        }
    }

    fn accounts_full(&self) -> bool {
        self.users.len() + self.pending_saves().count() >= self.users.capacity()
    }

    /// Whether `conn`'s address made as many accounts this hour as it may,
    /// counting those being made.
    fn too_many_signups(&self, conn: ConnId) -> bool {
        let SignUp::Open { per_hour } = self.config.signup else {
            return false;
        };
        let Some(peer) = self.sessions.get(conn).map(|s| s.peer) else {
            return false;
        };
        let pending = self.pending_saves().filter(|&(_, p)| p == peer).count();
        !self.signups.allowed(peer, self.now, per_hour, pending)
    }

    /// `user` is online on `conn`: welcome them and tell the others (R5, R11).
    fn log_in(&mut self, conn: ConnId, user: UserId, now: Instant) {
        let waiting = self.store.waiting(user) as u32;
        // Not queued if its queue was full: then it never was online, and
        // nobody hears of it.
        if !self.send(conn, &ServerFrame::Welcome { waiting }) {
            return;
        }
        let Some(session) = self.sessions.get_mut(conn) else {
            return;
        };
        session.phase = Phase::Online(user);
        session.active(now, self.config.timeout_ms);
        self.users.get_mut(user).online = Some(conn);
        let name = self.users.get(user).name.clone();
        self.tell_others(user, &ServerFrame::LoggedIn { user: name });
        // Everything kept for the user, oldest first (R17); letters sent
        // before but never acknowledged come again (R27).
        self.send_letters(conn, self.store.latest());
    }

    fn set_phase(&mut self, conn: ConnId, phase: Phase, prompt: Prompt) {
        if let Some(session) = self.sessions.get_mut(conn) {
            session.phase = phase;
        }
        self.ask(conn, prompt);
    }

    pub(super) fn ask(&mut self, conn: ConnId, prompt: Prompt) {
        self.send(conn, &ServerFrame::Ask { prompt });
    }
}
