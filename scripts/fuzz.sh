#!/usr/bin/env bash
# Fuzzes every parser of untrusted input with cargo-fuzz (libFuzzer, nightly toolchain), one
# target at a time, then minimises each corpus into fuzz/corpus/<target>/ (committed; the
# test command replays it on stable: core/tests/fuzz_corpus.rs). Minimising may drop an
# input that found a bug: copy each such input into fuzz/regressions/<target>/ by hand.
#
#   [FUZZ_JOBS=n] ./scripts/fuzz.sh [seconds-per-target] [target...]   (default 60 s, every target, one at a time)
#
# A real campaign is an hour per target (docs/RELIABILITY.md, "Fuzzing"):
#   ./scripts/fuzz.sh 3600
# Built without a sanitizer (-s none: the parsers are safe Rust) with debug assertions and
# overflow checks (-a). Limits: each input at most -max_len bytes, each run under -timeout
# seconds (no input may take more than linear time), the process under -rss_limit_mb, and
# no single allocation over 1 MiB while a target runs (fuzz/src/lib.rs). Crashes are kept
# in fuzz/artifacts/<target>/ and make the script fail; logs go to fuzz/logs/<target>.log.
# Runs niced, one target at a time unless FUZZ_JOBS says otherwise: the machine is shared.
# Installs cargo-fuzz if missing.
# Never pause a running fuzzer (SIGSTOP/SIGCONT, a suspended shell): libFuzzer measures
# -timeout and -max_total_time in wall-clock time, so the input it was running when paused
# is reported as a timeout when it resumes. To free the machine, let the chunk end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECS="${1:-60}"
shift || true
ALL=(frame_stream frames_vs_tungstenite inflate inflate_vs_flate2 sockjs_frame json_envelope
  json_envelope_vs_serde account_prefilter token_answer proxy_replies record_reader config_json config_url)
TARGETS=("${@:-${ALL[@]}}")
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
BUILD=(-O -a -s none)
# Byte streams may hold a whole frame or message at the targets' largest limit (16 KiB) and
# a proxy answer past its 16 KiB header limit; texts are short.
max_len() {
  case "$1" in
    frame_stream | frames_vs_tungstenite | inflate | inflate_vs_flate2 | proxy_replies) echo 20000 ;;
    *) echo 4096 ;;
  esac
}
cd "$ROOT/fuzz"
mkdir -p logs
# One target: fuzz it for SECS seconds, then minimise its corpus. Its messages start with its
# name, so that those of targets running at once can be told apart.
fuzz_one() {
  local target="$1" status=0
  echo "fuzz: $target for ${SECS}s, from $(date -u +%H:%M:%S) UTC" >&2
  mkdir -p "corpus/$target"
  local LIMITS=(-max_len="$(max_len "$target")" -timeout=2 -rss_limit_mb=256)
  # The inputs that once found a bug (fuzz/regressions/, kept by hand) seed the run too.
  local SEEDS=()
  [ -d "regressions/$target" ] && SEEDS=("regressions/$target")
  # libFuzzer's output goes straight to the target's own log (not `-jobs`, whose log is a
  # shared fuzz-0.log), so that targets may run at once, one per core.
  nice -n 10 cargo +nightly fuzz run "${BUILD[@]}" "$target" "corpus/$target" "${SEEDS[@]}" -- \
    "${LIMITS[@]}" -max_total_time="$SECS" -print_final_stats=1 >"logs/$target.log" 2>&1 \
    || status=$?
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs)" \
    "logs/$target.log" | sed "s/^/fuzz: $target: /" >&2 || true
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $target FAILED (exit $status) at $(date -u +%H:%M:%S) UTC: see fuzz/logs/$target.log and fuzz/artifacts/$target/" >&2
    return 1
  fi
  echo "fuzz: $target ended at $(date -u +%H:%M:%S) UTC; minimising its corpus" >&2
  nice -n 10 cargo +nightly fuzz cmin "${BUILD[@]}" "$target" "corpus/$target" -- "${LIMITS[@]}" \
    >"logs/$target.cmin.log" 2>&1
  echo "fuzz: $target corpus: $(find "corpus/$target" -type f | wc -l) files," \
    "$(($(find "corpus/$target" -type f -exec cat {} + | wc -c) / 1024)) KiB of inputs" >&2
}
# FUZZ_JOBS targets at a time (default 1; 2 on a 2-core machine given to the campaign
# halves its length). A failed target does not stop the others; the script fails at the end.
JOBS="${FUZZ_JOBS:-1}"
case "$JOBS" in '' | *[!0-9]* | 0) echo "fuzz: FUZZ_JOBS must be a number of targets at a time, 1 or more (got '$JOBS')" >&2; exit 2 ;; esac
failed=0
running=0
for target in "${TARGETS[@]}"; do
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$target" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: at least one target FAILED (above)" >&2
  exit 1
fi
echo "fuzz: no crash in any target" >&2
