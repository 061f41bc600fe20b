"""disconnect(code, reason) and connect(): stop without closing, start again (issue 20).

Run against tradewire's testkit and against a server on the Python `websockets` library."""

from __future__ import annotations

import time
from typing import Any

import pytest

import tradewire

from conftest import WebsocketsDaemon, wait_until


def _next(client: tradewire.Client, kind: str, timeout: float = 10.0) -> tradewire.Event:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ev = client.recv(timeout=max(0.0, deadline - time.monotonic()))
        if ev is not None and ev.kind == kind:
            return ev
    raise AssertionError(f"no {kind!r} event within {timeout} s")


def _client(url: str) -> tradewire.Client:
    return tradewire.Client(url, preset="daemon", backoff_initial=0.05, backoff_max=0.2, jitter=0)


def test_disconnect_closes_with_the_code_and_connect_starts_again(daemon: Any) -> None:
    client = _client(daemon.url)
    assert client.ready_state == 3  # not started: CLOSED, as the WebSocket API says
    client.connect()
    _next(client, "connected")
    assert client.ready_state == 1
    client.disconnect(4001, "end of session")
    assert client.status()["state"] == "disconnected"
    assert client.ready_state == 3
    ev = _next(client, "disconnected")
    assert (ev.code, ev.reason, ev.by_client, ev.epoch) == (4001, "end of session", True, 1)
    if isinstance(daemon, WebsocketsDaemon):
        assert wait_until(lambda: [4001, "end of session"] in daemon.closes())
    # Stays down: the 50 ms backoff would have reconnected many times.
    time.sleep(0.5)
    assert client.recv(timeout=0.05) is None
    assert daemon.connection_count() == 0
    with pytest.raises(tradewire.NotConnectedError):
        client.send({"x": 1})

    client.connect()
    ev = _next(client, "connected")
    assert ev.epoch == 2
    client.connect()  # running: nothing happens
    with pytest.raises(tradewire.Error, match="already started"):
        client.start()
    client.close()


def test_default_code_is_1000_and_invalid_codes_raise(kit_daemon: Any) -> None:
    with _client(kit_daemon.url) as client:
        _next(client, "connected")
        for code in (1005, 1006, 2000, 999, 5000):
            with pytest.raises(tradewire.Error, match=str(code)):
                client.disconnect(code)
        with pytest.raises(tradewire.Error, match="123 bytes"):
            client.disconnect(1000, "r" * 124)
        with pytest.raises(OverflowError):
            client.disconnect(70000)
        assert client.status()["state"] == "live"
        client.disconnect()
        ev = _next(client, "disconnected")
        assert (ev.code, ev.by_client) == (1000, True)


def test_a_dropped_connection_is_1006_not_by_client(kit_daemon: Any) -> None:
    with _client(kit_daemon.url) as client:
        _next(client, "connected")
        kit_daemon.drop_all()  # TCP shut down, no close frame
        ev = _next(client, "disconnected")
        assert ev.code == 1006
        assert ev.by_client is False
        assert ev.error
        assert "by_client" in ev.to_dict()
