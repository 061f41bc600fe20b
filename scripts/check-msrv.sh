#!/usr/bin/env bash
# Checks the declared minimum Rust version (`rust-version` in Cargo.toml's [workspace.package]):
#
#   1. every crate the workspace's libraries and programs build with (normal and build
#      dependencies in Cargo.lock, as resolved) declares a rust-version no newer than ours;
#      crates that declare none are listed, as unverified;
#   2. the crates users build compile with that Rust: `cargo check --locked` run by Rust 1.85's
#      own cargo and rustc, on tradewire (all features), tradewire-testkit, the C library
#      (tradewire-ffi) and the command (tradewire-cli) and the Python extension
#      (tradewire-python), in target/msrv. That catches language features, standard-library
#      APIs and dependencies (Cargo.lock as committed) newer than 1.85. It checks (type-checks
#      and borrow-checks, runs build scripts) but does not generate code;
#   3. with --clippy, clippy's `incompatible_msrv` lint on the published crates
#      (`cargo clippy -- -D warnings`, which scripts/test.sh runs, includes it).
#
#   ./scripts/check-msrv.sh [--clippy]
#
# The toolchain for step 2: rustup's, when `rustup run 1.85` works; otherwise Debian 12's
# rustc-web and cargo-web 1.85.0 (the .deb packages pinned below by SHA-256), downloaded
# from deb.debian.org without root and unpacked once into
# ${XDG_CACHE_HOME:-~/.cache}/tradewire/ (about 100 MB to download, 420 MB unpacked); later
# runs reuse it. It needs an x86_64 Linux with curl and dpkg-deb, and the system libraries
# scripts/setup.sh installs (libcurl, libssh2, libsqlite3 for cargo; libz3, libedit, libxml2
# for LLVM). Environment:
#   TRADEWIRE_MSRV_CACHE=DIR          where the toolchain is unpacked (default above)
#   TRADEWIRE_DEBIAN_MIRROR=URL       Debian mirror (default http://deb.debian.org/debian); when
#                                     bookworm's next point release replaces these packages,
#                                     snapshot.debian.org still serves them (tried second)
#   TRADEWIRE_MSRV_BUILD=0            skip step 2 (it then says so); without it, a toolchain
#                                     that cannot be had is an error, not a silent pass
#
# Not checked: the dev-dependencies and the tests (proptest needs a newer Rust: the tests
# are not part of the promise). README, "Rust", says so.
# Exits non-zero when a dependency declares a newer Rust than ours, or the check fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf 'check-msrv: %s\n' "$*" >&2; }

MSRV="$(sed -n '/^\[workspace.package\]/,/^\[/s/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"
[[ -n $MSRV ]] || { log "error: no rust-version in [workspace.package]"; exit 1; }
log "declared rust-version: $MSRV"

# The crates actually built (cargo tree; `cargo metadata` also lists optional dependencies
# that a weak feature such as ureq's `cookie_store?/serde_json` names but never enables), on
# every target platform, with their declared rust-version from `cargo metadata`.
cargo tree --workspace --all-features --locked -e normal,build --target all --prefix none -f '{p}' \
    | sed 's/ (.*//; s/ (\*)$//' | sort -u >"${TMPDIR:-/tmp}/tradewire-msrv-tree.$$"
FETCH_TMP=
trap 'rm -f "${TMPDIR:-/tmp}/tradewire-msrv-tree.$$"; [[ -z $FETCH_TMP ]] || rm -rf "$FETCH_TMP"' EXIT
cargo metadata --format-version 1 --locked | python3 -c '
import json, sys

msrv, tree = sys.argv[1], sys.argv[2]
def version(v):
    parts = [int(x) for x in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))

meta = json.load(sys.stdin)
members = {p["name"] for p in meta["packages"] if p["id"] in meta["workspace_members"]}
built = {tuple(line.split()[:2]) for line in open(tree) if line.strip()}
deps = [p for p in meta["packages"]
        if (p["name"], "v" + p["version"]) in built and p["name"] not in members]
newer = sorted((p["name"], p["version"], p["rust_version"]) for p in deps
               if p.get("rust_version") and version(p["rust_version"]) > version(msrv))
undeclared = sorted(p["name"] for p in deps if not p.get("rust_version"))
print(f"check-msrv: {len(deps)} dependencies built (all targets); "
      f"{len(deps) - len(undeclared)} declare a rust-version", file=sys.stderr)
print(f"check-msrv: unverified (no rust-version declared): {len(undeclared)}: "
      + ", ".join(undeclared), file=sys.stderr)
for name, ver, rv in newer:
    print(f"check-msrv: error: {name} {ver} needs Rust {rv} (> {msrv})", file=sys.stderr)
