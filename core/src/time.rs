//! Time as the core sees it: milliseconds on a clock the shell owns.
//!
//! The core never reads a clock. The shell passes `now` into every call, so
//! tests drive the rules with fake time and no sleeps.

/// A point in time, in milliseconds since an epoch the shell chooses (the
/// server uses its start).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub u64);

impl Instant {
    /// Later than any time: "not by time, but when something happens".
    pub const NEVER: Instant = Instant(u64::MAX);

    /// Milliseconds since the epoch.
    pub const fn millis(self) -> u64 {
        self.0
    }

    /// This instant plus `millis`, saturating rather than wrapping.
    pub const fn after(self, millis: u64) -> Instant {
        Instant(self.0.saturating_add(millis))
    }
}
