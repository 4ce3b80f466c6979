//! `natter-bench net`: the real server binary over loopback, three
//! workloads, each beside a direct TCP exchange (no server) in the same run,
//! so the figures are read as ratios on whatever machine runs them:
//!
//! - ping-pong: hans messages yoda, yoda answers, one at a time; beside
//!   it, the direct exchange through a bare relay too (the hops natter
//!   adds, without natter);
//! - pairs: five senders, each to its own receiver, 32 messages in flight;
//! - fan-out: hans broadcasts to the nine others, 32 broadcasts in flight.
//!
//! Messages carry the time they were sent, so each delivery gives a
//! latency. Each sender also times its own sends, so the worst latency
//! comes with how long the bench itself held that message (a sender
//! preempted between stamping it and writing it). Refusals (a full
//! mailbox) are counted, never hidden. The server's memory is read from
//! /proc with ten users online.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::CREDENTIALS;
use crate::peer::{Heard, Peer};
use crate::stats::Latencies;

/// Messages a sender keeps in flight in the pairs and fan-out workloads.
const IN_FLIGHT: u64 = 32;

/// How long a workload may take in all before the benchmark gives up.
const GIVE_UP: Duration = Duration::from_secs(120);

/// The text of every message: a time, a number and padding to 32 bytes.
fn text(start: Instant, seq: u64) -> String {
    let t = start.elapsed().as_nanos();
    format!("{t:>16} {seq:>8} ")
        .chars()
        .chain("xxxxxx".chars())
        .take(32)
        .collect()
}

