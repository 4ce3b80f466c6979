//! End-to-end test harness: real `natter-server` and `natter-client`
//! processes talking over real TCP on 127.0.0.1.
//!
//! Every wait is bounded and fails with the transcript of what the process
//! printed, so a broken build fails fast and says why instead of hanging.
//! When the test binary runs under qemu-user (aarch64, armv7), the server
//! and client binaries beside it are ARM too: they are started through
//! `qemu-<arch>`, which finds its sysroot in the inherited `QEMU_LD_PREFIX`
//! (set by the runner in `.cargo/config.toml`).
//!
//! [`screen`] runs a client in a real terminal (tmux) instead of a pipe.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The longest any single expectation waits. Generous because qemu-user is
/// slow; a passing wait returns as soon as its text appears.
pub const WAIT: Duration = Duration::from_secs(15);

/// The sample credentials of R3, as shipped.
pub const CREDENTIALS: &str = include_str!("../credentials.txt");

pub mod screen;

/// Where the workspace's binaries are: beside the test binary's `deps/`.
pub(crate) fn bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("NATTER_BIN_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_default();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not found: build the binaries first (`cargo build --workspace --bins`, \
         with the same --target as the tests) or set NATTER_BIN_DIR",
        path.display()
    );
    path
}

/// A command for a workspace binary, through qemu-user when the binaries
/// are for another architecture than this machine's.
fn command(name: &str) -> Command {
    let path = bin(name);
    match qemu() {
        Some(qemu) => {
            let mut command = Command::new(qemu);
            command.arg(path);
            command
        }
        None => Command::new(path),
    }
}

/// `qemu-<arch>` when this test runs emulated (the runner sets QEMU_LD_PREFIX).
pub(crate) fn qemu() -> Option<&'static str> {
    std::env::var_os("QEMU_LD_PREFIX")?;
    if cfg!(target_arch = "aarch64") {
        Some("qemu-aarch64")
    } else if cfg!(target_arch = "arm") {
        Some("qemu-arm")
    } else {
        None
    }
}

/// Collects everything a pipe delivers, on a thread; the flag is set once
/// the pipe is closed (everything written is collected).
#[derive(Clone, Default)]
struct Transcript(Arc<Mutex<Vec<u8>>>, Arc<AtomicBool>);

impl Transcript {
    fn collect(pipe: impl Read + Send + 'static) -> Self {
        let transcript = Transcript::default();
        let sink = transcript.clone();
        thread::spawn(move || {
            let mut pipe = pipe;
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.0.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            sink.1.store(true, Ordering::SeqCst);
        });
        transcript
    }

    /// Whether the pipe has closed and all it delivered is collected.
    fn closed(&self) -> bool {
        self.1.load(Ordering::SeqCst)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Sends SIGTERM to a process.
fn terminate(child: &Child) {
    signal(child.id(), rustix::process::Signal::TERM);
}

fn signal(pid: u32, signal: rustix::process::Signal) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// Runs `program` with `args` to its end, as `Command::output` does, and
/// survives a fault of qemu-user: a fork from this emulated, multi-threaded
/// test process can hang before its exec, and then the spawn never
/// returns. A child of ours still running this test binary after `WAIT`
/// is such a fork: it is killed, and the command, which never ran, runs
/// again. Natively there is no such fork and the first try is the only one.
pub fn output_of(program: &str, args: &[&str]) -> std::io::Result<Output> {
    for _ in 0..3 {
        let (done, outcome) = std::sync::mpsc::channel();
        let mut command = Command::new(program);
        command.args(args);
        thread::spawn(move || {
            let _ = done.send(command.output());
        });
        match outcome.recv_timeout(WAIT) {
            Ok(output) => return output,
            Err(_) if kill_stalled_forks() > 0 => eprintln!(
                "{program} {args:?}: a fork of the test process never ran it \
                 (killed); running it again"
            ),
            Err(_) => {
                return Err(std::io::Error::new(
                    ErrorKind::TimedOut,
                    format!("{program} {args:?} did not finish within {WAIT:?}"),
                ));
            }
        }
    }
    Err(std::io::Error::other(format!(
        "{program} {args:?}: three forks in a row never ran it"
    )))
}

/// Kills this process's children that are still copies of it a second
/// later (forks that never reached their exec; another test's fork
/// execs within milliseconds); how many.
fn kill_stalled_forks() -> usize {
    let me = std::process::id();
    let Ok(exe) = std::env::current_exe() else {
        return 0;
    };
    let exe = exe.display().to_string();
    let copies = || -> Vec<u32> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse().ok()) else {
                continue;
            };
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let parent = status
                .lines()
                .find_map(|line| line.strip_prefix("PPid:"))
                .and_then(|ppid| ppid.trim().parse::<u32>().ok());
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if parent == Some(me) && String::from_utf8_lossy(&cmdline).contains(&exe) {
                found.push(pid);
            }
        }
        found
    };
    let first = copies();
    if first.is_empty() {
        return 0;
    }
    thread::sleep(Duration::from_secs(1));
    let stalled: Vec<u32> = copies()
        .into_iter()
        .filter(|pid| first.contains(pid))
        .collect();
    for &pid in &stalled {
        signal(pid, rustix::process::Signal::KILL);
    }
    stalled.len()
}

