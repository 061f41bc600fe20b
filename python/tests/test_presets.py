"""Each reference system's documented behaviour by default (issue 20), seen from Python:
reconnect schedules with at most 10 % jitter, breakout's `ts` as `server_time`, and the
agent preset's `agent_id`."""

from __future__ import annotations

import json
import socket
from typing import Any, Optional

import pytest

import tradewire
from tradewire.testing import AgentServer, BreakoutServer

from conftest import wait_until


def refused_url() -> str:
    """A ws:// URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"ws://127.0.0.1:{port}/"


def announced_delays(n: int, **config: Any) -> list[float]:
    """The delays of the first `n` 'reconnecting' events."""
    delays: list[float] = []
    with tradewire.Client(refused_url(), **config) as client:
        while len(delays) < n:
            ev: Optional[tradewire.Event] = client.recv(timeout=30)
            assert ev is not None, f"no reconnecting event after {delays}"
            if ev.kind == "reconnecting":
                assert ev.attempt == len(delays) + 1
                assert ev.delay is not None
                delays.append(ev.delay)
    return delays


@pytest.mark.parametrize(
    ("preset", "documented", "extra"),
    [
        # Refused from the start: document 002 retries a daemon never reached every 5 s (the
        # 1, 2, 4, 8, 10 s schedule follows a drop: tests/rust/preset_schedules.rs).
        ("daemon", [5.0], {}),
        ("breakout", [5.0], {}),
        ("tradovate", [1.0, 2.0], {"token": "not-a-real-token"}),
    ],
)
def test_documented_schedules_with_at_most_ten_percent_jitter(
    preset: str, documented: list[float], extra: dict[str, Any]
) -> None:
    got = announced_delays(len(documented), preset=preset, **extra)
    for g, d in zip(got, documented):
        assert d <= g <= d * 1.1 + 1e-9, (preset, got)
    assert announced_delays(len(documented), preset=preset, jitter=0, **extra) == documented


def test_presets_without_a_documented_schedule_keep_the_wide_jitter() -> None:
    (got,) = announced_delays(1, preset="agent", token="jwt")
    assert 1.0 <= got <= 2.0
    assert announced_delays(1, preset="agent", token="jwt", jitter=0) == [1.0]


def test_breakout_ts_is_the_server_time_and_the_feed_latency() -> None:
    with BreakoutServer() as server, tradewire.Client(server.url, preset="breakout", types=["SIGNAL"]) as client:
        assert wait_until(lambda: server.connection_count() == 1)
        assert client.status()["feed_latency"] is None
        server.publish("SIGNAL", {"symbol": "BTCUSDT"})
        ev = client.recv(timeout=10)
        while ev is not None and ev.kind != "message":
            ev = client.recv(timeout=10)
        assert ev is not None and ev.type == "SIGNAL"
        assert isinstance(ev.raw, str)
        ts = json.loads(ev.raw)["ts"]
        assert ev.server_time == ts / 1000
        assert isinstance(ev.server_time, float)
        assert ev.server_time <= ev.received_at
        latency = client.status()["feed_latency"]
        assert isinstance(latency, float)
        assert abs(latency - (ev.received_at - ev.server_time)) < 1e-5
        assert ev.to_dict()["server_time"].endswith("Z")


def test_server_time_is_none_without_a_time_pointer_or_a_time() -> None:
    with BreakoutServer() as server, tradewire.Client(
        server.url, preset="breakout", time_pointer=None, types=["SIGNAL"]
    ) as client:
        assert wait_until(lambda: server.connection_count() == 1)
        server.publish("SIGNAL", {})
        ev = client.recv(timeout=10)
        while ev is not None and ev.kind != "message":
            ev = client.recv(timeout=10)
        assert ev is not None and ev.server_time is None
        assert ev.to_dict()["server_time"] is None
    with BreakoutServer() as server, tradewire.Client(
        server.url, preset="breakout", time_pointer="/data/when", types=["SIGNAL"]
    ) as client:
        assert wait_until(lambda: server.connection_count() == 1)
        server.publish("SIGNAL", {"when": "2025-01-17T14:45:15.5Z"})
        server.publish("SIGNAL", {"when": "later"})
        first = client.recv(timeout=10)
        while first is not None and first.kind != "message":
            first = client.recv(timeout=10)
        second = client.recv(timeout=10)
        assert first is not None and first.server_time == 1737125115.5
        assert second is not None and second.kind == "message" and second.server_time is None


def test_agent_id_selects_the_agent_and_wins_over_the_url() -> None:
    with AgentServer(agents=["agent-7"]) as server:
        token = server.token_for("user-1")
        with tradewire.Client(
            server.url + "?agentId=nobody", preset="agent", token=token, agent_id="agent-7"
        ) as client:
            ev = client.recv(timeout=10)
            while ev is not None and not (ev.kind == "message" and ev.type == "connected"):
                assert ev.kind != "gave_up", ev.reason
                ev = client.recv(timeout=10)
            assert ev is not None and ev.data["agentId"] == "agent-7"
            assert server.is_agent_connected("agent-7")
    with pytest.raises(tradewire.ConfigError, match="agent_id"):
        tradewire.Client("ws://h/ws", agent_id="a1")
