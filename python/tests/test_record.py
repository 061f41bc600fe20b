"""Record and replay from Python: `record=` writes the session, `tradewire.testing.ReplayServer`
serves it back, and a fresh client sees the same events (timestamps and URLs aside)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import tradewire
from tradewire.testing import DaemonServer, ReplayServer


def _until(client: tradewire.Client, seen: list[Any], pred: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ev = client.recv(timeout=0.2)
        if ev is None:
            continue
        seen.append(ev)
        if pred(ev):
            return
    raise AssertionError(f"not seen; saw {[e.kind for e in seen]}")


def _projection(events: list[Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for e in events:
        if e.kind == "reconnecting":
            continue
        if e.kind == "message":
            out.append((e.kind, e.epoch, e.type, e.account_id, json.dumps(e.data)))
        elif e.kind == "disconnected":
            out.append((e.kind, e.epoch, e.code))
        else:
            out.append((e.kind, getattr(e, "epoch", None)))
    return out


def _options(**extra: Any) -> dict[str, Any]:
    return dict(preset="daemon", heartbeat_interval=0.3, heartbeat_timeout=1.0, backoff_initial=0.1, **extra)


def test_record_then_replay_delivers_the_same_events(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    live: list[Any] = []
    with DaemonServer() as daemon:
        with tradewire.Client(daemon.url, **_options(record=str(path))) as client:
            _until(client, live, lambda e: e.kind == "connected")
            daemon.trigger_event("GatewayUserTrade", 123, {"profitAndLoss": -45.5})
            _until(client, live, lambda e: e.kind == "message")
            daemon.drop_all()
            _until(client, live, lambda e: e.kind == "connected" and e.epoch == 2)
            daemon.trigger_event("GatewayUserPosition", 456, {"netPos": 2})
            _until(client, live, lambda e: e.kind == "message")
            daemon.close_all(4001, "maintenance")
            _until(client, live, lambda e: e.kind == "connected" and e.epoch == 3)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds[0] == "start" and kinds.count("open") == 3
    ends = [(line["how"], line["code"]) for line in lines if line["kind"] == "end"]
    assert ends[0] == ("dropped", 1006) and ends[1] == ("close", 4001)

    replayed: list[Any] = []
    with ReplayServer(str(path), speed=None) as replay:
        assert replay.total == 3
        with tradewire.Client(replay.url, **_options()) as client:
            _until(client, replayed, lambda e: e.kind == "connected" and e.epoch == 3)
    assert _projection(replayed) == _projection(live)
