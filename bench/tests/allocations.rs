//! The server's heap allocations per relayed message, counted exactly by
//! `natter-bench alloc` (a counting allocator around the real server, run
//! in process, after a warm-up): none. Every buffer on the relay path is
//! made once (the hub's tables, each connection's at accept), and the
//! event loop is a plain epoll loop (docs/DESIGN.md). A count is exact, so
//! this is a test, not a timing.

use std::process::Command;

#[test]
fn relaying_a_message_costs_the_server_no_allocation_of_its_own() {
    let messages = 10_000;
    let bench = env!("CARGO_BIN_EXE_natter-bench");
    // Under qemu-user (the ARM test runs), the binary beside this test is
    // ARM too: run it through the emulator, which finds its libraries in
    // the inherited QEMU_LD_PREFIX.
    let mut command = match std::env::var_os("QEMU_LD_PREFIX") {
        Some(_) if cfg!(target_arch = "aarch64") => Command::new("qemu-aarch64"),
        Some(_) if cfg!(target_arch = "arm") => Command::new("qemu-arm"),
        _ => Command::new(bench),
    };
    if command.get_program() != bench {
        command.arg(bench);
    }
    let output = command
        .args(["alloc", &messages.to_string()])
        .output()
        .expect("run natter-bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "natter-bench alloc failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let count: u64 = stdout
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {stdout:?}"));
    assert_eq!(
        count, 0,
        "{count} allocations for {messages} relayed messages: something on \
         the relay path allocates again"
    );
}
