#!/usr/bin/env python3
"""Protocol self-check of the peer servers, with the `websockets` sync client.

    .venv/bin/python tests/peers/selfcheck.py      (run by tests/peers/selfcheck.sh)

Drives daemon_server.py and agent_server.js through their stdin/stdout control protocol and
checks every command against a real WebSocket client. Exits non-zero on the first failure.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

HERE = Path(__file__).resolve().parent
checks = 0


def check(cond: bool, what: str) -> None:
    global checks
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    checks += 1


class Peer:
    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        line = self.proc.stdout.readline().strip()
        check(line.startswith("READY "), f"READY line from {argv}: {line!r}")
        self.port = int(line.split()[1])

    def cmd(self, obj: dict) -> str:
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def url(self, path: str = "") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def wait_count(self, n: int) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.cmd({"cmd": "count"}) == f"COUNT {n}":
                return
            time.sleep(0.02)
        check(False, f"count never reached {n}")


def ws_connect(url: str, open_timeout: float = 5.0):
    """A connection used directly, outside a `with` block (websockets >= 17.1 wants legacy=True)."""
    return connect(url, open_timeout=open_timeout, legacy=True)


def closed_with(ws, timeout: float = 5.0):
    """Read until the connection closes; return (code, reason) of the close frame or None."""
    try:
        while True:
            ws.recv(timeout=timeout)
    except ConnectionClosed as e:
        return (e.rcvd.code, e.rcvd.reason) if e.rcvd is not None else None


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


def check_daemon() -> None:
    p = Peer([sys.executable, str(HERE / "daemon_server.py"), "--port", "0"])
    check(p.cmd({"cmd": "count"}) == "COUNT 0", "daemon: count 0")
    check(p.cmd({"cmd": "bogus"}).startswith("ERR "), "daemon: unknown command -> ERR")
    check(p.cmd({"cmd": "broadcast"}).startswith("ERR "), "daemon: missing text -> ERR")

    a = ws_connect(p.url(), open_timeout=5)
    b = ws_connect(p.url(), open_timeout=5)
    p.wait_count(2)
    check(p.cmd({"cmd": "broadcast", "text": "hello"}) == "OK 2", "daemon: broadcast to 2")
    check(a.recv(timeout=5) == "hello" and b.recv(timeout=5) == "hello", "daemon: both got text")
    r = p.cmd({"cmd": "event", "type": "GatewayUserTrade", "account_id": 123, "data": {"id": 1}})
    check(r == "OK 2", f"daemon: event -> {r}")
    ev = json.loads(a.recv(timeout=5))
    b.recv(timeout=5)
    check(ev == {"type": "GatewayUserTrade", "account_id": 123, "data": {"id": 1}}, f"event {ev}")
    p.cmd({"cmd": "event", "type": "SystemStatus", "data": {}})
    check("account_id" not in json.loads(a.recv(timeout=5)), "daemon: event without account")
    b.recv(timeout=5)
    a.send("from-a")
    a.send('{"x":1}')
    a.ping().wait(5)  # websockets answers pings
    check(p.cmd({"cmd": "received"}) == 'RECEIVED ["from-a", "{\\"x\\":1}"]', "daemon: received")

    check(p.cmd({"cmd": "stop"}) == "OK 0", "daemon: stop")
    check(closed_with(a) == (1001, ""), "daemon: stop sends close 1001")
    check(closed_with(b) == (1001, ""), "daemon: stop sends close 1001 (b)")
    check(refused(p.port), "daemon: connect refused after stop")
    check(p.cmd({"cmd": "count"}) == "COUNT 0", "daemon: count 0 after stop")
    check(p.cmd({"cmd": "start"}) == "OK 0", "daemon: start")

    a = ws_connect(p.url(), open_timeout=5)
    p.wait_count(1)
    check(p.cmd({"cmd": "drop"}) == "OK 1", "daemon: drop")
    check(closed_with(a) is None, "daemon: drop sends no close frame")
    p.wait_count(0)

    a = ws_connect(p.url(), open_timeout=5)
    p.wait_count(1)
    check(p.cmd({"cmd": "close", "code": 4000, "reason": "bye"}) == "OK 1", "daemon: close")
    check(closed_with(a) == (4000, "bye"), "daemon: close 4000")

    a = ws_connect(p.url(), open_timeout=5)
    p.wait_count(1)
    check(p.cmd({"cmd": "freeze"}) == "OK 1", "daemon: freeze")
    pong = a.ping()
    check(not pong.wait(0.5), "daemon: frozen connection answers no ping")
    a.close_timeout = 0.2
    a.close()

    check(p.cmd({"cmd": "quit"}) == "OK 0", "daemon: quit")
    check(p.proc.wait(5) == 0, "daemon: exit 0 on quit")

    p = Peer([sys.executable, str(HERE / "daemon_server.py")])
    p.proc.stdin.close()
    check(p.proc.wait(5) == 0, "daemon: exit 0 on stdin EOF")


def check_agent() -> None:
    p = Peer(["node", str(HERE / "agent_server.js"), "--agents", "a1,a2", "--ping-ms", "200"])
    base = p.url("/ws")

    ws = ws_connect(f"{base}?token=wrong&agentId=a1", open_timeout=5)
    check(closed_with(ws) == (1008, "Invalid token"), "agent: bad token -> 1008")
    ws = ws_connect(f"{base}?agentId=a1", open_timeout=5)
    check(closed_with(ws) == (1008, "Invalid token"), "agent: no token -> 1008")
    ws = ws_connect(f"{base}?token=test-token&agentId=zz", open_timeout=5)
    check(closed_with(ws) == (1008, "Agent not found"), "agent: unknown agent -> 1008")
    try:
        ws_connect(p.url("/other?token=test-token&agentId=a1"), open_timeout=5)
        check(False, "agent: other path must fail")
    except InvalidStatus as e:
        check(e.response.status_code == 404, "agent: other path -> 404")

    a = ws_connect(f"{base}?token=test-token&agentId=a1", open_timeout=5)
    m1 = json.loads(a.recv(timeout=5))
    m2 = json.loads(a.recv(timeout=5))
    check(m1["type"] == "connected" and m1["data"]["agentId"] == "a1", f"agent: {m1}")
    check("timestamp" in m1["data"], "agent: connected has timestamp")
    check(m2 == {"type": "initial_data", "data": {"positions": []}}, f"agent: {m2}")

    ping = json.loads(a.recv(timeout=5))
    check(ping["type"] == "ping" and "timestamp" in ping, f"agent: ping {ping}")
    a.send(json.dumps({"type": "pong", "timestamp": "2025-01-01T00:00:00Z"}))
    deadline = time.monotonic() + 5
    while p.cmd({"cmd": "pongs"}) != "PONGS 1" and time.monotonic() < deadline:
        time.sleep(0.02)
    check(p.cmd({"cmd": "pongs"}) == "PONGS 1", "agent: pong counted")
    r = p.cmd({"cmd": "received"})
    check(r.startswith("RECEIVED ") and json.loads(r[9:])[0].startswith('{"type": "pong"'), r)

    # Without pongs for 2 × ping-ms the server closes with (1000, 'Connection timeout').
    check(closed_with(a) == (1000, "Connection timeout"), "agent: stale connection closed")

    a = ws_connect(f"{base}?token=test-token&agentId=a1", open_timeout=5)
    a.recv(timeout=5), a.recv(timeout=5)
    b = ws_connect(f"{base}?token=test-token&agentId=a1", open_timeout=5)
    check(closed_with(a) == (1000, "New connection established"), "agent: superseded")
    b.recv(timeout=5), b.recv(timeout=5)
    p.wait_count(1)
    check(p.cmd({"cmd": "broadcast", "text": "hi"}) == "OK 1", "agent: broadcast")
    msg = b.recv(timeout=5)
    while msg != "hi":  # pings may interleave
        msg = b.recv(timeout=5)
    check(p.cmd({"cmd": "stop", "code": 1000, "reason": "Server shutdown"}) == "OK 0", "stop")
    check(closed_with(b) == (1000, "Server shutdown"), "agent: stop with code")
    check(refused(p.port), "agent: connect refused after stop")
    check(p.cmd({"cmd": "start"}) == "OK 0", "agent: start")
    b = ws_connect(f"{base}?token=test-token&agentId=a2", open_timeout=5)
    p.wait_count(1)
    check(p.cmd({"cmd": "drop"}) == "OK 1", "agent: drop")
    check(closed_with(b) is None, "agent: drop sends no close frame")
    p.wait_count(0)
    check(p.cmd({"cmd": "quit"}) == "OK 0", "agent: quit")
    check(p.proc.wait(5) == 0, "agent: exit 0 on quit")

    env = dict(os.environ, AGENT_TOKEN="env-token")
    p = Peer(["node", str(HERE / "agent_server.js")])
    p.proc.stdin.close()
    check(p.proc.wait(5) == 0, "agent: exit 0 on stdin EOF")
    q = subprocess.Popen(
        ["node", str(HERE / "agent_server.js")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )
    port = int(q.stdout.readline().split()[1])
    ws = ws_connect(f"ws://127.0.0.1:{port}/ws?token=env-token&agentId=agent-1", open_timeout=5)
    check(json.loads(ws.recv(timeout=5))["type"] == "connected", "agent: AGENT_TOKEN from env")
    ws.close()
    q.stdin.close()
    check(q.wait(5) == 0, "agent: exit 0 on EOF (env)")


if __name__ == "__main__":
    check_daemon()
    print(f"selfcheck: daemon_server.py ok", file=sys.stderr)
    check_agent()
    print(f"selfcheck: agent_server.js ok", file=sys.stderr)
    print(f"{checks} passed, 0 failed")