/// When `text` was sent, in nanoseconds since `start`.
fn sent_at(text: &str) -> u64 {
    text.split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

/// Which of its sender's messages `text` is.
fn seq_of(text: &str) -> Option<u64> {
    text.split_whitespace().nth(1)?.parse().ok()
}

/// What one workload gave.
#[derive(Debug, Default)]
pub struct Figures {
    pub deliveries: u64,
    pub refusals: u64,
    pub elapsed: Duration,
    pub latencies: Latencies,
    /// How long the message with the worst latency took its own sender,
    /// from its stamp to its `write` returning: the bench's delay
    /// (preempted, with fifteen threads on two cores), which the latency
    /// counts in whole, up to the moment the bytes reached the kernel.
    /// `None` if the worst message's number could not be read.
    pub worst_held: Option<Duration>,
}

impl Figures {
    pub fn per_second(&self) -> f64 {
        self.deliveries as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The sample accounts, in the order of `credentials.txt`.
pub(crate) fn accounts() -> Vec<(&'static str, &'static str)> {
    CREDENTIALS
        .lines()
        .filter_map(|line| line.split_once(' '))
        .collect()
}

/// A running natter-server in a directory of its own.
pub struct Server {
    child: Child,
    pub port: u16,
    dir: PathBuf,
    /// Reads its log to the end; gives the journal's syncs, if it said.
    log: Option<thread::JoinHandle<Option<u64>>>,
}

impl Server {
    /// Starts `binary`, with its journal (issue 11) or without.
    pub fn start(binary: &Path, journal: bool) -> Result<Server, String> {
        let options: &[&str] = if journal { &[] } else { &["--no-journal"] };
        Server::start_with(binary, CREDENTIALS, options)
    }

    /// Starts `binary` with `credentials` and these options, besides the
    /// benchmark's own (no flood limit, a debug log).
    pub fn start_with(
        binary: &Path,
        credentials: &str,
        options: &[&str],
    ) -> Result<Server, String> {
        let dir = std::env::temp_dir().join(format!("natter-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        std::fs::write(dir.join("credentials.txt"), credentials).map_err(|e| e.to_string())?;
        let mut child = Command::new(binary)
            .args(["0", "60", "600", "-d", "--rate", "0"])
            .args(options)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let port = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                return Err("the server exited before listening".into());
            };
            if let Some(port) = line
                .rsplit_once("listening on ")
                .and_then(|(_, addr)| addr.rsplit_once(':'))
                .and_then(|(_, port)| port.trim().parse().ok())
            {
                break port;
            }
        };
        // Keep reading its log, so it never blocks on a full pipe. Its last
        // words, under -d, count the journal's syncs.
        let log = thread::spawn(move || {
            lines
                .map_while(Result::ok)
                .filter_map(|line| {
                    let count = line.strip_suffix(" syncs")?.rsplit(' ').next()?;
                    count.parse().ok()
                })
                .last()
        });
        Ok(Server {
            child,
            port,
            dir,
            log: Some(log),
        })
    }

    /// Stops the server as an owner would (SIGTERM); the journal's syncs,
    /// if it kept one.
    pub fn stop(mut self) -> Option<u64> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
        self.log.take()?.join().ok()?
    }

    /// CPU time the server's event loop (its main thread) has used so far,
    /// in nanoseconds, from /proc; `None` if the kernel does not say.
    pub fn loop_cpu_ns(&self) -> Option<u64> {
        let pid = self.child.id();
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/schedstat"))
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// [`Server::loop_cpu_ns`] once the loop is idle (under 1 ms of CPU in
    /// 50 ms), so a workload's count leaves out what the last one left,
    /// such as a flood still in its sockets. Waits at most 5 s.
    pub fn idle_loop_cpu_ns(&self) -> Option<u64> {
        let mut last = self.loop_cpu_ns()?;
        for _ in 0..100 {
            thread::sleep(Duration::from_millis(50));
            let now = self.loop_cpu_ns()?;
            if now.saturating_sub(last) < 1_000_000 {
                return Some(now);
            }
            last = now;
        }
        Some(last)
    }

    /// The server's resident memory and the anonymous part of it, in KiB.
    pub fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("RssAnon:"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits (at most 10 s) until something accepts connections on `port`.
pub fn wait_for_port(port: u16) -> Result<(), String> {
    for _ in 0..1000 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(10));
    }
    Err(format!("nothing listens on port {port}"))
}

fn login(port: u16, index: usize) -> io::Result<Peer> {
    let (name, password) = accounts()[index];
    Peer::login(port, name, password)
}

/// hans and yoda take turns: `rounds` round trips.
pub fn ping_pong(port: u16, rounds: u64) -> io::Result<Figures> {
    let mut hans = login(port, 0)?;
    let mut yoda = login(port, 1)?;
    ping_pong_of(&mut hans, &mut yoda, rounds)
}

/// hans and yoda (the first two sample users), logged in on `port`.
pub fn hans_and_yoda(port: u16) -> io::Result<(Peer, Peer)> {
    Ok((login(port, 0)?, login(port, 1)?))
}

/// `rounds` round trips between hans and yoda, logged in already.
pub fn ping_pong_of(hans: &mut Peer, yoda: &mut Peer, rounds: u64) -> io::Result<Figures> {
    ping_pong_between((hans, "hans"), (yoda, "yoda"), rounds)
}

/// `rounds` round trips between two users logged in already, as named.
pub fn ping_pong_between(
    (a, a_name): (&mut Peer, &str),
    (b, b_name): (&mut Peer, &str),
    rounds: u64,
) -> io::Result<Figures> {
    let figures = round_trips(rounds, |_, text| {
        a.writer.message(b_name, text)?;
        expect_answerable(b)?;
        b.writer.message(a_name, text)?;
        expect_answerable(a)?;
        Ok(())
    })?;
    a.writer.flush_ack()?;
    Ok(figures)
}

/// `rounds` round trips of `round` (given each one's number and text),
/// each timed; two deliveries each.
pub(crate) fn round_trips(
    rounds: u64,
    mut round: impl FnMut(u64, &str) -> io::Result<()>,
) -> io::Result<Figures> {
    let start = Instant::now();
    let mut figures = Figures::default();
    for seq in 0..rounds {
        let sent = Instant::now();
        round(seq, &text(start, seq))?;
        figures.latencies.add(sent.elapsed());
        figures.deliveries += 2;
    }
    figures.elapsed = start.elapsed();
    Ok(figures)
}

/// The same ping-pong while two other connections flood the server as fast
/// as they can: luke with `PrivateActivity` (valid, and never answered) and
/// a stranger with blank lines (ignored). Their reads must not starve the
/// others' (issue 9).
pub fn ping_pong_under_flood(port: u16, rounds: u64) -> io::Result<Figures> {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let luke = login(port, 7)?;
    let mut floods = Vec::new();
    let activity = b"{\"PrivateActivity\":{}}\n".repeat(2048);
    let blank = vec![b'\n'; 64 * 1024];
    let stranger = TcpStream::connect(("127.0.0.1", port))?;
    let luke_stream = luke.reader.closer()?;
    for (mut stream, bytes) in [(luke_stream, activity), (stranger, blank)] {
        let stop = stop.clone();
        floods.push(thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) && stream.write_all(&bytes).is_ok() {}
        }));
    }
    // Let the floods get going.
    thread::sleep(Duration::from_millis(100));
    let figures = ping_pong(port, rounds);
    stop.store(true, Ordering::Relaxed);
    drop(luke);
    for flood in floods {
        let _ = flood.join();
    }
    figures
}

