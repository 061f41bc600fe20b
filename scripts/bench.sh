#!/usr/bin/env bash
# Benchmarks tradewire (Rust, C, Python) against the clients users would otherwise pick.
#
#   scripts/bench.sh            the full run (~30 min): docs/bench/results.json, docs/bench/benchmarks.png
#                               and the tables in docs/BENCHMARKS.md are rewritten
#   scripts/bench.sh --smoke    every client once, briefly: checks that all of them run (< 20 s once built)
#   scripts/bench.sh --help     the harness's options (--runs, --clients, --skip, --max-load, --max-stall, ...)
#   scripts/bench.sh --render docs/bench/results.json   redraw the tables and the plot from saved results
#   scripts/bench.sh --bridge [--runs N --duration S]    the Redis bridge: firehose -> tradewire bridge
#                               -> redis-server -> an XREADGROUP consumer (benches/bridge.py),
#                               docs/bench/bridge-results.json
#
# It builds what it runs (the Rust clients with release, libtradewire and the Python extension
# with dist; in benches/.target so that other builds in target/ do not disturb it), creates benches/.venv with the peer clients (benches/requirements.txt), then runs
# benches/run.py. The server runs on CPU 0 and each client on CPU 1 (taskset). A measurement
# run refuses to start when the 1-minute load average is above 1.0 (--max-load or
# BENCH_MAX_LOAD to change that): other work on the machine would distort the figures; and
# when bench-noise finds the host taking more than 10 % of a CPU (--max-stall).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf 'bench: %s\n' "$*" >&2; }

SMOKE=0
RENDER=0
BRIDGE=0
MAX_LOAD="${BENCH_MAX_LOAD:-1.0}"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[$i]}" in
        --smoke) SMOKE=1 ;;
        --max-load) MAX_LOAD="${args[$((i + 1))]:-$MAX_LOAD}" ;;
        --max-load=*) MAX_LOAD="${args[$i]#--max-load=}" ;;
        -h|--help) exec python3 benches/run.py --help ;;
        --render|--render=*) RENDER=1 ;;
        --bridge) BRIDGE=1 ;;
    esac
done

load1() { cut -d' ' -f1 /proc/loadavg; }
above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
if [[ $SMOKE == 0 && $RENDER == 0 ]] && above "$(load1)" "$MAX_LOAD"; then
    log "refusing to run: the 1-minute load average is $(load1), above $MAX_LOAD (other work on this machine would distort the figures; wait, or pass --max-load)"
    exit 3
fi
for tool in taskset gcc python3 cargo; do
    command -v "$tool" >/dev/null || { log "missing $tool (Debian: apt-get install util-linux gcc python3-venv)"; exit 2; }
done
if [[ $(nproc) -lt 2 ]]; then
    log "needs 2 CPUs (server and client pinned apart); this machine has $(nproc)"
    exit 2
fi

VENV="$ROOT/benches/.venv"
PY="$VENV/bin/python"
if [[ ! -x $PY ]]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
fi
STAMP="$VENV/.requirements"
if ! cmp -s benches/requirements.txt "$STAMP"; then
    log "installing the peer clients and matplotlib (benches/requirements.txt)"
    "$PY" -m pip install --disable-pip-version-check -q -r benches/requirements.txt
    cp benches/requirements.txt "$STAMP"
fi

if [[ $RENDER == 1 ]]; then
    # Redraw tables and plot from saved results: nothing to build or measure.
    exec "$PY" benches/run.py "$@"
fi

export CARGO_TARGET_DIR="$ROOT/benches/.target"
if [[ $BRIDGE == 1 ]]; then
    command -v redis-server >/dev/null || { log "missing redis-server (scripts/setup.sh installs it)"; exit 2; }
    log "building: bench server and the tradewire command (release)"
    cargo build --release --quiet -p tradewire-bench -p tradewire-cli
    export BENCH_TARGET_DIR="$CARGO_TARGET_DIR"
    bridge_args=()
    skip=0
    for a in "$@"; do
        if ((skip)); then skip=0; continue; fi
        case "$a" in
            --bridge|--max-load=*) ;;
            --max-load) skip=1 ;;
            *) bridge_args+=("$a") ;;
        esac
    done
    exec "$PY" benches/bridge.py "${bridge_args[@]}"
fi
start=$SECONDS
# The Rust clients as a Rust application builds them by default (release); libtradewire and
# the Python extension as we ship them (the dist profile, Cargo.toml).
log "building: bench server and Rust clients (release), libtradewire and the Python extension (dist)"
cargo build --release --quiet -p tradewire-bench
make -s lib
# Built apart so that its serde_json features do not change the others' build.
PYO3_PYTHON="$PY" cargo build --profile dist --quiet -p tradewire-python
BUILD="$ROOT/benches/.build"
mkdir -p "$BUILD/py/tradewire"
cp python/tradewire/*.py python/tradewire/py.typed "$BUILD/py/tradewire/"
cp "$CARGO_TARGET_DIR/dist/lib_native.so" "$BUILD/py/tradewire/_native.abi3.so"
gcc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude benches/c/tw_bench.c \
    -L"$CARGO_TARGET_DIR/dist" -ltradewire -Wl,-rpath,"$CARGO_TARGET_DIR/dist" -o "$BUILD/tw_bench"
log "built in $((SECONDS - start)) s"

if [[ $SMOKE == 0 ]] && above "$(load1)" "$MAX_LOAD"; then
    # The build itself raises the load average; give it two minutes to settle.
    for _ in $(seq 24); do
        above "$(load1)" "$MAX_LOAD" || break
        log "waiting for the load average ($(load1)) to fall to $MAX_LOAD after the build"
        sleep 5
    done
fi
export BENCH_TARGET_DIR="$CARGO_TARGET_DIR"
exec "$PY" benches/run.py "$@"
