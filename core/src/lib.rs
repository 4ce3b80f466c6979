//! natter-core: every rule of natter and its wire protocol, as a
//! deterministic state machine with no I/O, no clock and no allocation.
//!
//! - [`hub`]: the state machine. Shells feed it connections, frames and the
//!   time, take each connection's bytes with `Hub::poll_transmit` (queued
//!   in [`output`]), and carry out its slow work ([`event`]); [`rate`]:
//!   how fast a connection may send; [`suspects`]: addresses that failed
//!   to log in; [`signup`]: who may create accounts.
//! - [`user`] and [`session`]: its tables of accounts and connections;
//!   [`blacklist`]: whom each user blocked; [`store`]: messages waiting
//!   for their reader, in a fixed arena of bytes; [`journal`]: that state
//!   as the changes a journal holds, so it survives a restart.
//! - [`command`]: what a user types, parsed into frames (client side).
//! - [`credential`]: what usernames and passwords may be (R3).
//! - [`protocol`] and [`framer`]: JSON-line frames and a fixed-buffer line
//!   splitter; `letter_json` and `client_json`: the letter frame written,
//!   and the commonest client frames read, by hand (the hot path); `copy`:
//!   short copies without the C library's `memcpy`; `surrogates`: escaped
//!   UTF-16 surrogate pairs joined before serde reads a line.
//! - [`text`]: the exact texts a person sees for each frame.
//! - [`limits`]: every limit, in one place (R26); [`capacity`]: how many
//!   accounts and connections, and how much store, the owner chose at
//!   start; [`table`]: the memory the shell hands the hub for them
//!   (`hub::Tables`); [`time`]: milliseconds; [`timers`]: when each
//!   connection next needs the hub, in a heap.
//! - `testing` (tests, and the `testing` feature): the shell loop and
//!   helpers every test and the bench drive the hub with.
//!
//! `#![no_std]`, and it never allocates while it runs: it builds for
//! `thumbv7em-none-eabihf`, which is how CI proves it. With the `alloc`
//! feature (the server's), it allocates its tables once, at start.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(test, feature = "testing"))]
extern crate std;

pub mod blacklist;
pub mod capacity;
mod client_json;
pub mod command;
mod copy;
pub mod credential;
pub mod event;
pub mod framer;
pub mod hub;
pub mod journal;
mod letter_json;
pub mod limits;
pub mod output;
pub mod protocol;
pub mod rate;
pub mod session;
pub mod signup;
pub mod store;
mod surrogates;
pub mod suspects;
pub mod table;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod time;
pub mod timers;
pub mod user;

pub use capacity::Capacity;
pub use event::{Event, Transmit};
pub use hub::{Config, Hub};
pub use protocol::{ClientFrame, ServerFrame};
pub use session::ConnId;
pub use time::Instant;
