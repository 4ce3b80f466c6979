//! What the bots do: each action a person at a client might take, and
//! what the model expects of it.

use natter_core::ConnId;
use natter_core::hub::Letter;
use natter_core::protocol::{ClientFrame, FrameError};
use natter_core::testing::{name, text, transmit};

use crate::bots::Prompt;
use crate::model::{Expect, Posted};

use super::{History, Sim};

impl History {
    /// Bot `b` does what a person at a client might do next.
    pub(super) fn act(&mut self, b: usize) {
        let Some(conn) = self.sim.bots[b].conn else {
            let addr = self.sim.bots[b].addr;
            let connected = self.hub.connect(self.sim.now, addr);
            if self.sim.trace {
                println!(
                    "{:>8} bot {b} connects: {connected:?}",
                    self.sim.now.millis()
                );
            }
            if let Ok(conn) = connected {
                self.sim.bots[b].connected(conn);
            }
            return;
        };
        let rng = &mut self.sim.rng;
        if rng.chance(3) {
            // Hangs up.
            if self.sim.trace {
                println!("{:>8} bot {b} hangs up", self.sim.now.millis());
            }
            self.hub.disconnect(conn, self.sim.now);
            self.sim.bots[b].gone();
            return;
        }
        if self.sim.bots[b].prompt == Prompt::Online && rng.chance(5) {
            let bot = &mut self.sim.bots[b];
            bot.reading = !bot.reading;
            if bot.reading {
                let now = self.sim.now;
                transmit(&mut self.hub, &mut self.sim, conn, now);
            }
            return;
        }
        if !self.hub.may_read(conn, self.sim.now) {
            return;
        }
        if rng.chance(1) {
            self.hub.reject(conn, FrameError::Malformed, self.sim.now);
            return;
        }
        let frame = match self.sim.bots[b].prompt {
            Prompt::None | Prompt::Closing => return,
            Prompt::Username => self.sim.username(b),
            Prompt::Password => self.sim.password(b),
            Prompt::NewPassword => {
                let password = format!("pw-{}", self.sim.bots[b].name);
                natter_core::testing::password(&password)
            }
            Prompt::Online => return self.command(b, conn),
        };
        self.send(b, conn, &frame);
    }

    /// Bot `b` sends `frame`.
    pub(super) fn send(&mut self, b: usize, conn: ConnId, frame: &ClientFrame) {
        if self.sim.trace {
            let bot = &self.sim.bots[b];
            println!(
                "{:>8} bot {b} ({}) -> {frame:?}",
                self.sim.now.millis(),
                bot.name
            );
        }
        self.hub.receive(conn, frame, self.sim.now);
    }

