//! When the shell may hand the hub a connection's next frame: the hub
//! decides, and the shell only reports readiness (issue 24). A connection
//! is not read while it sends faster than its rate, while its address is
//! slowed down for failed logins, while the shell checks its password or
//! saves its account, or while its queue lacks room for another reply (the
//! client does not read its replies, or they wait for the journal). Its
//! frames then wait in the shell's framer and the socket, and TCP pushes
//! back on the sender. When the reason ends the hub marks the connection
//! ready (`poll_ready`), and the shell reads it again.

use super::Hub;
use crate::limits::REPLY_ROOM;
use crate::session::ConnId;
use crate::time::Instant;

/// Why a connection is not read, and what ends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    /// Until then: its rate, or its address's failed logins.
    Until(Instant),
    /// Until the shell answers its password check or account save.
    Answer,
    /// Until its queue has room for a reply again (`poll_transmit`).
    Room,
}

impl Hub {
    /// Whether the shell may hand the hub `conn`'s next frame now. If
    /// not, the shell stops reading `conn` until the hub marks it ready
    /// again: it sent faster than its rate, its address is slowed down for
    /// failed logins, its password is being checked or its account saved,
    /// or its queue has no room for another reply (the shell writes the
    /// queue out meanwhile, as it does every queue).
    ///
    /// A closing connection is read still: what it sends is ignored, and
    /// its hanging up ends the wait for its last bytes. One the hub no
    /// longer knows is not.
    pub fn may_read(&mut self, conn: ConnId, now: Instant) -> bool {
        let room = self.has_room(conn);
        let after = self.read_after(conn, now);
        let Some(session) = self.sessions.get_mut(conn) else {
            return false;
        };
        let stall = match after {
            Some(Instant::NEVER) => Stall::Answer,
            _ if !room => Stall::Room,
            Some(at) => Stall::Until(at),
            None => {
                session.stall = None;
                return true;
            }
        };
        // A queue short of room is ready already (each frame queued marks
        // it so): the shell writes it out, and `poll_transmit` ends the
        // stall once there is room.
        session.stall = Some(stall);
        false
    }

    /// When the shell may read `conn` again, if it sent faster than its
    /// rate: until then its frames wait in the socket. `None`: now.
    /// Also while at the login prompts, if its address is slowed down for
    /// failed logins; and while the shell checks its password or saves its
    /// account, [`Instant::NEVER`]: until the shell has answered.
    pub fn read_after(&self, conn: ConnId, now: Instant) -> Option<Instant> {
        let session = self.sessions.get(conn)?;
        if session.waiting_on_shell() {
            return Some(Instant::NEVER);
        }
        let rate = session.bucket.ready_at(self.config.rate, now);
        let suspect = (session.at_prompts() && self.config.guard_addresses)
            .then(|| self.suspects.read_after(session.peer, now))
            .flatten();
        rate.max(suspect)
    }

    /// Whether `conn`'s queue has room for the reply to another command
    /// ([`REPLY_ROOM`]).
    pub fn has_room(&self, conn: ConnId) -> bool {
        self.sessions
            .get(conn)
            .is_none_or(|s| s.output.room() >= REPLY_ROOM)
    }

    /// `conn`'s stall for `ended` is over: the shell reads it again.
    pub(super) fn resume(&mut self, conn: ConnId, ended: fn(Stall) -> bool) {
        if let Some(session) = self.sessions.get_mut(conn)
            && session.stall.is_some_and(ended)
        {
            session.stall = None;
            self.mark_ready(conn);
        }
    }
}

#[cfg(test)]
mod tests;
