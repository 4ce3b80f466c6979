//! Whom a user has blocked (R15, R16): a short list of their own, so the
//! memory of blacklists grows with the accounts, not with their square.

use crate::limits::BLACKLIST_MAX;
use crate::user::UserId;

/// A set of at most [`BLACKLIST_MAX`] users.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blacklist(heapless::Vec<UserId, BLACKLIST_MAX>);

/// The list is full: an `unblock` makes room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlacklistFull;

impl Blacklist {
    pub fn contains(&self, user: UserId) -> bool {
        self.0.contains(&user)
    }

    /// Adds `user`; `Ok(false)` if already there.
    pub fn insert(&mut self, user: UserId) -> Result<bool, BlacklistFull> {
        if self.contains(user) {
            return Ok(false);
        }
        self.0.push(user).map_err(|_| BlacklistFull)?;
        Ok(true)
    }

    /// Removes `user`; `false` if not there.
    pub fn remove(&mut self, user: UserId) -> bool {
        let Some(at) = self.0.iter().position(|&blocked| blocked == user) else {
            return false;
        };
        self.0.remove(at);
        true
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The users blocked, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = UserId> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_contains_remove() {
        let mut list = Blacklist::default();
        let (a, b) = (UserId::from_index(0), UserId::from_index(65_534));
        assert!(!list.contains(a));
        assert_eq!(list.insert(b), Ok(true));
        assert_eq!(list.insert(b), Ok(false));
        assert!(list.contains(b) && !list.contains(a));
        assert!(list.remove(b));
        assert!(!list.remove(b));
        assert_eq!(list, Blacklist::default());
    }

    #[test]
    fn a_full_list_refuses_one_more_until_one_leaves() {
        let mut list = Blacklist::default();
        for index in 0..BLACKLIST_MAX {
            assert_eq!(list.insert(UserId::from_index(index)), Ok(true));
        }
        let one_more = UserId::from_index(BLACKLIST_MAX);
        assert_eq!(list.insert(one_more), Err(BlacklistFull));
        assert_eq!(list.insert(UserId::from_index(0)), Ok(false));
        assert!(list.remove(UserId::from_index(3)));
        assert_eq!(list.insert(one_more), Ok(true));
        assert!(list.contains(one_more) && !list.contains(UserId::from_index(3)));
    }
}
