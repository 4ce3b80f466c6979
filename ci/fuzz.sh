#!/usr/bin/env bash
# A short run of every fuzz target in fuzz/ (issue 25) from the committed
# corpus: proves the targets build and that nothing the corpus reaches, or
# a few seconds of mutation beyond it, crashes or finds a mismatch. Long
# runs are by hand (fuzz/README.md). Needs a nightly toolchain and
# cargo-fuzz; without them it says so and passes, so ci/test.sh machines
# without nightly are not held up.
#
#   ci/fuzz.sh                    # every target, 30 s each
#   FUZZ_SECONDS=300 ci/fuzz.sh framer journal
set -euo pipefail
cd "$(dirname "$0")/.."

ENABLE="rustup toolchain install nightly && cargo install cargo-fuzz"
skip() {
    printf 'ci/fuzz.sh: fuzzing skipped: %s (to enable: %s)\n' "$1" "$ENABLE"
    exit 0
}
fail() { printf '\nci/fuzz.sh: FAILED: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null 2>&1 || skip "cargo is not installed"
cargo +nightly --version >/dev/null 2>&1 || skip "no nightly toolchain"
cargo +nightly fuzz --version >/dev/null 2>&1 || skip "cargo-fuzz is not installed"

SECONDS_PER_TARGET=${FUZZ_SECONDS:-30}
# No sanitizer by default: natter-core forbids unsafe code, and without
# ASan each target runs several times faster. FUZZ_SANITIZER=address for it.
SANITIZER=${FUZZ_SANITIZER:-none}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(framer client_frame server_frame journal keys)

# The longest input worth trying: the framer needs lines past FRAME_MAX
# (4096), a journal several records, a frame FRAME_MAX; keys are at most
# 32 bytes, and longer inputs only slow the key decoder's target.
max_len() {
    case "$1" in
        framer) echo 12400 ;;
        journal) echo 8192 ;;
        keys) echo 1024 ;;
        *) echo 4096 ;;
    esac
}

# The build is bounded too: a stuck build must not hold CI.
printf '==> cargo fuzz build (sanitizer: %s)\n' "$SANITIZER"
rc=0
timeout --kill-after=30 1800 cargo +nightly fuzz build -s "$SANITIZER" || rc=$?
[ "$rc" -eq 0 ] || fail "the fuzz targets did not build (exit $rc)"

# New inputs go to a scratch directory, the first corpus libFuzzer is
# given (the only one it writes); the committed corpus is only read.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

for target in "${TARGETS[@]}"; do
    [ -d "fuzz/corpus/$target" ] || fail "no corpus fuzz/corpus/$target (a target of fuzz/Cargo.toml?)"
    printf '==> %s: %s s\n' "$target" "$SECONDS_PER_TARGET"
    mkdir -p "$scratch/$target"
    log="$scratch/$target.log"
    rc=0
    # libFuzzer stops itself at max_total_time; timeout is the hard bound
    # should it not (a hang in loading the corpus, a stuck process).
    timeout --kill-after=10 $((SECONDS_PER_TARGET + 120)) \
        cargo +nightly fuzz run -s "$SANITIZER" "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$target")" \
        -timeout=10 -print_final_stats=1 >"$log" 2>&1 || rc=$?
    case "$rc" in
        0)
            grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec' "$log" || true
            ;;
        124 | 137)
            tail -n 20 "$log" >&2
            fail "$target ran over $((SECONDS_PER_TARGET + 120)) s and was stopped"
            ;;
        *)
            tail -n 60 "$log" >&2
            fail "$target found a crash, a mismatch or a hang (exit $rc); the input is in" \
                "fuzz/artifacts/$target/; replay it with:" \
                "cargo +nightly fuzz run -s $SANITIZER $target fuzz/artifacts/$target/<file>"
            ;;
    esac
done
printf '\nci/fuzz.sh: every target ran %s s without a crash\n' "$SECONDS_PER_TARGET"
