#!/usr/bin/env bash
# Checks what can be checked of the declared minimum Rust version (`rust-version` in
# Cargo.toml's [workspace.package]) without that toolchain:
#
#   1. every crate the workspace's libraries and programs build with (normal and build
#      dependencies in Cargo.lock, as resolved) declares a rust-version no newer than ours;
#      crates that declare none are listed, as unverified;
#   2. no standard-library API newer than ours is used: clippy's `incompatible_msrv` lint
#      reads our rust-version, and `cargo clippy -- -D warnings` (scripts/test.sh) fails on it.
#      This script runs it on the published crates only when asked (--clippy), since the test
#      command already does.
#
#   ./scripts/check-msrv.sh [--clippy]
#
# What this does NOT verify: language features stabilised after our version (a build with
# that toolchain would), and the dev-dependencies (proptest needs a newer Rust: the tests are
# not part of the promise). README, "Rust", says so. With the toolchain installed
# (`rustup toolchain install 1.85`), `cargo +1.85 build -p tradewire -p tradewire-testkit`
# is the real check; this script runs it when that toolchain is present.
# Exits non-zero when a dependency needs a newer Rust than declared.
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
trap 'rm -f "${TMPDIR:-/tmp}/tradewire-msrv-tree.$$"' EXIT
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

if rustup run "$MSRV" rustc --version >/dev/null 2>&1; then
    log "toolchain $MSRV present: cargo +$MSRV check -p tradewire -p tradewire-testkit"
    cargo "+$MSRV" check --quiet -p tradewire -p tradewire-testkit
else
    log "toolchain $MSRV not installed: no build with it (see the top of this script)"
fi

if [[ ${1:-} == --clippy ]]; then
    log "cargo clippy -p tradewire -p tradewire-testkit (incompatible_msrv)"
    cargo clippy --quiet -p tradewire -p tradewire-testkit -- -D warnings -D clippy::incompatible_msrv
fi
log "ok"
