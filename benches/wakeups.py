#!/usr/bin/env python3
"""How often an idle client wakes its process (issue 29): one client on an idle connection,
the application waiting in recv(), in a callback, or not at all.

    benches/wakeups.py [--window 120] [--settle 3] [--heartbeat 30] MODE [MODE...]

MODE is one of
    py-recv           Python: client.recv() (timeout=None) in a loop
    py-callback       Python: a callback set, the main thread in time.sleep()
    py-nothing        Python: client started, the main thread in time.sleep()
    rust-recv:PATH    a Rust program at PATH that takes a URL and loops on Client::recv()
                      (benches/rust/src/bin/wait.rs, bench-wait)
    c-listen:PATH     examples/c/listen at PATH (daemon preset, account 123), waiting in
                      tw_client_next_event(TW_NO_TIMEOUT); its heartbeat is the preset's
                      10 s, so give --heartbeat 10

The server is tradewire.testing's daemon server (in this process), which sends nothing. The
client runs in a child process; after `--settle` seconds the script reads the context switches
(voluntary + involuntary) of every thread of the child from /proc/PID/task/*/status, waits
`--window` seconds and reads them again. Each switch of a sleeping thread is one wake-up. The
heartbeat (a WebSocket ping every `--heartbeat` seconds, its pong, the timers around it) is
the connection's own cost; the issue's budget is 0.25 wake-ups per second beyond it.

Prints one JSON line per mode: wake-ups per second in all, per thread name, and the
heartbeats sent in the window. Needs Linux (/proc) and the tradewire Python package.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import tradewire
from tradewire.testing import DaemonServer

PY_CLIENT = """
import sys, time, tradewire
url, mode, hb = sys.argv[1], sys.argv[2], float(sys.argv[3])
client = tradewire.Client(url, heartbeat_interval=hb, heartbeat_timeout=3 * hb)
if mode == "py-callback":
    client.set_callback(lambda ev: None)
client.start()
print("READY", flush=True)
if mode == "py-recv":
    while True:
        client.recv()
else:
    while True:
        time.sleep(3600)
"""


def switches(pid: int) -> dict[str, int]:
    """Context switches per thread name (summed over threads of the same name)."""
    out: dict[str, int] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                fields = dict(
                    line.split(":", 1) for line in f.read().splitlines() if ":" in line
                )
        except OSError:
            continue  # the thread ended meanwhile
        n = int(fields["voluntary_ctxt_switches"]) + int(fields["nonvoluntary_ctxt_switches"])
        out[name] = out.get(name, 0) + n
    return out


def command(mode: str, url: str, heartbeat: float) -> list[str]:
    if mode.startswith("py-"):
        return [sys.executable, "-c", PY_CLIENT, url, mode, str(heartbeat)]
    kind, _, path = mode.partition(":")
    if kind == "rust-recv" and path:
        return [path, url]
    if kind == "c-listen" and path:
        # examples/c/listen takes PRESET ACCOUNT URL; the daemon preset pings every 10 s
        # (give --heartbeat 10 with this mode).
        return [path, "daemon", "123", url]
    raise SystemExit(f"unknown mode {mode!r}")


def measure(mode: str, server: DaemonServer, args: argparse.Namespace) -> dict[str, object]:
    env = dict(os.environ)
    # The Rust and C programs read the heartbeat from the environment (bench-wait), or
    # keep their preset's (listen: 10 s).
    env["TW_HEARTBEAT"] = str(args.heartbeat)
    proc = subprocess.Popen(
        command(mode, server.url, args.heartbeat),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        if mode.startswith("py-") or mode.startswith("rust-"):
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if line != "READY":
                raise SystemExit(f"{mode}: no READY line (got {line!r})")
        if not server.wait_for_connections(1, 10):
            raise SystemExit(f"{mode}: the client did not connect")
        time.sleep(args.settle)
        before = switches(proc.pid)
        t0 = time.monotonic()
        time.sleep(args.window)
        after = switches(proc.pid)
        elapsed = time.monotonic() - t0
    finally:
        proc.kill()
        proc.wait()
    per_thread = {
        name: round((after.get(name, 0) - before.get(name, 0)) / elapsed, 3)
        for name in sorted(set(before) | set(after))
    }
    total = sum(after.values()) - sum(before.values())
    return {
        "mode": mode,
        "window_s": round(elapsed, 1),
        "heartbeat_s": args.heartbeat,
        "heartbeats_in_window": int(elapsed // args.heartbeat),
        "wakeups_per_s": round(total / elapsed, 3),
        "per_thread": per_thread,
        "tradewire": tradewire.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=120.0)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--heartbeat", type=float, default=30.0)
    parser.add_argument("modes", nargs="+")
    args = parser.parse_args()
    with DaemonServer() as server:
        for mode in args.modes:
            print(json.dumps(measure(mode, server, args)), flush=True)


if __name__ == "__main__":
    main()
