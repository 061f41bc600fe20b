#!/usr/bin/env bash
# benches/instructions.sh LABEL MATCH SERVER_BIN CLIENT_CMD...: one firehose run of a bench
# client under callgrind (the URL and "firehose" are appended to CLIENT_CMD), served by
# SERVER_BIN (bench-server); prints the instructions the client executed per event sent.
# Instruction counts do not depend on which CPU runs the client or on timer noise, so an A/B
# of two builds shows differences of 1-2 % that wall-clock runs on a shared VM cannot.
set -euo pipefail
LABEL="$1"; MATCH="$2"; SRVBIN="$3"; shift 3
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
coproc SRV { "$SRVBIN" --mode firehose --warmup 0.2 --duration 8 --match "$MATCH"; }
read -r line <&"${SRV[0]}"
PORT=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['port'])" "$line")
valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out.%p" --dump-instr=no --trace-children=no \
  "$@" "ws://127.0.0.1:$PORT" firehose >"$OUT/client.json" 2>"$OUT/vg.err" || { tail -5 "$OUT/vg.err"; exit 1; }
wait 2>/dev/null || true
IR=$(cat "$OUT"/cg.out.* | grep -E "^(summary|totals):" | head -1 | awk '{print $2}')
python3 - "$LABEL" "$IR" "$OUT/client.json" <<'PY'
import json, sys
label, ir, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rec = json.loads(open(path).read().strip().splitlines()[-1])
sent = rec["sent"]
print(f"{label} sent={sent} matched={rec['matched']} Ir={ir} Ir/event={ir/sent:.1f}")
PY
