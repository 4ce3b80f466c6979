//! [`World`]: the tests' shell. It drives the hub at fake time and, after
//! every call, does what a shell does ([`settle`]), recording what the hub
//! did in the order it did it.

use std::string::{String, ToString};
use std::vec::Vec;

use crate::credential::Password;
use crate::event::StoreFailed;
use crate::hub::Hub;
use crate::journal::{CHANGE_MAX, Change};
use crate::protocol::{ByeReason, ClientFrame, FrameError, ServerFrame};
use crate::session::ConnId;
use crate::time::Instant;

use super::accounts::fake_hash;
use super::shell::{Shell, settle, transmit};

/// One thing the hub did that the world saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Sent(ConnId, ServerFrame),
    Closed(ConnId),
    Stored(String, String),
}

/// The test's shell: the hub's effects, recorded in order.
#[derive(Debug, Default)]
pub struct World {
    pub events: Vec<Event>,
    /// Saving an account fails while this is set.
    pub fail_store: bool,
    /// Connections that do not read: their bytes stay in the hub.
    pub full: Vec<ConnId>,
    /// How many secrets were given: the n-th is `[n; 16]`.
    randoms: u8,
    /// What the hub gave the shell to log, in order.
    pub logged: Vec<crate::event::Event>,
    /// The time of the last call.
    now: Instant,
    /// Every change the hub gave its journal, in order.
    pub journal: Vec<Change>,
    /// Every `Accepted` sent, apart from the other frames: most tests are
    /// about what a person sees.
    pub accepted: Vec<(ConnId, u64)>,
    /// The journal cannot be written: every write fails.
    pub disk_full: bool,
    /// The journal is slow: batches are written but not synced until the
    /// test says so (`sync_held`).
    pub hold_syncs: bool,
    /// Batches written and not synced yet, oldest first.
    pub held: Vec<u64>,
}

impl Shell for World {
    fn entropy(&mut self) -> [u8; 16] {
        // Deterministic: each a different, recognisable secret.
        self.randoms += 1;
        [self.randoms; 16]
    }

    fn save_account(
        &mut self,
        name: &str,
        password: &Password,
    ) -> Result<crate::credential::Secret, StoreFailed> {
        if self.fail_store {
            return Err(StoreFailed);
        }
        self.events
            .push(Event::Stored(name.to_string(), password.to_string()));
        Ok(fake_hash(password))
    }

    fn log(&mut self, notice: crate::event::Event) {
        self.logged.push(notice);
    }

    /// As the server's journal does, at once unless syncs are held (one
    /// batch at a time, the next gathering meanwhile).
    fn journal(&mut self, hub: &mut Hub, _now: Instant) {
        if !self.held.is_empty() || !hub.has_changes() {
            return;
        }
        let batch = hub.start_batch();
        let mut change = [0u8; CHANGE_MAX];
        while let Some(polled) = hub.poll_change(&mut change) {
            let decoded = crate::journal::decode(&change[..polled.len - 1]);
            let decoded = decoded.expect("the hub's own changes decode");
            if !self.disk_full {
                self.journal.push(decoded);
            }
        }
        if self.disk_full {
            hub.journal_failed(batch);
        } else if self.hold_syncs {
            self.held.push(batch);
        } else {
            hub.journal_synced(batch);
        }
    }

    fn reads(&mut self, conn: ConnId) -> bool {
        !self.full.contains(&conn)
    }

    fn sent(&mut self, conn: ConnId, bytes: &[u8]) {
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            assert_eq!(line.last(), Some(&b'\n'), "only whole frames");
            let frame = crate::protocol::decode_server(&line[..line.len() - 1])
                .expect("the hub's own frames decode");
            match frame {
                ServerFrame::Accepted { id } => self.accepted.push((conn, id)),
                frame => self.events.push(Event::Sent(conn, frame)),
            }
        }
    }

    fn closed(&mut self, conn: ConnId) {
        assert!(!self.is_closed(conn), "{conn:?} closed twice");
        self.events.push(Event::Closed(conn));
    }
}