/// The next message, acknowledged with the peer's answer.
fn expect_answerable(peer: &mut Peer) -> io::Result<String> {
    match peer.next_to_answer()? {
        Heard::Message(text) => Ok(text),
        Heard::Refused(refusal) => Err(io::Error::other(format!("refused: {refusal:?}"))),
    }
}

/// The same exchange over a direct TCP connection: a line out, the same
/// line back.
pub fn ping_pong_direct(rounds: u64) -> io::Result<Figures> {
    let (mut a, b) = socket_pair()?;
    let echo = thread::spawn(move || -> io::Result<()> {
        let mut reader = BufReader::new(b.try_clone()?);
        let mut writer = b;
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            writer.write_all(&line)?;
        }
    });
    let mut reader = BufReader::new(a.try_clone()?);
    let mut line = Vec::new();
    let figures = round_trips(rounds, |seq, text| {
        a.write_all(frame_line(seq, text).as_bytes())?;
        line.clear();
        reader.read_until(b'\n', &mut line)?;
        Ok(())
    })?;
    let _ = a.shutdown(std::net::Shutdown::Both);
    let _ = echo.join();
    Ok(figures)
}

/// The direct ping-pong through a bare relay: two threads that copy bytes
/// between the two ends, one per direction. A round trip takes four
/// loopback hops, as through natter, with no parsing, no acknowledgements
/// and no other user: no relaying server here can be much cheaper.
pub fn ping_pong_relayed(rounds: u64) -> io::Result<Figures> {
    let (mut hans, hans_end) = socket_pair()?;
    let (yoda_end, yoda) = socket_pair()?;
    let forward = |mut from: TcpStream, mut to: TcpStream| {
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = io::Read::read(&mut from, &mut buf) {
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        })
    };
    let relays = [
        forward(hans_end.try_clone()?, yoda_end.try_clone()?),
        forward(yoda_end, hans_end),
    ];
    let mut yoda_reader = BufReader::new(yoda.try_clone()?);
    let mut yoda = yoda;
    let mut hans_reader = BufReader::new(hans.try_clone()?);
    let mut line = Vec::new();
    let figures = round_trips(rounds, |seq, text| {
        hans.write_all(frame_line(seq, text).as_bytes())?;
        line.clear();
        yoda_reader.read_until(b'\n', &mut line)?;
        yoda.write_all(&line)?;
        line.clear();
        hans_reader.read_until(b'\n', &mut line)?;
        Ok(())
    })?;
    for end in [&hans, &yoda] {
        let _ = end.shutdown(std::net::Shutdown::Both);
    }
    for relay in relays {
        let _ = relay.join();
    }
    Ok(figures)
}

/// A line the size of a natter message frame, with `text` in it.
fn frame_line(seq: u64, text: &str) -> String {
    format!(
        "{{\"Message\":{{\"id\":{seq},\"from\":\"hans\",\"text\":\"{text}\",\"broadcast\":false,\"age\":0}}}}\n"
    )
}

/// Two ends of a loopback TCP connection.
fn socket_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let a = TcpStream::connect(listener.local_addr()?)?;
    let (b, _) = listener.accept()?;
    for s in [&a, &b] {
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
    }
    Ok((a, b))
}

