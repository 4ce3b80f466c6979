//! natter-server: a thin shell that gives natter-core's hub sockets, a
//! clock and a disk.
//!
//! - [`run`]: binds, loads `credentials.txt`, and hands both to the
//!   [`event_loop`]: one thread, one poller (smol-rs's `polling`), the
//!   hub's deadlines as its timeout; [`busy_poll`]: how long it polls
//!   before it sleeps.
//! - [`connection`]: one socket, its framer and the bytes it has yet to
//!   take; [`credentials`]: the accounts file; [`accounts`]: the owner's
//!   `natter-server user` commands on it.
//! - [`worker`]: the threads that check and hash passwords
//!   ([`password`]) and writes the accounts file, off the loop;
//!   [`waker`]: how it, and the journal's thread, wake the loop.
//! - [`journal`]: the hub's durable state in the data directory, as a
//!   file of checksummed records ([`record`]); [`journal_thread`]: the
//!   thread that writes and syncs it, off the loop, a batch at a time;
//!   [`files`]: files replaced whole, and held by one server at a time.
//! - [`log`]: `-d/--debug` and `--log-logins` output; silent otherwise (R1).
//! - [`open_files`]: the open-files limit, raised for `--max-connections`.

pub mod accounts;
pub mod busy_poll;
pub mod connection;
pub mod credentials;
pub mod event_loop;
pub mod files;
pub mod journal;
pub mod journal_thread;
pub mod log;
pub mod open_files;
pub mod password;
pub mod record;
pub mod waker;
pub mod worker;

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use natter_core::capacity::{CEILING, Capacity, CapacityError, SMALLEST_STORE};
use natter_core::hub::{Config as HubConfig, Hub};

use crate::busy_poll::BusyPoll;
use crate::credentials::{CredentialsFile, LoadError};
use crate::event_loop::{Clock, EventLoop, Parts, millis};
use crate::journal::Journal;
use crate::journal_thread::JournalThread;
use crate::password::Hasher;
use crate::waker::Waker;
use crate::worker::Worker;

/// How the server is run (R1).
#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub block_duration: Duration,
    pub timeout: Duration,
    /// Address or host name to listen on.
    pub bind: String,
    pub credentials: PathBuf,
    pub debug: bool,
    /// Log failed logins and blocks (`--log-logins`).
    pub log_logins: bool,
    /// Commands a connection may send per second before it is read more
    /// slowly; `None`: the default, `Some(0)`: no limit.
    pub commands_per_second: Option<u32>,
    /// How long a connection has to finish the login prompts.
    pub login_timeout: Duration,
    /// Connections from one address at the login prompts at once; 0: no
    /// limit.
    pub per_address: u8,
    /// Who may create an account.
    pub signup: natter_core::signup::SignUp,
    /// The cost of new password hashes.
    pub hasher: Hasher,
    /// Threads that check and hash passwords (at least one).
    pub hash_threads: usize,
    /// How many accounts and connections it takes, and its store.
    pub capacity: Capacity,
    /// Where the journal is kept; `None`: nothing survives a restart.
    pub data_dir: Option<PathBuf>,
    /// The smallest journal that is compacted, in bytes.
    pub compact_at: u64,
    /// The most the loop polls its sockets before it sleeps, when the next
    /// frame has been following that closely; zero: never.
    pub busy_poll: Duration,
}

/// Why the server could not start or had to stop.
#[derive(Debug)]
pub enum Error {
    Capacity(CapacityError),
    Credentials(LoadError),
    Journal(journal::OpenError),
    Listen(String, io::Error),
    Signals(io::Error),
    Loop(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Capacity(error) => write!(f, "{}", capacity_text(*error)),
            Error::Credentials(error) => error.fmt(f),
            Error::Journal(error) => error.fmt(f),
            Error::Listen(addr, error) => write!(f, "cannot listen on {addr}: {error}"),
            Error::Signals(error) => write!(f, "cannot handle signals: {error}"),
            Error::Loop(error) => write!(f, "waiting for the network: {error}"),
        }
    }
}

