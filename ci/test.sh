#!/usr/bin/env bash
# natter's whole test run, the README's test command and what CI runs.
# Installs what it needs (Debian cross linkers, qemu-user, rustup targets),
# then: fmt, clippy, every test on the host, natter-core on bare metal, every
# test again on aarch64 and armv7 under qemu-user, release builds for the
# three Linux targets with their sizes. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nci/test.sh: FAILED: %s\n' "$*" >&2; exit 1; }
trap 'fail "line $LINENO: $BASH_COMMAND"' ERR

ARM_TARGETS=(aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)
RELEASE_TARGETS=(x86_64-unknown-linux-gnu "${ARM_TARGETS[@]}")
BARE_METAL=thumbv7em-none-eabihf

step "tools"
missing=()
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
command -v arm-linux-gnueabihf-gcc >/dev/null || missing+=(gcc-arm-linux-gnueabihf)
command -v qemu-aarch64 >/dev/null && command -v qemu-arm >/dev/null || missing+=(qemu-user)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
installed=$(rustup target list --installed)
for target in "${ARM_TARGETS[@]}" "$BARE_METAL"; do
    grep -qx "$target" <<<"$installed" || rustup target add "$target"
done
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustc --version; qemu-aarch64 --version | head -n1

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests on the host"
cargo build --workspace --bins --locked
cargo test --workspace --locked
cargo test -p natter-core --test size --locked -q -- --nocapture

step "natter-core on bare metal ($BARE_METAL): no std, no alloc"
cargo build -p natter-core --target "$BARE_METAL" --locked

for target in "${ARM_TARGETS[@]}"; do
    step "tests on $target under qemu-user"
    cargo build --workspace --bins --target "$target" --locked
    cargo test --workspace --target "$target" --locked
    cargo test -p natter-core --test size --target "$target" --locked -q -- --nocapture
done

step "release binaries"
for target in "${RELEASE_TARGETS[@]}"; do
    cargo build --release --locked --target "$target" -p natter-server -p natter-client
done
printf '%-34s %-14s %10s\n' target binary bytes
for target in "${RELEASE_TARGETS[@]}"; do
    for binary in natter-server natter-client; do
        printf '%-34s %-14s %10s\n' "$target" "$binary" "$(stat -c %s "target/$target/release/$binary")"
    done
done

step "benchmark (natter-bench, x86_64): figures for docs/DESIGN.md"
cargo run --release --locked -q -p natter-bench -- 100000

printf '\nci/test.sh: all steps passed\n'
