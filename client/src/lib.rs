//! natter-client: the terminal client of natter (R2, R4-R9, R18).
//!
//! The server drives the dialogue; the client shows its prompts and texts
//! (all worded by `natter_core::text`) and sends back what the user types.
//!
//! - [`dialogue`]: what to do for each frame, line or end of input, with no
//!   I/O (login answers checked locally, commands parsed, exit codes).
//! - [`session`]: the async loop that runs a [`dialogue::Dialogue`] over a
//!   [`connection::Connection`] and a [`terminal::Terminal`].
//! - [`connection`]: TCP and the JSON-line framing of `natter_core`.
//! - [`terminal`]: reading lines on their own thread (line editor and hidden
//!   passwords on a terminal, plain lines from a pipe) and printing safely.
//! - [`safe_text`]: control characters from the server made harmless (R29).

use std::process::ExitCode;

pub mod connection;
pub mod dialogue;
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
}

/// Runs the client to its end. Exit status: 0 logged out (or timed out),
/// 1 refused by the server (blocked, full, ...), 2 cannot connect,
/// 3 connection lost or server shutting down.
pub fn run(config: Config) -> ExitCode {
    let outcome = smol::block_on(session::run(&config));
    ExitCode::from(outcome.code())
}
