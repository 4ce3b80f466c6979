//! The server's side of the hub's [`Effects`]: connection outboxes and the
//! credentials file.

use std::rc::Rc;

use natter_core::effects::{Effects, QueueFull, StoreFailed};
use natter_core::limits::MAX_CONNECTIONS;
use natter_core::protocol::{self, FrameBuf, ServerFrame};
use natter_core::session::ConnId;

use crate::credentials::CredentialsFile;
use crate::debug;
use crate::outbox::Outbox;

pub struct World {
    /// The outbox of each live connection, by slot.
    outboxes: [Option<(ConnId, Rc<Outbox>)>; MAX_CONNECTIONS],
    credentials: CredentialsFile,
    /// Scratch space to encode one frame.
    frame: FrameBuf,
}

impl World {
    pub fn new(credentials: CredentialsFile) -> Self {
        World {
            outboxes: std::array::from_fn(|_| None),
            credentials,
            frame: [0; natter_core::limits::FRAME_MAX + 1],
        }
    }

    /// The outbox of `conn`, made on first use: the hub greets a connection
    /// before the shell knows its id.
    pub fn outbox(&mut self, conn: ConnId) -> Rc<Outbox> {
        let entry = &mut self.outboxes[conn.slot()];
        match entry {
            Some((id, outbox)) if *id == conn => outbox.clone(),
            _ => {
                if let Some((_, stale)) = entry {
                    // Its connection is gone from the hub: let its writer end.
                    stale.close();
                }
                let outbox = Rc::new(Outbox::new());
                *entry = Some((conn, outbox.clone()));
                outbox
            }
        }
    }
}

impl Effects for World {
    fn send(&mut self, conn: ConnId, frame: &ServerFrame) -> Result<(), QueueFull> {
        let Ok(n) = protocol::encode(frame, &mut self.frame) else {
            // Every frame fits FRAME_MAX by construction (limits.rs).
            debug!("conn {}: frame too big to encode: {frame:?}", conn.slot());
            return Ok(());
        };
        let outbox = self.outbox(conn);
        outbox.push(&self.frame[..n]).map_err(|_| {
            debug!("conn {}: outbox full", conn.slot());
            QueueFull
        })
    }

    fn close(&mut self, conn: ConnId) {
        if let Some((id, outbox)) = &self.outboxes[conn.slot()]
            && *id == conn
        {
            outbox.close();
            self.outboxes[conn.slot()] = None;
        }
    }

    fn random(&mut self) -> [u8; 16] {
        let mut bytes = [0; 16];
        if let Err(error) = getrandom::fill(&mut bytes) {
            // The kernel's generator does not fail once booted; if it ever
            // did, a predictable secret must not be handed out.
            eprintln!("natter-server: no random numbers from the system: {error}");
            std::process::exit(1);
        }
        bytes
    }

    fn store_account(&mut self, name: &str, password: &str) -> Result<(), StoreFailed> {
        self.credentials.append(name, password).map_err(|error| {
            eprintln!("natter-server: could not save the new account {name}: {error}");
            StoreFailed
        })
    }
}
