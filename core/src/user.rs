//! Accounts and what the hub remembers about each user.

use crate::blacklist::Blacklist;
use crate::credential::{Name, Secret};
use crate::limits::{MAX_ACCOUNTS, MAX_PASSWORD_FAILURES};
use crate::session::ConnId;
use crate::time::Instant;

/// A user: an index into the account table, which only grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserId(u8);

impl UserId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    pub(crate) fn from_index(index: usize) -> UserId {
        UserId(index as u8)
    }
}

/// Consecutive wrong passwords and the block they lead to (R8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginAttempts {
    failures: u8,
    blocked_until: Option<Instant>,
}

/// What a wrong password led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    TryAgain,
    NowBlocked,
}

impl LoginAttempts {
    pub fn is_blocked(&self, now: Instant) -> bool {
        self.blocked_until.is_some_and(|until| now < until)
    }

    /// How long the block has left, in whole seconds rounded up (a block
    /// that ends in 200 ms still has "1 second" to go); 0 when not blocked.
    pub fn seconds_left(&self, now: Instant) -> u64 {
        let left = self
            .blocked_until
            .map_or(0, |until| until.millis().saturating_sub(now.millis()));
        left.div_ceil(1000)
    }

    /// Counts a wrong password; the last allowed one blocks for `block_ms`.
    pub fn fail(&mut self, now: Instant, block_ms: u64) -> Failure {
        self.failures += 1;
        if self.failures >= MAX_PASSWORD_FAILURES {
            // A fresh count once the block ends.
            *self = LoginAttempts {
                failures: 0,
                blocked_until: Some(now.after(block_ms)),
            };
            Failure::NowBlocked
        } else {
            Failure::TryAgain
        }
    }

    /// Until when the username is blocked, if it was ever (R8).
    pub fn blocked_until(&self) -> Option<Instant> {
        self.blocked_until
    }

    /// Blocked until `until`, as a journal recorded it.
    pub fn block_until(&mut self, until: Instant) {
        *self = LoginAttempts {
            failures: 0,
            blocked_until: Some(until),
        };
    }

    pub fn succeed(&mut self) {
        *self = LoginAttempts::default();
    }
}

/// One account and its live state.
#[derive(Clone, Debug)]
pub struct User {
    pub name: Name,
    /// The password, or its hash, as the accounts file keeps it.
    pub password: Secret,
    pub attempts: LoginAttempts,
    /// The connection the user is logged in on.
    pub online: Option<ConnId>,
    /// When the user last logged out; with `online`, all that `whoelsesince`
    /// needs (R14): a user was logged in during a window that ends now iff
    /// they are online or their last session ended inside it.
    pub last_logout: Option<Instant>,
    /// Users this user has blocked (R15).
    pub blacklist: Blacklist,
    /// The highest letter id they acknowledged: everything up to it was
    /// shown (R17, R27).
    pub read: u64,
}

impl User {
    /// Whether this user was logged in at any moment since `since`.
    pub fn seen_since(&self, since: Instant) -> bool {
        self.online.is_some() || self.last_logout.is_some_and(|at| at >= since)
    }
}

/// The account table is full (R26).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountsFull;

/// Every account, in the order of `credentials.txt`.
#[derive(Debug, Default)]
pub struct Users {
    users: heapless::Vec<User, MAX_ACCOUNTS>,
}

impl Users {
    pub fn find(&self, name: &str) -> Option<UserId> {
        // A linear scan of at most MAX_ACCOUNTS short names beats a hash
        // table at this size and needs no hasher.
        self.users
            .iter()
            .position(|user| user.name == name)
            .map(|index| UserId(index as u8))
    }

    pub fn is_full(&self) -> bool {
        self.users.is_full()
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Adds an account; the caller has checked that the name is new.
    pub fn push(&mut self, name: Name, password: Secret) -> Result<UserId, AccountsFull> {
        let id = UserId(self.users.len() as u8);
        self.users
            .push(User {
                name,
                password,
                attempts: LoginAttempts::default(),
                online: None,
                last_logout: None,
                blacklist: Blacklist::default(),
                read: 0,
            })
            .map_err(|_| AccountsFull)?;
        Ok(id)
    }

    pub fn get(&self, id: UserId) -> &User {
        // UserIds are only made by `push` and `find`, and accounts are never
        // removed, so every id indexes the table.
        &self.users[id.index()]
    }

    pub fn get_mut(&mut self, id: UserId) -> &mut User {
        &mut self.users[id.index()]
    }

    /// Every user, with their id.
    pub fn iter(&self) -> impl Iterator<Item = (UserId, &User)> {
        self.users
            .iter()
            .enumerate()
            .map(|(index, user)| (UserId(index as u8), user))
    }

    /// Users logged in now, with their connections.
    pub fn online(&self) -> impl Iterator<Item = (UserId, ConnId)> + '_ {
        self.users
            .iter()
            .enumerate()
            .filter_map(|(index, user)| Some((UserId(index as u8), user.online?)))
    }
}