    /// A logged-in bot's command, with what the model expects of it.
    pub(super) fn command(&mut self, b: usize, conn: ConnId) {
        let me = self.sim.bots[b].name.clone();
        if self.hub.online_on(&me) != Some(conn) {
            // Let go already: the goodbye waits behind a promise for the
            // disk, and what is sent meanwhile is not read.
            return;
        }
        let bot = &mut self.sim.bots[b];
        if bot.shown > bot.acked && self.sim.rng.chance(bot.acks) {
            bot.acked = bot.shown;
            let id = bot.shown;
            self.send(b, conn, &ClientFrame::Received { id });
            self.sim.model.acknowledge(&me, id);
            return;
        }
        let rng = &mut self.sim.rng;
        // Someone asked: mostly answered first, as the client makes sure.
        let roll = match bot.question.is_some() && rng.chance(60) {
            true => 84,
            false => rng.below(100),
        };
        let frame = match roll {
            0..=1 => {
                // A paste of long lines, or a script: mailboxes, shares
                // and the store fill up.
                let to = self.sim.someone();
                for _ in 0..10 + self.sim.rng.below(50) {
                    if self.hub.online_on(&me) != Some(conn)
                        || !self.hub.may_read(conn, self.sim.now)
                    {
                        break;
                    }
                    let text = self.sim.long_text();
                    let frame = ClientFrame::Message {
                        to: name(&to),
                        text,
                    };
                    self.message(b, conn, frame);
                }
                return;
            }
            2..=29 => {
                let to = self.sim.someone();
                let text = self.sim.new_text();
                return self.message(
                    b,
                    conn,
                    ClientFrame::Message {
                        to: name(&to),
                        text,
                    },
                );
            }
            30..=37 => {
                let text = self.sim.new_text();
                return self.message(b, conn, ClientFrame::Broadcast { text });
            }
            38..=57 => ClientFrame::PrivateActivity {},
            58..=65 => {
                let other = self.sim.someone();
                let expect = match self.sim.block_expect(&me, &other, true) {
                    Some(expect) => expect,
                    None => Expect::Refused(natter_core::protocol::Refusal::InvalidUser),
                };
                self.sim.bots[b].owed.push_back(expect);
                ClientFrame::Block { user: name(&other) }
            }
            66..=71 => {
                let other = self.sim.someone();
                let expect = match self.sim.block_expect(&me, &other, false) {
                    Some(expect) => expect,
                    None => Expect::Refused(natter_core::protocol::Refusal::InvalidUser),
                };
                self.sim.bots[b].owed.push_back(expect);
                ClientFrame::Unblock { user: name(&other) }
            }
            72..=75 => ClientFrame::WhoElse {},
            76..=77 => ClientFrame::WhoElseSince {
                seconds: rng.below(100),
            },
            78..=83 => {
                // Mostly someone online: they can be asked.
                let online: Vec<String> = self.hub.view().online.into_keys().collect();
                let user = match online.is_empty() || self.sim.rng.chance(30) {
                    true => self.sim.account(),
                    false => self.sim.rng.pick(&online).clone(),
                };
                ClientFrame::StartPrivate { user: name(&user) }
            }
            84..=91 => {
                let bot = &mut self.sim.bots[b];
                let Some(from) = bot.question.take() else {
                    return;
                };
                if self.sim.rng.chance(60) {
                    let port = bot.port();
                    bot.answered.push((from.clone(), port));
                    ClientFrame::AcceptPrivate {
                        user: name(&from),
                        port,
                    }
                } else {
                    ClientFrame::DeclinePrivate { user: name(&from) }
                }
            }
            92..=93 => ClientFrame::WithdrawPrivate {
                user: name(&self.sim.account()),
            },
            94..=95 => ClientFrame::PrivateActivity {},
            _ => ClientFrame::Logout {},
        };
        self.send(b, conn, &frame);
    }

    /// A message or broadcast from bot `b`: the letters the hub posts are
    /// checked against what the model allows, and the reply owed noted.
    pub(super) fn message(&mut self, b: usize, conn: ConnId, frame: ClientFrame) {
        use natter_core::protocol::Refusal;
        let me = self.sim.bots[b].name.clone();
        let (latest, online) = (self.hub.latest(), self.hub.online());
        let failing = self.sim.disk.failing;
        self.send(b, conn, &frame);
        let new = self.hub.letters_since(latest);
        let online_after = self.hub.online();
        let model = &self.sim.model;
        let (text, expect, allowed): (_, Option<Expect>, Vec<String>) = match &frame {
            ClientFrame::Message { to, text } => {
                let to = to.to_string();
                let refusal = if !model.accounts.contains_key(&to) {
                    Some(Refusal::InvalidUser)
                } else if to == me {
                    Some(Refusal::MessageSelf)
                } else if model.blocks(&to, &me) {
                    Some(Refusal::BlockedByRecipient)
                } else if failing {
                    Some(Refusal::NotKept)
                } else {
                    None
                };
                let expect = match (refusal.clone(), new.first()) {
                    (Some(refusal), _) => Some(Expect::Refused(refusal)),
                    (None, None) => Some(Expect::NoRoom { user: to.clone() }),
                    (None, Some((_, letter))) if !online_after.contains_key(&to) => {
                        Some(Expect::Stored {
                            user: to.clone(),
                            id: letter.id,
                        })
                    }
                    (None, Some(_)) => None,
                };
                let allowed = if refusal.is_none() { vec![to] } else { vec![] };
                (text.to_string(), expect, allowed)
            }
            ClientFrame::Broadcast { text } => {
                let online: Vec<String> = online.into_keys().filter(|u| *u != me).collect();
                let (blocked, open): (Vec<String>, Vec<String>) =
                    online.into_iter().partition(|u| model.blocks(u, &me));
                let expect = if failing {
                    Some(Expect::Refused(Refusal::NotKept))
                } else if !blocked.is_empty() || new.len() < open.len() {
                    Some(Expect::Refused(Refusal::NotDeliveredToSome))
                } else {
                    None
                };
                let allowed = if failing { vec![] } else { open };
                (text.to_string(), expect, allowed)
            }
            _ => unreachable!("only messages and broadcasts"),
        };
        let broadcast = matches!(frame, ClientFrame::Broadcast { .. });
        let mut seen = Vec::new();
        for (to, letter) in new {
            assert!(
                allowed.contains(&to) && !seen.contains(&to),
                "{me}'s {frame:?} posted letter {} to {to}, allowed only {allowed:?}",
                letter.id
            );
            let want = Letter {
                id: letter.id,
                from: me.clone(),
                text: text.clone(),
                broadcast,
            };
            assert_eq!(letter, want, "the letter posted is not the one sent");
            seen.push(to.clone());
            self.sim.post(to, letter, (b, self.sim.bots[b].generation));
        }
        if let Some(expect) = expect {
            self.sim.bots[b].owed.push_back(expect);
        }
    }
}

