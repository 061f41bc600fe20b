"""Peers nobody here wrote (Node `ws`), signals, slow callbacks, fault injection."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest
from conftest import Peer, assert_ctrl_c_ends, spawn_ready, wait_until

import tradewire
from tradewire.testing import AgentServer, BreakoutServer, DaemonServer, FaultProxy


def test_agent_preset_against_node_ws_answers_json_pings(node_agent: Peer) -> None:
    url = f"ws://127.0.0.1:{node_agent.port}/ws"
    kinds: list[tuple[str, Any]] = []
    with tradewire.Client(url, preset="agent", token="peer-token", query={"agentId": "agent-1"}) as client:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and ("message", "initial_data") not in kinds:
            ev = client.recv(timeout=0.2)
            if ev is not None:
                kinds.append((ev.kind, ev.type))
        assert ("message", "connected") in kinds and ("message", "initial_data") in kinds
        # The server pings every 300 ms and drops a connection with no pong for 600 ms.
        assert wait_until(lambda: int(node_agent.command(cmd="pongs").split()[1]) >= 3, timeout=10)
        time.sleep(1.0)
        assert node_agent.command(cmd="count") == "COUNT 1"
        node_agent.command(cmd="event", type="position_update", data={"symbol": "SOL", "qty": 2})
        while True:
            ev = client.recv(timeout=10)
            assert ev is not None, "no position_update"
            assert ev.kind != "disconnected", ev
            if ev.type == "position_update":
                assert ev.data == {"symbol": "SOL", "qty": 2}
                break


def test_agent_preset_against_testkit_agent_server() -> None:
    with AgentServer(agents=["agent-1"], ping_interval=0.3) as server:
        url = server.url_for(server.token_for("user-1"), "agent-1")
        with tradewire.Client(url, preset="agent") as client:
            assert wait_until(lambda: server.pongs_received() >= 2, timeout=10)
            assert server.is_agent_connected("agent-1")
            assert server.position_update("agent-1", {"qty": 1})
            while True:
                ev = client.recv(timeout=10)
                assert ev is not None
                if ev.type == "position_update":
                    assert ev.data == {"qty": 1}
                    break


def test_breakout_heartbeats_and_history() -> None:
    with BreakoutServer(heartbeat_interval=0.2) as server:
        with tradewire.Client(server.url, preset="breakout") as client:
            server.wait_for_connections(1, 10)
            server.publish("SIGNAL", {"symbol": "BTC"})
            assert wait_until(lambda: any(e.type == "SIGNAL" for e in client.history()), timeout=10)
            assert wait_until(lambda: client.status()["last_heartbeat_latency"] is not None, timeout=10)


SCRIPT = textwrap.dedent(
    """
    import sys, tradewire
    # Nothing listens on port 9: the client retries for ever and recv() mostly waits.
    # (A client never started is no longer a way to block: recv() raises at once.)
    client = tradewire.Client("ws://127.0.0.1:9/", preset="daemon")
    client.start()
    print("READY", flush=True)
    try:
        if sys.argv[1] == "recv":
            while True:
                client.recv()
        else:
            for _ in client:
                pass
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
        sys.exit(3)
    """
)


@pytest.mark.parametrize("how", ["recv", "iterate"])
def test_ctrl_c_interrupts_a_blocked_recv(how: str) -> None:
    proc = spawn_ready([SCRIPT, how])
    time.sleep(0.3)
    assert_ctrl_c_ends(proc)


def test_blocking_callback_does_not_cause_heartbeat_timeout(kit_daemon: DaemonServer) -> None:
    events: list[tuple[str, Any]] = []
    blocked = threading.Event()

    def callback(event_type: str, data: Any) -> None:
        events.append((event_type, data))
        if event_type == "block":
            blocked.set()
            time.sleep(10)

    client = tradewire.DaemonClient(
        123, callback, url=kit_daemon.url, heartbeat_interval=1, heartbeat_timeout=3
    )
    client.connect()
    try:
        assert wait_until(lambda: client.connected, timeout=10)
        assert kit_daemon.wait_for_connections(1, 10)
        kit_daemon.trigger_event("block", 123, {})
        assert blocked.wait(10)
        for i in range(8):  # the server keeps broadcasting while the callback blocks
            kit_daemon.trigger_event("during", 123, {"i": i})
            time.sleep(1)
        assert wait_until(lambda: len([e for e in events if e[0] == "during"]) == 8, timeout=15)
        assert ("connection_status", {"connected": False}) not in events
        assert [e[1]["i"] for e in events if e[0] == "during"] == list(range(8))
        assert kit_daemon.accepted_total() == 1  # never reconnected
    finally:
        client.disconnect()


def test_a_raising_callback_is_logged_and_the_stream_goes_on(
    kit_daemon: DaemonServer, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[Any] = []

    def callback(event_type: str, data: Any) -> None:
        if event_type == "boom":
            raise ValueError("callback bug")
        got.append((event_type, data))

    client = tradewire.DaemonClient(123, callback, url=kit_daemon.url)
    with caplog.at_level(logging.ERROR, logger="tradewire"):
        client.connect()
        try:
            assert wait_until(lambda: client.connected, timeout=10)
            assert kit_daemon.wait_for_connections(1, 10)
            kit_daemon.trigger_event("boom", 123, {})
            kit_daemon.trigger_event("fine", 123, {"ok": 1})
            assert wait_until(lambda: ("fine", {"ok": 1}) in got, timeout=10)
        finally:
            client.disconnect()
    boom = [r for r in caplog.records if "boom" in r.getMessage()]
    assert boom and boom[0].exc_info is not None and "callback bug" in str(boom[0].exc_info[1])


def test_fault_proxy_blackhole_is_detected_and_recovered(kit_daemon: DaemonServer) -> None:
    with FaultProxy(kit_daemon) as proxy:
        with tradewire.Client(
            proxy.url, preset="daemon", heartbeat_interval=0.3, heartbeat_timeout=1.0, backoff_initial=0.1
        ) as client:
            kinds: list[str] = []

            def until(kind: str, timeout: float = 15) -> tradewire.Event:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    ev = client.recv(timeout=0.2)
                    if ev is not None:
                        kinds.append(ev.kind)
                        if ev.kind == kind:
                            return ev
                raise AssertionError(f"no {kind} in {kinds}")

            until("connected")
            proxy.set_mode("blackhole")
            assert proxy.mode == "blackhole"
            until("disconnected")
            proxy.set_mode("pass")
            assert until("connected").epoch == 2


def test_stream_helper(kit_daemon: DaemonServer) -> None:
    with tradewire.Client(kit_daemon.url, preset="daemon", account_id=7) as client:
        kit_daemon.wait_for_connections(1, 10)
        handle = kit_daemon.stream(0, 200, account_id=7)
        assert handle.wait_finished(10) and handle.sent == 200
        msgs: list[tradewire.Event] = []

        def take() -> bool:
            msgs.extend(e for e in client.recv_batch(100, 0.2) if e.kind == "message")
            return len(msgs) >= 200

        wait_until(take)
        assert [m.data["seq"] for m in msgs] == list(range(1, 201))
        assert all(m.account_id == 7 for m in msgs)  # the server sent the integer 7
        json.dumps([m.data for m in msgs])


EXIT_SCRIPT = textwrap.dedent(
    """
    import logging, sys, threading, time, tradewire
    from tradewire.testing import DaemonServer

    logging.basicConfig(level=logging.DEBUG)   # log records flow at exit too
    daemon = DaemonServer()
    seen = []
    client = tradewire.DaemonClient(123, lambda t, d: seen.append(t), url=daemon.url)
    client.connect()
    reader = tradewire.Client(daemon.url, preset="daemon")
    reader.start()
    threading.Thread(target=lambda: [None for _ in reader], daemon=True).start()
    dropped = tradewire.Client(daemon.url, preset="daemon")
    dropped.set_callback(lambda ev: seen.append(ev.kind))
    dropped.start()
    while len(seen) < 2:
        time.sleep(0.01)
    stream = daemon.stream(500, None, account_id=123)
    del dropped          # dropped without close(), its callback thread busy
    time.sleep(0.3)
    print("EXITING", flush=True)
    # exit with a connected DaemonClient, a thread blocked in iteration, a running stream
    """
)


def test_interpreter_exits_cleanly_with_clients_still_running() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "EXITING" in proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