/// Sends one message with this text.
type Send = Box<dyn FnMut(&str) -> io::Result<()> + std::marker::Send>;
/// The next refusal the sender hears, `None` at the end.
type Refusals = Box<dyn FnMut() -> Option<()> + std::marker::Send>;
/// The next text a receiver gets, `None` at the end.
type Receive = Box<dyn FnMut() -> Option<String> + std::marker::Send>;

/// One sender and its receivers, as closures the flow runner calls from
/// threads of their own.
struct Flow {
    /// Sends message `seq` with this text.
    send: Send,
    /// What the sender hears: `Some(())` per refusal, `None` at the end.
    refusals: Option<Refusals>,
    /// Each receiver: the next text delivered, `None` at the end.
    receivers: Vec<Receive>,
    /// Ends every blocked read once the flow is over.
    closers: Vec<TcpStream>,
}

/// Runs `flows` at once, `count` messages each with [`IN_FLIGHT`] in
/// flight: a sender waits while its slowest receiver (counting refusals
/// as settled) is that far behind.
fn run_flows(flows: Vec<Flow>, count: u64) -> Figures {
    let start = Instant::now();
    let deadline = start + GIVE_UP;
    let mut figures = Figures::default();
    let mut refusal_readers = Vec::new();
    // Each flow's sender and receivers, to tell a latency the bench's own.
    let mut flows_threads = Vec::new();
    let mut finished = Vec::new();
    for flow in flows {
        let done: Arc<Vec<AtomicU64>> =
            Arc::new(flow.receivers.iter().map(|_| AtomicU64::new(0)).collect());
        let refused = Arc::new(AtomicU64::new(0));
        let settled = {
            let (done, refused) = (done.clone(), refused.clone());
            move || {
                let slowest = done.iter().map(|d| d.load(Ordering::Acquire)).min();
                slowest.unwrap_or(0) + refused.load(Ordering::Acquire)
            }
        };
        // The sender first: its receivers wake it as they settle messages.
        let mut send = flow.send;
        let closers = flow.closers;
        finished.push((done.clone(), refused.clone()));
        let sender = thread::spawn(move || {
            // How long each message took to send, by its number.
            let mut holds = Vec::with_capacity(count as usize);
            for seq in 0..count {
                // Parked, not spinning: two cores are shared with the server.
                while seq >= settled() + IN_FLIGHT && Instant::now() < deadline {
                    thread::park_timeout(Duration::from_millis(1));
                }
                let stamped = Instant::now();
                if send(&text(start, seq)).is_err() {
                    break;
                }
                holds.push(stamped.elapsed());
            }
            while settled() < count && Instant::now() < deadline {
                thread::park_timeout(Duration::from_millis(1));
            }
            // Refusals may leave a receiver waiting for what never comes.
            thread::sleep(Duration::from_millis(20));
            for closer in closers {
                let _ = closer.shutdown(std::net::Shutdown::Both);
            }
            holds
        });
        let wake = sender.thread().clone();
        let mut receivers = Vec::new();
        if let Some(mut heard) = flow.refusals {
            let (refused, wake) = (refused.clone(), wake.clone());
            refusal_readers.push(thread::spawn(move || {
                while heard().is_some() {
                    refused.fetch_add(1, Ordering::AcqRel);
                    wake.unpark();
                }
            }));
        }
        for (i, mut receive) in flow.receivers.into_iter().enumerate() {
            let (done, refused, wake) = (done.clone(), refused.clone(), wake.clone());
            receivers.push(thread::spawn(move || {
                let mut latencies = Latencies::default();
                // The worst latency, and which message it was.
                let mut worst = (0, None);
                while let Some(text) = receive() {
                    let now = start.elapsed().as_nanos() as u64;
                    let latency = now.saturating_sub(sent_at(&text));
                    latencies.add_nanos(latency);
                    if latency > worst.0 {
                        worst = (latency, seq_of(&text));
                    }
                    let got = done[i].fetch_add(1, Ordering::AcqRel) + 1;
                    // Cheap unless the sender is parked.
                    wake.unpark();
                    if got + refused.load(Ordering::Acquire) >= count {
                        break;
                    }
                }
                (latencies, worst)
            }));
        }
        flows_threads.push((sender, receivers));
    }
    let mut worst = 0;
    for (sender, receivers) in flows_threads {
        let holds = sender.join().unwrap_or_default();
        for receiver in receivers {
            let Ok((latencies, (latency, seq))) = receiver.join() else {
                continue;
            };
            figures.latencies.merge(&latencies);
            if latency > worst {
                worst = latency;
                let held = seq.and_then(|seq| holds.get(seq as usize));
                figures.worst_held = held.copied();
            }
        }
    }
    for reader in refusal_readers {
        let _ = reader.join();
    }
    figures.elapsed = start.elapsed();
    for (done, refused) in finished {
        figures.deliveries += done.iter().map(|d| d.load(Ordering::Acquire)).sum::<u64>();
        figures.refusals += refused.load(Ordering::Acquire);
    }
    figures
}

