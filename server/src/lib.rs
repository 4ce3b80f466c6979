//! natter-server: a thin shell that gives natter-core's hub sockets, a
//! clock and a disk.
//!
//! - [`run`]: binds, loads `credentials.txt`, and runs one single-threaded
//!   smol executor: the accept loop, the timer, the signal handler, and per
//!   connection a reader and a writer task ([`connection`]).
//! - [`server`]: owns the hub; every call passes the time and rings the timer
//!   ([`deadline`]) when the next deadline moved earlier.
//! - [`world`]: the hub's [`natter_core::Effects`]: per-connection
//!   [`outbox`]es and the [`credentials`] file.
//! - [`log`]: `-d/--debug` output; silent otherwise (R1); [`bell`]: the
//!   wake-up of a task that does not allocate.

pub mod bell;
pub mod connection;
pub mod credentials;
pub mod deadline;
pub mod log;
pub mod outbox;
pub mod server;
pub mod world;

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use async_net::TcpListener;
use async_signal::{Signal, Signals};
use natter_core::hub::{Config as HubConfig, Hub};
use smol::future::FutureExt;
use smol::stream::StreamExt;
use smol::{LocalExecutor, Timer};

use crate::credentials::{CredentialsFile, LoadError};
use crate::deadline::Deadline;
use crate::server::Server;
use crate::world::World;

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
}

/// Why the server could not start or had to stop.
#[derive(Debug)]
pub enum Error {
    Credentials(LoadError),
    Listen(String, io::Error),
    Signals(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Credentials(error) => error.fmt(f),
            Error::Listen(addr, error) => write!(f, "cannot listen on {addr}: {error}"),
            Error::Signals(error) => write!(f, "cannot handle SIGINT/SIGTERM: {error}"),
        }
    }
}

/// How long shutdown waits for connections to take their last frames.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Runs the server until SIGINT or SIGTERM.
pub fn run(config: Config) -> Result<(), Error> {
    if config.debug {
        log::enable();
    }
    // Saturate: a duration too long for u64 milliseconds is forever.
    let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let mut hub = Hub::new(HubConfig::new(
        millis(config.block_duration),
        millis(config.timeout),
    ));
    let credentials =
        CredentialsFile::load(&config.credentials, &mut hub).map_err(Error::Credentials)?;
    debug!(
        "{} accounts from {}",
        hub.accounts(),
        config.credentials.display()
    );
    let server = Rc::new(RefCell::new(Server::new(hub, World::new(credentials))));
    let ex = LocalExecutor::new();
    smol::block_on(ex.run(serve(&ex, server, &config)))
}

async fn serve(
    ex: &LocalExecutor<'_>,
    server: Rc<RefCell<Server>>,
    config: &Config,
) -> Result<(), Error> {
    let wanted = format!("{}:{}", config.bind, config.port);
    let listen_error = |error| Error::Listen(wanted.clone(), error);
    let addr: SocketAddr = (config.bind.as_str(), config.port)
        .to_socket_addrs()
        .map_err(listen_error)?
        .next()
        .ok_or_else(|| listen_error(io::Error::other("the name has no address")))?;
    let listener = TcpListener::bind(addr).await.map_err(listen_error)?;
    let mut signals = Signals::new([Signal::Term, Signal::Int]).map_err(Error::Signals)?;
    let local = listener.local_addr().unwrap_or(addr);
    debug!("listening on {local}");

    // Each writer task holds a clone; recv fails once all are gone.
    let (writers, all_written) = smol::channel::bounded::<()>(1);
    let timer = ex.spawn(timer_loop(server.clone()));
    let accepting = async {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => connection::spawn(ex, &server, stream, peer, writers.clone()),
                Err(error) => {
                    // Out of file descriptors, say: keep serving the others.
                    debug!("accept failed: {error}");
                    Timer::after(Duration::from_millis(100)).await;
                }
            }
        }
    };
    let signal = async {
        // Only a real SIGINT or SIGTERM ends the server: an error reading
        // the signal stream must not look like one.
        loop {
            match signals.next().await {
                Some(Ok(signal)) => {
                    let name = if signal == Signal::Int {
                        "SIGINT"
                    } else {
                        "SIGTERM"
                    };
                    debug!("{name}: shutting down");
                    return;
                }
                Some(Err(error)) => debug!("reading signals: {error}"),
                None => smol::future::pending::<()>().await,
            }
        }
    };
    accepting.or(signal).await;

    drop(timer);
    drop(listener);
    server.borrow_mut().shutdown();
    drop(writers);
    let _ = async {
        let _ = all_written.recv().await;
    }
    .or(async {
        Timer::after(SHUTDOWN_GRACE).await;
    })
    .await;
    Ok(())
}

/// Sleeps until the hub's next deadline, or until a hub call moved it
/// earlier.
async fn timer_loop(server: Rc<RefCell<Server>>) {
    let bell = server.borrow().timer();
    let deadline = match Deadline::new() {
        Ok(deadline) => deadline,
        Err(error) => {
            // Without it, idle users would never be logged out: say so.
            eprintln!("natter-server: no timer: {error}");
            return;
        }
    };
    loop {
        let next = {
            let server = server.borrow();
            let next = server.hub.poll_timeout();
            server.arm(next);
            next.map(|at| server.deadline(at))
        };
        if let Err(error) = deadline.set(next) {
            debug!("setting the timer: {error}");
        }
        let _ = async {
            let _ = deadline.fired().await;
        }
        .or(bell.wait())
        .await;
        server.borrow_mut().handle_timeout();
    }
}
