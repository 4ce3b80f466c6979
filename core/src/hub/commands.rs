//! What a logged-in user can ask of the server (R10-R16).

use super::{Hub, NotACommand};
use crate::blacklist::BlacklistFull;
use crate::credential::Name;
use crate::protocol::{ClientFrame, Refusal, ServerFrame, Text};
use crate::session::ConnId;
use crate::store::{Post, PostError};
use crate::time::Instant;
use crate::user::UserId;

impl Hub {
    /// Carries out `frame` for `user`, online on `conn`.
    pub(super) fn command(
        &mut self,
        conn: ConnId,
        user: UserId,
        frame: &ClientFrame,
    ) -> Result<(), NotACommand> {
        let reply = match frame {
            ClientFrame::Message { to, text } => self.message(user, to, text),
            ClientFrame::Broadcast { text } => self.broadcast(user, text),
            ClientFrame::WhoElse {} => {
                self.send_listing(conn, user, None);
                None
            }
            ClientFrame::WhoElseSince { seconds } => {
                let since = Instant(
                    self.now
                        .millis()
                        .saturating_sub(seconds.saturating_mul(1000)),
                );
                self.send_listing(conn, user, Some(since));
                None
            }
            ClientFrame::StartPrivate { user: target } => {
                self.start_private(conn, user, target);
                None
            }
            ClientFrame::AcceptPrivate { user: from, port } => {
                self.answer_private(conn, user, from, Some(*port))
                    .map_err(|_| NotACommand)?;
                None
            }
            ClientFrame::DeclinePrivate { user: from } => {
                self.answer_private(conn, user, from, None)
                    .map_err(|_| NotACommand)?;
                None
            }
            ClientFrame::WithdrawPrivate { user: target } => {
                self.withdraw_private(conn, user, target);
                None
            }
            // Activity only (R22): handled by the caller.
            ClientFrame::PrivateActivity {} => None,
            ClientFrame::Block { user: target } => Some(self.block(user, target)),
            ClientFrame::Unblock { user: target } => Some(self.unblock(user, target)),
            ClientFrame::Username { .. }
            | ClientFrame::Password { .. }
            | ClientFrame::Logout {}
            | ClientFrame::Received { .. } => return Err(NotACommand),
        };
        if let Some(reply) = reply {
            self.send(conn, &reply);
        }
        Ok(())
    }

    /// `message` (R10): delivered now if `to` is online, kept if not.
    fn message(&mut self, sender: UserId, to: &str, text: &Text) -> Option<ServerFrame> {
        let Some(recipient) = self.users.find(to) else {
            return Some(refused(Refusal::InvalidUser));
        };
        if recipient == sender {
            return Some(refused(Refusal::MessageSelf));
        }
        if self.users.get(recipient).blacklist.contains(sender) {
            return Some(refused(Refusal::BlockedByRecipient));
        }
        if self.journal_failing() {
            return Some(Hub::not_kept());
        }
        match self.deliver(sender, recipient, text, false) {
            Ok(Delivery::Sent) => None,
            // Kept for the next login: the sender is told.
            Ok(Delivery::Kept) => Some(ServerFrame::Stored {
                user: self.users.get(recipient).name.clone(),
            }),
            Err(PostError::MailboxFull) => Some(refused(Refusal::MailboxFull {
                user: self.users.get(recipient).name.clone(),
            })),
            Err(PostError::StoreFull) => Some(refused(Refusal::StoreFull)),
            Err(PostError::SenderFull) => Some(refused(Refusal::SenderFull)),
        }
    }

    /// `broadcast` (R12): to everyone online but the sender and those who
    /// blocked them; never kept for users offline.
    fn broadcast(&mut self, sender: UserId, text: &Text) -> Option<ServerFrame> {
        if self.journal_failing() {
            return Some(Hub::not_kept());
        }
        let mut missed = false;
        for slot in 0..self.sessions.capacity() {
            let Some((_, recipient)) = self.sessions.online_at(slot) else {
                continue;
            };
            if recipient != sender {
                missed |= self.users.get(recipient).blacklist.contains(sender)
                    || self.deliver(sender, recipient, text, true).is_err();
            }
        }
        missed.then(|| refused(Refusal::NotDeliveredToSome))
    }

    /// Posts a letter to `recipient` and, if they are online, queues it.
    fn deliver(
        &mut self,
        sender: UserId,
        recipient: UserId,
        text: &Text,
        broadcast: bool,
    ) -> Result<Delivery, PostError> {
        let from = self.users.get(sender).name.clone();
        let online = self.users.get(recipient).online;
        let post = Post {
            to: recipient,
            sender,
            from: &from,
            text,
            broadcast,
            kept: online.is_none(),
            now: self.now,
        };
        let id = self.store.post(post)?;
        self.posted(id, recipient);
        self.changed(false);
        // Told it is accepted once it is durable (`durable.rs`).
        let batch = self.next_batch();
        if let Some(session) = self
            .users
            .get(sender)
            .online
            .and_then(|conn| self.sessions.get_mut(conn))
            .filter(|_| self.config.journal)
        {
            session.output.unaccepted.post(id, batch);
        }
        // If the recipient's queue is full they are dropped, and the
        // letter waits in their mailbox for the next login.
        let sent = match online {
            Some(conn) => self.send_letters(conn, id),
            None => false,
        };
        Ok(if sent { Delivery::Sent } else { Delivery::Kept })
    }

    /// `block` (R15).
    fn block(&mut self, user: UserId, target: &Name) -> ServerFrame {
        let Some(target_id) = self.users.find(target) else {
            return refused(Refusal::InvalidUser);
        };
        if target_id == user {
            return refused(Refusal::BlockSelf);
        }
        match self.users.get_mut(user).blacklist.insert(target_id) {
            Ok(true) => {
                self.blacklist_changed(user);
                ServerFrame::UserBlocked {
                    user: target.clone(),
                }
            }
            Ok(false) => refused(Refusal::AlreadyBlocked {
                user: target.clone(),
            }),
            Err(BlacklistFull) => refused(Refusal::BlacklistFull),
        }
    }

    /// `unblock` (R16).
    fn unblock(&mut self, user: UserId, target: &Name) -> ServerFrame {
        let Some(target_id) = self.users.find(target) else {
            return refused(Refusal::InvalidUser);
        };
        if target_id == user {
            return refused(Refusal::UnblockSelf);
        }
        if self.users.get_mut(user).blacklist.remove(target_id) {
            self.blacklist_changed(user);
            ServerFrame::UserUnblocked {
                user: target.clone(),
            }
        } else {
            refused(Refusal::NotBlocked {
                user: target.clone(),
            })
        }
    }
}

/// What became of a posted letter.
enum Delivery {
    /// Queued for its reader, online now.
    Sent,
    /// Waiting for its reader's next login.
    Kept,
}

fn refused(refusal: Refusal) -> ServerFrame {
    ServerFrame::Refused { refusal }
}

#[cfg(test)]
mod tests;
