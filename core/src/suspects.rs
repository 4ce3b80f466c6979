//! Failed logins by source address, whoever they target (issue 10): R8
//! blocks a username after three wrong passwords, which lets anyone who
//! knows a name keep its owner out; this slows down, then blocks, the
//! address the guesses come from, as sshd's per-source penalties and
//! fail2ban do.
//!
//! The first [`FREE_FAILURES`] failures from an address cost nothing (a
//! person mistyping, R8's own three strikes). After that the address's
//! login prompts are read only once a wait has passed, doubling from one
//! second to [`MAX_WAIT_MS`]; at [`ADDRESS_FAILURES`] the address is
//! blocked for [`ADDRESS_BLOCK_MS`], twice as long each time again. An
//! address with no failure for [`FORGET_MS`] starts afresh. A fixed table
//! of [`SUSPECTS`] addresses: when it is full the one quiet the longest
//! makes room.

use core::net::IpAddr;

use crate::limits::{
    ADDRESS_BLOCK_MS, ADDRESS_FAILURES, FORGET_MS, FREE_FAILURES, MAX_WAIT_MS, SUSPECTS,
};
use crate::time::Instant;

/// What a failed login from an address led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Penalty {
    /// Nothing yet.
    None,
    /// Its next attempt is read no sooner than this.
    Wait(Instant),
    /// It is blocked for this long, in milliseconds.
    Blocked(u64),
}

#[derive(Clone, Copy, Debug)]
struct Suspect {
    addr: IpAddr,
    failures: u16,
    last: Instant,
    /// Blocks so far: each lasts twice as long as the one before.
    blocks: u8,
    blocked_until: Option<Instant>,
}

impl Suspect {
    fn blocked(&self, now: Instant) -> bool {
        self.blocked_until.is_some_and(|until| now < until)
    }

    /// When its next attempt may be read.
    fn next_try(&self) -> Instant {
        if self.failures <= FREE_FAILURES {
            return self.last;
        }
        let doublings = u32::from(self.failures - FREE_FAILURES - 1).min(16);
        self.last.after((1000u64 << doublings).min(MAX_WAIT_MS))
    }
}

/// Every address with recent failed logins.
#[derive(Clone, Debug, Default)]
pub struct Suspects {
    table: [Option<Suspect>; SUSPECTS],
}

impl Suspects {
    /// Counts a failed login from `addr` at `now`.
    pub fn fail(&mut self, addr: IpAddr, now: Instant) -> Penalty {
        let suspect = self.entry(addr, now);
        suspect.failures = suspect.failures.saturating_add(1);
        suspect.last = now;
        if suspect.failures >= ADDRESS_FAILURES {
            let block_ms = ADDRESS_BLOCK_MS << u32::from(suspect.blocks.min(8));
            suspect.blocks = suspect.blocks.saturating_add(1);
            suspect.blocked_until = Some(now.after(block_ms));
            // After the block, the very next failure is slowed down again.
            suspect.failures = FREE_FAILURES;
            return Penalty::Blocked(block_ms);
        }
        match suspect.next_try() {
            at if at > now => Penalty::Wait(at),
            _ => Penalty::None,
        }
    }

    /// How long `addr` stays blocked, in whole seconds rounded up, if it is.
    pub fn blocked(&self, addr: IpAddr, now: Instant) -> Option<u64> {
        let until = self.find(addr)?.blocked_until.filter(|&u| now < u)?;
        Some((until.millis() - now.millis()).div_ceil(1000))
    }

    /// When the login prompts of connections from `addr` may be read
    /// again, if not now.
    pub fn read_after(&self, addr: IpAddr, now: Instant) -> Option<Instant> {
        let suspect = self.find(addr)?;
        let at = match suspect.blocked_until {
            Some(until) if now < until => until,
            _ => suspect.next_try(),
        };
        (at > now).then_some(at)
    }

    fn find(&self, addr: IpAddr) -> Option<&Suspect> {
        self.table.iter().flatten().find(|s| s.addr == addr)
    }

