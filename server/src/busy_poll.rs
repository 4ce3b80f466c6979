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
//! would have caught, and halves whenever a gap is longer than the most it
//! may poll, down to nothing below 10 us: a server whose users type polls
//! not at all. It polls politely, yielding between polls and stopping when
//! another thread wants the CPU, and never with one CPU, where the sender
//! it waits for would need that CPU.

use std::time::{Duration, Instant};

/// The most the loop polls after a busy turn, unless told otherwise.
pub const DEFAULT_US: u64 = 100;

/// The most it may ever be told to poll: wake-ups cost microseconds, so
/// polling longer than this only burns the CPU.
pub const LIMIT_US: u64 = 1000;

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
    /// How long it polls after the next busy turn.
    window: Duration,
    /// [`CONTENDED`]; tests choose their own, to be independent of what
    /// else the machine runs.
    contended: Duration,
}

impl BusyPoll {
    /// Polls up to `max` (at most [`LIMIT_US`]) once polling pays, if this
    /// process may run on more than one CPU.
    pub fn new(max: Duration) -> BusyPoll {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        BusyPoll::with_cpus(max, cpus)
    }

    fn with_cpus(max: Duration, cpus: usize) -> BusyPoll {
        BusyPoll {
            max: if cpus > 1 {
                max.min(Duration::from_micros(LIMIT_US))
            } else {
                Duration::ZERO
            },
            window: Duration::ZERO,
            contended: CONTENDED,
        }
    }

    /// Polls with `poll_now`, which must not block, from `idle_from` until
    /// it finds something (how many it found), the window or `timeout` ends
    /// or another thread wants this CPU (0). Between polls it yields, so a
    /// thread waiting for this CPU, perhaps the very sender it waits for,
    /// goes first.
    pub fn spin<E>(
        &self,
        idle_from: Instant,
        timeout: Option<Duration>,
        mut poll_now: impl FnMut() -> Result<usize, E>,
    ) -> Result<usize, E> {
        let until = timeout.map_or(self.window, |t| t.min(self.window));
        while idle_from.elapsed() < until {
            let ready = poll_now()?;
            if ready > 0 {
                return Ok(ready);
            }
            let before = Instant::now();
            std::thread::yield_now();
            if before.elapsed() > self.contended {
                break;
            }
        }
        Ok(0)
    }

