//! `natter-bench alloc`: heap allocations per relayed message in the real
//! server, run in this process. A counting global allocator counts every
//! allocation made by a thread that is not one of the benchmark's own
//! clients (the server's thread and async-io's); after a warm-up, hans and
//! yoda relay messages through the server and the count is read before and
//! after.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crate::CREDENTIALS;
use crate::net::{hans_and_yoda, ping_pong_of, wait_for_port};

/// Counts the allocations of threads not marked as clients.
pub struct Counting;

static COUNTED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread is the benchmark's, not the server's.
    static CLIENT: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as the benchmark's: its allocations do not count.
pub fn not_counted() {
    CLIENT.with(|client| client.set(true));
}

// SAFETY: every call is passed to the system allocator unchanged; the
// counter is an atomic, and the thread-local flag is const-initialised
// (no allocation, no destructor).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count() {
    if !CLIENT.try_with(Cell::get).unwrap_or(true) {
        COUNTED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Relays `messages` after a warm-up; returns the server's allocations
/// during them.
pub fn run(messages: u64) -> Result<u64, String> {
    not_counted();
    let dir = std::env::temp_dir().join(format!("natter-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("credentials.txt"), CREDENTIALS).map_err(|e| e.to_string())?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let config = natter_server::Config {
        port,
        block_duration: Duration::from_secs(60),
        timeout: Duration::from_secs(600),
        bind: "127.0.0.1".into(),
        credentials: dir.join("credentials.txt"),
        debug: false,
        log_logins: false,
        // The engine is measured, not the flood limit.
        commands_per_second: Some(0),
        login_timeout: std::time::Duration::from_millis(natter_core::limits::LOGIN_MS),
        per_address: natter_core::limits::PROMPTS_PER_ADDRESS,
        signup: natter_core::signup::SignUp::Closed,
        hasher: natter_server::password::Hasher::default(),
        capacity: natter_core::Capacity::default(),
        hash_threads: 1,
        // As deployed: every turn's letters go to the journal.
        data_dir: Some(dir.clone()),
        compact_at: natter_server::journal_thread::COMPACT_AT,
        busy_poll: std::time::Duration::from_micros(natter_server::busy_poll::DEFAULT_US),
    };
    thread::Builder::new()
        .name("natter-server".into())
        .spawn(move || natter_server::run(config))
        .map_err(|e| e.to_string())?;
    wait_for_port(port)?;
    // Warm up: logins, buffers and queues grow to their working sizes.
    let (mut hans, mut yoda) = hans_and_yoda(port).map_err(|e| e.to_string())?;
    ping_pong_of(&mut hans, &mut yoda, 2_000).map_err(|e| e.to_string())?;
    // Their first logins' hashes are written into the credentials file a
    // moment later (server/src/worker.rs): that is the logins' work, not
    // the relay's.
    let credentials = dir.join("credentials.txt");
    let hashed = || {
        std::fs::read_to_string(&credentials)
            .is_ok_and(|text| text.lines().take(2).all(|line| line.contains("$argon2id$")))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !hashed() {
        if std::time::Instant::now() > deadline {
            return Err("hans's and yoda's hashes never reached the credentials file".into());
        }
        thread::sleep(Duration::from_millis(20));
    }
    let before = COUNTED.load(Ordering::Relaxed);
    // Each round trip relays two messages.
    ping_pong_of(&mut hans, &mut yoda, messages / 2).map_err(|e| e.to_string())?;
    let after = COUNTED.load(Ordering::Relaxed);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(after - before)
}
