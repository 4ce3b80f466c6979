//! How long the loop polls its sockets before it sleeps, adapted to what
//! polling has been worth, as KVM's halt-polling adapts `halt_poll_ns`.
//!
//! Going to sleep in `epoll_wait` and being woken costs a few microseconds
//! each way (a context switch, and on a VM an exit to the host). When the
//! next frame follows within microseconds (a client on the same board, an
//! answer already on its way) the loop gets it sooner by polling with a
//! zero timeout for a moment first. Over a LAN or Wi-Fi the next frame
//! comes milliseconds later and polling only burns the CPU. So the window
//! widens while the gaps after busy turns are ones a little more polling
//! would have caught, and halves (down to nothing) whenever a gap is longer
//! than the most it may poll: a server whose users type polls not at all.
//! It polls politely, yielding between polls and stopping when another
//! thread wants the CPU, and never with one CPU, where the sender it waits
//! for would need that CPU.

use std::time::{Duration, Instant};

/// The default most the loop polls after a busy turn.
pub const MAX_US: u64 = 100;

/// The first window once polling pays: small, so a misjudged gap costs
/// little.
const START: Duration = Duration::from_micros(10);

/// A yield that took longer than this ran another thread: the CPU is
/// wanted, and polling stops for this wait.
const CONTENDED: Duration = Duration::from_micros(5);

#[derive(Debug)]
pub struct BusyPoll {
    /// The most it may poll; zero: never.
    max: Duration,
    window: Duration,
}

impl BusyPoll {
    /// Polls up to `max` once polling pays, if this machine has more than
    /// one CPU for this process.
    pub fn new(max: Duration) -> BusyPoll {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        BusyPoll::with_cpus(max, cpus)
    }

    fn with_cpus(max: Duration, cpus: usize) -> BusyPoll {
        BusyPoll {
            max: if cpus > 1 { max } else { Duration::ZERO },
            window: Duration::ZERO,
        }
    }

    /// How long to poll before sleeping, after a turn that had events.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Polls with `poll_now`, which must not block, from `idle_from` until
    /// it finds something (how many it found), the window ends or another
    /// thread wants this CPU (0). Between polls it yields, so a thread
    /// waiting for this CPU, perhaps the very sender it waits for, goes
    /// first.
    pub fn spin<E>(
        &self,
        idle_from: Instant,
        mut poll_now: impl FnMut() -> Result<usize, E>,
    ) -> Result<usize, E> {
        while idle_from.elapsed() < self.window {
            let ready = poll_now()?;
            if ready > 0 {
                return Ok(ready);
            }
            let before = Instant::now();
            std::thread::yield_now();
            if before.elapsed() > CONTENDED {
                break;
            }
        }
        Ok(0)
    }

    /// After a busy turn, the next event came `gap` later: widen the
    /// window if a little more polling would have caught it, narrow it if
    /// no allowed amount would have.
    pub fn next_event_after(&mut self, gap: Duration) {
        if gap <= self.window {
            // Polling caught it.
        } else if gap <= self.max {
            self.window = (self.window * 2).max(START).min(self.max);
        } else {
            self.window /= 2;
            if self.window < START {
                self.window = Duration::ZERO;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn short_gaps_widen_the_window_up_to_the_most() {
        let mut poll = BusyPoll::with_cpus(us(100), 2);
        assert_eq!(poll.window(), Duration::ZERO, "starts asleep");
        let mut windows = Vec::new();
        for _ in 0..6 {
            poll.next_event_after(us(90));
            windows.push(poll.window().as_micros());
        }
        assert_eq!(windows, [10, 20, 40, 80, 100, 100]);
    }

    #[test]
    fn gaps_polling_catches_keep_the_window() {
        let mut poll = BusyPoll::with_cpus(us(100), 2);
        for _ in 0..3 {
            poll.next_event_after(us(30));
        }
        assert_eq!(poll.window(), us(40));
        for _ in 0..10 {
            poll.next_event_after(us(25));
        }
        assert_eq!(poll.window(), us(40));
    }

    #[test]
    fn long_gaps_close_the_window_after_a_bounded_waste() {
        let mut poll = BusyPoll::with_cpus(us(100), 2);
        for _ in 0..5 {
            poll.next_event_after(us(90));
        }
        assert_eq!(poll.window(), us(100));
        // A person typing: each gap is far longer than the most it polls.
        let mut wasted = Duration::ZERO;
        for _ in 0..20 {
            wasted += poll.window();
            poll.next_event_after(Duration::from_millis(300));
        }
        assert_eq!(poll.window(), Duration::ZERO);
        assert!(wasted < us(200), "polled {wasted:?} in vain");
    }

    #[test]
    fn spinning_polls_until_something_comes_or_the_window_ends() {
        let mut poll = BusyPoll::with_cpus(Duration::from_millis(50), 2);
        let mut polls = 0;
        let none: Result<usize, ()> = poll.spin(Instant::now(), || {
            polls += 1;
            Ok(0)
        });
        assert_eq!((none, polls), (Ok(0), 0), "a closed window never polls");
        for _ in 0..14 {
            poll.next_event_after(Duration::from_millis(49));
        }
        assert_eq!(poll.window(), Duration::from_millis(50));
        // Another thread wanting the CPU (other tests run beside this one)
        // ends a spin early, so a few tries may find nothing; none may
        // poll on after finding something.
        let mut found_on_the_third = false;
        for _ in 0..100 {
            let mut polls = 0;
            let found: Result<usize, ()> = poll.spin(Instant::now(), || {
                polls += 1;
                Ok(if polls == 3 { 2 } else { 0 })
            });
            match (found, polls) {
                (Ok(2), 3) => found_on_the_third = true,
                (Ok(0), 1..=2) => {}
                other => panic!("spin gave {other:?}"),
            }
        }
        assert!(found_on_the_third);
        // Nothing comes: it gives up, once the window is over at the latest.
        assert_eq!(poll.spin(Instant::now(), || Ok::<_, ()>(0)), Ok(0));
        let failed: Result<usize, &str> = poll.spin(Instant::now(), || Err("gone"));
        assert_eq!(failed, Err("gone"));
    }

    #[test]
    fn one_cpu_or_a_zero_most_never_polls() {
        for mut poll in [
            BusyPoll::with_cpus(us(100), 1),
            BusyPoll::with_cpus(Duration::ZERO, 4),
        ] {
            for _ in 0..5 {
                poll.next_event_after(us(5));
            }
            assert_eq!(poll.window(), Duration::ZERO);
        }
    }
}
