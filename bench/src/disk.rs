//! `natter-bench disk [--server PATH]`: what a slow disk does to the
//! people on a server (issue 24). The disk is slowed from outside: give
//! `--server` a wrapper that runs the server under strace with every
//! `fdatasync` and `fsync` delayed (DESIGN.md, "The journal's thread",
//! has it). With the journal on, it times:
//!
//! - logins: each sample account's first (its plain password rewritten
//!   hashed by the worker, whose file syncs the disk slows) and a later
//!   one;
//! - two online users' round trips, and `whoelse`;
//! - 100 messages pipelined to a user offline: when the first `Stored`
//!   and the last come back, which must not be before a sync could end.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use natter_core::protocol::{ClientFrame, ServerFrame};

use crate::net::{self, Server, ping_pong_of};
use crate::peer::Peer;
use crate::stats::Latencies;

/// Round trips between two users online.
const ROUNDS: u64 = 1_000;
/// `whoelse` asked, one at a time.
const WHOELSE: usize = 100;
/// Messages pipelined to a user offline.
const PIPELINED: usize = 100;

pub fn run(server: &Path) -> Result<(), String> {
    let natter = Server::start(server, true)?;
    let port = natter.port;
    let io = |what: &'static str| move |e: io::Error| format!("{what}: {e}");
    println!("natter-bench disk: {}", server.display());
    let mut first_logins = Latencies::default();
    let mut peers = Vec::new();
    for (name, password) in net::accounts().into_iter().take(5) {
        let started = Instant::now();
        peers.push(Peer::login(port, name, password).map_err(io("login"))?);
        first_logins.add(started.elapsed());
    }
    let mut later_logins = Latencies::default();
    // The last three log out, and in again: their passwords are hashed now.
    for (name, password) in net::accounts().into_iter().take(5).skip(2).rev() {
        peers.pop();
        let started = Instant::now();
        let peer = Peer::login(port, name, password).map_err(io("login again"))?;
        later_logins.add(started.elapsed());
        drop(peer);
    }
    let mut peers = peers.into_iter();
    let (Some(mut hans), Some(mut yoda)) = (peers.next(), peers.next()) else {
        return Err("no hans and yoda".into());
    };
    let pp = ping_pong_of(&mut hans, &mut yoda, ROUNDS).map_err(io("ping-pong"))?;
    let mut whoelse = Latencies::default();
    for _ in 0..WHOELSE {
        let asked = Instant::now();
        hans.writer
            .send(&ClientFrame::WhoElse {})
            .map_err(io("whoelse"))?;
        while !matches!(
            hans.reader.frame().map_err(io("whoelse"))?,
            ServerFrame::Users { .. }
        ) {}
        whoelse.add(asked.elapsed());
    }
    let (first, last) = pipelined(&mut hans).map_err(io("pipelined"))?;
    let ms = |us: f64| us / 1000.0;
    println!(
        "{:<52} {:>10} {:>10} {:>10}",
        "", "p50 (ms)", "p99 (ms)", "max (ms)"
    );
    for (what, figures) in [
        ("first login (password rewritten hashed)", &first_logins),
        ("later login", &later_logins),
        ("round trip between two users online", &pp.latencies),
        ("whoelse", &whoelse),
    ] {
        println!(
            "{what:<52} {:>10.2} {:>10.2} {:>10.2}",
            ms(figures.percentile(50.0)),
            ms(figures.percentile(99.0)),
            ms(figures.max())
        );
    }
    let in_ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{PIPELINED} messages pipelined to a user offline: first Stored after {:.1} ms, last after {:.1} ms",
        in_ms(first),
        in_ms(last)
    );
    // The wrapper passes the SIGTERM on to the server (DESIGN's does).
    if let Some(syncs) = natter.stop() {
        println!("journal: {syncs} syncs");
    }
    Ok(())
}

/// hans writes [`PIPELINED`] messages to palpatine (offline) at once:
/// when the first `Stored` came back, and the last.
fn pipelined(hans: &mut Peer) -> io::Result<(Duration, Duration)> {
    let sent = Instant::now();
    for i in 0..PIPELINED {
        hans.writer.message("palpatine", &format!("kept {i}"))?;
    }
    let mut first = None;
    let mut stored = 0;
    while stored < PIPELINED {
        match hans.reader.frame()? {
            ServerFrame::Stored { .. } => {
                stored += 1;
                first.get_or_insert_with(|| sent.elapsed());
            }
            ServerFrame::Refused { refusal } => {
                return Err(io::Error::other(format!("refused: {refusal:?}")));
            }
            _ => {}
        }
    }
    Ok((first.unwrap_or_default(), sent.elapsed()))
}
