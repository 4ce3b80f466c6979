//! Output on stderr, off unless asked (R1: silent otherwise): debug lines
//! with `-d`, and one line per failed login and per block with
//! `--log-logins` (and `-d`), for the owner and for fail2ban
//! (`deploy/fail2ban/`). The systemd unit turns the second on.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use natter_core::Event;

static DEBUG: AtomicBool = AtomicBool::new(false);
static LOGINS: AtomicBool = AtomicBool::new(false);

pub fn enable() {
    DEBUG.store(true, Ordering::Relaxed);
    enable_logins();
}

pub fn enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

pub fn enable_logins() {
    LOGINS.store(true, Ordering::Relaxed);
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

/// The line a notice from the hub is logged as, if it is one. The address
/// comes last, where a fail2ban `<HOST>` finds it; usernames are R3's
/// printable ASCII without spaces, so a line cannot be forged through one.
pub fn notice_line(event: &Event) -> Option<String> {
    // An IPv4 client of a dual-stack socket as itself, not ::ffff:a.b.c.d.
    let host = |peer: &IpAddr| peer.to_canonical();
    Some(match event {
        Event::LoginFailed { peer, name } => {
            format!("natter-server: failed login for {name} from {}", host(peer))
        }
        Event::UserBlocked {
            peer,
            name,
            seconds,
        } => format!(
            "natter-server: {name} blocked for {seconds} s after 3 failed logins, the last from {}",
            host(peer)
        ),
        Event::AddressBlocked { peer, seconds } => format!(
            "natter-server: address blocked for {seconds} s after too many failed logins from {}",
            host(peer)
        ),
        Event::SaveAccount { .. } | Event::CheckPassword { .. } => return None,
    })
}

/// Logs a notice from the hub when `--log-logins` (or `-d`) is on.
pub fn notice(event: &Event) {
    if LOGINS.load(Ordering::Relaxed)
        && let Some(line) = notice_line(event)
    {
        eprintln!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_notice_is_one_line_ending_in_the_address() {
        let peer: IpAddr = "::ffff:10.0.0.5".parse().unwrap();
        let name = "yoda".try_into().unwrap();
        assert_eq!(
            notice_line(&Event::LoginFailed { peer, name }).unwrap(),
            "natter-server: failed login for yoda from 10.0.0.5"
        );
        let name = "yoda".try_into().unwrap();
        let seconds = 60;
        assert_eq!(
            notice_line(&Event::UserBlocked {
                peer,
                name,
                seconds
            })
            .unwrap(),
            "natter-server: yoda blocked for 60 s after 3 failed logins, the last from 10.0.0.5"
        );
        let peer: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            notice_line(&Event::AddressBlocked { peer, seconds: 600 }).unwrap(),
            "natter-server: address blocked for 600 s after too many failed logins from 2001:db8::1"
        );
    }
}
