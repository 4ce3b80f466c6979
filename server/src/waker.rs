//! How the worker and journal threads wake the event loop: a flag the
//! loop reads after every wait, then the poller's `notify`. The flag
//! comes first, so a notice that a poll without waiting swallowed is
//! still seen (`BusyPoll::spin` polls so).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use polling::Poller;

#[derive(Clone, Debug)]
pub struct Waker {
    poller: Arc<Poller>,
    woken: Arc<AtomicBool>,
}

impl Waker {
    pub fn new(poller: Arc<Poller>) -> Waker {
        Waker {
            poller,
            woken: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Something is done: the loop looks at its threads' answers next turn.
    pub fn wake(&self) {
        self.woken.store(true, Ordering::Release);
        // Fails only if the notifier's fd does: the loop then sees the
        // flag after its next wait.
        let _ = self.poller.notify();
    }

    /// Whether the loop was woken since it last took this.
    pub fn woken(&self) -> bool {
        self.woken.load(Ordering::Acquire)
    }

    /// Whether the loop was woken, and the flag down again.
    pub fn take(&self) -> bool {
        self.woken.swap(false, Ordering::AcqRel)
    }

    /// This waker, which also wakes the loop when dropped: a thread that
    /// holds it wakes the loop however it ends, panics included.
    pub fn on_drop(self) -> WakeOnDrop {
        WakeOnDrop(self)
    }
}

/// A [`Waker`] that wakes the loop when dropped.
pub struct WakeOnDrop(Waker);

impl std::ops::Deref for WakeOnDrop {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.0
    }
}

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.wake();
    }
}