    /// After a busy turn the loop waited `gap`, until an event (`event`)
    /// or its timeout: widen the window if a little more polling would
    /// have caught the event, narrow it if no allowed amount would have.
    /// A timeout within the most it may poll says nothing of the next
    /// event.
    pub fn waited(&mut self, gap: Duration, event: bool) {
        if gap <= self.window {
            // Polling caught it, or stopped early for another thread.
        } else if gap > self.max {
            self.window /= 2;
            if self.window < START {
                self.window = Duration::ZERO;
            }
        } else if event {
            // Not `clamp`: the most may be under START.
            self.window = self.window.saturating_mul(2).max(START).min(self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    /// A poller whose window is open all the way to `max`.
    fn open(max: Duration) -> BusyPoll {
        let mut poll = BusyPoll::with_cpus(max, 2);
        for _ in 0..32 {
            poll.waited(poll.max, true);
        }
        assert_eq!(poll.window, poll.max);
        poll
    }

    #[test]
    fn short_gaps_widen_the_window_up_to_the_most() {
        let mut poll = BusyPoll::with_cpus(us(100), 2);
        assert_eq!(poll.window, Duration::ZERO, "starts asleep");
        let mut windows = Vec::new();
        for _ in 0..6 {
            poll.waited(us(90), true);
            windows.push(poll.window.as_micros());
        }
        assert_eq!(windows, [10, 20, 40, 80, 100, 100]);
    }

    #[test]
    fn gaps_polling_catches_keep_the_window() {
        let mut poll = BusyPoll::with_cpus(us(100), 2);
        for _ in 0..3 {
            poll.waited(us(30), true);
        }
        assert_eq!(poll.window, us(40));
        for _ in 0..10 {
            poll.waited(us(25), true);
        }
        assert_eq!(poll.window, us(40));
    }

    #[test]
    fn long_gaps_close_the_window_after_a_bounded_waste() {
        let mut poll = open(us(100));
        // A person typing: each gap is far longer than the most it polls.
        let mut windows = Vec::new();
        for _ in 0..5 {
            poll.waited(Duration::from_millis(300), true);
            windows.push(poll.window.as_nanos());
        }
        // Polled 100 + 50 + 25 + 12.5 us in vain, then never again.
        assert_eq!(windows, [50_000, 25_000, 12_500, 0, 0]);
    }

    #[test]
    fn a_timeout_narrows_the_window_only_past_the_most() {
        let mut poll = BusyPoll::with_cpus(us(100), 2);
        for _ in 0..3 {
            poll.waited(us(30), true);
        }
        assert_eq!(poll.window, us(40));
        poll.waited(us(90), false);
        assert_eq!(poll.window, us(40), "a short timeout tells nothing");
        poll.waited(Duration::from_millis(5), false);
        assert_eq!(poll.window, us(20));
    }

    #[test]
    fn one_cpu_or_a_zero_most_never_polls_and_the_most_has_a_limit() {
        for mut poll in [
            BusyPoll::with_cpus(us(100), 1),
            BusyPoll::with_cpus(Duration::ZERO, 4),
        ] {
            for _ in 0..5 {
                poll.waited(us(5), true);
            }
            assert_eq!(poll.window, Duration::ZERO);
        }
        let huge = BusyPoll::with_cpus(Duration::MAX, 2);
        assert_eq!(huge.max, us(LIMIT_US));
        assert_eq!(open(Duration::MAX).window, us(LIMIT_US));
    }

    #[test]
    fn a_most_under_the_first_window_is_the_window() {
        let mut poll = BusyPoll::with_cpus(us(5), 2);
        poll.waited(us(3), true);
        assert_eq!(poll.window, us(5));
        poll.waited(us(1), true);
        assert_eq!(poll.window, us(5));
    }

    /// A poller with its window open for a minute (past the limit, as only
    /// a test may), longer than any stall of a test thread, and a CPU
    /// never wanted by others or always.
    fn spinning(contended: Duration) -> BusyPoll {
        BusyPoll {
            max: Duration::from_secs(60),
            window: Duration::from_secs(60),
            contended,
        }
    }

    #[test]
    fn spinning_polls_until_it_finds_something() {
        let closed = BusyPoll::with_cpus(us(100), 2);
        let mut polls = 0;
        let none: Result<usize, ()> = closed.spin(Instant::now(), None, || {
            polls += 1;
            Ok(0)
        });
        assert_eq!((none, polls), (Ok(0), 0), "a closed window never polls");
        let poll = spinning(Duration::MAX);
        let mut polls = 0;
        let found: Result<usize, ()> = poll.spin(Instant::now(), None, || {
            polls += 1;
            Ok(if polls == 3 { 2 } else { 0 })
        });
        assert_eq!((found, polls), (Ok(2), 3));
        let failed: Result<usize, &str> = poll.spin(Instant::now(), None, || Err("gone"));
        assert_eq!(failed, Err("gone"));
    }

    #[test]
    fn spinning_stops_at_the_timeout_or_when_the_cpu_is_wanted() {
        let mut polls = 0;
        let timed_out: Result<usize, ()> =
            spinning(Duration::MAX).spin(Instant::now(), Some(Duration::ZERO), || {
                polls += 1;
                Ok(0)
            });
        assert_eq!((timed_out, polls), (Ok(0), 0));
        // Every yield counts as another thread's turn.
        let mut polls = 0;
        let wanted: Result<usize, ()> = spinning(Duration::ZERO).spin(Instant::now(), None, || {
            polls += 1;
            Ok(0)
        });
        assert_eq!((wanted, polls), (Ok(0), 1));
    }
}
