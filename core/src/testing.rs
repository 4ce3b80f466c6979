//! One test world (issue 25): the loop that drives a hub at fake time as a
//! shell does, and the helpers tests build frames and hubs with. The
//! core's own tests, the simulator (`tests/simulation.rs`), the server's
//! journal tests and the bench all use these, so a rule of driving the hub
//! is written once.
//!
//! - [`shell`]: the [`Shell`] trait, what a shell does with what the hub
//!   hands out, and [`settle`], the loop that hands it out.
//! - [`world`]: [`World`], a shell that records everything in order.
//! - [`frames`]: names, texts and frames from plain strings.
//! - [`accounts`]: the sample accounts, test hubs, the stand-in hash.
//!
//! Built for the core's tests and, with the `testing` feature, for other
//! crates' tests and the bench; never part of a product build (it needs
//! `std`).

pub mod accounts;
pub mod frames;
pub mod shell;
pub mod world;

pub use accounts::{SAMPLE_ACCOUNTS, fake_hash, password_of, sample_hub, test_config, test_hub};
pub use frames::{name, password, text, username};
pub use shell::{Shell, settle, transmit};
pub use world::{Event, World};
