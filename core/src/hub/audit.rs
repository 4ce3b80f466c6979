//! The hub seen whole, for the simulator (issue 25): [`Hub::view`] is its
//! durable and visible state in plain types, to compare with a model;
//! [`Hub::audit`] checks what the rules keep consistent inside it.

use std::collections::BTreeMap;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use super::Hub;
use crate::session::ConnId;
use crate::session::Phase;
use crate::user::UserId;

/// One letter waiting in a mailbox.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Letter {
    pub id: u64,
    pub from: String,
    pub text: String,
    pub broadcast: bool,
}

/// What the hub holds, by username.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// Users logged in, and where.
    pub online: BTreeMap<String, ConnId>,
    /// Each user's letters not acknowledged yet, oldest first.
    pub mailboxes: BTreeMap<String, Vec<Letter>>,
    /// Whom each user has blocked (R15), by name.
    pub blacklists: BTreeMap<String, Vec<String>>,
    /// Until when each user is blocked for wrong passwords (R8), if ever.
    pub blocked_until: BTreeMap<String, u64>,
    /// The last letter id given out.
    pub latest: u64,
}

impl Hub {
    /// The hub's state in plain types.
    pub fn view(&self) -> View {
        let mut view = View {
            latest: self.store.latest(),
            online: self.online(),
            ..View::default()
        };
        for (id, user) in self.users.iter() {
            let name = user.name.to_string();
            view.mailboxes.insert(name.clone(), self.letters_of(id, 0));
            let blocked = self
                .users
                .iter()
                .filter(|&(other, _)| user.blacklist.contains(other))
                .map(|(_, other)| other.name.to_string())
                .collect();
            view.blacklists.insert(name.clone(), blocked);
            if let Some(until) = user.attempts.blocked_until() {
                view.blocked_until.insert(name, until.millis());
            }
        }
        view
    }

    /// Users logged in, and where: [`View::online`].
    pub fn online(&self) -> BTreeMap<String, ConnId> {
        self.users
            .online()
            .map(|(user, conn)| (self.users.get(user).name.to_string(), conn))
            .collect()
    }

    /// Every letter waiting with an id above `id`, and whom for: what was
    /// posted since the last id was `id`.
    pub fn letters_since(&self, id: u64) -> Vec<(String, Letter)> {
        let mut since = Vec::new();
        for (user, account) in self.users.iter() {
            let name = account.name.to_string();
            since.extend(
                self.letters_of(user, id)
                    .into_iter()
                    .map(|l| (name.clone(), l)),
            );
        }
        since
    }

    /// The last letter id given out.
    pub fn latest(&self) -> u64 {
        self.store.latest()
    }

    /// `user`'s letters with an id above `id`, oldest first.
    fn letters_of(&self, user: UserId, id: u64) -> Vec<Letter> {
        let mut letters = Vec::new();
        let mut cursor = self.store.letters_after(user, id);
        let mut bytes = [0u8; crate::limits::NAME_MAX + crate::limits::TEXT_MAX];
        while let Some(letter) = cursor.read_next(&mut bytes) {
            letters.push(Letter {
                id: letter.id,
                from: letter.from.to_string(),
                text: letter.text.to_string(),
                broadcast: letter.broadcast,
            });
        }
        letters
    }

    /// The connection `user` is online on, if they are: [`Hub::view`]'s
    /// `online` for one user, without the rest.
    pub fn online_on(&self, user: &str) -> Option<ConnId> {
        self.users
            .find(user)
            .and_then(|id| self.users.get(id).online)
    }

    /// What must always hold inside the hub: the store's chunks are all
    /// accounted for, each connection's timer is its session's next
    /// deadline, and a user is online on a connection exactly when
    /// that connection's session says so.
    pub fn audit(&self) -> Result<(), String> {
        self.store.audit()?;
        self.audit_timers()?;
        for (id, user) in self.users.iter() {
            if let Some(conn) = user.online {
                let phase = self.sessions.get(conn).map(|s| &s.phase);
                if phase != Some(&Phase::Online(id)) {
                    return Err(format!(
                        "{} online on {conn:?}, whose phase is {phase:?}",
                        user.name
                    ));
                }
            }
        }
        for (conn, session) in self.sessions.iter() {
            if let Phase::Online(user) = session.phase
                && self.users.get(user).online != Some(conn)
            {
                return Err(format!("{conn:?} is online as {user:?}, who is not"));
            }
        }
        Ok(())
    }
}
