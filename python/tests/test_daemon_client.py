"""tradewire.DaemonClient beyond document 002's four tests: the reference constructor's names,
``account_id=None`` for every account, and ``connected``/``disconnect()``/``connect()`` as the
reference client behaves (issue 20)."""

from __future__ import annotations

import threading
from typing import Any

from conftest import wait_until

from tradewire import DaemonClient
from tradewire.testing import DaemonServer


def test_reference_names_and_positions_are_accepted(kit_daemon: DaemonServer) -> None:
    got: list[tuple[str, Any]] = []
    by_name = DaemonClient(account_id=123, event_callback=lambda t, d: got.append((t, d)), url=kit_daemon.url)
    by_position = DaemonClient(123, print, kit_daemon.url)
    assert (by_name.account_id, by_position.account_id) == (123, 123)
    assert by_position.event_callback is print
    assert not by_name.connected and not by_position.connected


def test_account_id_none_receives_every_account(kit_daemon: DaemonServer) -> None:
    events: list[tuple[str, Any]] = []
    client = DaemonClient(account_id=None, event_callback=lambda t, d: events.append((t, d)), url=kit_daemon.url)
    client.connect()
    try:
        assert wait_until(lambda: client.connected)
        assert kit_daemon.wait_for_connections(1, 10)
        kit_daemon.trigger_event("GatewayUserTrade", 123, {"n": 1})
        kit_daemon.trigger_event("GatewayUserTrade", 456, {"n": 2})
        kit_daemon.trigger_event("daemon_status", None, {"n": 3})
        assert wait_until(lambda: len(events) >= 4)
        assert events == [
            ("connection_status", {"connected": True}),
            ("GatewayUserTrade", {"n": 1}),
            ("GatewayUserTrade", {"n": 2}),
            ("daemon_status", {"n": 3}),
        ]
    finally:
        client.disconnect()


def test_disconnect_then_connect_again(kit_daemon: DaemonServer) -> None:
    statuses: list[bool] = []
    client = DaemonClient(
        123,
        lambda t, d: statuses.append(d["connected"]) if t == "connection_status" else None,
        url=kit_daemon.url,
    )
    client.disconnect()  # before connect(): nothing to do, nothing reported
    assert statuses == [] and not client.connected
    client.connect()
    assert wait_until(lambda: client.connected)
    assert kit_daemon.wait_for_connections(1, 10)
    client.disconnect()
    # When disconnect() returns: not connected, reported once, the daemon saw the close.
    assert not client.connected
    assert statuses == [True, False]
    assert kit_daemon.wait_for_at_most(0, 10)
    client.disconnect()  # again: nothing more
    assert statuses == [True, False]
    # No reconnect by itself after disconnect() ...
    assert not wait_until(lambda: kit_daemon.connection_count() > 0, timeout=1.5)
    # ... but connect() connects again.
    client.connect()
    assert wait_until(lambda: client.connected)
    assert statuses == [True, False, True]
    client.disconnect()
    assert statuses == [True, False, True, False]


def test_disconnect_from_the_callback(kit_daemon: DaemonServer) -> None:
    done = threading.Event()
    client: DaemonClient

    def callback(event_type: str, data: Any) -> None:
        if event_type == "stop":
            client.disconnect()
            done.set()

    client = DaemonClient(123, callback, url=kit_daemon.url)
    client.connect()
    assert wait_until(lambda: client.connected)
    assert kit_daemon.wait_for_connections(1, 10)
    kit_daemon.trigger_event("stop", 123, {})
    assert done.wait(10)
    assert not client.connected
    assert kit_daemon.wait_for_at_most(0, 10)


def test_disconnect_sends_close_1000_to_a_websockets_daemon() -> None:
    from conftest import WebsocketsDaemon

    daemon = WebsocketsDaemon()
    try:
        client = DaemonClient(123, lambda t, d: None, url=daemon.url)
        client.connect()
        assert wait_until(lambda: client.connected)
        client.disconnect()
        assert not client.connected
        # The peer parsed our close frame with its own library.
        assert wait_until(lambda: daemon.closes() == [[1000, ""]])
    finally:
        daemon.close()
