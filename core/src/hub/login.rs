//! Logging in (R4-R8): usernames, passwords, new accounts, three strikes.

use super::Hub;
use crate::credential::{self, Name, Password};
use crate::effects::{Effects, StoreFailed};
use crate::protocol::{ByeReason, Prompt, ServerFrame};
use crate::session::{ConnId, Phase};
use crate::time::Instant;
use crate::user::{AccountsFull, Failure, UserId};

impl Hub {
    pub(super) fn username(&mut self, conn: ConnId, name: Name, out: &mut impl Effects) {
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

    pub(super) fn password(
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
            let seconds = account.attempts.seconds_left(now);
            return self.end(conn, ByeReason::Blocked { seconds }, out);
        }
        if account.password != password {
            match account.attempts.fail(now, block_ms) {
                Failure::NowBlocked => {
                    let seconds = account.attempts.seconds_left(now);
                    self.end(conn, ByeReason::NowBlocked { seconds }, out)
                }
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

    pub(super) fn new_password(
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
        let waiting = self.store.waiting(user) as u32;
        self.send(conn, &ServerFrame::Welcome { waiting }, out);
        // Gone if its queue was full: then it never was online, and nobody
        // hears of it.
        let Some(session) = self.sessions.get_mut(conn) else {
            return;
        };
        session.phase = Phase::Online(user);
        session.active(now, self.config.timeout_ms);
        self.users.get_mut(user).online = Some(conn);
        let name = self.users.get(user).name.clone();
        self.tell_others(user, &ServerFrame::LoggedIn { user: name }, out);
        // Everything kept for the user, oldest first (R17); letters sent
        // before but never acknowledged come again (R27).
        let mut shown = 0;
        while let Some(letter) = self.store.letter_after(user, shown) {
            shown = letter.id;
            if !self.send(conn, &letter.frame(now), out) {
                return;
            }
        }
    }

    fn set_phase(&mut self, conn: ConnId, phase: Phase, prompt: Prompt, out: &mut impl Effects) {
        if let Some(session) = self.sessions.get_mut(conn) {
            session.phase = phase;
        }
        self.ask(conn, prompt, out);
    }

    pub(super) fn ask(&mut self, conn: ConnId, prompt: Prompt, out: &mut impl Effects) {
        self.send(conn, &ServerFrame::Ask { prompt }, out);
    }
}
