//! Who may take a connection slot (R26), so that strangers cannot keep
//! the known users out: a cap on one address's connections at the login
//! prompts, a deadline to finish them (`Session::login_by`), slots
//! reserved for logging in to an existing account, and no slot for an
//! address blocked for failed logins (`suspects.rs`).

use core::net::IpAddr;

use super::Hub;
use crate::limits::RESERVED_CONNECTIONS;
use crate::protocol::{ByeReason, Prompt};
use crate::session::{ConnId, Session};
use crate::time::Instant;

impl Hub {
    /// A new connection from `peer`: asks for a username (R4), or says
    /// why not, for the shell to tell it before it closes the socket:
    /// every slot is taken (R26), or `peer` has its share of connections
    /// at the prompts already. Once all but the reserved slots are taken
    /// by connections that may be signing up, a new one gets a reserved
    /// slot, in which it may log in to an existing account only.
    pub fn connect(&mut self, now: Instant, peer: IpAddr) -> Result<ConnId, ByeReason> {
        self.now = now;
        let cap = usize::from(self.config.per_address);
        let (mut from_peer, mut unproven) = (0, 0);
        for (_, session) in self.sessions.iter() {
            from_peer += usize::from(session.peer == peer && session.at_prompts());
            unproven += usize::from(session.unproven() && !session.reserved);
        }
        if let Some(seconds) = self.suspects.blocked(peer, now) {
            return Err(ByeReason::AddressBlocked { seconds });
        }
        if cap > 0 && from_peer >= cap {
            return Err(ByeReason::TooManyConnections);
        }
        // A small server keeps a third of its slots, not all of them.
        let capacity = self.sessions.capacity();
        let reserved = RESERVED_CONNECTIONS.min(capacity / 3);
        let config = &self.config;
        let mut session = Session::new(peer, now, config.timeout_ms, config.login_ms, config.rate);
        session.reserved = unproven >= capacity - reserved;
        let conn = self
            .sessions
            .insert(session)
            .map_err(|_| ByeReason::ServerFull)?;
        self.ask(conn, Prompt::Username);
        self.drop_unread();
        Ok(conn)
    }
}

#[cfg(test)]
mod tests;