/// A flow through the server: user `from` sends (to `to`, or a broadcast
/// to everyone else if `None`), users `receivers` receive.
fn natter_flow(port: u16, from: usize, to: Option<usize>, receivers: &[usize]) -> io::Result<Flow> {
    let sender = login(port, from)?;
    let mut closers = vec![sender.reader.closer()?];
    let mut heard = sender.reader;
    let mut writer = sender.writer;
    let to = to.map(|i| accounts()[i].0);
    let send: Send = match to {
        Some(to) => Box::new(move |text| writer.message(to, text)),
        None => Box::new(move |text| writer.broadcast(text)),
    };
    let refusals: Refusals = Box::new(move || {
        loop {
            match heard.next() {
                Ok(Heard::Refused(_)) => return Some(()),
                Ok(Heard::Message(_)) => {}
                Err(_) => return None,
            }
        }
    });
    let mut readers: Vec<Receive> = Vec::new();
    for &i in receivers {
        let mut peer = login(port, i)?;
        closers.push(peer.reader.closer()?);
        readers.push(Box::new(move || {
            loop {
                match peer.reader.next() {
                    Ok(Heard::Message(text)) => return Some(text),
                    Ok(Heard::Refused(_)) => {}
                    Err(_) => return None,
                }
            }
        }));
    }
    Ok(Flow {
        send,
        refusals: Some(refusals),
        receivers: readers,
        closers,
    })
}

/// The same flow without the server: the sender writes each message, as a
/// frame-sized line, to each receiver's socket itself.
fn direct_flow(receivers: usize) -> io::Result<Flow> {
    let mut outs = Vec::new();
    let mut readers: Vec<Receive> = Vec::new();
    let mut closers = Vec::new();
    for _ in 0..receivers {
        let (out, into) = socket_pair()?;
        closers.push(into.try_clone()?);
        outs.push(out);
        let mut reader = BufReader::new(into);
        let mut line = String::new();
        readers.push(Box::new(move || {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => None,
                Ok(_) => line.split("\"text\":\"").nth(1).map(String::from),
            }
        }));
    }
    let mut seq = 0;
    let send: Send = Box::new(move |text| {
        let line = frame_line(seq, text);
        seq += 1;
        for out in &mut outs {
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    });
    Ok(Flow {
        send,
        refusals: None,
        receivers: readers,
        closers,
    })
}

/// Five senders to five receivers (users 0-4 to 5-9) through the server.
pub fn pairs(port: u16, count: u64) -> io::Result<Figures> {
    let flows = (0..5)
        .map(|pair| natter_flow(port, pair, Some(pair + 5), &[pair + 5]))
        .collect::<io::Result<Vec<_>>>()?;
    Ok(run_flows(flows, count))
}

/// Five direct senders to one receiver each.
pub fn pairs_direct(count: u64) -> io::Result<Figures> {
    let flows = (0..5)
        .map(|_| direct_flow(1))
        .collect::<io::Result<Vec<_>>>()?;
    Ok(run_flows(flows, count))
}

/// hans broadcasts to the nine others through the server.
pub fn fan_out(port: u16, count: u64) -> io::Result<Figures> {
    let receivers: Vec<usize> = (1..10).collect();
    Ok(run_flows(
        vec![natter_flow(port, 0, None, &receivers)?],
        count,
    ))
}

/// One direct sender writing each message to nine sockets.
pub fn fan_out_direct(count: u64) -> io::Result<Figures> {
    Ok(run_flows(vec![direct_flow(9)?], count))
}
