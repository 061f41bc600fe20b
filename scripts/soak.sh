#!/usr/bin/env bash
# Long-running reliability measurements of the tradewire client (release build), against the
# testkit on 127.0.0.1 only. Prints the figures that docs/RELIABILITY.md records and exits
# non-zero if a guarantee was not met.
#
#   ./scripts/soak.sh                 everything (about 6 minutes on 2 cores)
#   ./scripts/soak.sh faults --cycles 200
#   ./scripts/soak.sh slow --seconds 30 --policy drop_oldest
#   ./scripts/soak.sh close --runs 30 | lifecycle --cycles 1000 | herd | half-open | huge-frame
#
# The short versions of these run in the test command as scenario tests
# (tests/rust/reliability_*.rs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ "$#" -eq 0 ]; then
  set -- all
fi
cargo build --quiet --release -p tradewire-soak --bin tradewire-soak
exec "$ROOT/target/release/tradewire-soak" "$@"