sys.exit(1 if newer else 0)
' "$MSRV" "${TMPDIR:-/tmp}/tradewire-msrv-tree.$$"
log "every declared rust-version is <= $MSRV"

# ---------------------------------------------------------------- the build with Rust $MSRV
# Debian 12 (bookworm) main's build of Rust 1.85.0, and the libraries its rustc and cargo load
# that a Debian system usually lacks: name, pool path, SHA-256, SHA-1 (snapshot.debian.org's
# key). `apt-cache show PACKAGE=VERSION` prints these fields.
DEB_RUST_VERSION=1.85.0
DEB_RUST_BUILD=1.85.0+dfsg3-1~deb12u3
DEBS=(
    "rustc-web pool/main/r/rustc-web/rustc-web_${DEB_RUST_BUILD}_amd64.deb ef797a56697a0b6a82c1d704119ccaa85ab3486ccf805472de46c31971346702 690a592f4975288878022e3781b4f7273c36a51c"
    "cargo-web pool/main/r/rustc-web/cargo-web_${DEB_RUST_BUILD}_amd64.deb 59e985e49ba0934ba8aabacd2c38cc394fefa621e9f96ed2c494cf2ed33449f4 746df04a83b84aebb4eb5771f1f74348b018731f"
    "libstd-rust-web-dev pool/main/r/rustc-web/libstd-rust-web-dev_${DEB_RUST_BUILD}_amd64.deb 5360a1aa03979ccc4cc91dd3d9bad1d5ff30f36d615ed01e2c5209c5e8ece21b 2fc05ff371b9ec48fefb45dda0a9a3dd0392561b"
    "libstd-rust-web-1.85 pool/main/r/rustc-web/libstd-rust-web-1.85_${DEB_RUST_BUILD}_amd64.deb c8b03bff73b2990b2a3e56b0cfb100eb4c70a9331f4232dc9783c9e50b1038be fa17ca531ae835f59d3ec0c408742a40910162d6"
    "libllvm19 pool/main/l/llvm-toolchain-19/libllvm19_19.1.7-3~deb12u1_amd64.deb 6edf3a8b28495cdba883d9760e0dca1a81983fc497a5f989dc64d0d96d23b4aa f1f309056606e91bd6471ee1d45e918d78706c30"
    "libhttp-parser2.9 pool/main/h/http-parser/libhttp-parser2.9_2.9.4-5_amd64.deb 98045b047b8f3ccfdd7930983797df3e316112e1cd4d161fc793260e31183b59 9bd5882461bc2b4b02340d7f296b3d41bb46d6f9"
    "libpcre3 pool/main/p/pcre3/libpcre3_8.39-15_amd64.deb 993ea623ce5b42d67f653f2faaa7ef15e7c9d72bfcb93e22a1eaff7aa3532303 b830136907c44585ff4071c0f493b54030eb5b6a"
)
MIRROR="${TRADEWIRE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${TRADEWIRE_MSRV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tradewire}"
TOOLCHAIN="$CACHE/rust-$DEB_RUST_BUILD"

# Downloads, verifies and unpacks the packages into $TOOLCHAIN (once: it is complete when
# $TOOLCHAIN/.complete exists). Unpacked beside it first, then renamed into place, so that an
# interrupted or concurrent run never leaves a half toolchain there.
fetch_debian_rust() {
    [[ -f $TOOLCHAIN/.complete ]] && return 0
    local tool entry name path sha256 sha1 tmp deb url ok
    for tool in curl dpkg-deb sha256sum; do
        command -v "$tool" >/dev/null 2>&1 || { log "error: $tool not found (needed to fetch Rust $DEB_RUST_VERSION)"; return 1; }
    done
    mkdir -p "$CACHE"
    # Without .complete it is not a toolchain this function finished: start over.
    [[ ! -e $TOOLCHAIN ]] || rm -rf "$TOOLCHAIN"
    tmp="$(mktemp -d "$CACHE/.rust-fetch.XXXXXX")"
    FETCH_TMP="$tmp"
    log "fetching Debian's Rust $DEB_RUST_BUILD (${#DEBS[@]} packages, about 100 MB) into $TOOLCHAIN"
    for entry in "${DEBS[@]}"; do
        read -r name path sha256 sha1 <<<"$entry"
        deb="$tmp/$name.deb"
        ok=0
        for url in "$MIRROR/$path" "https://snapshot.debian.org/file/$sha1"; do
            if curl -fsSL --retry 3 --connect-timeout 20 -o "$deb" "$url" \
                && [[ "$(sha256sum "$deb" | cut -d' ' -f1)" == "$sha256" ]]; then
                ok=1
                break
            fi
            log "could not fetch $name from $url (or its SHA-256 differs)"
        done
        ((ok)) || { rm -rf "$tmp"; log "error: no verified copy of $name"; return 1; }
        dpkg-deb -x "$deb" "$tmp/root"
        rm -f "$deb"
    done
    touch "$tmp/root/.complete"
    # Another run may have finished first: its copy is as good as ours.
    mv -T "$tmp/root" "$TOOLCHAIN" 2>/dev/null || [[ -f $TOOLCHAIN/.complete ]] \
        || { rm -rf "$tmp"; log "error: cannot move the toolchain into $TOOLCHAIN"; return 1; }
    rm -rf "$tmp"
}

