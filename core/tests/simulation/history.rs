//! One history: a hub, the simulator as its shell, bots acting at random
//! fake times, a disk that is slow, fails and is cut off by crashes; the
//! model checked after every step.

use natter_core::credential::{Password, Secret};
use natter_core::event::StoreFailed;
use natter_core::hub::{Letter, View};
use natter_core::journal::CHANGE_MAX;
use natter_core::limits::JOURNAL_GATHER_MS;
use natter_core::protocol::{ByeReason, ClientFrame, FrameError, Prompt as Asked, ServerFrame};
use natter_core::testing::{Shell, fake_hash, name, sample_hub, settle, text, transmit};
use natter_core::{Config, ConnId, Hub, Instant};

use crate::bots::{Bot, Prompt};
use crate::disk::{Disk, Pending};
use crate::model::{Expect, Model, Posted, is_counted_reply};
use crate::rng::Rng;

/// How long three wrong passwords block a name here: short, so blocks
/// end within a history.
const BLOCK_MS: u64 = 3_000;
const TIMEOUT_MS: u64 = 20_000;

/// What happened in the histories run, for the figures in DESIGN.md.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub steps: u64,
    pub crashes: u64,
    pub torn_bytes: u64,
    pub failed_writes: u64,
    pub rewrites: u64,
    pub logins: u64,
    pub posted: u64,
    pub delivered: u64,
    pub accepted: u64,
    pub refused: u64,
    pub password_blocks: u64,
    pub introductions: u64,
}

impl Stats {
    pub fn add(&mut self, other: &Stats) {
        self.steps += other.steps;
        self.crashes += other.crashes;
        self.torn_bytes += other.torn_bytes;
        self.failed_writes += other.failed_writes;
        self.rewrites += other.rewrites;
        self.logins += other.logins;
        self.posted += other.posted;
        self.delivered += other.delivered;
        self.accepted += other.accepted;
        self.refused += other.refused;
        self.password_blocks += other.password_blocks;
        self.introductions += other.introductions;
    }
}

/// Runs the history of `seed`; panics, saying what broke, if the hub
/// breaks a promise.
pub fn run(seed: u64) -> Stats {
    let mut rng = Rng::new(seed);
    let bots = 2 + rng.below(7) as usize;
    let steps = 60 + rng.below(240);
    let mut history = History::new(rng, bots);
    for _ in 0..steps {
        history.step();
        history.check();
    }
    history.drain();
    history.sim.stats
}

fn config() -> Config {
    Config {
        answer_ms: 4_000,
        ..Config::new(BLOCK_MS, TIMEOUT_MS)
    }
}

struct History {
    hub: Hub,
    sim: Sim,
}

/// The hub's shell, and everything the hub does not hold.
struct Sim {
    rng: Rng,
    now: Instant,
    bots: Vec<Bot>,
    model: Model,
    disk: Disk,
    /// Accounts made during the history, in order: the credentials file.
    saved: Vec<(String, String)>,
    /// Numbers for new names and texts.
    counter: u64,
    /// Private chats introduced in this step: (asker, target, secret,
    /// port).
    introduced: Vec<(String, String, String, u16)>,
    /// Print every step (`NATTER_SIM_TRACE`), to read a failing history.
    trace: bool,
    stats: Stats,
}

impl History {
    fn new(mut rng: Rng, bots: usize) -> History {
        let hub = sample_hub(config());
        let mut model = Model::default();
        for (user, password) in natter_core::testing::SAMPLE_ACCOUNTS {
            model.accounts.insert(user.into(), password.into());
        }
        model.restart(&hub.view());
        let bots = (0..bots)
            .map(|i| Bot::new(i, 5 + rng.below(60), 5 + rng.below(40)))
            .collect();
        let sim = Sim {
            rng,
            now: Instant(1_000_000),
            bots,
            model,
            disk: Disk::new(),
            saved: Vec::new(),
            counter: 0,
            introduced: Vec::new(),
            trace: std::env::var_os("NATTER_SIM_TRACE").is_some(),
            stats: Stats::default(),
        };
        History { hub, sim }
    }

    fn settle(&mut self) {
        let now = self.sim.now;
        settle(&mut self.hub, &mut self.sim, now);
    }

    fn step(&mut self) {
        self.sim.stats.steps += 1;
        let roll = self.sim.rng.below(1000);
        match roll {
            0..=99 => self.pass_time(),
            100..=179 => self.disk_done(),
            180..=183 => self.crash(),
            _ => {
                let bot = self.sim.rng.below(self.sim.bots.len() as u64) as usize;
                self.act(bot);
            }
        }
        self.settle();
    }

    /// Time passes: a little, or up to the hub's next deadline or the
    /// journal's.
    fn pass_time(&mut self) {
        let next = [self.hub.poll_timeout(), self.journal_due()]
            .into_iter()
            .flatten()
            .min();
        let step = match next {
            Some(at) if self.sim.rng.chance(50) => {
                at.millis().saturating_sub(self.sim.now.millis())
            }
            _ => self.sim.rng.below(1_500),
        };
        self.sim.now = self.sim.now.after(step.clamp(1, 30_000));
        if self.hub.poll_timeout().is_some_and(|at| at <= self.sim.now) {
            self.hub.handle_timeout(self.sim.now);
        }
    }

