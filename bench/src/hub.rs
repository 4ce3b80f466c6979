//! `natter-bench hub`: the server's per-frame work without sockets.
//!
//! Each round trip is what the server does for one client frame: split the
//! line, decode it, run the hub, encode every frame the hub sends. The
//! workload is a login storm over the ten sample accounts: connect, username,
//! password, logout, with every other user online to hear the presence
//! notices; the password checks the server's worker thread does are
//! answered at once. Figures are wall-clock on this machine; for
//! repeatable counts run it under `valgrind --tool=callgrind` and read the
//! instruction total.

use std::hint::black_box;
use std::time::Instant as Clock;

use natter_core::credential::{Password, Secret};
use natter_core::event::Checked;
use natter_core::framer::LineFramer;
use natter_core::protocol::{self, ClientFrame};
use natter_core::testing::{Shell, settle};
use natter_core::{Config, ConnId, Hub, Instant};

use crate::CREDENTIALS;

/// The server's shell, as far as this figure goes: it takes every ready
/// connection's bytes (`natter_core::testing::settle`, the one loop that
/// drives a hub), and counts them without keeping them.
struct Encoder {
    frames: u64,
    bytes: u64,
    /// Logins that succeeded: a storm that stops logging in would
    /// otherwise measure refusals.
    welcomes: u64,
}

impl Shell for Encoder {
    /// Does the worker's check at once: a password is checked against the
    /// plain secret of `credentials.txt` (the hashing is `natter-bench
    /// hash`'s figure, not this one's), and nothing is rewritten.
    fn check_password(&mut self, secret: &Secret, password: &Password) -> Checked {
        Checked {
            right: matches!(secret, Secret::Plain(plain) if plain == password),
            stored: None,
        }
    }

    fn sent(&mut self, _conn: ConnId, bytes: &[u8]) {
        let bytes = black_box(bytes);
        for frame in bytes.split_inclusive(|&b| b == b'\n') {
            self.frames += 1;
            self.welcomes += u64::from(frame.starts_with(b"{\"Welcome\""));
        }
        self.bytes += bytes.len() as u64;
    }
}

impl Encoder {
    fn drain(&mut self, hub: &mut Hub, now: Instant) {
        settle(hub, self, now);
    }
}

const PEER: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// A new connection, or why the hub refused it.
fn connect(hub: &mut Hub, now: Instant) -> Result<ConnId, String> {
    hub.connect(now, PEER)
        .map_err(|reason| format!("connection refused: {reason:?}"))
}

/// Feeds `bytes` through a framer and the hub as if read from `conn`.
fn feed(
    hub: &mut Hub,
    out: &mut Encoder,
    framer: &mut LineFramer,
    conn: ConnId,
    bytes: &[u8],
    now: Instant,
) -> u64 {
    let spare = framer.spare();
    spare[..bytes.len()].copy_from_slice(bytes);
    framer.filled(bytes.len());
    let mut frames = 0;
    // Decoded in place, as the server does.
    let mut frame = ClientFrame::Logout {};
    while let Some(line) = framer.next_payload() {
        if line.is_ok_and(|line| protocol::decode_client_into(line, &mut frame).is_ok()) {
            hub.receive(conn, &frame, now);
            out.drain(hub, now);
            frames += 1;
        }
    }
    frames
}

/// What a storm of `rounds` logins and logouts took.
struct Storm {
    received: u64,
    sent: u64,
    bytes: u64,
    welcomes: u64,
    elapsed: std::time::Duration,
}

/// Runs `rounds` logins and logouts and prints the figures.
pub fn run(rounds: u64) -> Result<(), String> {
    let Storm {
        received,
        sent,
        bytes,
        welcomes,
        elapsed,
    } = storm(rounds)?;
    if welcomes != rounds {
        return Err(format!(
            "{welcomes} of {rounds} logins succeeded: the storm measured refusals"
        ));
    }
    let per_frame = elapsed.as_nanos() as f64 / (received + sent) as f64;
    println!("rounds                {rounds}");
    println!("frames in / out       {received} / {sent} ({bytes} bytes out)");
    println!("elapsed               {:.3} s", elapsed.as_secs_f64());
    println!(
        "login+logout rounds/s {:.0}",
        rounds as f64 / elapsed.as_secs_f64()
    );
    println!("ns per frame (in+out) {per_frame:.0}");
    println!("size_of::<Hub>()      {} bytes", std::mem::size_of::<Hub>());
    Ok(())
}

fn storm(rounds: u64) -> Result<Storm, String> {
    // No journal here: the storm measures the codec and the rules.
    let mut hub = Hub::new(Config {
        journal: false,
        ..Config::new(60_000, 120_000)
    });
    let accounts: Vec<(&str, &str)> = CREDENTIALS
        .lines()
        .filter_map(|line| line.split_once(' '))
        .collect();
    for &(name, password) in &accounts {
        hub.add_account(name, password)
            .map_err(|e| format!("could not add {name}: {e:?}"))?;
    }
    let mut out = Encoder {
        frames: 0,
        bytes: 0,
        welcomes: 0,
    };
    let mut framer = LineFramer::new();
    // Nine users stay online; the tenth logs in and out, round after round.
    let mut now = Instant(0);
    for (name, password) in &accounts[1..] {
        let conn = connect(&mut hub, now)?;
        out.drain(&mut hub, now);
        let login = format!(
            "{{\"Username\":{{\"name\":\"{name}\"}}}}\n{{\"Password\":{{\"password\":\"{password}\"}}}}\n"
        );
        feed(&mut hub, &mut out, &mut framer, conn, login.as_bytes(), now);
    }
    let session = b"{\"Username\":{\"name\":\"hans\"}}\n{\"Password\":{\"password\":\"falcon*solo\"}}\n{\"Logout\":{}}\n";
    let (frames_before, bytes_before, welcomes_before) = (out.frames, out.bytes, out.welcomes);
    if welcomes_before != (accounts.len() - 1) as u64 {
        return Err(format!(
            "{welcomes_before} of the {} listeners logged in",
            accounts.len() - 1
        ));
    }
    let started = Clock::now();
    let mut received = 0;
    for round in 0..rounds {
        now = Instant(round);
        let conn = connect(&mut hub, now)?;
        out.drain(&mut hub, now);
        received += feed(&mut hub, &mut out, &mut framer, conn, session, now);
    }
    Ok(Storm {
        received,
        sent: out.frames - frames_before,
        bytes: out.bytes - bytes_before,
        welcomes: out.welcomes - welcomes_before,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_round_of_the_storm_logs_in_and_out() {
        let storm = storm(50).unwrap();
        assert_eq!(storm.welcomes, 50, "every login welcomed");
        assert_eq!(storm.received, 150, "username, password, logout a round");
        // Each round: its prompts and welcome, and nine users hearing it
        // come and go.
        assert!(storm.sent >= 50 * 20, "{} frames out", storm.sent);
    }
}
