//! `natter-bench journal [--quick] [--server PATH]`: what the journal
//! costs the people online (issue 24). The same server binary runs the
//! ping-pong, pairs and fan-out workloads of `natter-bench net` four times
//! in one run, with `--no-journal` and with the journal (on the machine's
//! own disk, in the temporary directory) in the order off, on, on, off, so
//! that neither gains from going first or last; the table gives each
//! figure, the mean of its two runs, with the journal against without.

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
    let mut runs = Vec::new();
    for journal in [false, true, true, false] {
        runs.push((journal, run_with(server, journal, rounds, count)?));
    }
    let (on, off): (Vec<_>, Vec<_>) = runs.into_iter().partition(|(journal, _)| *journal);
    let (on, off): (Vec<Run>, Vec<Run>) = (
        on.into_iter().map(|(_, run)| run).collect(),
        off.into_iter().map(|(_, run)| run).collect(),
    );
    // The mean of a figure over the runs of one kind.
    let mean = |runs: &[Run], figure: &dyn Fn(&Run) -> f64| {
        runs.iter().map(figure).sum::<f64>() / runs.len().max(1) as f64
    };
    println!(
        "{:<44} {:>12} {:>12} {:>8}",
        "workload", "journal on", "off", "on/off"
    );
    let row = |what: &str, on: f64, off: f64| {
        let ratio = on / off.max(1e-9);
        println!("{what:<44} {on:>12.1} {off:>12.1} {ratio:>7.2}x");
    };
    for (what, p) in [("p50", 50.0), ("p99", 99.0)] {
        let figure = |run: &Run| run.ping_pong.latencies.percentile(p);
        row(
            &format!("ping-pong round trip {what} (us)"),
            mean(&on, &figure),
            mean(&off, &figure),
        );
    }
    type Workload = fn(&Run) -> &Figures;
    let workloads: [(&str, Workload); 2] = [
        ("pairs 5 x 32 in flight", |run| &run.pairs),
        ("fan-out 1 to 9 x 32 in flight", |run| &run.fan_out),
    ];
    for (what, workload) in workloads {
        let per_second = |run: &Run| workload(run).per_second();
        row(
            &format!("{what}: deliveries/s"),
            mean(&on, &per_second),
            mean(&off, &per_second),
        );
        let p99 = |run: &Run| workload(run).latencies.percentile(99.0);
        row(
            &format!("{what}: latency p99 (us)"),
            mean(&on, &p99),
            mean(&off, &p99),
        );
        let refusals = |runs: &[Run]| runs.iter().map(|r| workload(r).refusals).sum::<u64>();
        println!(
            "{:<44} {:>12} {:>12}",
            format!("{what}: refusals"),
            refusals(&on),
            refusals(&off)
        );
    }
    let syncs: Vec<String> = on
        .iter()
        .filter_map(|run| Some(run.syncs?.to_string()))
        .collect();
    println!("journal: {} syncs", syncs.join(" and "));
    Ok(())
}
