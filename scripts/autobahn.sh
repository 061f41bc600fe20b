#!/usr/bin/env bash
# Autobahn TestSuite conformance: the fuzzing server against tradewire's echo client.
#
#   ./scripts/autobahn.sh            cases 1-10 (tests/autobahn/fuzzingserver.json)
#   AUTOBAHN_CASES='1.*,2.*' ./scripts/autobahn.sh    a subset
#   AUTOBAHN_PORT=9101 ./scripts/autobahn.sh          another port (default 9001)
#   AUTOBAHN_PROFILE=dev ./scripts/autobahn.sh        debug build of the echo client (the test
#                                                     command uses it to reuse its build)
#   AUTOBAHN_TIMEOUT=3600 AUTOBAHN_CASE_TIMEOUT=600 ./scripts/autobahn.sh
#                                                     longer limits for the whole run (default
#                                                     900 s) and per case (default 120 s): the
#                                                     big compression cases (12.*.15-18,
#                                                     13.*.15-18) on a loaded machine
#
# Needs Python 2.7 (the fuzzing server runs on nothing newer): $PYTHON27, else
# ~/.pyenv/versions/2.7.18/bin/python, else python2.7 on PATH. Without it the script says it
# is skipped and exits 0. It installs the suite once (idempotently) into .tools/autobahn with
# the versions pinned in tests/autobahn/requirements.txt, builds `tradewire-autobahn-echo`
# (release), runs every case, writes the reports to target/autobahn/reports (index.html) and
# prints a table per case group. Exits non-zero if any case FAILED. See docs/AUTOBAHN.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf 'autobahn: %s\n' "$*" >&2; }

PY27="${PYTHON27:-}"
if [ -z "$PY27" ]; then
  for candidate in "$HOME/.pyenv/versions/2.7.18/bin/python" "$(command -v python2.7 || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then PY27="$candidate"; break; fi
  done
fi
if [ -z "$PY27" ] || ! "$PY27" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (2, 7) else 1)' 2>/dev/null; then
  say "SKIPPED: Python 2.7 not found (set PYTHON27=/path/to/python2.7); the Autobahn fuzzing server needs it"
  exit 0
fi

SITE="$ROOT/.tools/autobahn"
REQS="$ROOT/tests/autobahn/requirements.txt"
STAMP="$SITE/.installed-$(sha256sum "$REQS" | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
  say "installing the Autobahn TestSuite into .tools/autobahn (once)"
  rm -rf "$SITE.tmp"
  "$PY27" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$SITE.tmp" -r "$REQS"
  rm -rf "$SITE"
  mv "$SITE.tmp" "$SITE"
  touch "$STAMP"
fi

PROFILE="${AUTOBAHN_PROFILE:-release}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
say "building tradewire-autobahn-echo ($PROFILE)"
cargo build --quiet --profile "$PROFILE" -p tradewire-soak --bin tradewire-autobahn-echo
if [ "$PROFILE" = dev ]; then ECHO="$TARGET/debug/tradewire-autobahn-echo"; else ECHO="$TARGET/$PROFILE/tradewire-autobahn-echo"; fi

PORT="${AUTOBAHN_PORT:-9001}"
OUT="$TARGET/autobahn"
rm -rf "$OUT/reports"
mkdir -p "$OUT"
# The committed config, with the port, output folder and cases of this run.
python3 - "$ROOT/tests/autobahn/fuzzingserver.json" "$OUT/fuzzingserver.json" "$PORT" "$OUT/reports" "${AUTOBAHN_CASES:-}" <<'EOF'
import json, sys
src, dst, port, outdir, cases = sys.argv[1:6]
spec = json.load(open(src))
spec["url"] = "ws://127.0.0.1:%s" % port
spec["outdir"] = outdir
if cases:
    spec["cases"] = [c.strip() for c in cases.split(",") if c.strip()]
json.dump(spec, open(dst, "w"), indent=2)
EOF

say "fuzzing server on 127.0.0.1:$PORT (log: target/autobahn/server.log)"
AUTOBAHN_SITE="$SITE" "$PY27" "$ROOT/tests/autobahn/wstest.py" \
  -m fuzzingserver -s "$OUT/fuzzingserver.json" -u 0 >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT

ready=""
for _ in $(seq 1 150); do
  if ! kill -0 "$SERVER" 2>/dev/null; then break; fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then ready=1; break; fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  say "the fuzzing server did not start (port $PORT in use?):"
  tail -n 20 "$OUT/server.log" >&2
  exit 1
fi

start=$(date +%s)
say "running the cases (log: target/autobahn/client.log)"
if ! timeout "${AUTOBAHN_TIMEOUT:-900}" "$ECHO" --url "ws://127.0.0.1:$PORT" --agent tradewire \
  --case-timeout "${AUTOBAHN_CASE_TIMEOUT:-120}" >"$OUT/client.log" 2>&1; then
  say "the echo client failed:"
  tail -n 20 "$OUT/client.log" >&2
  exit 1
fi
say "cases done in $(( $(date +%s) - start )) s; report: target/autobahn/reports/index.html"
python3 "$ROOT/tests/autobahn/summarize.py" "$OUT/reports/index.json" tradewire
