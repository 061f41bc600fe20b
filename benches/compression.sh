#!/usr/bin/env bash
# benches/compression.sh SERVER_BIN CLIENT_BIN [MATCH] [RUNS]: the firehose with
# permessage-deflate on and off, interleaved. The server is `bench-server --deflate` both
# times; "off" is the client with `--compression false` (it does not offer the extension).
# Prints one line per run: events per second the client took, bytes on the wire per event
# (frames of the measured part, headers included), and the client's CPU time.
set -euo pipefail
SRVBIN="$1"; CLIBIN="$2"; MATCH="${3:-25}"; RUNS="${4:-3}"
run() {
  local label="$1"; shift
  coproc SRV { "$SRVBIN" --mode firehose --warmup 1 --duration 4 --match "$MATCH" --deflate; }
  local line port
  read -r line <&"${SRV[0]}"
  port=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['port'])" "$line")
  local client
  client=$("$CLIBIN" "ws://127.0.0.1:$port" firehose "$@" | tail -1)
  local stats
  read -r stats <&"${SRV[0]}"
  wait "$SRV_PID" 2>/dev/null || true
  python3 - "$label" "$client" "$stats" <<'PY'
import json, sys
label, client, stats = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
sent = stats["sent"]
cpu = client["cpu_user_s"] + client["cpu_sys_s"]
print(f"{label:3} deflate={str(stats['deflate']).lower():5} sent={sent} "
      f"events/s={sent / client['elapsed_s']:,.0f} "
      f"wire bytes/event={stats['wire_bytes'] / sent:.1f} "
      f"(payload {stats['event_bytes']['mean']:.1f}) client CPU us/event={cpu * 1e6 / sent:.2f}")
PY
}
for _ in $(seq "$RUNS"); do
  run on
  run off --compression false
done