    fn journal_due(&self) -> Option<Instant> {
        if self.sim.disk.pending.is_some() {
            return None;
        }
        let due = self.hub.journal_due()?;
        Some(self.sim.disk.retry_at.map_or(due, |at| at.max(due)))
    }

    /// The disk finishes the batch in hand: now and then it fails.
    fn disk_done(&mut self) {
        if self.sim.disk.pending.is_some() {
            let fail = self.sim.rng.chance(8);
            self.sim.finish_write(&mut self.hub, !fail);
        }
    }

    /// `kill -9`, or a power cut: the next server starts from the
    /// journal, and every promise must hold.
    fn crash(&mut self) {
        let sim = &mut self.sim;
        sim.stats.crashes += 1;
        if sim.trace {
            println!("{:>8} CRASH", sim.now.millis());
        }
        let cut = sim.rng.next();
        let renamed = sim.rng.chance(50);
        sim.stats.torn_bytes += sim.disk.crash(cut, renamed) as u64;
        let mut hub = sample_hub(config());
        for (user, password) in &sim.saved {
            if let Err(error) = hub.add_account(user, password) {
                panic!("account {user} does not load again: {error:?}");
            }
        }
        for change in sim.disk.changes() {
            let shown = format!("{change:?}");
            if let Err(error) = hub.replay(change, sim.now) {
                panic!("the journal's {shown} does not replay: {error:?}");
            }
        }
        let view = hub.view();
        sim.check_restart(&view);
        sim.model.restart(&view);
        // Ids on disk nowhere are forgotten, and given again.
        sim.model.posted.retain(|&id, _| id <= view.latest);
        for bot in &mut sim.bots {
            bot.gone();
        }
        self.hub = hub;
    }