/// The hub's entry points, each followed by what a shell does.
impl World {
    pub fn connect(
        &mut self,
        hub: &mut Hub,
        now: Instant,
        peer: core::net::IpAddr,
    ) -> Result<ConnId, ByeReason> {
        let conn = hub.connect(now, peer);
        // As the server does for the connection that made room.
        if let Some(yielded) = hub.made_room() {
            let bye = ServerFrame::Bye {
                reason: ByeReason::ServerFull,
            };
            self.events.push(Event::Sent(yielded, bye));
            self.closed(yielded);
        }
        self.settle(hub, now);
        conn
    }

    pub fn receive(&mut self, hub: &mut Hub, conn: ConnId, frame: ClientFrame, now: Instant) {
        hub.receive(conn, &frame, now);
        self.settle(hub, now);
    }

    pub fn reject(&mut self, hub: &mut Hub, conn: ConnId, error: FrameError, now: Instant) {
        hub.reject(conn, error, now);
        self.settle(hub, now);
    }

    pub fn disconnect(&mut self, hub: &mut Hub, conn: ConnId, now: Instant) {
        hub.disconnect(conn, now);
        self.settle(hub, now);
    }

    pub fn handle_timeout(&mut self, hub: &mut Hub, now: Instant) {
        hub.handle_timeout(now);
        self.settle(hub, now);
    }

    pub fn shutdown(&mut self, hub: &mut Hub) {
        let now = self.now;
        hub.shutdown(now);
        self.settle(hub, now);
    }

    fn settle(&mut self, hub: &mut Hub, now: Instant) {
        self.now = now;
        settle(hub, self, now);
    }

    /// The slow journal's sync of the batch in hand ends.
    pub fn sync_held(&mut self, hub: &mut Hub) {
        let batch = self.held.remove(0);
        hub.journal_synced(batch);
        let now = self.now;
        self.settle(hub, now);
    }

    /// The journal is slow and busy with a batch the hub did not start (as
    /// one another thread took): what changes from now on gathers behind
    /// it until `sync_held`.
    pub fn journal_busy(&mut self) {
        self.hold_syncs = true;
        // No batch of the hub's is 0: syncing it settles nothing.
        self.held.push(0);
    }

    /// A connection that did not read takes its bytes now.
    pub fn reads_again(&mut self, hub: &mut Hub, conn: ConnId) {
        self.full.retain(|&c| c != conn);
        let now = self.now;
        transmit(hub, self, conn, now);
    }
}

/// What the world saw.
impl World {
    /// Drains and returns what `conn` was sent, in order.
    pub fn take(&mut self, conn: ConnId) -> Vec<ServerFrame> {
        let mut taken = Vec::new();
        self.events.retain(|event| match event {
            Event::Sent(to, frame) if *to == conn => {
                taken.push(frame.clone());
                false
            }
            _ => true,
        });
        taken
    }

    /// What `conn` was sent, as the lines its user sees.
    pub fn take_text(&mut self, conn: ConnId) -> Vec<String> {
        self.take(conn).iter().map(ToString::to_string).collect()
    }

    pub fn is_closed(&self, conn: ConnId) -> bool {
        self.events.contains(&Event::Closed(conn))
    }

    pub fn closed(&self) -> Vec<ConnId> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Closed(conn) => Some(*conn),
                _ => None,
            })
            .collect()
    }

    /// Every account stored, as (name, password).
    pub fn stored(&self) -> Vec<(String, String)> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Stored(name, password) => Some((name.clone(), password.clone())),
                _ => None,
            })
            .collect()
    }

    /// Everything recorded: used to check that a call did nothing at all.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Where `event` is among the events.
    pub fn position(&self, event: &Event) -> usize {
        self.events
            .iter()
            .position(|e| e == event)
            .unwrap_or_else(|| panic!("{event:?} never happened: {:?}", self.events))
    }
}
