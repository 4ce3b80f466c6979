//! The simulator (issue 25): random histories of many clients against one
//! hub at fake time, with a journal on a disk that is slow, fails and is
//! cut off by crashes, checked after every step against a plain model.
//!
//! `NATTER_SIM_HISTORIES` histories (10,000 by default) from seed
//! `NATTER_SIM_FIRST` (0), on `NATTER_SIM_THREADS` threads (one a core);
//! `NATTER_SIM_SEED=n` replays history `n` alone, and with
//! `NATTER_SIM_TRACE=1` prints its every step. A failure names its seed.
//!
//! - `history.rs`: one history, step by step, crashes and the end;
//!   `history/actions.rs`: what the bots do; `history/checks.rs`: what is
//!   checked; `history/shell.rs`: the simulator as the hub's shell.
//! - `model.rs`: what the hub must hold and owes; `bots.rs`: the clients;
//!   `disk.rs`: the journal's file; `rng.rs`: the seeded chance.

mod bots;
mod disk;
mod history;
mod model;
mod rng;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

fn env(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={value:?} is not a number"),
    }
}

/// Runs every `step`-th seed from `first` below `end`; the stats, or the
/// first seed that failed.
fn run(first: u64, end: u64, step: u64) -> Result<history::Stats, u64> {
    let mut stats = history::Stats::default();
    for seed in (first..end).step_by(step as usize) {
        let run = catch_unwind(AssertUnwindSafe(|| history::run(seed))).map_err(|_| seed)?;
        stats.add(&run);
    }
    Ok(stats)
}

#[test]
fn random_histories_keep_every_promise() {
    let (first, count) = match env("NATTER_SIM_SEED") {
        Some(seed) => (seed, 1),
        None => (
            env("NATTER_SIM_FIRST").unwrap_or(0),
            env("NATTER_SIM_HISTORIES").unwrap_or(10_000),
        ),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let threads = env("NATTER_SIM_THREADS")
        .unwrap_or(cores)
        .clamp(1, count.max(1));
    let started = Instant::now();
    let end = first + count;
    let results: Vec<Result<history::Stats, u64>> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || run(first + t, end, threads)))
            .collect();
        runs.into_iter()
            .map(|run| run.join().unwrap_or(Err(u64::MAX)))
            .collect()
    });
    let mut stats = history::Stats::default();
    let mut failed = Vec::new();
    for result in results {
        match result {
            Ok(run) => stats.add(&run),
            Err(seed) => failed.push(seed),
        }
    }
    if let Some(seed) = failed.iter().min() {
        panic!(
            "history {seed} broke a promise (above); replay it with \
             NATTER_SIM_SEED={seed} NATTER_SIM_TRACE=1 cargo test -p natter-core --test simulation \
             -- --nocapture"
        );
    }
    println!(
        "{count} histories from seed {first} on {threads} threads in {:.1} s: {stats:?}",
        started.elapsed().as_secs_f64()
    );
}
