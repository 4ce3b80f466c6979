//! The one place that owns the hub: every hub call goes through here with
//! the current time, and rings the timer when the hub's next deadline moved
//! earlier than the one it sleeps to (later ones it finds when it wakes).

use std::net::IpAddr;
use std::time::{Duration, Instant as StdInstant};

use natter_core::effects::Effects;
use natter_core::hub::{Hub, ServerFull};
use natter_core::protocol::{ClientFrame, FrameError};
use natter_core::session::ConnId;
use natter_core::time::Instant;
use std::cell::Cell;
use std::rc::Rc;

use crate::bell::Bell;
use crate::world::World;

pub struct Server {
    pub hub: Hub,
    pub world: World,
    started: StdInstant,
    /// Rung when the hub's next deadline comes before `armed`.
    timer: Rc<Bell>,
    /// The deadline the timer sleeps to, if any.
    armed: Cell<Option<Instant>>,
}

impl Server {
    pub fn new(hub: Hub, world: World) -> Self {
        Server {
            hub,
            world,
            started: StdInstant::now(),
            timer: Rc::new(Bell::default()),
            armed: Cell::new(None),
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

    pub fn timer(&self) -> Rc<Bell> {
        self.timer.clone()
    }

    /// The timer sleeps to `at` now.
    pub fn arm(&self, at: Option<Instant>) {
        self.armed.set(at);
    }

    /// Wakes the timer if the hub's next deadline comes before the one it
    /// sleeps to. Re-arming a timer allocates in the reactor: not on every
    /// message, whose sender's deadline only moves later.
    fn ring_timer(&self) {
        let next = self.hub.poll_timeout();
        let earlier = match (next, self.armed.get()) {
            (Some(next), Some(armed)) => next < armed,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if earlier {
            self.timer.ring();
        }
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