/// What is wrong with a capacity, as the flags set it.
fn capacity_text(error: CapacityError) -> String {
    match error {
        CapacityError::Accounts => format!("--max-accounts must be 1 to {CEILING}"),
        CapacityError::Connections => format!("--max-connections must be 1 to {CEILING}"),
        CapacityError::StoreBytes => format!(
            "--store-kib must be at least {} (one full mailbox and one sender's share)",
            SMALLEST_STORE / 1024
        ),
    }
}

/// Runs the server until SIGINT or SIGTERM.
pub fn run(config: Config) -> Result<(), Error> {
    if config.debug {
        log::enable();
    }
    if config.log_logins {
        log::enable_logins();
    }
    let mut hub_config = HubConfig::new(millis(config.block_duration), millis(config.timeout));
    if let Some(rate) = config.commands_per_second {
        hub_config.rate.per_second = rate;
    }
    hub_config.login_ms = millis(config.login_timeout);
    hub_config.per_address = config.per_address;
    hub_config.signup = config.signup;
    hub_config.journal = config.data_dir.is_some();
    let hub = Hub::with_capacity(hub_config, config.capacity).map_err(Error::Capacity)?;
    let mut hub = Box::new(hub);
    if let Some(line) = open_files::raise_for(config.capacity.connections) {
        eprintln!("natter-server: {line}");
    }
    let credentials =
        CredentialsFile::load(&config.credentials, &mut hub).map_err(Error::Credentials)?;
    debug!(
        "{} accounts from {}",
        hub.accounts(),
        config.credentials.display()
    );
    let clock = Clock::start();
    let journal = match &config.data_dir {
        Some(dir) => Some(open_journal(dir, &mut hub, clock)?),
        None => None,
    };
    let wanted = format!("{}:{}", config.bind, config.port);
    let listen_error = |error| Error::Listen(wanted.clone(), error);
    let addr: SocketAddr = (config.bind.as_str(), config.port)
        .to_socket_addrs()
        .map_err(listen_error)?
        .next()
        .ok_or_else(|| listen_error(io::Error::other("the name has no address")))?;
    let listener = TcpListener::bind(addr).map_err(listen_error)?;
    debug!("listening on {}", listener.local_addr().unwrap_or(addr));
    let (signals, notify) = UnixStream::pair().map_err(Error::Signals)?;
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let notify = notify.try_clone().map_err(Error::Signals)?;
        signal_hook::low_level::pipe::register(signal, notify).map_err(Error::Signals)?;
    }
    // A file past its size limit (RLIMIT_FSIZE) is a failed write the
    // journal reports and recovers from, not a reason to die.
    signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    )
    .map_err(Error::Signals)?;
    let poller = Arc::new(polling::Poller::new().map_err(Error::Loop)?);
    let waker = Waker::new(Arc::clone(&poller));
    let worker = Worker::spawn(
        credentials,
        config.hasher.clone(),
        config.hash_threads,
        waker.clone(),
    )
    .map_err(Error::Loop)?;
    debug!("{} threads check passwords", worker.threads());
    let journal = journal
        .map(|journal| JournalThread::spawn(journal, config.compact_at, waker.clone()))
        .transpose()
        .map_err(Error::Loop)?;
    let parts = Parts {
        poller,
        waker,
        worker,
        journal,
        listener,
        signals,
        clock,
        busy_poll: BusyPoll::new(config.busy_poll),
    };
    EventLoop::new(hub, parts)
        .and_then(EventLoop::run)
        .map_err(Error::Loop)
}

/// Opens the journal and replays it into `hub`, saying what start-up
/// found that an owner should know.
fn open_journal(dir: &std::path::Path, hub: &mut Hub, clock: Clock) -> Result<Journal, Error> {
    let (journal, replayed) = Journal::open(dir, hub, clock.now()).map_err(Error::Journal)?;
    let path = journal.path().display();
    if replayed.torn > 0 {
        eprintln!(
            "natter-server: {path}: cut {} bytes after the last whole record \
             (a write cut short by a crash or power loss)",
            replayed.torn
        );
    }
    if replayed.no_room > 0 {
        eprintln!(
            "natter-server: {path}: {} waiting messages no longer fit the store and were dropped",
            replayed.no_room
        );
    }
    if replayed.unknown_users > 0 {
        debug!(
            "{path}: {} records name accounts that are gone",
            replayed.unknown_users
        );
    }
    debug!("{path}: {} records", replayed.records);
    Ok(journal)
}
