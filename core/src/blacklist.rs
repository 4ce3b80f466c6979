//! Whom a user has blocked (R15, R16): one bit per account.

use crate::limits::MAX_ACCOUNTS;
use crate::user::UserId;

const WORDS: usize = MAX_ACCOUNTS.div_ceil(32);

/// A set of users, as a bitset over account indices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Blacklist([u32; WORDS]);

impl Blacklist {
    pub fn contains(&self, user: UserId) -> bool {
        let (word, bit) = Self::place(user);
        self.0[word] & bit != 0
    }

    /// Adds `user`; `false` if already there.
    pub fn insert(&mut self, user: UserId) -> bool {
        let (word, bit) = Self::place(user);
        let added = self.0[word] & bit == 0;
        self.0[word] |= bit;
        added
    }

    /// Removes `user`; `false` if not there.
    pub fn remove(&mut self, user: UserId) -> bool {
        let (word, bit) = Self::place(user);
        let removed = self.0[word] & bit != 0;
        self.0[word] &= !bit;
        removed
    }

    fn place(user: UserId) -> (usize, u32) {
        // UserIds index the account table, so they are below MAX_ACCOUNTS.
        (user.index() / 32, 1 << (user.index() % 32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_contains_remove() {
        let mut list = Blacklist::default();
        let (a, b) = (UserId::from_index(0), UserId::from_index(MAX_ACCOUNTS - 1));
        assert!(!list.contains(a));
        assert!(list.insert(b));
        assert!(!list.insert(b));
        assert!(list.contains(b) && !list.contains(a));
        assert!(list.remove(b));
        assert!(!list.remove(b));
        assert_eq!(list, Blacklist::default());
    }
}
