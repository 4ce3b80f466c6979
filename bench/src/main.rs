//! natter-bench: the figures behind natter's speed and memory claims.
//!
//! - `natter-bench hub [ROUNDS]` ([`hub`]): the server's work per frame,
//!   without sockets: a login storm through framer, codec and hub.
//! - `natter-bench net [--quick] [--no-journal] [--server PATH]` ([`net`]): the real
//!   server binary over loopback, in three workloads, each beside a
//!   direct TCP exchange in the same run; latencies, throughput, refusals,
//!   the server's event-loop CPU per delivery and its memory. `--server` defaults to the `natter-server`
//!   beside this binary (`cargo build --release -p natter-server` first).
//!
//! - `natter-bench journal [--quick] [--server PATH]` ([`journal`]): the
//!   same workloads with the journal and without, in one run.
//! - `natter-bench disk [--server PATH]` ([`disk`]): logins, round trips,
//!   `whoelse` and kept messages on a server whose disk is slowed (a
//!   wrapper given as `--server`).
//! - `natter-bench scale [--quick] [--server PATH]` ([`scale`]): one server
//!   sized for 20,000 accounts and 1,100 connections, with 10,000
//!   accounts and 2 to 1,000 users online: how each cost grows.
//! - `natter-bench alloc [MESSAGES]` ([`alloc`]): heap allocations per
//!   relayed message in the real server, run in this process.
//! - `natter-bench hash [MEMORY_KIB PASSES]` ([`hash`]): what one password
//!   hash and one check cost, at the server's defaults unless given.
//! - `natter-bench irc PORT [ROUNDS]` ([`irc`]): the same ping-pong through
//!   an IRC server (ngircd) already listening on `PORT`, for a peer's ratio.
//!
//! [`peer`] is the benchmark's natter user; [`stats`] its percentiles.

