//! What is checked: after every step, the hub against the model; each
//! frame a bot reads, against what it was owed and promised; after a
//! crash, the new hub against what was promised.

use natter_core::hub::{Letter, View};
use natter_core::protocol::{ByeReason, Prompt as Asked, ServerFrame};

use crate::bots::Prompt;
use crate::model::{Expect, is_counted_reply};

use super::{BLOCK_MS, History, Sim};

impl History {
    /// After every step: the hub agrees with the model.
    pub(super) fn check(&mut self) {
        for (me, user, secret, port) in std::mem::take(&mut self.sim.introduced) {
            // The session that said yes, if it is still there and reads
            // everything: it is told before, or with, the asker.
            let peer = self.sim.bots.iter().find(|p| {
                p.name == user
                    && p.answered.contains(&(me.clone(), port))
                    && p.reading
                    && p.conn.is_some_and(|c| !self.hub.has_output(c))
            });
            if let Some(peer) = peer {
                assert!(
                    peer.expects.contains(&(me.clone(), secret)),
                    "{me} may connect to {user}, who was not given the secret"
                );
            }
        }
        if let Err(problem) = self.hub.audit() {
            panic!("the hub is inconsistent: {problem}");
        }
        let view = self.hub.view();
        let model = &self.sim.model;
        for (user, letters) in &view.mailboxes {
            let want = model.mailboxes.get(user).map_or(&[][..], Vec::as_slice);
            assert_eq!(letters.as_slice(), want, "{user}'s mailbox");
        }
        for (user, list) in &view.blacklists {
            let want: Vec<&String> = model.blacklists.get(user).into_iter().flatten().collect();
            let mut got: Vec<&String> = list.iter().collect();
            got.sort();
            assert_eq!(got, want, "{user}'s blacklist");
        }
        for bot in &self.sim.bots {
            let Some(conn) = bot.conn else { continue };
            if bot.prompt == Prompt::Online && bot.reading && !self.hub.has_output(conn) {
                assert!(
                    view.online.contains_key(&bot.name),
                    "{} was welcomed, reads everything, and is not online",
                    bot.name
                );
            }
        }
        for user in view.online.keys() {
            assert!(
                self.sim
                    .bots
                    .iter()
                    .any(|b| b.conn.is_some() && b.name == *user),
                "{user} is online with no client logged in as them"
            );
        }
    }
}

impl Sim {
    /// What bot `b` makes of a frame it read.
    pub(super) fn read(&mut self, b: usize, frame: ServerFrame) {
        let bot = &mut self.bots[b];
        if self.trace {
            println!(
                "{:>8} bot {b} ({}) <- {frame:?}",
                self.now.millis(),
                bot.name
            );
        }
        if is_counted_reply(&frame) {
            self.stats.refused += u64::from(matches!(frame, ServerFrame::Refused { .. }));
            let owed = bot.owed.pop_front();
            let Some(owed) = owed.clone().filter(|owed| owed.matches(&frame)) else {
                panic!("{} got {frame:?} where {owed:?} was owed", bot.name);
            };
            self.stats.no_room += u64::from(matches!(owed, Expect::NoRoom { .. }));
            return self.promised(b, owed);
        }
        match frame {
            ServerFrame::Ask { prompt } => {
                bot.prompt = match prompt {
                    Asked::Username => Prompt::Username,
                    Asked::Password => {
                        bot.password_at = None;
                        Prompt::Password
                    }
                    Asked::NewPassword => Prompt::NewPassword,
                };
            }
            ServerFrame::Welcome { waiting } => {
                self.stats.logins += 1;
                bot.prompt = Prompt::Online;
                let kept = self.model.mailboxes.get(&bot.name).map_or(0, Vec::len);
                assert_eq!(waiting as usize, kept, "{}'s welcome counts", bot.name);
            }
            ServerFrame::Message {
                id,
                from,
                text,
                broadcast,
                ..
            } => {
                self.stats.delivered += 1;
                assert!(
                    id > bot.shown,
                    "{} got letter {id} after {}",
                    bot.name,
                    bot.shown
                );
                let letter = Letter {
                    id,
                    from: from.to_string(),
                    text: text.to_string(),
                    broadcast,
                };
                let waiting = self.model.mailboxes.get(&bot.name).into_iter().flatten();
                assert!(
                    waiting.clone().any(|l| *l == letter),
                    "{} was sent {letter:?}, which is not waiting for them",
                    bot.name
                );
                bot.shown = id;
            }
            ServerFrame::Accepted { id } => {
                self.stats.accepted += 1;
                let sender = (b, bot.generation);
                let waiting: Vec<u64> = self
                    .model
                    .mailboxes
                    .values()
                    .flatten()
                    .map(|l| l.id)
                    .filter(|&l| l <= id && self.model.posted[&l].sender == sender)
                    .collect();
                for letter in waiting {
                    assert!(
                        self.disk.durable_letters.contains(&letter),
                        "{} was told Accepted {id} before letter {letter} was on disk",
                        bot.name
                    );
                    if let Some(posted) = self.model.posted.get_mut(&letter) {
                        posted.promised = true;
                    }
                }
            }
            ServerFrame::PrivateQuestion { user } => bot.question = Some(user.to_string()),
            ServerFrame::PrivateExpect { user, secret } => {
                bot.expects.push((user.to_string(), secret.to_string()));
            }
            ServerFrame::PrivateWithdrawn { user } | ServerFrame::PrivateExpired { user }
                if bot.question.as_deref() == Some(user.as_str()) =>
            {
                bot.question = None;
            }
            ServerFrame::PrivateAccepted {
                user, port, secret, ..
            } => {
                self.stats.introductions += 1;
                let me = bot.name.clone();
                // Checked once the shell's turn is over: the peer must
                // expect it by then (`History::check`).
                let admits = (me, user.to_string(), secret.to_string(), port);
                self.introduced.push(admits);
            }
            ServerFrame::Bye { reason } => {
                bot.prompt = Prompt::Closing;
                if let ByeReason::NowBlocked { .. } = reason
                    && !self.disk.failing
                {
                    // Blocked when its third wrong password was read.
                    self.stats.password_blocks += 1;
                    let until = bot.password_at.unwrap_or(0) + BLOCK_MS;
                    self.model.password_blocks.insert(bot.name.clone(), until);
                }
            }
            _ => {}
        }
    }