impl Sim {
    /// Any account, or now and then a name that is none.
    /// Whom a message goes to: now and then a name that is no account,
    /// often the history's favourite (so that mailboxes fill up), else
    /// any account.
    pub(super) fn someone(&mut self) -> String {
        match self.rng.below(100) {
            0..5 => "ghost".into(),
            5..40 => self.favourite.clone(),
            _ => self.account(),
        }
    }

    pub(super) fn account(&mut self) -> String {
        let names: Vec<&String> = self.model.accounts.keys().collect();
        (*self.rng.pick(&names)).clone()
    }

    /// A text no other letter has, of 400 bytes or more.
    pub(super) fn long_text(&mut self) -> natter_core::protocol::Text {
        self.counter += 1;
        let pad = 400 + self.rng.below(100) as usize;
        text(&format!("t{}{}", self.counter, "x".repeat(pad)))
    }

    /// A text no other letter has, short or long.
    pub(super) fn new_text(&mut self) -> natter_core::protocol::Text {
        self.counter += 1;
        let tag = format!("t{}", self.counter);
        let pad = if self.rng.chance(35) {
            self.rng.below(500) as usize
        } else {
            0
        };
        text(&format!("{tag}{}", "x".repeat(pad)))
    }

    /// The name typed at a username prompt: mostly an account, now and
    /// then someone new.
    pub(super) fn username(&mut self, b: usize) -> ClientFrame {
        let user = if self.rng.chance(12) {
            self.counter += 1;
            format!("nu{}", self.counter)
        } else {
            self.account()
        };
        self.bots[b].name = user.clone();
        ClientFrame::Username { name: name(&user) }
    }

    /// The password typed: mostly the right one.
    pub(super) fn password(&mut self, b: usize) -> ClientFrame {
        // The hub reads the first password after its prompt; it ignores
        // the rest once it has said goodbye.
        let now = self.now.millis();
        self.bots[b].password_at.get_or_insert(now);
        let user = &self.bots[b].name;
        let right = self.model.accounts.get(user).cloned();
        let password = match right {
            Some(right) if !self.rng.chance(self.bots[b].typos) => right,
            _ => format!("wrong{}", self.rng.below(1000)),
        };
        natter_core::testing::password(&password)
    }

    /// The reply a block (or unblock) of `other` by `me` is owed, with the
    /// model changed as the hub must change; `None`: no such account.
    pub(super) fn block_expect(&mut self, me: &str, other: &str, block: bool) -> Option<Expect> {
        use natter_core::protocol::Refusal;
        if !self.model.accounts.contains_key(other) {
            return None;
        }
        let user = name(other);
        Some(match (block, other == me, self.model.blocks(me, other)) {
            (true, true, _) => Expect::Refused(Refusal::BlockSelf),
            (false, true, _) => Expect::Refused(Refusal::UnblockSelf),
            (true, false, true) => Expect::Refused(Refusal::AlreadyBlocked { user }),
            (false, false, false) => Expect::Refused(Refusal::NotBlocked { user }),
            (true, false, false) => Expect::Blocked {
                user: other.into(),
                change: self.model.block(me, other, true),
            },
            (false, false, true) => Expect::Unblocked {
                user: other.into(),
                change: self.model.block(me, other, false),
            },
        })
    }

    pub(super) fn post(&mut self, to: String, letter: Letter, sender: (usize, u64)) {
        self.stats.posted += 1;
        let id = letter.id;
        self.model
            .mailboxes
            .entry(to.clone())
            .or_default()
            .push(letter.clone());
        let posted = Posted {
            to,
            letter,
            sender,
            promised: false,
        };
        if let Some(earlier) = self.model.posted.insert(id, posted) {
            panic!("letter id {id} given twice: first to {}", earlier.to);
        }
    }
}