mod alloc;
mod disk;
mod hash;
mod hub;
mod irc;
mod journal;
mod net;
mod peer;
mod scale;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use net::Figures;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// The bundled sample accounts (R3), one `username password` a line.
pub const CREDENTIALS: &str = include_str!("../../credentials.txt");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("hub") => {
            let rounds = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
            match hub::run(rounds) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("natter-bench hub: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(command @ ("net" | "journal" | "disk" | "scale")) => {
            let quick = args.iter().any(|a| a == "--quick");
            let journal = !args.iter().any(|a| a == "--no-journal");
            let server = args
                .iter()
                .position(|a| a == "--server")
                .and_then(|i| args.get(i + 1))
                .map(PathBuf::from)
                .unwrap_or_else(beside_me);
            let ran = match command {
                "journal" => journal::run(&server, quick),
                "disk" => disk::run(&server),
                "scale" => scale::run(&server, quick),
                _ => network(&server, quick, journal),
            };
            match ran {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("natter-bench: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("alloc") => {
            let messages = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
            match alloc::run(messages) {
                Ok(count) => {
                    println!(
                        "server heap allocations for {messages} relayed messages: {count} ({:.2} a message)",
                        count as f64 / messages as f64
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("natter-bench: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("hash") => {
            use natter_server::password::{MEMORY_KIB, PASSES};
            let number =
                |i: usize, default| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
            match hash::run(number(1, MEMORY_KIB), number(2, PASSES), 9) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("natter-bench: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("irc") => {
            let Some(port) = args.get(1).and_then(|a| a.parse().ok()) else {
                eprintln!("natter-bench irc: give the IRC server's port");
                return ExitCode::from(2);
            };
            let rounds = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20_000);
            match irc::run(port, rounds) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("natter-bench irc: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!(
                "usage: natter-bench hub [ROUNDS] | net [--quick] [--no-journal] [--server PATH] \
                 | journal [--quick] [--server PATH] | disk [--server PATH] \
                 | scale [--quick] [--server PATH] | alloc [MESSAGES] \
                 | hash [MEMORY_KIB PASSES] | irc PORT [ROUNDS]"
            );
            ExitCode::from(2)
        }
    }
}

/// `natter-server` in the directory of this binary.
fn beside_me() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("natter-server")))
        .unwrap_or_else(|| PathBuf::from("natter-server"))
}

fn network(server: &std::path::Path, quick: bool, journal: bool) -> Result<(), String> {
    let (rounds, count) = if quick {
        (2_000, 2_000)
    } else {
        (20_000, 20_000)
    };
    fn io(what: &'static str) -> impl Fn(std::io::Error) -> String {
        move |e| format!("{what}: {e}")
    }
    let natter = net::Server::start(server, journal)?;
    let started = std::time::Instant::now();
    println!(
        "natter-bench net: {} ({}, journal {})",
        server.display(),
        if quick { "quick" } else { "full" },
        if journal { "on" } else { "off" }
    );
    println!(
        "{:<LABEL$} {:>12} {:>12} {:>7}",
        "workload", "natter", "direct TCP", "ratio"
    );
    // The event loop's CPU time over a workload (its logins included), per
    // message delivered: the server's own cost, apart from the harness's.
    let cpu_per_delivery = |before: Option<u64>, figures: &Figures| {
        let spent = natter.loop_cpu_ns()?.checked_sub(before?)?;
        Some(spent as f64 / 1000.0 / figures.deliveries.max(1) as f64)
    };
    let cpu = natter.idle_loop_cpu_ns();
    let pp = net::ping_pong(natter.port, rounds).map_err(io("ping-pong"))?;
    let pp_cpu = cpu_per_delivery(cpu, &pp);
    let pp_direct = net::ping_pong_direct(rounds).map_err(io("ping-pong direct"))?;
    row(
        "ping-pong round trip p50 (us)",
        pp.latencies.percentile(50.0),
        pp_direct.latencies.percentile(50.0),
    );
    row(
        "ping-pong round trip p99 (us)",
        pp.latencies.percentile(99.0),
        pp_direct.latencies.percentile(99.0),
    );
    cpu_row("ping-pong", pp_cpu);
    let relayed = net::ping_pong_relayed(rounds).map_err(io("ping-pong relayed"))?;
    for (what, p) in [("p50", 50.0), ("p99", 99.0)] {
        row(
            &format!("  through a bare relay, not natter: {what} (us)"),
            relayed.latencies.percentile(p),
            pp_direct.latencies.percentile(p),
        );
    }
    let flooded = net::ping_pong_under_flood(natter.port, rounds / 4).map_err(io("flood"))?;
    for (what, p) in [("p50", 50.0), ("p99", 99.0), ("p100", 100.0)] {
        row(
            &format!("  while two others flood: {what} (us)"),
            flooded.latencies.percentile(p),
            pp_direct.latencies.percentile(p),
        );
    }
    let cpu = natter.idle_loop_cpu_ns();
    let pairs = net::pairs(natter.port, count).map_err(io("pairs"))?;
    let pairs_cpu = cpu_per_delivery(cpu, &pairs);
    let (rss, anon) = natter.memory();
    let pairs_direct = net::pairs_direct(count).map_err(io("pairs direct"))?;
    throughput("pairs 5 x 32 in flight", &pairs, &pairs_direct);
    cpu_row("pairs 5 x 32 in flight", pairs_cpu);
    let cpu = natter.idle_loop_cpu_ns();
    let fan = net::fan_out(natter.port, count).map_err(io("fan-out"))?;
    let fan_cpu = cpu_per_delivery(cpu, &fan);
    let fan_direct = net::fan_out_direct(count).map_err(io("fan-out direct"))?;
    throughput("fan-out 1 to 9 x 32 in flight", &fan, &fan_direct);
    cpu_row("fan-out 1 to 9 x 32 in flight", fan_cpu);
    println!("server memory with 10 users online: VmRSS {rss} KiB, RssAnon {anon} KiB");
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(syncs) = natter.stop() {
        println!(
            "journal: {syncs} syncs in {elapsed:.1} s of workloads ({:.0} a second)",
            syncs as f64 / elapsed
        );
    }
    Ok(())
}

/// The width of the label column of `natter-bench net`'s table.
const LABEL: usize = 58;

fn row(what: &str, natter: f64, direct: f64) {
    let ratio = natter / direct.max(1e-9);
    println!("{what:<LABEL$} {natter:>12.1} {direct:>12.1} {ratio:>6.2}x");
}

/// The server's event-loop CPU per delivery: no direct counterpart.
fn cpu_row(what: &str, us: Option<f64>) {
    let what = format!("{what}: server CPU/delivery (us)");
    match us {
        Some(us) => println!("{what:<LABEL$} {us:>12.2}"),
        None => println!("{what:<LABEL$} {:>12}", "n/a"),
    }
}

fn throughput(what: &str, natter: &Figures, direct: &Figures) {
    row(
        &format!("{what}: deliveries/s"),
        natter.per_second(),
        direct.per_second(),
    );
    row(
        &format!("{what}: latency p50 (us)"),
        natter.latencies.percentile(50.0),
        direct.latencies.percentile(50.0),
    );
    row(
        &format!("{what}: latency p99 (us)"),
        natter.latencies.percentile(99.0),
        direct.latencies.percentile(99.0),
    );
    row(
        &format!("{what}: latency p99.9 (us)"),
        natter.latencies.percentile(99.9),
        direct.latencies.percentile(99.9),
    );
    row(
        &format!("{what}: latency max (us)"),
        natter.latencies.max(),
        direct.latencies.max(),
    );
    // As long as the worst latency: the bench held that message itself.
    // No ratio: the two are different messages' misfortunes.
    let held = |figures: &Figures| match figures.worst_held {
        Some(held) => format!("{:.1}", held.as_secs_f64() * 1e6),
        None => "n/a".into(),
    };
    println!(
        "{:<LABEL$} {:>12} {:>12}",
        format!("{what}: of the worst, the bench's own send (us)"),
        held(natter),
        held(direct),
    );
    println!(
        "{:<LABEL$} {:>12}",
        format!("{what}: refusals"),
        natter.refusals
    );
}
