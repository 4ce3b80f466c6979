//! How fast a connection may send commands: a token bucket at the hub's
//! time. The hub never refuses a frame for it; it tells the shell when it
//! may read the connection again (`Hub::read_after`), so a flood is slowed
//! by TCP itself and the flooder's own lines arrive late, not lost.

use crate::time::Instant;

/// Tokens are counted in thousandths, so a rate of a few per second
/// refills smoothly at millisecond resolution.
const MILLI: i64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Commands per second on average; 0: no limit.
    pub per_second: u32,
    /// Commands at once above that rate.
    pub burst: u32,
}

/// One connection's bucket. It may go into debt by what one read held:
/// the shell then waits until it is paid off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// Thousandths of a command, at `at`.
    tokens: i64,
    at: Instant,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn new(rate: Rate, now: Instant) -> Bucket {
        Bucket {
            tokens: i64::from(rate.burst) * MILLI,
            at: now,
        }
    }

    fn refill(&mut self, rate: Rate, now: Instant) {
        let elapsed = now.millis().saturating_sub(self.at.millis());
        let earned = i64::try_from(elapsed)
            .unwrap_or(i64::MAX)
            .saturating_mul(i64::from(rate.per_second));
        let cap = i64::from(rate.burst) * MILLI;
        self.tokens = self.tokens.saturating_add(earned).min(cap);
        self.at = self.at.max(now);
    }

    /// One command at `now`.
    pub fn spend(&mut self, rate: Rate, now: Instant) {
        if rate.per_second == 0 {
            return;
        }
        self.refill(rate, now);
        self.tokens -= MILLI;
    }

    /// When the connection may send again: `None` for now.
    pub fn ready_at(&self, rate: Rate, now: Instant) -> Option<Instant> {
        if rate.per_second == 0 {
            return None;
        }
        let mut bucket = *self;
        bucket.refill(rate, now);
        if bucket.tokens >= 0 {
            return None;
        }
        let wait = (bucket.tokens.unsigned_abs()).div_ceil(u64::from(rate.per_second));
        Some(now.after(wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate {
        per_second: 100,
        burst: 10,
    };

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let start = Instant(5_000);
        let mut bucket = Bucket::new(RATE, start);
        for _ in 0..10 {
            bucket.spend(RATE, start);
        }
        assert_eq!(bucket.ready_at(RATE, start), None, "the burst is free");
        bucket.spend(RATE, start);
        // One command in debt at 100/s: 10 ms to pay it off.
        assert_eq!(bucket.ready_at(RATE, start), Some(start.after(10)));
        assert_eq!(bucket.ready_at(RATE, start.after(10)), None);
        // A read of 50 commands at once: half a second of debt.
        let later = start.after(10);
        for _ in 0..50 {
            bucket.spend(RATE, later);
        }
        assert_eq!(bucket.ready_at(RATE, later), Some(later.after(500)));
        // Idle time refills up to the burst, no more.
        let idle = later.after(60_000);
        for _ in 0..10 {
            bucket.spend(RATE, idle);
        }
        assert_eq!(bucket.ready_at(RATE, idle), None);
        bucket.spend(RATE, idle);
        assert!(bucket.ready_at(RATE, idle).is_some());
    }

    #[test]
    fn a_zero_rate_is_no_limit() {
        let off = Rate {
            per_second: 0,
            burst: 0,
        };
        let mut bucket = Bucket::new(off, Instant(0));
        for _ in 0..100_000 {
            bucket.spend(off, Instant(0));
        }
        assert_eq!(bucket.ready_at(off, Instant(0)), None);
    }
}
