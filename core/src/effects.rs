//! What the hub asks of the world: the only way out of the core.

use crate::protocol::ServerFrame;
use crate::session::ConnId;

/// The connection's outgoing queue is full: it is not reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFull;

/// The new account could not be made durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreFailed;

/// The shell's side of every hub call. Calls happen in the order the hub
/// decides them, and the shell carries them out in that order.
pub trait Effects {
    /// Queues `frame` for `conn`.
    fn send(&mut self, conn: ConnId, frame: &ServerFrame) -> Result<(), QueueFull>;

    /// Sends what is queued for `conn`, then closes it. The hub has already
    /// forgotten `conn`.
    fn close(&mut self, conn: ConnId);

    /// Appends an account to durable storage. `Ok` only once it is there:
    /// the hub welcomes the new user after this returns.
    fn store_account(&mut self, name: &str, password: &str) -> Result<(), StoreFailed>;

    /// 16 bytes from a cryptographically secure source, for the secret
    /// that admits a private peer (R28).
    fn random(&mut self) -> [u8; 16];
}
