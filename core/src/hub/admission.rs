//! Who may take a connection slot (R26), so that strangers cannot keep
//! the known users out: a cap on one address's connections at the login
//! prompts, a deadline to finish them (`Session::login_by`), slots
//! reserved for logging in to an existing account, no slot for an
//! address blocked for failed logins (`suspects.rs`), and, when every
//! slot is taken, a connection at the prompts that makes room for a
//! newcomer (issue 27): the oldest of the address with the most there.

use core::cmp::Reverse;
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
    ///
    /// When every slot is taken, a connection still at the prompts (not
    /// one whose password is being checked) makes room: one of the
    /// address with the most connections there, counting the newcomer,
    /// the oldest of them. So squatters from any number of addresses
    /// make room for each other, and a newcomer from an address of its
    /// own always gets a prompt (OpenSSH's MaxStartups drops newcomers at
    /// random instead, which lets squatters hold the door). The shell
    /// takes the one let go with [`Hub::made_room`].
    pub fn connect(&mut self, now: Instant, peer: IpAddr) -> Result<ConnId, ByeReason> {
        self.now = now;
        self.made_room = None;
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
        let conn = match self.sessions.insert(session) {
            Ok(conn) => conn,
            Err(mut session) => {
                let yielding = self.yielding(peer).ok_or(ByeReason::ServerFull)?;
                // The shell tells it the server is full (`made_room`).
                let gone = self.sessions.remove(yielding);
                self.made_room = Some(yielding);
                // The open slot it leaves may be this one's: one fewer
                // unproven in the open slots than counted.
                if gone.is_some_and(|s| s.unproven() && !s.reserved) {
                    session.reserved = unproven > capacity - reserved;
                }
                self.sessions
                    .insert(session)
                    .map_err(|_| ByeReason::ServerFull)?
            }
        };
        self.ask(conn, Prompt::Username);
        self.drop_unread();
        Ok(conn)
    }

    /// The connection the last [`Hub::connect`] let go to make room for
    /// the new one, taken: the hub has forgotten it already, and the shell
    /// tells it `Bye` `ServerFull` (R26: never a silent drop) and closes
    /// it. Its slot is the new connection's.
    pub fn made_room(&mut self) -> Option<ConnId> {
        self.made_room.take()
    }

    /// Which connection at the prompts makes room for a newcomer from
    /// `newcomer`: of the address with the most connections there (the
    /// newcomer counted), the oldest; none if none is at the prompts.
    /// The candidates are sorted by address, so the cost is n log n in
    /// the connections, and only when every slot is taken.
    fn yielding(&mut self, newcomer: IpAddr) -> Option<ConnId> {
        let sessions = &self.sessions;
        let mut count = 0;
        for slot in 0..sessions.capacity() {
            let Some((_, session)) = sessions.at(slot) else {
                continue;
            };
            if session.at_prompts() && !session.waiting_on_shell() {
                // Connection tables are at most `capacity::CEILING` long.
                self.candidates[count] = slot as u16;
                count += 1;
            }
        }
        let peer_of = |slot: u16| sessions.at(usize::from(slot)).map(|(_, s)| s.peer);
        // How old a connection is: when its prompts must be done by, made
        // at its start; the lower slot first when two are as old.
        let age = |slot: u16| {
            let login_by = sessions.at(usize::from(slot)).map(|(_, s)| s.login_by);
            (login_by.unwrap_or(Instant::NEVER), slot)
        };
        let candidates = &mut self.candidates[..count];
        candidates.sort_unstable_by_key(|&slot| peer_of(slot));
        // The best so far: (connections of its address, its oldest).
        let mut best: Option<(usize, Reverse<(Instant, u16)>)> = None;
        for run in candidates.chunk_by(|&a, &b| peer_of(a) == peer_of(b)) {
            let Some(oldest) = run.iter().map(|&slot| age(slot)).min() else {
                continue;
            };
            let here = run.len() + usize::from(peer_of(run[0]) == Some(newcomer));
            let key = (here, Reverse(oldest));
            if best.is_none_or(|best| key > best) {
                best = Some(key);
            }
        }
        let (_, Reverse((_, slot))) = best?;
        sessions.at(usize::from(slot)).map(|(conn, _)| conn)
    }
}

#[cfg(test)]
mod tests;
