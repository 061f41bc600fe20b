"""An idle client costs next to nothing (issue 29): a recv() on a quiet connection is not
woken by polling slices, Ctrl-C still interrupts it, and no thread of tradewire's outlives
the last client. Wake-up figures are measured by benches/wakeups.py (docs/BENCHMARKS.md);
the bound here is generous on purpose."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

from conftest import assert_ctrl_c_ends, spawn_ready
from tradewire.testing import DaemonServer

WAITER = textwrap.dedent(
    """
    import sys, tradewire
    client = tradewire.Client(sys.argv[1], heartbeat_interval=60, heartbeat_timeout=180)
    client.start()
    ev = client.recv(timeout=10)
    assert ev is not None and ev.kind == "connected", ev
    print("READY", flush=True)
    try:
        while True:
            client.recv()
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
        sys.exit(3)
    """
)


def switches(pid: int) -> int:
    """Context switches of every thread of process `pid` so far."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.endswith("ctxt_switches:\t0\n"):
                        continue
                    if "ctxt_switches" in line:
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def test_a_recv_on_a_quiet_connection_is_not_woken_and_ctrl_c_still_interrupts_it() -> None:
    with DaemonServer() as server:
        proc = spawn_ready([WAITER, server.url])
        try:
            time.sleep(1.0)
            before = switches(proc.pid)
            time.sleep(5.0)
            woken = (switches(proc.pid) - before) / 5.0
            # Before issue 29: about 31 a second (50 ms slices, hand-over looks, the log
            # thread). No heartbeat falls in the window. A generous bound, not a benchmark.
            assert woken < 2.0, f"{woken} wake-ups per second"
        finally:
            assert_ctrl_c_ends(proc)


THREADS = textwrap.dedent(
    """
    import os, sys, time, tradewire

    def threads():
        names = []
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/comm") as f:
                    names.append(f.read().strip())
            except OSError:
                pass
        return [n for n in names if n.startswith("tradewire")]

    def wait_until(pred, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    first = tradewire.Client(sys.argv[1])
    second = tradewire.Client(sys.argv[1])
    first.start()
    second.start()
    assert first.recv(timeout=10).kind == "connected"
    assert second.recv(timeout=10).kind == "connected"
    assert wait_until(lambda: "tradewire-log" in threads()), threads()
    first.close()
    assert "tradewire-log" in threads(), "a client is still open"
    second.close()
    # close() joins the I/O threads; the log forwarder stops with the last client.
    assert wait_until(lambda: not threads()), threads()
    # A new client starts it again.
    third = tradewire.Client(sys.argv[1])
    third.start()
    assert wait_until(lambda: "tradewire-log" in threads()), threads()
    del third
    assert wait_until(lambda: not threads()), threads()
    print("OK", flush=True)
    """
)


def test_no_thread_of_tradewires_outlives_the_last_client() -> None:
    # In a process of its own: the clients of other tests live in this one.
    with DaemonServer() as server:
        done = subprocess.run(
            [sys.executable, "-c", THREADS, server.url],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0 and "OK" in done.stdout, (done.stdout, done.stderr)
