//! `natter-bench journal [--quick] [--server PATH]`: what the journal
//! costs the people online (issue 24). The same server binary runs the
//! ping-pong, pairs and fan-out workloads of `natter-bench net` twice in
//! one run, with `--no-journal` and with the journal (on the machine's
//! own disk, in the temporary directory), and the table gives each figure
//! with the journal against without.

use std::path::Path;

use crate::net::{self, Figures, Server};

/// One server's figures for the three workloads, and its syncs.
struct Run {
    ping_pong: Figures,
    pairs: Figures,
    fan_out: Figures,
    syncs: Option<u64>,
}

fn run_with(server: &Path, journal: bool, rounds: u64, count: u64) -> Result<Run, String> {
    let io = |what: &'static str| move |e: std::io::Error| format!("{what}: {e}");
    let natter = Server::start(server, journal)?;
    let ping_pong = net::ping_pong(natter.port, rounds).map_err(io("ping-pong"))?;
    natter.idle_loop_cpu_ns();
    let pairs = net::pairs(natter.port, count).map_err(io("pairs"))?;
    natter.idle_loop_cpu_ns();
    let fan_out = net::fan_out(natter.port, count).map_err(io("fan-out"))?;
    Ok(Run {
        ping_pong,
        pairs,
        fan_out,
        syncs: natter.stop(),
    })
}

pub fn run(server: &Path, quick: bool) -> Result<(), String> {
    let (rounds, count) = if quick {
        (2_000, 2_000)
    } else {
        (20_000, 20_000)
    };
    println!(
        "natter-bench journal: {} ({})",
        server.display(),
        if quick { "quick" } else { "full" }
    );
    let off = run_with(server, false, rounds, count)?;
    let on = run_with(server, true, rounds, count)?;
    println!(
        "{:<44} {:>12} {:>12} {:>8}",
        "workload", "journal on", "off", "on/off"
    );
    let row = |what: &str, on: f64, off: f64| {
        let ratio = on / off.max(1e-9);
        println!("{what:<44} {on:>12.1} {off:>12.1} {ratio:>7.2}x");
    };
    for (what, p) in [("p50", 50.0), ("p99", 99.0)] {
        row(
            &format!("ping-pong round trip {what} (us)"),
            on.ping_pong.latencies.percentile(p),
            off.ping_pong.latencies.percentile(p),
        );
    }
    for (what, on, off) in [
        ("pairs 5 x 32 in flight", &on.pairs, &off.pairs),
        ("fan-out 1 to 9 x 32 in flight", &on.fan_out, &off.fan_out),
    ] {
        row(
            &format!("{what}: deliveries/s"),
            on.per_second(),
            off.per_second(),
        );
        row(
            &format!("{what}: latency p99 (us)"),
            on.latencies.percentile(99.0),
            off.latencies.percentile(99.0),
        );
        println!(
            "{:<44} {:>12} {:>12}",
            format!("{what}: refusals"),
            on.refusals,
            off.refusals
        );
    }
    if let Some(syncs) = on.syncs {
        println!("journal: {syncs} syncs");
    }
    Ok(())
}
