"""Fixtures: tradewire.testing servers and the third-party peer servers of tests/peers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from tradewire.testing import DaemonServer

PEERS = Path(__file__).resolve().parents[2] / "tests" / "peers"

# The Tradovate token file is on by default in the user's state directory ($XDG_STATE_HOME):
# every test's goes into a temporary one, never into the real home. Set before any client
# exists (test_tradovate_dropin.py looks there for the default file).
STATE_HOME = Path(tempfile.mkdtemp(prefix="tradewire-test-state-"))
os.environ["XDG_STATE_HOME"] = str(STATE_HOME)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Polls `predicate` until it returns something truthy (returned) or `timeout` passes
    (returns the last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def spawn_ready(args: list[str]) -> "subprocess.Popen[str]":
    """A child `python -c <args...>` once it printed READY (killed if it does not)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY", proc.communicate(timeout=10)
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        raise
    return proc


def assert_ctrl_c_ends(proc: "subprocess.Popen[str]") -> None:
    """Sends SIGINT to a child waiting in a tradewire call (its script catches
    KeyboardInterrupt, prints INTERRUPTED and exits with 3) and checks that it does so within
    5 s; the child is killed if it is still running."""
    try:
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert time.monotonic() - sent < 5
        assert proc.returncode == 3, (out, err)
        assert "INTERRUPTED" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


class Peer:
    """A peer server process driven over stdin: prints `READY <port>`, one reply line per
    JSON command."""

    def __init__(self, argv: list[str], name: str, env: Optional[dict[str, str]] = None) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=env,
        )
        line = self._readline(timeout=20.0)
        if not line.startswith("READY "):
            err = self.proc.stderr.read() if self.proc.stderr and self.proc.poll() is not None else ""
            raise RuntimeError(f"{name} did not start: {line!r} {err}")
        self.port = int(line.split()[1])

    def _readline(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            if not sel.select(timeout):
                raise TimeoutError(f"{self.name}: no answer within {timeout} s")
        finally:
            sel.close()
        return self.proc.stdout.readline().strip()

    def command(self, **cmd: Any) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._readline(timeout=20.0)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.command(cmd="quit")
                self.proc.wait(timeout=5)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class WebsocketsDaemon:
    """tests/peers/daemon_server.py (Python `websockets`) with the interface of
    tradewire.testing.DaemonServer that the tests use."""

    def __init__(self) -> None:
        self.peer = Peer([sys.executable, str(PEERS / "daemon_server.py"), "--port", "0"], "daemon_server.py")
        self.url = f"ws://127.0.0.1:{self.peer.port}"

    def trigger_event(self, event_type: str, account_id: Optional[int] = None, data: Any = None) -> None:
        reply = self.peer.command(cmd="event", type=event_type, account_id=account_id, data=data or {})
        assert reply.startswith("OK"), reply

    def trigger_test_event(self, event_type: str, data: Any) -> None:
        """Document 002's harness call: the account is the data's `accountId` (or
        `account_id`; neither: every account)."""
        account = next((data[k] for k in ("accountId", "account_id") if isinstance(data.get(k), int)), None)
        self.trigger_event(event_type, account, data)

    def broadcast(self, text: str) -> None:
        assert self.peer.command(cmd="broadcast", text=text).startswith("OK")

    def connection_count(self) -> int:
        return int(self.peer.command(cmd="count").split()[1])

    def wait_for_connections(self, n: int, timeout: float = 5.0) -> bool:
        return bool(wait_until(lambda: self.connection_count() >= n, timeout, 0.05))

    def received(self) -> list[str]:
        """The text messages clients sent, in order."""
        reply = self.peer.command(cmd="received")
        assert reply.startswith("RECEIVED "), reply
        received: list[str] = json.loads(reply[len("RECEIVED "):])
        return received

    def closes(self) -> list[list[Any]]:
        """The close frames clients sent, as [code, reason], parsed by `websockets`."""
        reply = self.peer.command(cmd="closes")
        assert reply.startswith("CLOSES "), reply
        closes: list[list[Any]] = json.loads(reply[len("CLOSES "):])
        return closes

    def stop(self) -> None:
        assert self.peer.command(cmd="stop").startswith("OK")

    def start(self) -> None:
        assert self.peer.command(cmd="start").startswith("OK")

    def close(self) -> None:
        self.peer.close()


@pytest.fixture(params=["testkit", "websockets"])
def daemon(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A document-002 daemon: tradewire.testing.DaemonServer, then the Python `websockets` peer."""
    server: Any = DaemonServer() if request.param == "testkit" else WebsocketsDaemon()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def kit_daemon() -> Iterator[DaemonServer]:
    """tradewire.testing.DaemonServer only."""
    with DaemonServer() as server:
        yield server


@pytest.fixture
def node_agent() -> Iterator[Peer]:
    """tests/peers/agent_server.js (Node `ws`), pinging every 300 ms."""
    node = shutil.which("node")
    if node is None or not (PEERS / "node_modules" / "ws").is_dir():
        pytest.fail("node and tests/peers/node_modules are needed (run scripts/setup.sh)")
    peer = Peer(
        [node, str(PEERS / "agent_server.js"), "--port", "0", "--agents", "agent-1", "--ping-ms", "300"],
        "agent_server.js",
        env=dict(os.environ, AGENT_TOKEN="peer-token"),
    )
    try:
        yield peer
    finally:
        peer.close()
