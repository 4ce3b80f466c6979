//! The plain model the hub is checked against: what each mailbox and
//! blacklist must hold, which letters and blocks were promised durable,
//! and which replies each connection is owed.

use std::collections::{BTreeMap, BTreeSet};

use natter_core::hub::{Letter, View};
use natter_core::protocol::{Refusal, ServerFrame};

/// A reply a connection is owed for a command, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// `Stored` for letter `id` to `user`.
    Stored {
        user: String,
        id: u64,
    },
    Refused(Refusal),
    /// `MailboxFull` for `user`, `StoreFull` or `SenderFull`: which one is
    /// the store's arithmetic, not the model's.
    NoRoom {
        user: String,
    },
    /// For the change to a blacklist numbered `change`.
    Blocked {
        user: String,
        change: u64,
    },
    Unblocked {
        user: String,
        change: u64,
    },
}

impl Expect {
    /// Whether `frame` is this reply.
    pub fn matches(&self, frame: &ServerFrame) -> bool {
        match (self, frame) {
            (Expect::Stored { user, .. }, ServerFrame::Stored { user: got }) => {
                user == got.as_str()
            }
            (Expect::Refused(want), ServerFrame::Refused { refusal }) => want == refusal,
            (Expect::NoRoom { user }, ServerFrame::Refused { refusal }) => match refusal {
                Refusal::MailboxFull { user: got } => user == got.as_str(),
                Refusal::StoreFull | Refusal::SenderFull => true,
                _ => false,
            },
            (Expect::Blocked { user, .. }, ServerFrame::UserBlocked { user: got })
            | (Expect::Unblocked { user, .. }, ServerFrame::UserUnblocked { user: got }) => {
                user == got.as_str()
            }
            _ => false,
        }
    }
}

/// Whether `frame` answers a message, broadcast, block or unblock: the
/// replies the model keeps count of.
pub fn is_counted_reply(frame: &ServerFrame) -> bool {
    match frame {
        ServerFrame::Stored { .. } | ServerFrame::UserBlocked { .. } => true,
        ServerFrame::UserUnblocked { .. } => true,
        ServerFrame::Refused { refusal } => matches!(
            refusal,
            Refusal::InvalidUser
                | Refusal::MessageSelf
                | Refusal::BlockedByRecipient
                | Refusal::NotDeliveredToSome
                | Refusal::MailboxFull { .. }
                | Refusal::StoreFull
                | Refusal::SenderFull
                | Refusal::NotKept
                | Refusal::BlockSelf
                | Refusal::AlreadyBlocked { .. }
                | Refusal::UnblockSelf
                | Refusal::NotBlocked { .. }
        ),
        _ => false,
    }
}

/// Who sent a letter, and what was promised of it.
#[derive(Clone, Debug)]
pub struct Posted {
    pub to: String,
    pub letter: Letter,
    /// The bot and the connection it was sent on.
    pub sender: (usize, u64),
    /// Its sender was told it is on disk (`Accepted`, or `Stored` from a
    /// synced batch): a crash must not lose it.
    pub promised: bool,
}

/// The last change to one user's blacklist entry for another.
#[derive(Clone, Copy, Debug)]
pub struct BlockChange {
    pub number: u64,
    pub blocked: bool,
    /// Its reply came out of a synced batch: it must survive a crash.
    pub promised: bool,
}

#[derive(Default)]
pub struct Model {
    /// Accounts, and their passwords as saved.
    pub accounts: BTreeMap<String, String>,
    pub mailboxes: BTreeMap<String, Vec<Letter>>,
    pub blacklists: BTreeMap<String, BTreeSet<String>>,
    /// Every letter ever posted, by id (ids are never reused).
    pub posted: BTreeMap<u64, Posted>,
    /// Per (user, other): the last change of the entry.
    pub block_changes: BTreeMap<(String, String), BlockChange>,
    pub changes: u64,
    /// Password blocks told to their user from a synced batch: until when.
    pub password_blocks: BTreeMap<String, u64>,
}

impl Model {
    /// The model as it must be after a restart from `view`: the hub's.
    pub fn restart(&mut self, view: &View) {
        self.mailboxes = view.mailboxes.clone();
        self.blacklists = view
            .blacklists
            .iter()
            .map(|(user, list)| (user.clone(), list.iter().cloned().collect()))
            .collect();
        self.block_changes.clear();
    }

    /// Whether `user` has blocked `other`.
    pub fn blocks(&self, user: &str, other: &str) -> bool {
        self.blacklists
            .get(user)
            .is_some_and(|list| list.contains(other))
    }

    /// `user` acknowledged every letter up to `id`.
    pub fn acknowledge(&mut self, user: &str, id: u64) {
        if let Some(letters) = self.mailboxes.get_mut(user) {
            letters.retain(|letter| letter.id > id);
        }
    }

    /// A blacklist entry changed; the number of the change.
    pub fn block(&mut self, user: &str, other: &str, blocked: bool) -> u64 {
        self.changes += 1;
        let list = self.blacklists.entry(user.to_owned()).or_default();
        if blocked {
            list.insert(other.to_owned());
        } else {
            list.remove(other);
        }
        let change = BlockChange {
            number: self.changes,
            blocked,
            promised: false,
        };
        self.block_changes
            .insert((user.to_owned(), other.to_owned()), change);
        self.changes
    }
}