# Runs a command (cargo, rustc) with Debian's toolchain first on PATH. Its rustc and cargo
# have no RPATH: they find librustc_driver, LLVM and the libraries fetched with them on
# LD_LIBRARY_PATH. RUSTC and PATH also give build scripts that run `rustc` this one.
debian_rust() {
    local lib="$TOOLCHAIN/usr/lib/x86_64-linux-gnu:$TOOLCHAIN/lib/x86_64-linux-gnu"
    env -u RUSTUP_TOOLCHAIN -u RUSTC_WRAPPER -u CARGO_BUILD_RUSTC_WRAPPER \
        LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PATH="$TOOLCHAIN/usr/bin:$PATH" \
        RUSTC="$TOOLCHAIN/usr/bin/rustc" RUSTDOC="$TOOLCHAIN/usr/bin/rustdoc" "$@"
}

if [[ ${TRADEWIRE_MSRV_BUILD:-1} == 0 ]]; then
    log "TRADEWIRE_MSRV_BUILD=0: no build with Rust $MSRV (only the declared versions were checked)"
else
    if command -v rustup >/dev/null 2>&1 && rustup run "$MSRV" rustc --version >/dev/null 2>&1; then
        MSRV_RUN=(rustup run "$MSRV")
    elif [[ $(uname -s) == Linux && $(uname -m) == x86_64 ]]; then
        fetch_debian_rust || { log "error: no Rust $MSRV to build with (TRADEWIRE_MSRV_BUILD=0 skips this step)"; exit 1; }
        # ldd lists what rustc and cargo load, transitively (LLVM's libraries too).
        missing="$(for bin in rustc cargo; do debian_rust ldd "$TOOLCHAIN/usr/bin/$bin"; done \
            | sed -n 's/^[[:space:]]*\([^[:space:]]*\) => not found.*/\1/p' | sort -u | tr '\n' ' ')"
        if [[ -n $missing ]]; then
            log "error: Rust $DEB_RUST_VERSION needs system libraries that are missing: ${missing}(./scripts/setup.sh installs them)"
            exit 1
        fi
        MSRV_RUN=(debian_rust)
    else
        log "error: no Rust $MSRV: rustup has none, and Debian's packages are for x86_64 Linux (rustup toolchain install $MSRV; TRADEWIRE_MSRV_BUILD=0 skips this step)"
        exit 1
    fi
    rustc_version="$("${MSRV_RUN[@]}" rustc --version)"
    # rust-version raised without the pins above: say so rather than check with the old Rust.
    [[ $rustc_version == "rustc $MSRV."* ]] || {
        log "error: rust-version is $MSRV but the toolchain is $rustc_version: update DEBS in this script"
        exit 1
    }
    # The crates users build, with all their features but tradewire-python's vendored-openssl
    # (it only builds OpenSSL from C source: minutes, and no Rust of ours).
    # --locked: the committed Cargo.lock, from which the C library, the wheel and the command
    # are built; a dependency there that needs a newer Rust fails here. (A Rust application
    # resolves its own versions: cargo's MSRV-aware resolver, 1.84+, keeps them compatible.)
    log "$rustc_version, $("${MSRV_RUN[@]}" cargo --version): cargo check --locked (target/msrv)"
    start=$SECONDS
    "${MSRV_RUN[@]}" cargo check --locked --quiet --target-dir "$ROOT/target/msrv" \
        -p tradewire -p tradewire-testkit -p tradewire-ffi -p tradewire-cli -p tradewire-python \
        --features tradewire/internals
    log "the crates compile with Rust $MSRV ($((SECONDS - start)) s)"
fi

if [[ ${1:-} == --clippy ]]; then
    log "cargo clippy -p tradewire -p tradewire-testkit (incompatible_msrv)"
    cargo clippy --quiet -p tradewire -p tradewire-testkit -- -D warnings -D clippy::incompatible_msrv
fi
log "ok"
