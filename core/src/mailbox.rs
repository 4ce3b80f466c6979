//! Messages waiting for their reader (R17, R27): one fixed store shared by
//! every user's mailbox.
//!
//! Every message to a user is posted here first. If the user is online it
//! is also sent at once, and stays until their client acknowledges it; if
//! not, it waits for their next login. So a message is never lost between
//! the hub and the screen: a receiver that stops reading, or whose
//! connection breaks mid-send, gets it again at its next login, and a
//! mailbox that fills up is an error the sender sees.

use crate::credential::Name;
use crate::limits::{MAILBOX_DEPTH, MAX_LETTERS};
use crate::protocol::{ServerFrame, Text};
use crate::time::Instant;
use crate::user::UserId;

/// One message in a mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    /// Unique and increasing: the order of posting, and the id the client
    /// acknowledges.
    pub id: u64,
    pub to: UserId,
    pub from: Name,
    pub text: Text,
    /// Sent to everyone online, not to `to` alone.
    pub broadcast: bool,
    /// When it was stored: the client shows when it was sent.
    pub posted: Instant,
}

impl Letter {
    /// The frame that shows this letter to its reader at `now`.
    pub fn frame(&self, now: Instant) -> ServerFrame {
        ServerFrame::Message {
            id: self.id,
            from: self.from.clone(),
            text: self.text.clone(),
            broadcast: self.broadcast,
            age: now.millis().saturating_sub(self.posted.millis()) / 1000,
        }
    }
}

/// A letter to be posted.
#[derive(Clone, Copy, Debug)]
pub struct Post<'a> {
    pub to: UserId,
    pub from: &'a Name,
    pub text: &'a Text,
    pub broadcast: bool,
    pub now: Instant,
}

/// Why a letter was not posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostError {
    /// The recipient already has `MAILBOX_DEPTH` letters waiting.
    MailboxFull,
    /// All `MAX_LETTERS` slots of the store are taken.
    StoreFull,
}

/// Every user's mailbox, in `MAX_LETTERS` fixed slots.
#[derive(Debug)]
pub struct Mailboxes {
    slots: [Option<Letter>; MAX_LETTERS],
    next_id: u64,
}

impl Default for Mailboxes {
    fn default() -> Self {
        Mailboxes {
            slots: core::array::from_fn(|_| None),
            next_id: 1,
        }
    }
}

impl Mailboxes {
    /// Stores a letter; returns it as stored.
    pub fn post(&mut self, post: Post<'_>) -> Result<&Letter, PostError> {
        let Post { to, from, text, .. } = post;
        if self.waiting(to) >= MAILBOX_DEPTH {
            return Err(PostError::MailboxFull);
        }
        let slot = self
            .slots
            .iter_mut()
            .find(|slot| slot.is_none())
            .ok_or(PostError::StoreFull)?;
        let id = self.next_id;
        self.next_id += 1;
        Ok(slot.insert(Letter {
            id,
            to,
            from: from.clone(),
            text: text.clone(),
            broadcast: post.broadcast,
            posted: post.now,
        }))
    }

    /// Forgets letter `id` of `to`, once shown; `false` if there is none.
    pub fn acknowledge(&mut self, to: UserId, id: u64) -> bool {
        let found = self
            .slots
            .iter_mut()
            .find(|slot| slot.as_ref().is_some_and(|l| l.id == id && l.to == to));
        match found {
            Some(slot) => {
                *slot = None;
                true
            }
            None => false,
        }
    }

    /// How many letters `to` has waiting.
    pub fn waiting(&self, to: UserId) -> usize {
        self.letters(to).count()
    }

    /// The ids of `to`'s letters, oldest first.
    pub fn ids(&self, to: UserId) -> heapless::Vec<u64, MAILBOX_DEPTH> {
        let mut ids: heapless::Vec<u64, MAILBOX_DEPTH> =
            self.letters(to).map(|letter| letter.id).collect();
        ids.sort_unstable();
        ids
    }

    pub fn get(&self, id: u64) -> Option<&Letter> {
        self.slots.iter().flatten().find(|letter| letter.id == id)
    }

    fn letters(&self, to: UserId) -> impl Iterator<Item = &Letter> {
        self.slots
            .iter()
            .flatten()
            .filter(move |letter| letter.to == to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Text {
        Text::try_from(s).unwrap()
    }

    fn post<'a>(to: UserId, from: &'a Name, text: &'a Text) -> Post<'a> {
        Post {
            to,
            from,
            text,
            broadcast: false,
            now: Instant(0),
        }
    }

    #[test]
    fn letters_come_out_oldest_first_and_go_once_acknowledged() {
        let mut boxes = Mailboxes::default();
        let (luke, yoda) = (UserId::from_index(7), UserId::from_index(1));
        let hans = Name::try_from("hans").unwrap();
        let first = boxes.post(post(luke, &hans, &text("one"))).unwrap().id;
        boxes.post(post(yoda, &hans, &text("for yoda"))).unwrap();
        let second = boxes.post(post(luke, &hans, &text("two"))).unwrap().id;
        assert_eq!(boxes.ids(luke).as_slice(), [first, second]);
        assert!(boxes.acknowledge(luke, first));
        assert!(!boxes.acknowledge(luke, first), "only once");
        assert!(!boxes.acknowledge(yoda, second), "only by its reader");
        assert_eq!(boxes.ids(luke).as_slice(), [second]);
        assert_eq!(boxes.get(second).unwrap().text, "two");
    }

    #[test]
    fn a_letter_says_how_long_ago_it_was_stored_and_whether_it_was_a_broadcast() {
        let mut boxes = Mailboxes::default();
        let hans = Name::try_from("hans").unwrap();
        let hi = text("hi");
        let letter = boxes
            .post(Post {
                broadcast: true,
                now: Instant(5_000),
                ..post(UserId::from_index(7), &hans, &hi)
            })
            .unwrap();
        let frame = letter.frame(Instant(67_999));
        let ServerFrame::Message { broadcast, age, .. } = frame else {
            panic!("{frame:?}");
        };
        assert!(broadcast);
        assert_eq!(age, 62, "whole seconds, rounded down");
    }

    #[test]
    fn a_full_mailbox_and_a_full_store_refuse_letters() {
        let mut boxes = Mailboxes::default();
        let hans = Name::try_from("hans").unwrap();
        let luke = UserId::from_index(7);
        for _ in 0..MAILBOX_DEPTH {
            boxes.post(post(luke, &hans, &text("x"))).unwrap();
        }
        assert_eq!(
            boxes.post(post(luke, &hans, &text("x"))),
            Err(PostError::MailboxFull)
        );
        // Fill the store with other users' letters, a mailbox at a time.
        let mut posted = MAILBOX_DEPTH;
        let mut user = 8;
        while posted < MAX_LETTERS {
            match boxes.post(post(UserId::from_index(user), &hans, &text("x"))) {
                Ok(_) => posted += 1,
                Err(PostError::MailboxFull) => user += 1,
                Err(PostError::StoreFull) => panic!("store full after {posted}"),
            }
        }
        assert_eq!(
            boxes.post(post(UserId::from_index(0), &hans, &text("x"))),
            Err(PostError::StoreFull)
        );
    }
}
