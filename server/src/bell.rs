//! A wake-up for one task that never allocates: a flag and the task's
//! waker. async-channel's `recv` makes a listener each time it waits; on
//! the relay path that was an allocation per message.

use std::cell::Cell;
use std::future::poll_fn;
use std::task::{Poll, Waker};

#[derive(Default)]
pub struct Bell {
    rung: Cell<bool>,
    closed: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl Bell {
    /// Wakes the task waiting, or makes its next wait return at once.
    pub fn ring(&self) {
        self.rung.set(true);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// Rings for the last time: the waiter should finish.
    pub fn close(&self) {
        self.closed.set(true);
        self.ring();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Waits until rung (since the last wait returned).
    pub async fn wait(&self) {
        poll_fn(|cx| {
            if self.rung.replace(false) {
                return Poll::Ready(());
            }
            // Cloning a task's waker only counts a reference.
            match self.waker.take() {
                Some(waker) if waker.will_wake(cx.waker()) => self.waker.set(Some(waker)),
                _ => self.waker.set(Some(cx.waker().clone())),
            }
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_before_the_wait_is_not_lost_and_counts_once() {
        let bell = Bell::default();
        bell.ring();
        bell.ring();
        smol::block_on(bell.wait());
        let waited = smol::block_on(async {
            let waiting = async {
                bell.wait().await;
                true
            };
            let timeout = async {
                smol::Timer::after(std::time::Duration::from_millis(20)).await;
                false
            };
            smol::future::or(waiting, timeout).await
        });
        assert!(!waited, "two rings before one wait wake it once");
        bell.close();
        assert!(bell.is_closed());
        smol::block_on(bell.wait());
    }
}
