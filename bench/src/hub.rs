//! `natter-bench hub`: the server's per-frame work without sockets.
//!
//! Each round trip is what the server does for one client frame: split the
//! line, decode it, run the hub, encode every frame the hub sends. The
//! workload is a login storm over the ten sample accounts: connect, username,
//! password, logout, with every other user online to hear the presence
//! notices. Figures are wall-clock on this machine; for repeatable counts run
//! it under `valgrind --tool=callgrind` and read the instruction total.

use std::hint::black_box;
use std::time::Instant as Clock;

use natter_core::framer::LineFramer;
use natter_core::limits::FRAME_MAX;
use natter_core::protocol::{self, ClientFrame};
use natter_core::{Config, ConnId, Hub, Instant};

/// Takes every ready connection's bytes as the server does, and counts them.
struct Encoder {
    buf: [u8; 2 * (FRAME_MAX + 1)],
    frames: u64,
    bytes: u64,
}

impl Encoder {
    fn drain(&mut self, hub: &mut Hub, now: Instant) {
        while let Some(conn) = hub.poll_ready() {
            loop {
                let sent = hub.poll_transmit(conn, now, &mut self.buf);
                if sent.len == 0 {
                    break;
                }
                let bytes = black_box(&self.buf[..sent.len]);
                self.frames += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
                self.bytes += sent.len as u64;
            }
        }
    }
}

const PEER: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

use crate::CREDENTIALS;

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

/// Runs `rounds` logins and logouts and prints the figures.
pub fn run(rounds: u64) {
    let mut hub = Hub::new(Config::new(60_000, 120_000));
    let accounts: Vec<(&str, &str)> = CREDENTIALS
        .lines()
        .filter_map(|line| line.split_once(' '))
        .collect();
    for &(name, password) in &accounts {
        if hub.add_account(name, password).is_err() {
            eprintln!("natter-bench: could not add {name}");
            std::process::exit(1);
        }
    }
    let mut out = Encoder {
        buf: [0; 2 * (FRAME_MAX + 1)],
        frames: 0,
        bytes: 0,
    };
    let mut framer = LineFramer::new();
    // Nine users stay online; the tenth logs in and out, round after round.
    let mut now = Instant(0);
    for (name, password) in &accounts[1..] {
        let Ok(conn) = hub.connect(now, PEER) else {
            return;
        };
        out.drain(&mut hub, now);
        let login = format!(
            "{{\"Username\":{{\"name\":\"{name}\"}}}}\n{{\"Password\":{{\"password\":\"{password}\"}}}}\n"
        );
        feed(&mut hub, &mut out, &mut framer, conn, login.as_bytes(), now);
    }
    let session = b"{\"Username\":{\"name\":\"hans\"}}\n{\"Password\":{\"password\":\"falcon*solo\"}}\n{\"Logout\":{}}\n";
    let (frames_before, bytes_before) = (out.frames, out.bytes);
    let started = Clock::now();
    let mut received = 0;
    for round in 0..rounds {
        now = Instant(round);
        let Ok(conn) = hub.connect(now, PEER) else {
            return;
        };
        out.drain(&mut hub, now);
        received += feed(&mut hub, &mut out, &mut framer, conn, session, now);
    }
    let elapsed = started.elapsed();
    let sent = out.frames - frames_before;
    let per_frame = elapsed.as_nanos() as f64 / (received + sent) as f64;
    println!("rounds                {rounds}");
    println!(
        "frames in / out       {received} / {sent} ({} bytes out)",
        out.bytes - bytes_before
    );
    println!("elapsed               {:.3} s", elapsed.as_secs_f64());
    println!(
        "login+logout rounds/s {:.0}",
        rounds as f64 / elapsed.as_secs_f64()
    );
    println!("ns per frame (in+out) {per_frame:.0}");
    println!("size_of::<Hub>()      {} bytes", std::mem::size_of::<Hub>());
}