    /// Bot `b` does what a person at a client might do next.
    fn act(&mut self, b: usize) {
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
    fn send(&mut self, b: usize, conn: ConnId, frame: &ClientFrame) {
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
    fn command(&mut self, b: usize, conn: ConnId) {
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
            0..=29 => {
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
    fn message(&mut self, b: usize, conn: ConnId, frame: ClientFrame) {
        use natter_core::protocol::Refusal;
        let me = self.sim.bots[b].name.clone();
        let before = self.hub.view();
        let failing = self.sim.disk.failing;
        self.send(b, conn, &frame);
        let after = self.hub.view();
        let new: Vec<(String, Letter)> = after
            .mailboxes
            .iter()
            .flat_map(|(to, letters)| letters.iter().map(move |l| (to.clone(), l.clone())))
            .filter(|(_, letter)| letter.id > before.latest)
            .collect();
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
                    (None, Some((_, letter))) if !after.online.contains_key(&to) => {
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
                let online: Vec<String> = before.online.into_keys().filter(|u| *u != me).collect();
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

    /// After every step: the hub agrees with the model.
    fn check(&mut self) {
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

    /// The end: the disk catches up, every client reads; then every reply
    /// owed has come and nothing is left waiting.
    fn drain(&mut self) {
        for _ in 0..100 {
            for b in 0..self.sim.bots.len() {
                self.sim.bots[b].reading = true;
                if let Some(conn) = self.sim.bots[b].conn {
                    let now = self.sim.now;
                    transmit(&mut self.hub, &mut self.sim, conn, now);
                }
            }
            if self.sim.disk.pending.is_some() {
                self.sim.finish_write(&mut self.hub, true);
            }
            let wait = match self.sim.disk.retry_at {
                Some(_) => crate::disk::RETRY_MS,
                None => JOURNAL_GATHER_MS,
            };
            self.sim.now = self.sim.now.after(wait + 1);
            if self.hub.poll_timeout().is_some_and(|at| at <= self.sim.now) {
                self.hub.handle_timeout(self.sim.now);
            }
            self.settle();
            self.check();
            let busy = self.sim.disk.pending.is_some()
                || self.hub.journal_due().is_some()
                || self
                    .sim
                    .bots
                    .iter()
                    .any(|b| b.conn.is_some_and(|c| self.hub.has_output(c)));
            if !busy {
                break;
            }
        }
        for bot in &self.sim.bots {
            let Some(conn) = bot.conn else { continue };
            assert!(
                !self.hub.has_output(conn),
                "{} is never sent what waits for it",
                bot.name
            );
            assert!(
                bot.owed.is_empty(),
                "{} never got the replies {:?}",
                bot.name,
                bot.owed
            );
            if bot.prompt == Prompt::Online {
                let waiting = self
                    .sim
                    .model
                    .mailboxes
                    .get(&bot.name)
                    .into_iter()
                    .flatten();
                for letter in waiting {
                    assert!(
                        letter.id <= bot.shown,
                        "{} is online and reading and never got letter {letter:?}",
                        bot.name
                    );
                }
            }
        }
    }
}

impl Sim {
    /// Any account, or now and then a name that is none.
    fn someone(&mut self) -> String {
        if self.rng.chance(5) {
            "ghost".into()
        } else {
            self.account()
        }
    }

    fn account(&mut self) -> String {
        let names: Vec<&String> = self.model.accounts.keys().collect();
        (*self.rng.pick(&names)).clone()
    }

    /// A text no other letter has, short or long.
    fn new_text(&mut self) -> natter_core::protocol::Text {
        self.counter += 1;
        let tag = format!("t{}", self.counter);
        let pad = if self.rng.chance(25) {
            self.rng.below(480) as usize
        } else {
            0
        };
        text(&format!("{tag}{}", "x".repeat(pad)))
    }

    /// The name typed at a username prompt: mostly an account, now and
    /// then someone new.
    fn username(&mut self, b: usize) -> ClientFrame {
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
    fn password(&mut self, b: usize) -> ClientFrame {
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
    fn block_expect(&mut self, me: &str, other: &str, block: bool) -> Option<Expect> {
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

    fn post(&mut self, to: String, letter: Letter, sender: (usize, u64)) {
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

    /// The disk ends the batch in hand.
    fn finish_write(&mut self, hub: &mut Hub, ok: bool) {
        if self.trace {
            println!(
                "{:>8} disk: write {}",
                self.now.millis(),
                if ok { "synced" } else { "FAILED" }
            );
        }
        let whole = self.disk.pending.as_ref().is_some_and(|p| p.whole);
        if ok {
            self.stats.rewrites += u64::from(whole);
            let batch = self.disk.synced();
            hub.journal_synced(batch);
        } else {
            self.stats.failed_writes += 1;
            let batch = self.disk.failed(self.now);
            hub.journal_failed(batch);
        }
    }

    fn bot_of(&self, conn: ConnId) -> Option<usize> {
        self.bots.iter().position(|b| b.conn == Some(conn))
    }

    /// What bot `b` makes of a frame it read.
    fn read(&mut self, b: usize, frame: ServerFrame) {
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
    fn promised(&mut self, b: usize, owed: Expect) {
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
    fn check_restart(&self, view: &View) {
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

impl Shell for Sim {
    fn entropy(&mut self) -> [u8; 16] {
        let (a, b) = (self.rng.next(), self.rng.next());
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&b.to_le_bytes());
        bytes
    }

    fn save_account(&mut self, user: &str, password: &Password) -> Result<Secret, StoreFailed> {
        if self.rng.chance(3) {
            return Err(StoreFailed);
        }
        self.saved.push((user.into(), password.to_string()));
        self.model
            .accounts
            .insert(user.into(), password.to_string());
        self.model.mailboxes.insert(user.into(), Vec::new());
        self.model
            .blacklists
            .insert(user.into(), Default::default());
        Ok(fake_hash(password))
    }

    /// As the server's journal thread: one batch in hand at a time, taken
    /// when due; written now and then at once, otherwise when the
    /// simulation says the disk is done.
    fn journal(&mut self, hub: &mut Hub, now: Instant) {
        if self.disk.pending.is_some() {
            return;
        }
        let Some(due) = hub.journal_due() else {
            return;
        };
        if self.disk.retry_at.map_or(due, |at| at.max(due)) > now {
            return;
        }
        let whole = self.disk.wants_whole();
        if whole {
            hub.journal_all();
        }
        let batch = hub.start_batch();
        let mut bytes = Vec::new();
        let mut change = [0u8; CHANGE_MAX];
        while let Some(polled) = hub.poll_change(&mut change) {
            bytes.extend_from_slice(&change[..polled.len]);
        }
        if bytes.is_empty() {
            hub.journal_synced(batch);
            return;
        }
        self.disk.pending = Some(Pending {
            batch,
            bytes,
            whole,
        });
        if self.rng.chance(40) {
            self.finish_write(hub, true);
        }
    }

    fn reads(&mut self, conn: ConnId) -> bool {
        self.bot_of(conn).is_none_or(|b| self.bots[b].reading)
    }

    fn sent(&mut self, conn: ConnId, bytes: &[u8]) {
        let Some(b) = self.bot_of(conn) else {
            return;
        };
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            let frame = natter_core::protocol::decode_server(&line[..line.len() - 1]);
            let frame = frame.unwrap_or_else(|e| panic!("the hub sent a bad frame: {e:?}"));
            self.read(b, frame);
        }
    }

    fn closed(&mut self, conn: ConnId) {
        let Some(b) = self.bot_of(conn) else {
            return;
        };
        let bot = &mut self.bots[b];
        if bot.prompt == Prompt::Closing {
            assert!(
                bot.owed.is_empty(),
                "{} was let go owed {:?}",
                bot.name,
                bot.owed
            );
        }
        bot.gone();
    }
}
