#!/usr/bin/env bash
# Fuzzes the decoders with cargo-fuzz (libFuzzer, nightly toolchain):
#   ./scripts/fuzz.sh [seconds-per-target]     (default 60)
# Targets: sockjs_frame (SockJS frame decoder), json_envelope (JSON envelope parser),
# config_json (configuration parser). Installs cargo-fuzz if missing. Crashes are kept in
# fuzz/artifacts/<target>/ and make the script fail.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECS="${1:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
cd "$ROOT/fuzz"
for target in sockjs_frame json_envelope config_json; do
  echo "fuzz: $target for ${SECS}s" >&2
  mkdir -p "corpus/$target"
  cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$SECS" -rss_limit_mb=2048
done
echo "fuzz: no crash in any target" >&2
