# Sourced by ci/test.sh and ci/release.sh with the rustup targets they build
# for. Installs what those builds use, judged by the files the build reads
# (a cross compiler is not enough: the link needs the target's C library
# too), then proves every Linux target by building and running a tiny
# program with the project's own .cargo/config.toml (linker and runner), so
# a broken toolchain fails here in seconds, naming the package to install.

# What a target's build uses, as "path-or-command package" pairs; "host"
# is what the tests use whatever the target: tmux is the terminal that the
# client's terminal tests (tests/terminal.rs) run it in.
setup_needs() {
    case "$1" in
        host)
            echo "tmux tmux" ;;
        aarch64-unknown-linux-gnu)
            echo "aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu"
            echo "/usr/aarch64-linux-gnu/lib/Scrt1.o libc6-dev-arm64-cross"
            echo "/usr/aarch64-linux-gnu/lib/libc.so.6 libc6-arm64-cross"
            echo "qemu-aarch64 qemu-user" ;;
        aarch64-unknown-linux-musl)
            # musl targets bring their own C library; gcc only links.
            echo "aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu"
            echo "qemu-aarch64 qemu-user" ;;
        armv7-unknown-linux-gnueabihf)
            echo "arm-linux-gnueabihf-gcc gcc-arm-linux-gnueabihf"
            echo "arm-linux-gnueabihf-objdump binutils-arm-linux-gnueabihf"
            echo "/usr/arm-linux-gnueabihf/lib/Scrt1.o libc6-dev-armhf-cross"
            echo "/usr/arm-linux-gnueabihf/lib/libc.so.6 libc6-armhf-cross"
            echo "qemu-arm qemu-user" ;;
    esac
}

# The packages whose file or command is missing, for the targets given.
setup_missing() {
    local target need package
    for target in "$@"; do
        while read -r need package; do
            [ -n "$need" ] || continue
            case "$need" in
                /*) [ -e "$need" ] ;;
                *) command -v "$need" >/dev/null ;;
            esac || echo "$package"
        done <<<"$(setup_needs "$target")"
    done | sort -u
}

setup_fail() {
    printf '\nci/setup.sh: %s\n' "$*" >&2
    exit 1
}

# Builds and runs a hello-world for $1 through cargo, with the project's
# .cargo/config.toml, and checks what it printed.
setup_prove() {
    local target=$1 probe="$PWD/target/ci-toolchain-probe" out
    mkdir -p "$probe/src"
    printf '[package]\nname = "probe"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n' \
        >"$probe/Cargo.toml"
    printf 'fn main() { println!("probe ok on {}", std::env::consts::ARCH); }\n' \
        >"$probe/src/main.rs"
    if out=$(cd "$probe" && cargo run -q --target "$target" --target-dir "$probe/target" 2>&1) \
        && grep -q '^probe ok on' <<<"$out"; then
        echo "$target: links and runs ($out)"
    else
        setup_fail "$target: a hello-world does not link or run. The build needs: \
$(setup_needs "$target" | awk '{print $2}' | sort -u | tr '\n' ' ')(apt-get install them), \
and rustup target $target. cargo said:
$out"
    fi
}

missing=$(setup_missing host "$@")
if [ -n "$missing" ]; then
    echo "installing" $missing
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    # A third-party source that cannot be reached must not stop the run;
    # the install below fails loudly if Debian's own cannot.
    $SUDO apt-get update -qq || echo "apt-get update reported errors; trying the install anyway"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing \
        >/dev/null || setup_fail "apt-get install $missing failed"
    still=$(setup_missing host "$@")
    [ -z "$still" ] || setup_fail "still missing after apt-get install:" $still
fi

installed=$(rustup target list --installed)
for target in "$@"; do
    grep -qx "$target" <<<"$installed" || rustup target add "$target" \
        || setup_fail "rustup target add $target failed"
done
# rust-src: ci/release.sh rebuilds the standard library (-Z build-std).
for component in clippy rustfmt rust-src; do
    rustup component list --installed | grep -q "^$component" || rustup component add "$component" \
        || setup_fail "rustup component add $component failed"
done
rustc --version

for target in "$@"; do
    case "$target" in
        *-linux-*) setup_prove "$target" ;;
    esac
done