/// Waits for `child` to exit, at most `WAIT`.
fn wait_exit(child: &mut Child, what: &str, transcript: impl Fn() -> String) -> ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "{what} did not exit within {WAIT:?}; it printed:\n{}",
                transcript()
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A running server with its own copy of the credentials file.
pub struct Server {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    stderr: Transcript,
}

impl Server {
    /// Starts a server on a free port with the sample credentials.
    pub fn start(block_secs: u64, timeout_secs: u64) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("credentials.txt"), CREDENTIALS).unwrap();
        Server::start_in(dir, block_secs, timeout_secs)
    }

    /// Starts a server whose working directory is `dir`.
    pub fn start_in(dir: tempfile::TempDir, block_secs: u64, timeout_secs: u64) -> Server {
        Server::start_with(dir, block_secs, timeout_secs, &[])
    }

    /// Starts a server with the sample credentials and these options.
    pub fn start_with_options(block_secs: u64, timeout_secs: u64, options: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("credentials.txt"), CREDENTIALS).unwrap();
        Server::start_with(dir, block_secs, timeout_secs, options)
    }

    /// Starts a server whose working directory is `dir`, with these options.
    pub fn start_with(
        dir: tempfile::TempDir,
        block_secs: u64,
        timeout_secs: u64,
        options: &[&str],
    ) -> Server {
        Server::start_with_env(dir, block_secs, timeout_secs, options, &[])
    }

    /// A server with the sample credentials whose journal's every write
    /// and sync takes `ms` longer, as on an SD card in a bad moment (the
    /// debug build's `NATTER_TEST_SYNC_DELAY_MS`).
    pub fn start_on_slow_disk(ms: u64) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("credentials.txt"), CREDENTIALS).unwrap();
        let env = [("NATTER_TEST_SYNC_DELAY_MS", ms.to_string())];
        Server::start_with_env(dir, 60, 120, &[], &env)
    }

    /// Starts a server in `dir` with these options and environment.
    pub fn start_with_env(
        dir: tempfile::TempDir,
        block_secs: u64,
        timeout_secs: u64,
        options: &[&str],
        env: &[(&str, String)],
    ) -> Server {
        Server::start_wrapped(dir, &[], block_secs, timeout_secs, options, env)
    }

    /// A server run by `wrapper` (a program and its arguments, which runs
    /// the rest of its command line), with these options.
    pub fn start_with_wrapper(
        dir: tempfile::TempDir,
        wrapper: &[&str],
        options: &[&str],
    ) -> Server {
        Server::start_wrapped(dir, wrapper, 60, 600, options, &[])
    }

    fn start_wrapped(
        dir: tempfile::TempDir,
        wrapper: &[&str],
        block_secs: u64,
        timeout_secs: u64,
        options: &[&str],
        env: &[(&str, String)],
    ) -> Server {
        // Under qemu-user a fork from this (emulated, multi-threaded) test
        // process can stall before its exec: the child is still a copy of
        // the test binary, not the server. Such a start is tried again once.
        for _ in 0..2 {
            match Server::try_start(&dir, wrapper, block_secs, timeout_secs, options, env) {
                Ok((child, port, stderr)) => {
                    return Server {
                        child,
                        port,
                        dir,
                        stderr,
                    };
                }
                Err(stalled) => eprintln!("{stalled}; starting the server again"),
            }
        }
        panic!("the server did not say where it listens within {WAIT:?}, twice")
    }

    /// One start: the child, its port and its log; or why it stalled.
    fn try_start(
        dir: &tempfile::TempDir,
        wrapper: &[&str],
        block_secs: u64,
        timeout_secs: u64,
        options: &[&str],
        env: &[(&str, String)],
    ) -> Result<(Child, u16, Transcript), String> {
        let server = command("natter-server");
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut wrapped = Command::new(program);
                wrapped
                    .args(args)
                    .arg(server.get_program())
                    .args(server.get_args());
                wrapped
            }
            None => server,
        };
        let mut child = command
            .args([
                "0",
                &block_secs.to_string(),
                &timeout_secs.to_string(),
                "-d",
            ])
            .args(options)
            .envs(env.iter().map(|(name, value)| (name, value)))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The debug log's first lines say where it listens.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let (found, lines) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let mut seen = String::new();
            let mut line = String::new();
            while stderr.read_line(&mut line).unwrap_or(0) > 0 {
                seen.push_str(&line);
                if let Some(port) = line
                    .trim()
                    .rsplit_once("listening on ")
                    .and_then(|(_, addr)| addr.rsplit_once(':'))
                    .and_then(|(_, port)| port.parse::<u16>().ok())
                {
                    let _ = found.send(Ok((port, seen, stderr)));
                    return;
                }
                line.clear();
            }
            let _ = found.send(Err(seen));
        });
        match lines.recv_timeout(WAIT) {
            Ok(Ok((port, seen, rest))) => {
                let stderr = Transcript::collect(rest);
                stderr.0.lock().unwrap().extend_from_slice(seen.as_bytes());
                Ok((child, port, stderr))
            }
            Ok(Err(seen)) => panic!("the server exited before listening; it printed:\n{seen}"),
            Err(_) => {
                let proc = |f: &str| std::fs::read(format!("/proc/{}/{f}", child.id()));
                let cmdline = String::from_utf8_lossy(&proc("cmdline").unwrap_or_default())
                    .replace('\0', " ");
                let wchan =
                    String::from_utf8_lossy(&proc("wchan").unwrap_or_default()).into_owned();
                let _ = child.kill();
                let _ = child.wait();
                if !cmdline.contains("natter-server") {
                    return Err(format!(
                        "the server's process never ran it within {WAIT:?} \
                         (still `{cmdline}`, waiting in {wchan})"
                    ));
                }
                panic!(
                    "the server did not say where it listens within {WAIT:?} (`{cmdline}`, in {wchan})"
                )
            }
        }
    }

    /// The credentials file's text once `wanted` holds of it: hashes of
    /// first logins are written a second or so later (`worker.rs`). Fails
    /// after 30 s, with the text.
    pub fn credentials_once(&self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(self.credentials()).unwrap_or_default();
            if wanted(&text) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "after 30 s the credentials file is still:\n{text}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn credentials(&self) -> PathBuf {
        self.dir.path().join("credentials.txt")
    }

    /// A client connected to this server.
    pub fn client(&self) -> Client {
        Client::start(&[&self.port.to_string()])
    }

    /// A client logged in as `name`.
    pub fn login(&self, name: &str, password: &str) -> Client {
        let mut client = self.client();
        client.expect("Username: ");
        client.send(name);
        client.expect("Password: ");
        client.send(password);
        client.expect("Welcome to the greatest messaging application ever!\n");
        client
    }

    /// A raw TCP connection, for speaking the protocol directly.
    pub fn raw(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream
    }

    /// SIGTERM, then the exit status and the work directory for a restart.
    pub fn stop(mut self) -> (ExitStatus, tempfile::TempDir) {
        terminate(&self.child);
        let stderr = self.stderr.clone();
        let status = wait_exit(&mut self.child, "the server", || stderr.text());
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (status, dir)
    }

    /// Kills the server without warning (SIGKILL), as a crash or a power
    /// cut would, and gives back its work directory for a restart.
    pub fn crash(mut self) -> tempfile::TempDir {
        self.kill();
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    /// Kills the server without warning (SIGKILL).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// How many file descriptors the server process holds (under qemu-user,
    /// the emulator's own few are counted too: compare, don't assume).
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|dir| dir.count())
            .unwrap_or_else(|e| panic!("cannot list the server's descriptors: {e}"))
    }

    /// The server's anonymous resident memory, in KiB (`RssAnon` of
    /// /proc/PID/status; under qemu-user, the emulator's, whose guest
    /// heap is its own).
    pub fn rss_anon_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_else(|e| panic!("cannot read the server's status: {e}"));
        status
            .lines()
            .find_map(|line| line.strip_prefix("RssAnon:"))
            .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no RssAnon in the server's status:\n{status}"))
    }

    /// The server's process id (under qemu-user, the emulator's, which
    /// runs it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        self.stderr.text()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running client whose stdin is a pipe (line by line, R4) and whose
