"""1,000 create/start/close cycles leave no thread, file descriptor or memory behind (issue 8)."""

from __future__ import annotations

import os

import tradewire
from tradewire.testing import DaemonServer

from conftest import wait_until

CYCLES = 1000


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _cycle(url: str) -> None:
    client = tradewire.Client(url, preset="daemon", account_id=123)
    client.start()
    client.close()


def test_create_close_cycles_leave_nothing_behind() -> None:
    server = DaemonServer()
    for _ in range(50):  # warm-up: allocator pools, lazily started helper threads
        _cycle(server.url)
    threads, fds, rss = _threads(), _fds(), _rss_kib()
    for _ in range(CYCLES):
        _cycle(server.url)
    assert wait_until(lambda: _threads() <= threads), f"threads {threads} -> {_threads()}"
    assert wait_until(lambda: _fds() <= fds), f"fds {fds} -> {_fds()}"
    growth = _rss_kib() - rss
    print(f"lifecycle: {CYCLES} cycles: threads {threads} -> {_threads()}, fds {fds} -> {_fds()}, RSS +{growth} KiB")
    assert growth < 20 * 1024, f"RSS grew by {growth} KiB over {CYCLES} cycles"
