//! The cost of a password hash at the server's settings: what a login
//! with a plain password (rewritten hashed), a login with a hashed one and
//! a new account each spend on the server's worker thread.

use std::time::Instant;

use natter_core::credential::Secret;
use natter_server::password::Hasher;

/// Hashes and checks `rounds` times at `memory_kib` KiB and `passes`
/// passes, and prints the median of each.
pub fn run(memory_kib: u32, passes: u32, rounds: usize) -> Result<(), String> {
    let hasher = Hasher::new(memory_kib, passes)
        .ok_or(format!("argon2 refuses m={memory_kib} KiB, t={passes}"))?;
    let (mut hashing, mut checking) = (Vec::new(), Vec::new());
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        let hash = hasher.hash("wise@!man")?;
        hashing.push(start.elapsed());
        let secret = Secret::Hashed(hash);
        let start = Instant::now();
        if !hasher.check(&secret, "wise@!man") {
            return Err("a hash did not check its own password".into());
        }
        checking.push(start.elapsed());
    }
    let median = |times: &mut Vec<std::time::Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64() * 1000.0
    };
    println!(
        "argon2id m={memory_kib} KiB t={passes} p=1 on {}: hash {:.1} ms, check {:.1} ms (median of {})",
        std::env::consts::ARCH,
        median(&mut hashing),
        median(&mut checking),
        hashing.len()
    );
    Ok(())
}