    /// A reply owed came: what it promises is on disk, unless the disk
    /// failed it.
    pub(super) fn promised(&mut self, b: usize, owed: Expect) {
        if self.disk.failing {
            return;
        }
        let me = self.bots[b].name.clone();
        match owed {
            Expect::Stored { id, .. } => {
                let waiting = self.model.mailboxes.values().flatten().any(|l| l.id == id);
                if waiting {
                    assert!(
                        self.disk.durable_letters.contains(&id),
                        "{me} was told letter {id} is stored before it was on disk"
                    );
                    if let Some(posted) = self.model.posted.get_mut(&id) {
                        posted.promised = true;
                    }
                }
            }
            Expect::Blocked { user, change } | Expect::Unblocked { user, change } => {
                if let Some(last) = self.model.block_changes.get_mut(&(me, user))
                    && last.number == change
                {
                    last.promised = true;
                }
            }
            _ => {}
        }
    }

    /// After a crash: what was promised is in the new hub, nothing else
    /// is, and nothing whose reading is on disk comes back.
    pub(super) fn check_restart(&self, view: &View) {
        for (user, letters) in &view.mailboxes {
            let read = self.disk.durable_reads.get(user).copied().unwrap_or(0);
            for letter in letters {
                let posted = self.model.posted.get(&letter.id);
                assert!(
                    posted.is_some_and(|p| p.to == *user && p.letter == *letter),
                    "after a crash {user} has {letter:?}, which was never posted to them"
                );
                assert!(
                    letter.id > read,
                    "after a crash {user} has letter {} again, read up to {read} on disk",
                    letter.id
                );
            }
        }
        for (user, letters) in &self.model.mailboxes {
            for letter in letters {
                let kept = view.mailboxes.get(user).is_some_and(|l| l.contains(letter));
                assert!(
                    kept || !self.model.posted[&letter.id].promised,
                    "a crash lost {user}'s letter {letter:?}, which its sender was told is kept"
                );
            }
        }
        for ((user, other), change) in &self.model.block_changes {
            if change.promised {
                let blocked = view.blacklists.get(user).is_some_and(|l| l.contains(other));
                assert_eq!(
                    blocked, change.blocked,
                    "a crash undid {user}'s block of {other} (blocked: {})",
                    change.blocked
                );
            }
        }
        for (user, &until) in &self.model.password_blocks {
            if self.now.millis() < until {
                assert!(
                    view.blocked_until.get(user).is_some_and(|&at| at >= until),
                    "a crash undid {user}'s block until {until} (now {})",
                    self.now.millis()
                );
            }
        }
    }
}
