//! The one place that owns the hub: every hub call goes through here with
//! the current time, and rings the timer so it sleeps to the right deadline.

use std::net::IpAddr;
use std::time::{Duration, Instant as StdInstant};

use natter_core::effects::Effects;
use natter_core::hub::{Hub, ServerFull};
use natter_core::protocol::{ClientFrame, FrameError};
use natter_core::session::ConnId;
use natter_core::time::Instant;
use smol::channel::{Receiver, Sender, bounded};

use crate::world::World;

pub struct Server {
    pub hub: Hub,
    pub world: World,
    started: StdInstant,
    /// Rung after every hub call: the next deadline may have moved.
    timer_bell: Sender<()>,
    timer_wake: Receiver<()>,
}

impl Server {
    pub fn new(hub: Hub, world: World) -> Self {
        let (timer_bell, timer_wake) = bounded(1);
        Server {
            hub,
            world,
            started: StdInstant::now(),
            timer_bell,
            timer_wake,
        }
    }

    /// Milliseconds since the server started: the hub's clock.
    pub fn now(&self) -> Instant {
        Instant(self.started.elapsed().as_millis() as u64)
    }

    /// The wall-clock moment of a hub instant.
    pub fn deadline(&self, at: Instant) -> StdInstant {
        self.started + Duration::from_millis(at.millis())
    }

    pub fn timer_wake(&self) -> Receiver<()> {
        self.timer_wake.clone()
    }

    fn ring_timer(&self) {
        let _ = self.timer_bell.try_send(());
    }

    pub fn connect(&mut self, peer: IpAddr) -> Result<ConnId, ServerFull> {
        let now = self.now();
        let conn = self.hub.connect(now, peer, &mut self.world);
        self.ring_timer();
        conn
    }

    pub fn receive(&mut self, conn: ConnId, frame: ClientFrame) {
        let now = self.now();
        self.hub.receive(conn, frame, now, &mut self.world);
        self.ring_timer();
    }

    pub fn reject(&mut self, conn: ConnId, error: FrameError) {
        let now = self.now();
        self.hub.reject(conn, error, now, &mut self.world);
        self.ring_timer();
    }

    pub fn disconnect(&mut self, conn: ConnId) {
        let now = self.now();
        self.hub.disconnect(conn, now, &mut self.world);
        // The hub forgets the connection; its writer must stop too, or the
        // socket and the task would outlive the peer.
        self.world.close(conn);
        self.ring_timer();
    }

    pub fn handle_timeout(&mut self) {
        let now = self.now();
        self.hub.handle_timeout(now, &mut self.world);
    }

    pub fn shutdown(&mut self) {
        self.hub.shutdown(&mut self.world);
    }
}
