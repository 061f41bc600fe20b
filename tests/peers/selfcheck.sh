#!/usr/bin/env bash
# Self-check of the peer servers (run ./scripts/setup.sh first).
#
#   ./tests/peers/selfcheck.sh
#
# 1. Starts each server, checks its `READY <port>` line, sends count and quit, checks the
#    replies and the exit status.
# 2. Runs selfcheck.py: every control command against a real WebSocket client.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="$ROOT/.venv/bin/python"

[[ -x $PY ]] || { echo "selfcheck: $PY missing: run ./scripts/setup.sh" >&2; exit 1; }
[[ -d $HERE/node_modules/ws ]] || { echo "selfcheck: tests/peers/node_modules missing: run ./scripts/setup.sh" >&2; exit 1; }

smoke() { # name, command...
    local name=$1; shift
    local out rc=0
    out="$(printf '%s\n' '{"cmd":"count"}' '{"cmd":"quit"}' | timeout 10 "$@")" || rc=$?
    local expect_re='^READY [0-9]+
COUNT 0
OK 0$'
    if [[ $rc -ne 0 || ! $out =~ $expect_re ]]; then
        echo "selfcheck: $name FAILED (exit $rc), output:" >&2
        printf '%s\n' "$out" >&2
        exit 1
    fi
    echo "selfcheck: $name smoke ok ($(head -1 <<<"$out"))" >&2
}

smoke daemon_server.py "$PY" "$HERE/daemon_server.py" --port 0 --host 127.0.0.1
smoke agent_server.js node "$HERE/agent_server.js" --port 0 --host 127.0.0.1
smoke metis_server.js node "$HERE/metis_server.js" --port 0 --host 127.0.0.1

timeout 120 "$PY" "$HERE/selfcheck.py"
