//! Deadlines (R9): idle logouts and their warnings, the login prompts'
//! time limit, closing connections that do not take their last frames,
//! and stalled connections that may be read again.
//!
//! Each connection slot has at most one instant at which it next needs
//! `handle_timeout`, kept in a heap (`timers.rs`), so the next deadline
//! costs the same with 1,000 connections as with 2. The instant is worked
//! out again only for slots whose session changed since (`Sessions`
//! records every slot taken mutably), just before the heap is read.
//! Private requests expire on their own clock (`private.rs`); there are
//! only as many as requests waiting for an answer.

use super::Hub;
use super::reading::Stall;
use crate::protocol::{ByeReason, ServerFrame};
use crate::session::{Phase, Session};
use crate::time::Instant;

impl Hub {
    /// When [`Hub::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.settle_timers();
        let sessions = self.timers.first().map(|(_, at)| at);
        let requests = self.introductions.iter().map(|i| i.expires);
        sessions.into_iter().chain(requests).min()
    }

    /// Ends every session whose deadline has passed (R9), warns those whose
    /// deadline is near, voids private requests left unanswered, lets go of
    /// closing connections that did not read their last frames, and marks
    /// ready those that may be read again. Connections are handled in the
    /// order of their instants.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.settle_timers();
        // Each handling moves its slot's instant past `now` (a stall
        // ends, a session closes or goes, a warning is given), so each
        // slot is handled at most three times; the bound is a guard.
        for _ in 0..=3 * self.sessions.capacity() {
            match self.timers.first() {
                Some((slot, at)) if at <= now => self.handle_due(slot, now),
                _ => break,
            }
            self.drop_unread();
            self.settle_timers();
        }
        self.expire_introductions(now);
        self.drop_unread();
    }

    /// The slot's instant has come: one thing is done, the most pressing.
    fn handle_due(&mut self, slot: usize, now: Instant) {
        let Some((conn, session)) = self.sessions.at(slot) else {
            return;
        };
        if matches!(session.stall, Some(Stall::Until(at)) if at <= now) {
            self.resume(conn, |_| true);
            return;
        }
        if session.waiting_on_shell() || self.held_by_journal(session) {
            return;
        }
        let (deadline, login_by) = (session.deadline, session.login_by);
        let warn_at = session.warn_at(self.config.warning_ms);
        if deadline <= now {
            match session.phase {
                Phase::Closing => {
                    // It did not take its last frames in time.
                    self.sessions.remove(conn);
                    self.mark_ready(conn);
                }
                Phase::Online(_) => self.end(conn, ByeReason::TimedOut),
                _ if login_by <= now => self.end(conn, ByeReason::LoginTooSlow),
                _ => self.end(conn, ByeReason::LoginTimedOut),
            }
        } else if warn_at.is_some_and(|at| at <= now) {
            if let Some(session) = self.sessions.get_mut(conn) {
                session.warned = true;
            }
            let left = deadline.millis().saturating_sub(now.millis());
            let seconds = left.div_ceil(1000);
            self.send(conn, &ServerFrame::IdleWarning { seconds });
        }
    }

    /// Works out again the instant of every slot whose session changed.
    fn settle_timers(&mut self) {
        while let Some(slot) = self.sessions.take_touched() {
            let at = self.sessions.at(slot).and_then(|(_, s)| self.wakes_at(s));
            self.timers.set(slot, at);
        }
    }

    /// When `session` next needs `handle_timeout`: its stall's end, and
    /// its warning or deadline, unless it waits for the shell or the
    /// journal (its clock does not run then).
    fn wakes_at(&self, session: &Session) -> Option<Instant> {
        let stall = match session.stall {
            Some(Stall::Until(at)) => Some(at),
            _ => None,
        };
        let idle = (!session.waiting_on_shell() && !self.held_by_journal(session)).then(|| {
            session
                .warn_at(self.config.warning_ms)
                .unwrap_or(session.deadline)
        });
        stall.into_iter().chain(idle).min()
    }

    /// Whether the timers agree with every session not touched since they
    /// were last settled (`audit`).
    #[cfg(any(test, feature = "testing"))]
    pub(super) fn audit_timers(&self) -> Result<(), std::string::String> {
        for slot in 0..self.sessions.capacity() {
            if self.sessions.is_touched(slot) {
                continue;
            }
            let expected = self.sessions.at(slot).and_then(|(_, s)| self.wakes_at(s));
            let kept = self.timers.get(slot);
            if kept != expected {
                return Err(std::format!(
                    "slot {slot}'s timer is {kept:?}, its session's {expected:?}"
                ));
            }
        }
        Ok(())
    }
}
