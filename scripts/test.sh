#!/usr/bin/env bash
# Runs every test of tradewire: Rust (unit, scenarios, doc tests), C, Python, and the
# examples of the READMEs (scripts/test-docs.sh).
#
#   ./scripts/test.sh
#
# On a fresh Debian machine it first installs what the tests need (scripts/setup.sh:
# Debian packages, a Python venv with the peer servers' packages, npm packages).
# Exits non-zero if anything fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n== %s\n' "$*" >&2; }

step "setup"
./scripts/setup.sh
# Scenario tests that need a peer server (Python websockets, Node ws) fail instead of skipping.
export TRADEWIRE_REQUIRE_PEERS=1

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "the published crates: declared rust-version, documentation, package contents"
./scripts/check-msrv.sh
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p tradewire -p tradewire-testkit
# Packs both crates and builds them from the packages (about 25 s with target/ warm: the
# dependencies are reused); --allow-dirty so that it also runs on uncommitted work.
cargo publish --quiet --dry-run --allow-dirty -p tradewire -p tradewire-testkit

step "Rust tests"
if cargo nextest --version >/dev/null 2>&1; then
  # One process per test: thread and socket counts in the leak tests are exact.
  cargo nextest run --workspace --no-fail-fast
  step "Rust scenarios again without inline_reads (only the I/O thread reads the socket)"
  TRADEWIRE_TEST_INLINE_READS=0 cargo nextest run -p tradewire-scenarios --no-fail-fast
else
  echo "cargo-nextest not found: using cargo test (leak checks are skipped)" >&2
  cargo test --workspace --no-fail-fast
  TRADEWIRE_TEST_INLINE_READS=0 cargo test -p tradewire-scenarios --no-fail-fast
fi
cargo test --workspace --doc --quiet

if [ -x scripts/test-c.sh ]; then
  step "C tests"
  ./scripts/test-c.sh
fi

step "Autobahn TestSuite (case groups 1-10, and part of 12-13: compression; skipped, and says so, without Python 2.7)"
AUTOBAHN_PROFILE=dev ./scripts/autobahn.sh

step "Python wheel: scripts/dist.sh, then installed without Rust (tests/install/wheel.sh)"
wheel="$(./scripts/dist.sh)"
tests/install/wheel.sh "$wheel"

if [ -x scripts/test-python.sh ]; then
  step "Python tests (on the wheel just built: the extension is built once)"
  TRADEWIRE_WHEEL="$wheel" ./scripts/test-python.sh
fi

step "Documents: every README example run as written, links and figures checked"
./scripts/test-docs.sh

step "all tests passed"
