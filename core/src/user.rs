//! Accounts and what the hub remembers about each user.

use crate::blacklist::Blacklist;
use crate::credential::{Name, Password, Secret};
use crate::limits::MAX_PASSWORD_FAILURES;
use crate::protocol::Names;
use crate::session::ConnId;
use crate::table::Table;
use crate::time::Instant;

/// A user: an index into the account table, which only grows. 16 bits:
/// a server holds at most 65,535 accounts (`capacity::CEILING`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct UserId(u16);

impl UserId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    pub(crate) fn from_index(index: usize) -> UserId {
        // Account tables are at most `capacity::CEILING` long.
        UserId(index as u16)
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
    /// What of the above the journal was not given yet (`durable.rs`).
    pub unsaved: Unsaved,
}

/// Parts of a user's durable state changed since the journal last took
/// them: a set of flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unsaved(u8);

impl Unsaved {
    /// The read mark.
    pub const READ: Unsaved = Unsaved(1);
    /// The blacklist (R15, R16).
    pub const BLACKLIST: Unsaved = Unsaved(2);
    /// A block for wrong passwords (R8).
    pub const BLOCKED: Unsaved = Unsaved(4);
    /// What the journal writes after the letters.
    pub const OTHERS: Unsaved = Unsaved(2 | 4);

    pub fn contains(self, flags: Unsaved) -> bool {
        self.0 & flags.0 == flags.0
    }

    pub fn intersects(self, flags: Unsaved) -> bool {
        self.0 & flags.0 != 0
    }

    pub fn insert(&mut self, flags: Unsaved) {
        self.0 |= flags.0;
    }

    pub fn remove(&mut self, flags: Unsaved) {
        self.0 &= !flags.0;
    }
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

/// Every account, in the order of `credentials.txt`, and an index of
/// them by name, so finding one costs a binary search however many
/// there are.
#[derive(Debug)]
pub struct Users {
    users: Table<User>,
    /// The accounts' ids, in the order of their names.
    by_name: Table<UserId>,
    len: usize,
}

impl User {
    /// A row of the account table not in use yet.
    pub fn vacant() -> User {
        User {
            name: Name::new(),
            password: Secret::Plain(Password::new()),
            attempts: LoginAttempts::default(),
            online: None,
            last_logout: None,
            blacklist: Blacklist::default(),
            read: 0,
            unsaved: Unsaved::default(),
        }
    }
}

impl Users {
    /// An empty account table of as many rows as `users` and `by_name`
    /// have (the same number).
    pub fn new(users: Table<User>, by_name: Table<UserId>) -> Users {
        debug_assert_eq!(users.len(), by_name.len());
        Users {
            users,
            by_name,
            len: 0,
        }
    }

    /// The account of exactly this name: logins are case-exact.
    pub fn find(&self, name: &str) -> Option<UserId> {
        let at = self.search(name).ok()?;
        Some(self.by_name[at])
    }

    /// An account whose name is `name` but for case, if there is one
    /// (issue 27): a new name must not pass for it. Names that differ only
    /// in case are next to each other in the index.
    pub fn find_like(&self, name: &str) -> Option<UserId> {
        let index = &self.by_name[..self.len];
        let at = index.partition_point(|id| folded(&self.users[id.index()].name).lt(folded(name)));
        let id = *index.get(at)?;
        self.users[id.index()]
            .name
            .eq_ignore_ascii_case(name)
            .then_some(id)
    }

    /// Where `name` is in the index, or where it would go. The index is
    /// in the order of names without case, then with it.
    fn search(&self, name: &str) -> Result<usize, usize> {
        self.by_name[..self.len].binary_search_by(|id| {
            let held = self.users[id.index()].name.as_str();
            folded(held).cmp(folded(name)).then_with(|| held.cmp(name))
        })
    }

    pub fn is_full(&self) -> bool {
        self.len == self.users.len()
    }

    /// How many accounts it can hold.
    pub fn capacity(&self) -> usize {
        self.users.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds an account; the caller has checked that the name is new.
    pub fn push(&mut self, name: Name, password: Secret) -> Result<UserId, AccountsFull> {
        if self.is_full() {
            return Err(AccountsFull);
        }
        let id = UserId::from_index(self.len);
        let at = match self.search(&name) {
            Ok(at) | Err(at) => at,
        };
        self.users[id.index()] = User {
            name,
            password,
            ..User::vacant()
        };
        // One move of at most 128 KiB, once per new account.
        self.by_name.copy_within(at..self.len, at + 1);
        self.by_name[at] = id;
        self.len += 1;
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
        self.users[..self.len]
            .iter()
            .enumerate()
            .map(|(index, user)| (UserId::from_index(index), user))
    }

    /// A page of the users other than `asker` online now (`since` = None,
    /// R13), or logged in at any moment since `since` (R14), that have not
    /// blocked `asker`: those from account index `from` on, as many as a
    /// frame holds, and the index the next page starts at, if any.
    pub fn seen_by(
        &self,
        asker: UserId,
        since: Option<Instant>,
        from: usize,
    ) -> (Names, Option<usize>) {
        let mut names = Names::new();
        let accounts = self.users.get(from..self.len).unwrap_or_default();
        for (index, user) in (from..).zip(accounts) {
            let seen = match since {
                None => user.online.is_some(),
                Some(since) => user.seen_since(since),
            };
            if !seen || index == asker.index() || user.blacklist.contains(asker) {
                continue;
            }
            if names.push(user.name.clone()).is_err() {
                return (names, Some(index));
            }
        }
        (names, None)
    }

    /// Users logged in now, with their connections.
    pub fn online(&self) -> impl Iterator<Item = (UserId, ConnId)> + '_ {
        self.iter()
            .filter_map(|(id, user)| Some((id, user.online?)))
    }
}

/// A name's bytes without case: names are ASCII (R3).
fn folded(name: &str) -> impl Iterator<Item = u8> + '_ {
    name.bytes().map(|byte| byte.to_ascii_lowercase())
}
