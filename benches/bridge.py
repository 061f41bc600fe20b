#!/usr/bin/env python3
"""The bridge benchmark: bench-server's firehose -> `tradewire bridge` -> a local redis-server
-> a consumer reading with XREADGROUP (and XACK) in the same run.

    cargo build --release -p tradewire-cli -p tradewire-bench
    .venv/bin/python benches/bridge.py                    # 3 runs of 5 s, writes the results
    .venv/bin/python benches/bridge.py --runs 1 --duration 2 --no-write   # a quick look

Needs redis-server (scripts/setup.sh installs Debian's) and redis-py with hiredis in the
interpreter (benches/requirements.txt; without hiredis the consumer, parsing in pure Python,
is the bottleneck at about a third of the rate). The binaries are taken from
$BENCH_TARGET_DIR/release (default: target/release). Everything runs on this machine's two
cores together: the server, the bridge (its I/O thread and its writer thread), redis-server
and the consumer; nothing is pinned, as a deployment would not be.

Each run: a fresh redis-server on a free port (--save '' --appendonly no), a consumer group
created first, the bench server's firehose (every event written: --match 100, no account
filter) for --warmup then --duration seconds. Figures, each over the measured part (between
the bench_begin and bench_end entries):
  into_redis   events/s appended to Redis: measured events / the time between the two
               markers' entry ids (Redis's clock, milliseconds)
  consumed     events/s the consumer took: the same events / the time between reading the
               two markers
  lost         events the server sent in the measured part that the consumer did not see
               (must be 0: the bridge's overflow policy is block)
Results: docs/bench/bridge-results.json; the table goes into docs/BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("BENCH_TARGET_DIR", ROOT / "target")) / "release"
STREAM = "bench"
GROUP = "bench-consumers"


def log(msg: str) -> None:
    print(f"bridge-bench: {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (and its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


CONSUMER = r"""
import json, sys, time, redis
port, stream, group, limit = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
r = redis.Redis(port=port)
begin = end = None
n = 0
deadline = time.monotonic() + limit
while end is None and time.monotonic() < deadline:
    got = r.xreadgroup(group, "c1", {stream: ">"}, count=5000, block=1000)
    for _, entries in got:
        ids = []
        for eid, f in entries:
            ids.append(eid)
            if f.get(b"kind") != b"message":
                continue
            t = f.get(b"type")
            if t == b"bench_begin":
                begin = (time.monotonic(), eid.decode())
            elif t == b"bench_end":
                end = (time.monotonic(), eid.decode(), json.loads(f[b"data"])["data"]["sent"])
            elif begin is not None and end is None:
                n += 1
        r.xack(stream, group, *ids)
print(json.dumps({"begin": begin, "end": end, "measured": n}))
"""


def id_ms(entry_id: str) -> int:
    return int(entry_id.split("-")[0])


def one_run(duration: float, warmup: float, perf: str | None, extra: list[str], perf_of: str) -> dict:
    port = free_port()
    redis_p = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    procs = [redis_p]
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        subprocess.run(["redis-cli", "-p", str(port), "XGROUP", "CREATE", STREAM, GROUP, "0", "MKSTREAM"],
                       check=True, stdout=subprocess.DEVNULL)
        server = subprocess.Popen(
            [str(TARGET / "bench-server"), "--mode", "firehose", "--warmup", str(warmup),
             "--duration", str(duration), "--match", "100"],
            stdout=subprocess.PIPE, text=True)
        procs.append(server)
        ws_port = json.loads(server.stdout.readline())["port"]
        consumer = subprocess.Popen(
            [sys.executable, "-c", CONSUMER, str(port), STREAM, GROUP, str(duration * 20 + 60)],
            stdout=subprocess.PIPE, text=True)
        procs.append(consumer)
        bridge = subprocess.Popen(
            [str(TARGET / "tradewire"), "bridge", f"ws://127.0.0.1:{ws_port}", "--preset", "daemon",
             "--to", f"redis://127.0.0.1:{port}/0", "--stream", STREAM, "--maxlen", "5000000", "-q", *extra],
            stderr=subprocess.PIPE, text=True)
        procs.append(bridge)
        recorder = None
        if perf:
            pid = bridge.pid if perf_of == "bridge" else redis_p.pid
            recorder = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-o", perf, "-p", str(pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        out = json.loads(consumer.stdout.read())
        wall = time.monotonic() - started
        bridge_cpu = cpu_seconds(bridge.pid)
        redis_cpu = cpu_seconds(redis_p.pid)
        if recorder:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(timeout=60)
        bridge.send_signal(signal.SIGINT)
        bridge_err = bridge.communicate(timeout=30)[1]
        if bridge.returncode != 0:
            raise SystemExit(f"the bridge exited {bridge.returncode}: {bridge_err}")
        stats = json.loads(server.stdout.read().strip().splitlines()[-1])
        server.wait(timeout=30)
        if out["begin"] is None or out["end"] is None:
            raise SystemExit(f"the consumer did not see both markers: {out}")
        (t0, id0), (t1, id1, sent) = out["begin"], out["end"]
        n = out["measured"]
        # Every event the bridge handled: the warm-up, the measured part and the markers.
        total = stats["sent"] + stats["warmup_sent"] + 2
        return {
            "sent": sent,
            "measured": n,
            "lost": sent - n,
            "into_redis": round(n / max((id_ms(id1) - id_ms(id0)) / 1000, 1e-3)),
            "consumed": round(n / max(t1 - t0, 1e-6)),
            "wall_s": round(wall, 2),
            "bridge_cpu_s": round(bridge_cpu, 2),
            "redis_cpu_s": round(redis_cpu, 2),
            "bridge_cpu_us_per_event": round(bridge_cpu / total * 1e6, 2),
            "redis_cpu_us_per_event": round(redis_cpu / total * 1e6, 2),
            "server_stats": stats,
        }
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--out", default=str(ROOT / "docs" / "bench" / "bridge-results.json"))
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--bridge-args", default="", help="more arguments for tradewire bridge (split on spaces)")
    ap.add_argument("--perf-record", metavar="FILE", help="perf record -g a process into FILE (one run)")
    ap.add_argument("--perf-of", choices=["bridge", "redis"], default="bridge", help="the process --perf-record records")
    a = ap.parse_args()
    for exe in ["bench-server", "tradewire"]:
        if not (TARGET / exe).exists():
            raise SystemExit(f"missing {TARGET / exe}: cargo build --release -p tradewire-cli -p tradewire-bench")
    load_before = os.getloadavg()[0]
    runs = []
    for i in range(a.runs):
        r = one_run(a.duration, a.warmup, a.perf_record, a.bridge_args.split(), a.perf_of)
        log(f"run {i + 1}: into Redis {r['into_redis']:,}/s, consumed {r['consumed']:,}/s, "
            f"lost {r['lost']}, CPU per event: bridge {r['bridge_cpu_us_per_event']} µs, "
            f"redis-server {r['redis_cpu_us_per_event']} µs")
        runs.append(r)
    keys = ["into_redis", "consumed", "lost", "bridge_cpu_us_per_event", "redis_cpu_us_per_event"]
    summary = {k: statistics.median(r[k] for r in runs) for k in keys}
    result = {
        "command": "python benches/bridge.py " + " ".join(sys.argv[1:]),
        "date_end": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_before": load_before, "load_after": os.getloadavg()[0]},
        "median": summary,
        "runs": runs,
    }
    print(json.dumps(result, indent=2))
    if not a.no_write:
        Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
        log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
