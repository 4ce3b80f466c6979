//! Who may create an account (issue 10): sign-up open or closed, and in
//! open mode at most so many new accounts per source address per hour, so
//! one host cannot fill the account table (R26) in a millisecond. A fixed
//! table of [`SIGNUP_ADDRESSES`] addresses; when it is full, the one whose
//! hour began the longest ago makes room.

use core::net::IpAddr;

use crate::limits::{SIGNUP_ADDRESSES, SIGNUP_WINDOW_MS};
use crate::time::Instant;

/// Whether strangers may create accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignUp {
    /// Any unknown username starts a new account (R4), at most `per_hour`
    /// from one address (0: no limit).
    Open { per_hour: u8 },
    /// Only existing accounts log in; the owner adds accounts
    /// (`natter-server user add`).
    Closed,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    addr: IpAddr,
    since: Instant,
    made: u8,
}

/// Accounts made per address in the last hour.
#[derive(Clone, Debug, Default)]
pub struct SignUps {
    table: [Option<Window>; SIGNUP_ADDRESSES],
}

impl SignUps {
    /// Whether `addr` may make one more account at `now`, `per_hour` at
    /// most, with `pending` more of its accounts being made.
    pub fn allowed(&self, addr: IpAddr, now: Instant, per_hour: u8, pending: usize) -> bool {
        let made = self
            .table
            .iter()
            .flatten()
            .find(|w| w.addr == addr && !w.over(now))
            .map_or(0, |w| usize::from(w.made));
        per_hour == 0 || made + pending < usize::from(per_hour)
    }

    /// `addr` made an account at `now`.
    pub fn made(&mut self, addr: IpAddr, now: Instant) {
        let index = self
            .table
            .iter()
            .position(|w| w.is_some_and(|w| w.addr == addr))
            .or_else(|| self.table.iter().position(Option::is_none))
            .unwrap_or_else(|| {
                // The window that began the longest ago makes room.
                let since = |i: &usize| self.table[*i].map_or(Instant(0), |w| w.since);
                (0..SIGNUP_ADDRESSES).min_by_key(since).unwrap_or(0)
            });
        let window = match self.table[index] {
            Some(w) if w.addr == addr && !w.over(now) => Window {
                made: w.made.saturating_add(1),
                ..w
            },
            _ => Window {
                addr,
                since: now,
                made: 1,
            },
        };
        self.table[index] = Some(window);
    }
}

impl Window {
    fn over(&self, now: Instant) -> bool {
        now >= self.since.after(SIGNUP_WINDOW_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> IpAddr {
        IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, n))
    }

    #[test]
    fn an_address_makes_so_many_accounts_an_hour() {
        let mut signups = SignUps::default();
        let t0 = Instant(5_000);
        for _ in 0..3 {
            assert!(signups.allowed(addr(1), t0, 3, 0));
            signups.made(addr(1), t0);
        }
        assert!(!signups.allowed(addr(1), t0, 3, 0));
        assert!(signups.allowed(addr(2), t0, 3, 0), "another address");
        assert!(signups.allowed(addr(1), t0, 0, 0), "0: no limit");
        assert!(!signups.allowed(addr(2), t0, 3, 3), "3 being made");
        let later = t0.after(SIGNUP_WINDOW_MS);
        assert!(signups.allowed(addr(1), later, 3, 0), "a new hour");
        signups.made(addr(1), later);
        assert!(signups.allowed(addr(1), later, 3, 0));
    }

    #[test]
    fn a_full_table_forgets_the_oldest_window() {
        let mut signups = SignUps::default();
        for n in 0..=SIGNUP_ADDRESSES as u8 {
            signups.made(addr(n), Instant(u64::from(n)));
            signups.made(addr(n), Instant(u64::from(n)));
        }
        assert!(signups.allowed(addr(0), Instant(100), 2, 0), "forgotten");
        assert!(!signups.allowed(addr(1), Instant(100), 2, 0), "kept");
    }
}
