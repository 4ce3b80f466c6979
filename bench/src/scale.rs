//! `natter-bench scale [--quick] [--server PATH]`: one server sized for a
//! school (issue 26), `--max-accounts 20000 --max-connections 1100`, with
//! 10,000 accounts, and 2, 10, 100 and 1,000 users online in turn. At
//! each level: how long the newcomers took to log in together (a login
//! storm, with cheap hashes so the machinery is timed, not argon2: its
//! cost per check is `natter-bench hash`), the round trip between two
//! users, the server's event-loop CPU for a direct message and for a
//! broadcast to everyone online, a `whoelse` answered whole, and the
//! server's memory. Users not measuring have their sockets drained by one
//! thread, as clients that read everything and say nothing.

use std::io::{self, Read};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use natter_core::protocol::{ClientFrame, ServerFrame};

use crate::net::{Server, ping_pong_between};
use crate::peer::Peer;
use crate::stats::Latencies;

/// Accounts in the credentials file.
const ACCOUNTS: usize = 10_000;
/// Users online at each level.
const LEVELS: [usize; 4] = [2, 10, 100, 1_000];
/// Threads that log the newcomers in at once.
const LOGIN_THREADS: usize = 32;

fn user(i: usize) -> String {
    format!("user{i}")
}

fn password(i: usize) -> String {
    format!("pw-{i}")
}

