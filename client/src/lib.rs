//! natter-client: the terminal client of natter (R2, R4-R9, R18-R24).
//!
//! The server drives the dialogue; the client shows its prompts and texts
//! (all worded by `natter_core::text`) and sends back what the user types.
//! Private messages go straight to the other client over a connection the
//! server introduced (R19-R24, R28).
//!
//! - [`dialogue`]: what to do for each frame, line, private session event
//!   or end of input, with no I/O: login, commands and help, private
//!   sessions, exit codes.
//! - [`session`]: the async loop that runs a [`dialogue::Dialogue`] over a
//!   [`connection::Connection`], a [`terminal::Terminal`] and the
//!   [`peer::Peers`].
//! - [`connection`]: TCP and the JSON-line framing of `natter_core`.
//! - [`peer`]: the private sessions' sockets: listening for the introduced
//!   peer and turning strangers away, connecting, one task per session.
//! - [`terminal`]: the keyboard and the screen: one reader for the whole
//!   session, the client's line editor on a terminal, plain lines on a
//!   pipe.
//! - [`display`]: what each kind of line looks like (colours, time stamps);
//!   [`safe_text`]: control characters from others made harmless (R29).

use std::process::ExitCode;
use std::rc::Rc;

use smol::LocalExecutor;

pub mod connection;
pub mod dialogue;
pub mod display;
pub mod framed;
pub mod peer;
pub mod safe_text;
pub mod session;
pub mod terminal;

pub use dialogue::Outcome;

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Host name or address of the server.
    pub host: String,
    /// The server's TCP port.
    pub port: u16,
    /// Show every frame sent and received on stderr.
    pub debug: bool,
    /// Start every line with the time, `HH:MM`.
    pub timestamps: bool,
}

/// Runs the client to its end. Exit status: 0 logged out (or timed out),
/// 1 refused by the server (blocked, full, ...), 2 cannot connect,
/// 3 connection lost, server shutting down, or not a natter server.
pub fn run(config: Config) -> ExitCode {
    // One thread: the session loop and the private sessions' tasks.
    let executor = Rc::new(LocalExecutor::new());
    let session = session::run(&config, executor.clone());
    let outcome = smol::block_on(executor.run(session));
    ExitCode::from(outcome.code())
}
