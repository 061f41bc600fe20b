#!/usr/bin/env bash
# Installs libtradewire into a temporary prefix with `make install` and builds against the
# prefix (not the build tree) the ways the README shows, each program running a short live
# session against the mock daemon (`tradewire mock-server`):
#   - C11, `pkg-config --cflags --libs tradewire`: linked to libtradewire.so.0 (the soname);
#   - C11, `pkg-config --static`: libtradewire.a, with nothing else from tradewire at run time;
#   - C++17, CMake `find_package(tradewire <version> EXACT)`: tradewire::tradewire and
#     tradewire::tradewire_static.
# Each program checks that tw_version(), TW_VERSION and TW_VERSION_MAJOR/MINOR/PATCH agree;
# this script checks them and `tradewire --version` against Cargo.toml's version, and the
# prefix's layout.
#
#   tests/install/c.sh          (run by scripts/test-c.sh)
#
# Needs cc, c++, make, pkg-config, cmake, readelf. Exits non-zero on the first failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/install"
cd "$ROOT"

log() { printf 'install-c: %s\n' "$*" >&2; }
die() { printf 'install-c: error: %s\n' "$*" >&2; exit 1; }

for tool in cc c++ make pkg-config cmake readelf; do
    command -v "$tool" >/dev/null || die "$tool is required (scripts/setup.sh installs cmake)"
done

TMP="$(mktemp -d)"
server=""
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
PREFIX="$TMP/prefix"
VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
MAJOR="${VERSION%%.*}"

log "make install PREFIX=<tmp>/prefix"
start=$SECONDS
make -s install PREFIX="$PREFIX" >/dev/null
log "installed in $((SECONDS - start)) s"

lib="$PREFIX/lib"
[[ -f $lib/libtradewire.so.$VERSION && ! -L $lib/libtradewire.so.$VERSION ]] || die "no $lib/libtradewire.so.$VERSION"
[[ $(readlink "$lib/libtradewire.so.$MAJOR") == "libtradewire.so.$VERSION" ]] || die "libtradewire.so.$MAJOR is not a link to libtradewire.so.$VERSION"
[[ $(readlink "$lib/libtradewire.so") == "libtradewire.so.$MAJOR" ]] || die "libtradewire.so is not a link to libtradewire.so.$MAJOR"
readelf -d "$lib/libtradewire.so.$VERSION" | grep -q "SONAME.*\[libtradewire.so.$MAJOR\]" \
    || die "the soname of libtradewire.so.$VERSION is not libtradewire.so.$MAJOR"
for f in lib/libtradewire.a include/tradewire.h lib/pkgconfig/tradewire.pc \
    lib/cmake/tradewire/tradewireConfig.cmake lib/cmake/tradewire/tradewireConfigVersion.cmake; do
    [[ -f $PREFIX/$f ]] || die "make install did not install $f"
done

log "starting tradewire mock-server --preset daemon"
cargo build --quiet --release -p tradewire-cli
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
cli_version="$("$target_dir/release/tradewire" --version)"
[[ $cli_version == "tradewire $VERSION" ]] || die "tradewire --version says '$cli_version', Cargo.toml $VERSION"
"$target_dir/release/tradewire" mock-server --preset daemon --port 0 --rate 50 \
    >"$TMP/server.out" 2>"$TMP/server.err" &
server=$!
for _ in $(seq 100); do
    url="$(head -n1 "$TMP/server.out")"
    [[ -n $url ]] && break
    sleep 0.1
done
[[ $url == ws://* ]] || die "the mock server printed no URL: $(cat "$TMP/server.err")"

# A program's run: its output must end with "ok" and show the expected versions.
session() {
    local what="$1"; shift
    local out
    out="$("$@" "$url")" || die "$what: the session failed:"$'\n'"$out"
    grep -qx "library=$VERSION header=$VERSION" <<<"$out" || die "$what: versions differ from $VERSION:"$'\n'"$out"
    [[ $(tail -n1 <<<"$out") == ok ]] || die "$what: no ok:"$'\n'"$out"
    log "$what: live session ok"
}
needs_tradewire() { readelf -d "$1" | grep NEEDED | grep -o 'libtradewire[^]]*' || true; }

export PKG_CONFIG_PATH="$lib/pkgconfig"
[[ $(pkg-config --modversion tradewire) == "$VERSION" ]] || die "pkg-config --modversion tradewire is not $VERSION"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -O1)

log "C, pkg-config --cflags --libs tradewire"
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
cc "${CFLAGS[@]}" "$HERE/session.c" -o "$TMP/c-shared" $(pkg-config --cflags --libs tradewire)
[[ $(needs_tradewire "$TMP/c-shared") == "libtradewire.so.$MAJOR" ]] \
    || die "the program does not load libtradewire by its soname: $(needs_tradewire "$TMP/c-shared")"
session "C (shared, pkg-config)" env LD_LIBRARY_PATH="$lib" "$TMP/c-shared"

log "C, pkg-config --static"
# shellcheck disable=SC2046
cc "${CFLAGS[@]}" "$HERE/session.c" -o "$TMP/c-static" $(pkg-config --cflags tradewire) \
    "$(pkg-config --variable=libdir tradewire)/libtradewire.a" \
    -Wl,--as-needed $(pkg-config --static --libs tradewire)
[[ -z $(needs_tradewire "$TMP/c-static") ]] || die "the static program still needs $(needs_tradewire "$TMP/c-static")"
session "C (static, pkg-config --static)" "$TMP/c-static"

log "C++17, CMake find_package(tradewire $VERSION EXACT)"
cmake -S "$HERE/cmake" -B "$TMP/cmake" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DTRADEWIRE_VERSION="$VERSION" -DCMAKE_BUILD_TYPE=Release >"$TMP/cmake.log" \
    || die "cmake configure failed:"$'\n'"$(cat "$TMP/cmake.log")"
cmake --build "$TMP/cmake" >>"$TMP/cmake.log" 2>&1 || die "cmake build failed:"$'\n'"$(cat "$TMP/cmake.log")"
[[ $(needs_tradewire "$TMP/cmake/session_shared") == "libtradewire.so.$MAJOR" ]] \
    || die "session_shared does not load libtradewire by its soname"
[[ -z $(needs_tradewire "$TMP/cmake/session_static") ]] || die "session_static needs libtradewire at run time"
# CMake gives the build-tree program an rpath to the prefix's lib directory.
session "C++ (shared, CMake)" "$TMP/cmake/session_shared"
session "C++ (static, CMake)" "$TMP/cmake/session_static"

log "ok: the installed prefix works with pkg-config and CMake (version $VERSION)"
