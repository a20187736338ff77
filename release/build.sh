#!/usr/bin/env bash
# Builds the portable release binary — the one to copy to a jump host — and proves it:
#   - glibc 2.17 or newer is enough (RHEL/CentOS 7, SLES 12, Debian 8, Ubuntu 14.04 on):
#     linked by `cargo zigbuild` against glibc 2.17's symbols; `objdump -T` must show no
#     GLIBC_ version above 2.17;
#   - OpenSSL and zlib are compiled in (Cargo.toml: ssh2's vendored-openssl, libz-sys's
#     static): `ldd` must list no libssl, libcrypto or libz;
#   - libssh2's SHA-1 algorithms are compiled in (.cargo/config.toml's CFLAGS, for
#     `legacy_algorithms = true`): `nm` must find them in the libssh2.a linked in;
#   - it runs: `--version`, and the README's live migration on the simulated site.
# Needs: a Rust toolchain, cargo-zigbuild (`cargo install cargo-zigbuild`) and zig
# (`pip install ziglang`, or zig on PATH), perl and make (OpenSSL's build).
# Writes dist/hascript-<version>-x86_64-linux-glibc<version> and its .sha256.
# Usage: release/build.sh            (GLIBC=2.28 release/build.sh for another floor)
set -euo pipefail
cd "$(dirname "$0")/.."

glibc=${GLIBC:-2.17}
triple=x86_64-unknown-linux-gnu
target_dir=${CARGO_TARGET_DIR:-target}

die() { echo "release/build.sh: $*" >&2; exit 1; }

command -v cargo-zigbuild >/dev/null || die "cargo-zigbuild is missing: cargo install cargo-zigbuild"
if ! command -v zig >/dev/null && ! python3 -m ziglang version >/dev/null 2>&1; then
  die "zig is missing: pip install ziglang (or put zig on PATH)"
fi
for t in ldd objdump nm perl make; do
  command -v "$t" >/dev/null || die "$t is missing (binutils, libc-bin, perl, make)"
done

cargo zigbuild --release --locked --target "$triple.$glibc"
bin=$target_dir/$triple/release/hascript
[ -x "$bin" ] || die "no binary at $bin"

fail=0
check() { # check OK|FAIL what
  printf '%-4s %s\n' "$1" "$2"
  [ "$1" = ok ] || fail=1
}

# 1. No dynamic OpenSSL or zlib.
deps=$(ldd "$bin" 2>&1) || die "ldd $bin failed: $deps"
echo "ldd $bin:"
printf '%s\n' "$deps" | sed 's/^/    /'
if printf '%s\n' "$deps" | grep -Eq 'lib(ssl|crypto|z)\.so'; then
  check FAIL "libssl/libcrypto/libz are loaded at run time"
else
  check ok "no libssl, libcrypto or libz loaded at run time"
fi

# 2. The newest glibc symbol version it needs.
max=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
[ -n "$max" ] || die "objdump -T $bin lists no GLIBC_ symbol version"
if [ "$(printf '%s\n%s\n' "$max" "$glibc" | sort -V | tail -n 1)" = "$glibc" ]; then
  check ok "newest glibc symbol version: GLIBC_$max (at most $glibc)"
else
  check FAIL "newest glibc symbol version: GLIBC_$max (above $glibc)"
  objdump -T "$bin" | grep -E "GLIBC_$max\b" | sed 's/^/    /' >&2
fi

# 3. libssh2 built with the SHA-1 algorithms that `legacy_algorithms = true` allows. The
#    linked binary has no symbol table (zig strips it): look in the libssh2.a it was linked
#    from (the newest of this target's builds).
lib=$(ls -t "$target_dir/$triple"/release/build/libssh2-sys-*/out/build/libssh2.a 2>/dev/null | head -n 1)
syms=$( [ -n "$lib" ] && nm "$lib" 2>/dev/null || true)
if printf '%s\n' "$syms" | grep -qw kex_method_diffie_hellman_group14_sha1 &&
   printf '%s\n' "$syms" | grep -qw hostkey_method_ssh_rsa; then
  check ok "libssh2 has diffie-hellman-group14-sha1 and ssh-rsa (legacy_algorithms): $lib"
else
  check FAIL "libssh2 lacks the SHA-1 algorithms (${lib:-no libssh2.a found}): was CFLAGS (.cargo/config.toml) overridden?"
fi

# 4. It runs.
version=$("$bin" --version) && check ok "runs: $version" || check FAIL "$bin --version failed"
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
if XDG_STATE_HOME=$state "$bin" run ldoms/live-migration --sim -p guest=guest2 -p target=cd3 \
    >"$state/out" 2>&1; then
  check ok "ldoms/live-migration on the simulated site: exit 0"
else
  check FAIL "ldoms/live-migration on the simulated site failed:"
  sed 's/^/    /' "$state/out" >&2
fi

[ "$fail" = 0 ] || die "the binary failed a check: not copied to dist/"
mkdir -p dist
name=hascript-$(echo "$version" | awk '{print $2}')-x86_64-linux-glibc$glibc
cp "$bin" "dist/$name"
(cd dist && sha256sum "$name" >"$name.sha256")
echo "dist/$name ($(du -h "dist/$name" | cut -f1)), dist/$name.sha256"
