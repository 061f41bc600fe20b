"""Subscriptions that survive reconnects, against tests/peers/recording_server.py (Python
`websockets`), which records what each connection received."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterator, Optional

import pytest

import tradewire
from conftest import PEERS, Peer, wait_until


class Recorder:
    def __init__(self, *args: str) -> None:
        argv = [sys.executable, str(PEERS / "recording_server.py"), "--port", "0", *args]
        self.peer = Peer(argv, "recording_server.py")
        self.url = f"ws://127.0.0.1:{self.peer.port}"

    def connections(self) -> list[list[str]]:
        reply = self.peer.command(cmd="connections")
        assert reply.startswith("CONNECTIONS "), reply
        got: list[list[str]] = json.loads(reply[len("CONNECTIONS "):])
        return got

    def received_on(self, i: int, n: int) -> list[str]:
        def ready() -> Optional[list[str]]:
            conns = self.connections()
            return conns[i] if len(conns) > i and len(conns[i]) >= n else None

        got: Optional[list[str]] = wait_until(ready)
        assert got is not None, self.connections()
        return got

    def drop(self) -> None:
        assert self.peer.command(cmd="drop").startswith("OK")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    r = Recorder()
    try:
        yield r
    finally:
        r.peer.close()


@pytest.fixture
def tradovate_recorder() -> Iterator[Recorder]:
    r = Recorder("--tradovate")
    try:
        yield r
    finally:
        r.peer.close()


def quick(url: str, **config: Any) -> tradewire.Client:
    return tradewire.Client(url, backoff_initial=0.1, backoff_max=0.4, jitter=0.0, **config)


def wait_kind(client: tradewire.Client, kind: str, epoch: Optional[int] = None) -> tradewire.Event:
    seen: list[str] = []
    while True:
        ev = client.recv(timeout=10.0)
        assert ev is not None, f"no {kind}; saw {seen}"
        if ev.kind == kind and (epoch is None or ev.epoch == epoch):
            return ev
        seen.append(ev.kind)


def test_after_a_drop_the_new_connection_gets_on_connect_then_the_live_set_in_order(recorder: Recorder) -> None:
    with quick(recorder.url, on_connect=["OC"]) as client:
        wait_kind(client, "connected")
        assert client.subscribe("A") == "A"
        assert client.subscribe({"sub": "B"}, key="b", unsubscribe={"unsub": "B"}) == "b"
        client.subscribe("C")
        assert client.unsubscribe("b") is True
        assert client.unsubscribe("b") is False
        first = recorder.received_on(0, 5)
        assert first == ["OC", "A", '{"sub":"B"}', "C", '{"unsub":"B"}']
        assert client.subscriptions() == [
            {"key": "A", "message": "A", "unsubscribe": None},
            {"key": "C", "message": "C", "unsubscribe": None},
        ]
        recorder.drop()
        wait_kind(client, "connected", epoch=2)
        client.send("app")
        assert recorder.received_on(1, 4) == ["OC", "A", "C", "app"]
        everything = [m for conn in recorder.connections() for m in conn]
        assert everything.count('{"unsub":"B"}') == 1
        status = client.status()
        assert status["subscriptions"] == 2
        assert status["subscriptions_replayed"] >= 2


def test_a_subscribe_made_in_backoff_reaches_the_new_connection_once(recorder: Recorder) -> None:
    with tradewire.Client(recorder.url, on_connect=["OC"], backoff_initial=0.5, backoff_max=0.5, jitter=0.0) as client:
        wait_kind(client, "connected")
        client.subscribe("A", unsubscribe="unsub A")
        client.subscribe("C")
        assert recorder.received_on(0, 3) == ["OC", "A", "C"]
        recorder.drop()
        wait_kind(client, "reconnecting")
        client.subscribe("D")
        assert client.unsubscribe("A")
        wait_kind(client, "connected", epoch=2)
        client.send("app")
        assert recorder.received_on(1, 4) == ["OC", "C", "D", "app"]
        conns = recorder.connections()
        assert conns[0] == ["OC", "A", "C"]
        assert not any("unsub A" in conn for conn in conns)


def test_tradovate_subscribe_quote_is_replayed_with_a_new_id_after_a_drop(tradovate_recorder: Recorder) -> None:
    r = tradovate_recorder
    with quick(r.url, preset="tradovate", token="t") as client:
        wait_kind(client, "authenticated")
        key = client.subscribe_request("md/subscribeQuote", {"symbol": "ESZ5"}, unsubscribe_endpoint="md/unsubscribeQuote")
        first = r.received_on(0, 2)
        assert first[1].startswith("md/subscribeQuote\n")
        r.drop()
        wait_kind(client, "authenticated", epoch=2)
        second = r.received_on(1, 2)
        assert second[0].startswith("authorize\n0\n")
        assert second[1].startswith("md/subscribeQuote\n")
        assert second[1].endswith('\n\n{"symbol":"ESZ5"}')
        assert int(second[1].split("\n")[1]) > int(first[1].split("\n")[1])
        assert client.subscriptions() == [
            {"key": key, "endpoint": "md/subscribeQuote", "body": '{"symbol":"ESZ5"}', "unsubscribe_endpoint": "md/unsubscribeQuote"}
        ]
        assert client.unsubscribe(key)
        assert r.received_on(1, 3)[2].startswith("md/unsubscribeQuote\n")


def test_a_refused_tradovate_subscription_is_a_subscription_failed_error(tradovate_recorder: Recorder) -> None:
    r = tradovate_recorder
    r.peer.command(cmd="refuse", endpoint="md/subscribeQuote", status=404)
    with quick(r.url, preset="tradovate", token="t") as client:
        wait_kind(client, "authenticated")
        client.subscribe_request("md/subscribeQuote", {"symbol": "NOPE"})
        ev = wait_kind(client, "error")
        assert ev.type == "subscription_failed"
        assert "md/subscribeQuote" in (ev.message or "")


def test_subscription_requests_are_tradovate_only() -> None:
    client = tradewire.Client("ws://127.0.0.1:9")
    with pytest.raises(tradewire.Error, match="tradovate"):
        client.subscribe_request("md/subscribeQuote")
    with pytest.raises(TypeError):
        client.subscribe(b"bytes")  # type: ignore[arg-type]
    client.close()
    with pytest.raises(tradewire.ClosedError):
        client.subscribe("A")