pub fn run(binary: &Path, quick: bool) -> Result<(), String> {
    let credentials: String = (0..ACCOUNTS)
        .map(|i| format!("{} {}\n", user(i), password(i)))
        .collect();
    let options = [
        "--max-accounts",
        "20000",
        "--max-connections",
        "1100",
        "--per-address",
        "0",
        "--signup",
        "closed",
        // The login storm times the server, not argon2.
        "--hash-memory",
        "64",
        "--hash-passes",
        "1",
    ];
    let server = Server::start_with(binary, &credentials, &options)?;
    let port = server.port;
    let rounds: u64 = if quick { 500 } else { 5_000 };
    let io = |what: &'static str| move |e: io::Error| format!("{what}: {e}");
    println!(
        "natter-bench scale: {}, {ACCOUNTS} accounts, {rounds} round trips a level",
        binary.display()
    );
    println!(
        "{:>7} {:>12} {:>9} {:>9} {:>11} {:>11} {:>11} {:>9} {:>9}",
        "online",
        "logins (ms)",
        "rtt p50",
        "rtt p99",
        "msg (us)",
        "bcast (us)",
        "whoelse",
        "VmRSS",
        "RssAnon"
    );
    println!(
        "{:>7} {:>12} {:>9} {:>9} {:>11} {:>11} {:>11} {:>9} {:>9}",
        "", "", "(us)", "(us)", "loop CPU", "loop CPU", "p50 (ms)", "(KiB)", "(KiB)"
    );
    let mut hans = Peer::login(port, &user(0), &password(0)).map_err(io("login"))?;
    let mut yoda = Peer::login(port, &user(1), &password(1)).map_err(io("login"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut drainers = Vec::new();
    let mut online = 2;
    for level in LEVELS {
        let started = Instant::now();
        let newcomers = login_storm(port, online..level).map_err(io("login storm"))?;
        let storm = started.elapsed();
        online = level;
        drainers.push(drain(newcomers, Arc::clone(&stop))?);
        // Round trips, and the loop's CPU for them.
        let before = server.idle_loop_cpu_ns();
        let pp = ping_pong_between((&mut hans, &user(0)), (&mut yoda, &user(1)), rounds)
            .map_err(io("ping-pong"))?;
        let after = server.loop_cpu_ns();
        let per_message = cpu_per(before, after, pp.deliveries);
        // Broadcasts from yoda to everyone online, read by the drainers.
        let broadcasts = 20;
        let before = server.idle_loop_cpu_ns();
        for i in 0..broadcasts {
            yoda.writer
                .broadcast(&format!("to all {i}"))
                .map_err(io("broadcast"))?;
            // hans hears each: the server has sent it to everyone by then.
            expect_broadcast(&mut hans).map_err(io("broadcast"))?;
        }
        hans.writer.flush_ack().map_err(io("ack"))?;
        let after = server.idle_loop_cpu_ns();
        let per_broadcast = cpu_per(before, after, broadcasts);
        let mut whoelse = Latencies::default();
        for _ in 0..20 {
            let asked = Instant::now();
            let names = who_else(&mut hans).map_err(io("whoelse"))?;
            whoelse.add(asked.elapsed());
            if names != level - 1 {
                return Err(format!("whoelse named {names} of {} others", level - 1));
            }
        }
        let (rss, anon) = server.memory();
        // Latencies are in microseconds.
        println!(
            "{level:>7} {:>12.1} {:>9.1} {:>9.1} {:>11} {:>11} {:>11.2} {rss:>9} {anon:>9}",
            storm.as_secs_f64() * 1000.0,
            pp.latencies.percentile(50.0),
            pp.latencies.percentile(99.0),
            per_message.map_or("-".into(), |ns| format!("{:.1}", ns / 1000.0)),
            per_broadcast.map_or("-".into(), |ns| format!("{:.1}", ns / 1000.0)),
            whoelse.percentile(50.0) / 1000.0,
        );
    }
    stop.store(true, Ordering::Relaxed);
    for drainer in drainers {
        let _ = drainer.join();
    }
    server.stop();
    Ok(())
}

/// Loop CPU per event, in nanoseconds, between two readings.
fn cpu_per(before: Option<u64>, after: Option<u64>, events: u64) -> Option<f64> {
    Some(after?.saturating_sub(before?) as f64 / events.max(1) as f64)
}

/// Logs in the users of `indices` together, from [`LOGIN_THREADS`]
/// threads.
fn login_storm(port: u16, indices: std::ops::Range<usize>) -> io::Result<Vec<Peer>> {
    let all: Vec<usize> = indices.collect();
    let chunk = all.len().div_ceil(LOGIN_THREADS).max(1);
    thread::scope(|scope| {
        let logging: Vec<_> = all
            .chunks(chunk)
            .map(|slice| {
                scope.spawn(move || {
                    slice
                        .iter()
                        .map(|&i| Peer::login(port, &user(i), &password(i)))
                        .collect::<io::Result<Vec<Peer>>>()
                })
            })
            .collect();
        let mut peers = Vec::new();
        for thread in logging {
            let slice = thread
                .join()
                .map_err(|_| io::Error::other("a login thread panicked"))??;
            peers.extend(slice);
        }
        Ok(peers)
    })
}

/// A thread that reads whatever the server sends `peers` until `stop`.
fn drain(peers: Vec<Peer>, stop: Arc<AtomicBool>) -> Result<thread::JoinHandle<()>, String> {
    let streams: Vec<TcpStream> = peers
        .iter()
        .map(|peer| {
            let stream = peer.reader.closer()?;
            stream.set_nonblocking(true)?;
            Ok(stream)
        })
        .collect::<io::Result<_>>()
        .map_err(|e: io::Error| format!("drain: {e}"))?;
    Ok(thread::spawn(move || {
        // The peers stay connected as long as their sockets are drained.
        let _peers = peers;
        let mut streams = streams;
        let mut buf = [0u8; 16 * 1024];
        while !stop.load(Ordering::Relaxed) {
            let mut read_any = false;
            for stream in &mut streams {
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    read_any = true;
                }
            }
            if !read_any {
                thread::sleep(Duration::from_millis(1));
            }
        }
    }))
}

/// Waits for the next broadcast, skipping other frames.
fn expect_broadcast(peer: &mut Peer) -> io::Result<()> {
    loop {
        if let ServerFrame::Message {
            broadcast: true,
            id,
            ..
        } = peer.reader.frame()?
        {
            peer.writer.hold_ack(id);
            return Ok(());
        }
    }
}

/// Asks `whoelse` and reads every page of the answer; how many names.
fn who_else(peer: &mut Peer) -> io::Result<usize> {
    peer.writer.send(&ClientFrame::WhoElse {})?;
    let mut names = 0;
    loop {
        if let ServerFrame::Users { users, more } = peer.reader.frame()? {
            names += users.len();
            if !more {
                return Ok(names);
            }
        }
    }
}
