#!/usr/bin/env bash
# natter's whole test run, the README's test command and what CI runs.
# Installs what it needs (Debian cross linkers, qemu-user, rustup targets),
# then: fmt, clippy, every test on the host (the simulator's 10,000
# histories among them), natter-core on bare metal, every test again on
# aarch64 and armv7 under qemu-user, then ci/release.sh (release builds for
# the three Linux targets, smoke-tested, packed, with their sizes), a
# benchmark run and a short run of every fuzz target (ci/fuzz.sh, when a
# nightly toolchain and cargo-fuzz are there). Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nci/test.sh: FAILED: %s\n' "$*" >&2; exit 1; }
trap 'fail "line $LINENO: $BASH_COMMAND"' ERR

# No test may hold CI: a whole `cargo test` (its build included) that
# outlasts this is stopped, with its process group, and the run fails
# saying so. A full run under qemu takes about 5 minutes.
TEST_LIMIT=1200
bounded_test() {
    local rc=0
    timeout --kill-after=30 "$TEST_LIMIT" cargo test "$@" || rc=$?
    case "$rc" in
        0) ;;
        124 | 137) fail "cargo test $* ran over ${TEST_LIMIT}s and was stopped: a test hangs" ;;
        *) fail "cargo test $* failed (exit $rc)" ;;
    esac
}

ARM_TARGETS=(aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)
BARE_METAL=thumbv7em-none-eabihf

step "tools"
. ci/setup.sh "${ARM_TARGETS[@]}" "$BARE_METAL"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests on the host"
cargo build --workspace --bins --locked
bounded_test --workspace --locked
cargo test -p natter-core --test size --locked -q -- --nocapture

step "natter-core on bare metal ($BARE_METAL): no std, no alloc"
cargo build -p natter-core --target "$BARE_METAL" --locked

# Under qemu the simulator runs about ten times slower: fewer histories
# there, the same code as the host's 10,000.
QEMU_SIM_HISTORIES=1000
for target in "${ARM_TARGETS[@]}"; do
    step "tests on $target under qemu-user"
    cargo build --workspace --bins --target "$target" --locked
    NATTER_SIM_HISTORIES=$QEMU_SIM_HISTORIES bounded_test --workspace --target "$target" --locked
    cargo test -p natter-core --test size --target "$target" --locked -q -- --nocapture
done

step "release archives (ci/release.sh): build, smoke-test, pack, sizes"
ci/release.sh

step "benchmark (natter-bench, x86_64): figures for docs/DESIGN.md"
# Built apart: the bench turns on natter-core's testing feature, which the
# server it measures must not have.
cargo build --release --locked -q -p natter-server
cargo build --release --locked -q -p natter-bench
target/release/natter-bench hub 100000
target/release/natter-bench net --quick

step "fuzz targets, briefly (ci/fuzz.sh)"
ci/fuzz.sh

printf '\nci/test.sh: all steps passed\n'