    /// `addr`'s record, made or renewed: one quiet for `FORGET_MS` and not
    /// blocked starts afresh; a new one takes a free place, or the place
    /// of the one quiet the longest.
    fn entry(&mut self, addr: IpAddr, now: Instant) -> &mut Suspect {
        let fresh = Suspect {
            addr,
            failures: 0,
            last: now,
            blocks: 0,
            blocked_until: None,
        };
        let index = match self
            .table
            .iter()
            .position(|s| s.is_some_and(|s| s.addr == addr))
        {
            Some(index) => index,
            None => {
                let free = self.table.iter().position(Option::is_none);
                let oldest = || {
                    let quiet = |s: &Option<Suspect>| s.map_or(Instant(0), |s| s.last);
                    (0..SUSPECTS).min_by_key(|&i| {
                        (
                            self.table[i].is_some_and(|s| s.blocked(now)),
                            quiet(&self.table[i]),
                        )
                    })
                };
                let index = free.or_else(oldest).unwrap_or(0);
                self.table[index] = Some(fresh);
                index
            }
        };
        let suspect = self.table[index].get_or_insert(fresh);
        if !suspect.blocked(now) && now.millis() >= suspect.last.millis().saturating_add(FORGET_MS)
        {
            suspect.failures = 0;
        }
        suspect
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> IpAddr {
        IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, n))
    }

    const T0: Instant = Instant(1_000);

    #[test]
    fn the_first_failures_are_free_then_each_waits_twice_as_long() {
        let mut suspects = Suspects::default();
        for _ in 0..FREE_FAILURES {
            assert_eq!(suspects.fail(addr(1), T0), Penalty::None);
            assert_eq!(suspects.read_after(addr(1), T0), None);
        }
        assert_eq!(suspects.fail(addr(1), T0), Penalty::Wait(T0.after(1_000)));
        assert_eq!(suspects.read_after(addr(1), T0), Some(T0.after(1_000)));
        assert_eq!(suspects.read_after(addr(1), T0.after(1_000)), None);
        let t1 = T0.after(1_000);
        assert_eq!(suspects.fail(addr(1), t1), Penalty::Wait(t1.after(2_000)));
        // Another address is not slowed.
        assert_eq!(suspects.read_after(addr(2), t1), None);
        assert_eq!(suspects.fail(addr(2), t1), Penalty::None);
    }

    #[test]
    fn enough_failures_block_the_address_longer_each_time() {
        let mut suspects = Suspects::default();
        let mut now = T0;
        let mut penalty = Penalty::None;
        for _ in 0..ADDRESS_FAILURES {
            now = suspects.read_after(addr(1), now).unwrap_or(now);
            penalty = suspects.fail(addr(1), now);
        }
        assert_eq!(penalty, Penalty::Blocked(ADDRESS_BLOCK_MS));
        assert_eq!(
            suspects.blocked(addr(1), now),
            Some(ADDRESS_BLOCK_MS / 1000)
        );
        assert_eq!(
            suspects.read_after(addr(1), now),
            Some(now.after(ADDRESS_BLOCK_MS))
        );
        let after = now.after(ADDRESS_BLOCK_MS);
        assert_eq!(suspects.blocked(addr(1), after), None);
        // Slowed at once, and blocked twice as long at the next count.
        assert!(matches!(suspects.fail(addr(1), after), Penalty::Wait(_)));
        let mut now = after;
        let mut penalty = Penalty::None;
        for _ in FREE_FAILURES + 1..ADDRESS_FAILURES {
            now = suspects.read_after(addr(1), now).unwrap_or(now);
            penalty = suspects.fail(addr(1), now);
        }
        assert_eq!(penalty, Penalty::Blocked(2 * ADDRESS_BLOCK_MS));
    }

    #[test]
    fn a_quiet_address_is_forgiven_and_a_full_table_forgets_the_quietest() {
        let mut suspects = Suspects::default();
        for _ in 0..=FREE_FAILURES {
            suspects.fail(addr(1), T0);
        }
        let later = T0.after(FORGET_MS);
        assert_eq!(suspects.fail(addr(1), later), Penalty::None, "afresh");
        // Fill the table; the quietest makes room, a blocked one does not.
        let mut suspects = Suspects::default();
        let mut now = T0;
        for _ in 0..ADDRESS_FAILURES {
            now = suspects.read_after(addr(0), now).unwrap_or(now);
            suspects.fail(addr(0), now);
        }
        for n in 1..=SUSPECTS as u8 {
            suspects.fail(addr(n), now.after(u64::from(n)));
        }
        assert!(
            suspects.blocked(addr(0), now).is_some(),
            "kept while blocked"
        );
        assert!(suspects.find(addr(1)).is_none(), "the quietest went");
        assert!(suspects.find(addr(SUSPECTS as u8)).is_some());
    }
}
