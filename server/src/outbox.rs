//! One connection's outgoing bytes: a bounded queue drained by its writer.
//!
//! The hub's frames are encoded straight into a byte queue whose bound is in
//! bytes, which is what a slow reader actually costs. The queue starts small
//! and grows on demand up to the bound, then keeps its storage, so an idle
//! connection costs little on a small board and a busy one stops
//! allocating once warm. A full queue is reported to the hub (the R27
//! policy lives there), never grown past the bound or dropped.

use std::cell::RefCell;
use std::collections::VecDeque;

use natter_core::limits::{CHUNK_BYTES, FRAME_MAX, MAILBOX_BYTES};

use crate::bell::Bell;

/// Bytes a connection may have queued: a whole mailbox redelivered at
/// login (R17), with room for the notices around it. A letter's frame is
/// at most about 460 bytes per 64-byte chunk it takes in the store (every
/// byte escaped as `\u00XX`, and the frame's own fields).
pub const OUTBOX_BYTES: usize = MAILBOX_BYTES / CHUNK_BYTES * 460 + 4 * (FRAME_MAX + 1);

/// What a new connection's queue starts with.
const INITIAL_BYTES: usize = 4096;

/// The queue is full; nothing was queued.
#[derive(Debug)]
pub struct Full;

pub struct Outbox {
    queue: RefCell<VecDeque<u8>>,
    /// Rung when bytes arrive; closed when the connection is to be closed.
    bell: Bell,
}

impl Default for Outbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Outbox {
    pub fn new() -> Self {
        Outbox {
            queue: RefCell::new(VecDeque::with_capacity(INITIAL_BYTES)),
            bell: Bell::default(),
        }
    }

    /// Queues `bytes` whole, or nothing.
    pub fn push(&self, bytes: &[u8]) -> Result<(), Full> {
        let mut queue = self.queue.borrow_mut();
        if self.bell.is_closed() || queue.len() + bytes.len() > OUTBOX_BYTES {
            return Err(Full);
        }
        queue.extend(bytes);
        self.bell.ring();
        Ok(())
    }

    /// Copies queued bytes into `buf` and removes them; returns the count.
    pub fn take(&self, buf: &mut [u8]) -> usize {
        let mut queue = self.queue.borrow_mut();
        let n = buf.len().min(queue.len());
        let (front, back) = queue.as_slices();
        let from_front = n.min(front.len());
        buf[..from_front].copy_from_slice(&front[..from_front]);
        buf[from_front..n].copy_from_slice(&back[..n - from_front]);
        queue.drain(..n);
        n
    }

    /// Asks the writer to send what is queued, then close.
    pub fn close(&self) {
        self.bell.close();
    }

    /// Waits for bytes or for `close`. `false` once closed and drained.
    pub async fn wait(&self) -> bool {
        if self.queue.borrow().is_empty() && !self.bell.is_closed() {
            self.bell.wait().await;
        }
        !(self.bell.is_closed() && self.queue.borrow().is_empty())
    }

    /// Resolves once `close` has been called.
    pub async fn closed(&self) {
        while !self.bell.is_closed() {
            self.bell.wait().await;
        }
    }
}
