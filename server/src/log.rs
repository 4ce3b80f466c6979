//! Debug output on stderr, off unless `-d` (R1: silent otherwise).

use std::sync::atomic::{AtomicBool, Ordering};

static DEBUG: AtomicBool = AtomicBool::new(false);

pub fn enable() {
    DEBUG.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// `eprintln!` when `-d/--debug` is on.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::enabled() {
            eprintln!("natter-server: {}", format_args!($($arg)*));
        }
    };
}
