//! One history: a hub, the simulator as its shell, bots acting at random
//! fake times, a disk that is slow, fails and is cut off by crashes; the
//! model checked after every step.

use natter_core::limits::JOURNAL_GATHER_MS;
use natter_core::testing::{sample_hub, settle, transmit};
use natter_core::{Config, Hub, Instant};

use crate::bots::{Bot, Prompt};
use crate::disk::Disk;
use crate::model::Model;
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
    /// Refused for want of room: a mailbox, the store or a sender's share.
    pub no_room: u64,
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
        self.no_room += other.no_room;
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
    /// The account most messages go to.
    favourite: String,
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
        let favourite = rng.pick(&natter_core::testing::SAMPLE_ACCOUNTS).0.into();
        let sim = Sim {
            rng,
            now: Instant(1_000_000),
            bots,
            model,
            disk: Disk::new(),
            saved: Vec::new(),
            counter: 0,
            favourite,
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

mod actions;
mod checks;
mod shell;
