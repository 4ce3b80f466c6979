//! What the hub asks of the shell besides bytes to send: work that is slow
//! or needs the outside world, which the shell carries out and reports back
//! (`Hub::poll_event`, then `Hub::account_saved`), and what it should log
//! for the server's owner. Nothing slow ever runs inside a hub call.

use core::net::IpAddr;

use crate::credential::{Name, Password, Secret};
use crate::session::ConnId;

/// Something for the shell to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Append this account to durable storage, its password hashed, then
    /// call `Hub::account_saved` with what was stored. The name is
    /// reserved until then.
    SaveAccount {
        conn: ConnId,
        name: Name,
        password: Password,
    },
    /// Check `password` against `secret`, the account `name`'s, then call
    /// `Hub::password_checked`. Hashing is slow on purpose: do it off the
    /// event loop. A right password against a plain `secret` is the time
    /// to rewrite the account hashed.
    CheckPassword {
        conn: ConnId,
        name: Name,
        secret: Secret,
        password: Password,
    },
    /// Log it: a wrong password for `name` from `peer`.
    LoginFailed { peer: IpAddr, name: Name },
    /// Log it: `name` is blocked for `seconds` (R8), the last wrong
    /// password from `peer`.
    UserBlocked {
        peer: IpAddr,
        name: Name,
        seconds: u64,
    },
    /// Log it: `peer` is blocked for `seconds` after too many failed
    /// logins.
    AddressBlocked { peer: IpAddr, seconds: u64 },
}

/// The new account could not be made durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreFailed;

/// What the shell found when checking a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The password was right.
    pub right: bool,
    /// The account's secret as stored now, if the shell rewrote it.
    pub stored: Option<Secret>,
}

/// What `Hub::poll_transmit` put in the shell's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Bytes to write, whole frames only.
    pub len: usize,
    /// After writing them, close the connection: the hub has let it go.
    pub close: bool,
}
