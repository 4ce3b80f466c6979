# Sourced by ci/test.sh and ci/release.sh: installs what the build needs,
# if missing. Debian's cross linkers and qemu-user, and rustup targets and
# components. Arguments: the rustup targets wanted.
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
for target in "$@"; do
    grep -qx "$target" <<<"$installed" || rustup target add "$target"
done
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustc --version; qemu-aarch64 --version | head -n1