/// output is collected.
pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Transcript,
    stderr: Transcript,
    /// How much of stdout earlier expectations consumed.
    seen: usize,
}

impl Client {
    /// Starts `natter-client` with `args`.
    pub fn start(args: &[&str]) -> Client {
        let mut child = command("natter-client")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = Transcript::collect(child.stdout.take().unwrap());
        let stderr = Transcript::collect(child.stderr.take().unwrap());
        Client {
            child,
            stdin,
            stdout,
            stderr,
            seen: 0,
        }
    }

    /// Types `line` and Enter.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        let typed = writeln!(stdin, "{line}").and_then(|()| stdin.flush());
        if let Err(e) = typed {
            panic!("typing {line:?}: {e}\n{}", self.transcript());
        }
    }

    /// Closes stdin (end of input, like Ctrl-D).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits until `text` appears in what the client printed since the last
    /// expectation, and consumes the output up to its end.
    pub fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let out = self.stdout.text();
            if let Some(at) = out.get(self.seen..).and_then(|new| new.find(text)) {
                self.seen += at + text.len();
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "expected {text:?} within {WAIT:?}; after the part already matched, the client printed:\n{:?}\n{}",
                    out.get(self.seen..).unwrap_or(""),
                    self.transcript()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Like [`Client::expect`], and returns what was printed before `text`
    /// since the last expectation: for checking that nothing else came
    /// first.
    pub fn expect_after(&mut self, text: &str) -> String {
        let start = self.seen;
        self.expect(text);
        let out = self.stdout.text();
        out[start..self.seen - text.len()].to_string()
    }

    /// Waits `quiet`, then checks `text` did not appear in the new output.
    pub fn expect_absent(&mut self, text: &str, quiet: Duration) {
        thread::sleep(quiet);
        let out = self.stdout.text();
        let new = out.get(self.seen..).unwrap_or("");
        assert!(
            !new.contains(text),
            "{text:?} was printed:\n{}",
            self.transcript()
        );
    }

    /// Everything printed since the last expectation (consumed).
    pub fn take_output(&mut self) -> String {
        let out = self.stdout.text();
        let new = out.get(self.seen..).unwrap_or("").to_string();
        self.seen = out.len();
        new
    }

    /// Waits for the client to exit on its own; then everything it printed
    /// is collected (its pipes are read to the end, within `WAIT`).
    pub fn expect_exit(&mut self) -> ExitStatus {
        let (stdout, stderr) = (self.stdout.clone(), self.stderr.clone());
        let status = wait_exit(&mut self.child, "the client", || {
            format!("stdout:\n{}\nstderr:\n{}", stdout.text(), stderr.text())
        });
        let deadline = Instant::now() + WAIT;
        while !(self.stdout.closed() && self.stderr.closed()) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        status
    }

    /// What the client printed on stderr.
    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    fn transcript(&self) -> String {
        format!(
            "--- whole stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout.text(),
            self.stderr.text()
        )
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `natter-server` with `args` to completion (for start-up errors),
/// returning its exit status and stderr.
pub fn run_server(args: &[&str], dir: &Path) -> (ExitStatus, String) {
    let mut child = command("natter-server")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Transcript::collect(child.stderr.take().unwrap());
    let status = wait_exit(&mut child, "the server", || stderr.text());
    // The pipe may close just after the exit.
    thread::sleep(Duration::from_millis(50));
    (status, stderr.text())
}

/// Runs `natter-server` with `args` in `dir`, `input` on its standard
/// input, to completion: the exit status, stdout and stderr.
pub fn run_server_with(args: &[&str], dir: &Path, input: &str) -> (ExitStatus, String, String) {
    let mut child = command("natter-server")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let stdout = Transcript::collect(child.stdout.take().unwrap());
    let stderr = Transcript::collect(child.stderr.take().unwrap());
    let status = wait_exit(&mut child, "the server", || stderr.text());
    // The pipes may close just after the exit.
    thread::sleep(Duration::from_millis(50));
    (status, stdout.text(), stderr.text())
}

/// A connection that speaks natter's JSON lines directly, for tests that
/// play one side of the protocol by hand (a client that never reads, a
/// private peer, a stranger). Every read is bounded by `WAIT`.
pub struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    pub fn connect(addr: impl std::net::ToSocketAddrs + std::fmt::Debug) -> Raw {
        let stream = TcpStream::connect(&addr).unwrap_or_else(|e| panic!("connect {addr:?}: {e}"));
        Raw::of(stream)
    }

    /// Connects to `port` on 127.0.0.1 from `source`, another loopback
    /// address (all of 127.0.0.0/8 is this machine's): a second host, as
    /// far as the server can tell.
    pub fn connect_from(source: std::net::Ipv4Addr, port: u16) -> Raw {
        use rustix::net::{AddressFamily, SocketType, bind, connect, ipproto, socket};
        let fd = socket(AddressFamily::INET, SocketType::STREAM, Some(ipproto::TCP)).unwrap();
        bind(&fd, &std::net::SocketAddrV4::new(source, 0)).unwrap();
        let server = std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, port);
        connect(&fd, &server).unwrap_or_else(|e| panic!("connect from {source}: {e}"));
        Raw::of(TcpStream::from(fd))
    }

    fn of(stream: TcpStream) -> Raw {
        stream.set_read_timeout(Some(WAIT)).unwrap();
        // As natter's client: no Nagle stall between two small frames.
        stream.set_nodelay(true).unwrap();
        Raw {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    /// Sends one frame, encoded by natter-core.
    pub fn send(&mut self, frame: &impl serde::Serialize) {
        let mut buf = [0u8; natter_core::limits::FRAME_MAX + 1];
        let n = natter_core::protocol::encode(frame, &mut buf).unwrap();
        self.send_bytes(&buf[..n]);
    }

    /// The sending half, for a thread that streams frames while this one
    /// reads.
    pub fn sender(&self) -> TcpStream {
        self.writer.try_clone().unwrap()
    }

    /// Sends bytes as they are.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    /// The next line, without its line feed.
    pub fn line(&mut self) -> String {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => panic!("connection closed while waiting for a line"),
            Ok(_) => line.trim_end_matches('\n').to_string(),
            Err(e) => panic!("no line within {WAIT:?}: {e}"),
        }
    }

    /// The next server frame.
    pub fn frame(&mut self) -> natter_core::ServerFrame {
        let line = self.line();
        natter_core::protocol::decode_server(line.as_bytes())
            .unwrap_or_else(|_| panic!("not a server frame: {line}"))
    }

    /// Server frames until one matches `wanted`, which is returned.
    pub fn frame_where(
        &mut self,
        wanted: impl Fn(&natter_core::ServerFrame) -> bool,
    ) -> natter_core::ServerFrame {
        loop {
            let frame = self.frame();
            if wanted(&frame) {
                return frame;
            }
        }
    }

    /// The next peer frame.
    pub fn peer_frame(&mut self) -> natter_core::protocol::PeerFrame {
        let line = self.line();
        natter_core::protocol::decode_peer(line.as_bytes())
            .unwrap_or_else(|_| panic!("not a peer frame: {line}"))
    }

    /// Whether the other side closes the connection (within `WAIT`) without
    /// sending anything more.
    pub fn closed_silently(&mut self) -> Result<(), String> {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) if rest.is_empty() => Ok(()),
            Ok(_) => Err(format!(
                "sent {:?} before closing",
                String::from_utf8_lossy(&rest)
            )),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(format!("still open after {WAIT:?}"))
            }
            // A reset is a close too.
            Err(_) => Ok(()),
        }
    }

    /// Closes the connection at once.
    pub fn drop_connection(self) {
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
    }
}

impl Server {
    /// A raw connection logged in as `name`.
    pub fn raw_login(&self, name: &str, password: &str) -> Raw {
        use natter_core::ClientFrame;
        let mut raw = Raw::connect(("127.0.0.1", self.port));
        raw.send(&ClientFrame::Username {
            name: name.try_into().unwrap(),
        });
        raw.send(&ClientFrame::Password {
            password: password.try_into().unwrap(),
        });
        raw.frame_where(|f| matches!(f, natter_core::ServerFrame::Welcome { .. }));
        raw
    }
}
