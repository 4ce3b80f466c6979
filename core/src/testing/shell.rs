//! What a shell does between hub calls, once: answer the slow work the hub
//! asks for, give it randomness, hand its changes to a journal, take every
//! ready connection's bytes and close what it let go.

use crate::credential::{Password, Secret};
use crate::event::{Checked, Event, StoreFailed};
use crate::hub::Hub;
use crate::limits::FRAME_MAX;
use crate::session::ConnId;
use crate::time::Instant;

use super::accounts::{fake_check, fake_hash};

/// A shell's answers to the hub. Each method has the answer most tests
/// want; a shell overrides what it is about.
pub trait Shell {
    /// Bytes for the hub's next private secret.
    fn entropy(&mut self) -> [u8; 16] {
        [7; 16]
    }

    /// Stores a new account as the server's worker does: its secret as
    /// stored, or why not.
    fn save_account(&mut self, _name: &str, password: &Password) -> Result<Secret, StoreFailed> {
        Ok(fake_hash(password))
    }

    /// Checks a password as the worker does, against the stand-in hash (a
    /// right plain password is rewritten hashed, as the server does).
    fn check_password(&mut self, secret: &Secret, password: &Password) -> Checked {
        fake_check(secret, password)
    }

    /// Something the hub asks to be logged.
    fn log(&mut self, _notice: Event) {}

    /// The journal's turn, after the slow work is answered and before the
    /// bytes are taken: by default every change is taken, written and
    /// synced at once, and forgotten.
    fn journal(&mut self, hub: &mut Hub, _now: Instant) {
        sync_at_once(hub);
    }

    /// Whether `conn` reads now; if not, its bytes stay in the hub (it is
    /// still closed once nothing is left to write).
    fn reads(&mut self, _conn: ConnId) -> bool {
        true
    }

    /// `bytes`, whole frames, were written to `conn`.
    fn sent(&mut self, conn: ConnId, bytes: &[u8]);

    /// The hub let `conn` go and its last bytes are out: the shell closed
    /// it (and told the hub).
    fn closed(&mut self, _conn: ConnId) {}
}

/// Takes every change the hub has as one batch, synced at once.
pub fn sync_at_once(hub: &mut Hub) {
    if !hub.has_changes() {
        return;
    }
    let batch = hub.start_batch();
    let mut change = [0u8; crate::journal::CHANGE_MAX];
    while hub.poll_change(&mut change).is_some() {}
    hub.journal_synced(batch);
}

/// What a shell does after each hub call, until the hub has nothing more.
pub fn settle<S: Shell + ?Sized>(hub: &mut Hub, shell: &mut S, now: Instant) {
    // One buffer for every connection: zeroing a frame's room for each
    // would be most of a cheap turn's work.
    let mut buf = [0u8; FRAME_MAX + 1];
    loop {
        if hub.wants_entropy() {
            hub.add_entropy(shell.entropy());
        }
        match hub.poll_event() {
            Some(Event::SaveAccount {
                conn,
                name,
                password,
            }) => {
                let saved = shell.save_account(&name, &password);
                hub.account_saved(conn, saved, now);
                continue;
            }
            Some(Event::CheckPassword {
                conn,
                secret,
                password,
                ..
            }) => {
                let checked = shell.check_password(&secret, &password);
                hub.password_checked(conn, checked, now);
                continue;
            }
            Some(notice) => {
                shell.log(notice);
                continue;
            }
            None => {}
        }
        shell.journal(hub, now);
        let Some(conn) = hub.poll_ready() else {
            return;
        };
        if shell.reads(conn) || !hub.has_output(conn) {
            transmit_into(hub, shell, conn, now, &mut buf);
        }
    }
}

/// Takes `conn`'s bytes in buffers of one frame, as a shell whose socket
/// takes a little at a time would; closes it when the hub says so.
pub fn transmit<S: Shell + ?Sized>(hub: &mut Hub, shell: &mut S, conn: ConnId, now: Instant) {
    transmit_into(hub, shell, conn, now, &mut [0u8; FRAME_MAX + 1]);
}

fn transmit_into<S: Shell + ?Sized>(
    hub: &mut Hub,
    shell: &mut S,
    conn: ConnId,
    now: Instant,
    buf: &mut [u8; FRAME_MAX + 1],
) {
    loop {
        let sent = hub.poll_transmit(conn, now, buf);
        if sent.len > 0 {
            shell.sent(conn, &buf[..sent.len]);
        }
        if sent.close {
            // As the server does once the bytes are out.
            hub.disconnect(conn, now);
            shell.closed(conn);
            return;
        }
        if sent.len == 0 {
            return;
        }
    }
}
