"""The four tests of reference document 002 ("Testing"), made robust, with more checks.

test_doc002_as_written.py runs them exactly as the document writes them, with its sleeps;
here they wait instead of sleeping, and check more.

Each runs against tradewire.testing.DaemonServer and against the Python `websockets` daemon
of tests/peers. Differences from the document, all for robustness rather than behaviour:
- fixed sleeps became waits with generous bounds (`wait_until`);
- the daemon's URL is passed (the servers listen on ephemeral ports, not 8765);
- the test harness call `daemon.trigger_test_event(type, data)` is
  `daemon.trigger_event(type, account_id, data)`;
- the callback also receives ('connection_status', ...) events (so did document 002's own
  `DaemonClient`): the counts below are of daemon events only;
- test 3 sends a marker event for account 123 after the one for 456 and waits for it, so
  that "not received" is checked after the event would have arrived, not after a guess.
"""

from __future__ import annotations

from typing import Any

from conftest import wait_until

from tradewire import DaemonClient


def daemon_events(events: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [e for e in events if e[0] != "connection_status"]


def connected_client(daemon: Any, callback: Any) -> DaemonClient:
    client = DaemonClient(account_id=123, event_callback=callback, url=daemon.url)
    client.connect()
    assert wait_until(lambda: client.connected, timeout=10)
    assert daemon.wait_for_connections(1, 10)
    return client


def test_connection(daemon: Any) -> None:
    """Test basic connection to daemon"""
    client = DaemonClient(account_id=123, event_callback=print, url=daemon.url)
    client.connect()
    try:
        # Wait for connection
        assert wait_until(lambda: client.connected, timeout=10)
        assert client.connected == True  # noqa: E712 (as written in document 002)
    finally:
        client.disconnect()
    assert client.connected == False  # noqa: E712


def test_event_reception(daemon: Any) -> None:
    """Test receiving events from daemon"""
    events_received: list[tuple[str, Any]] = []

    def callback(event_type: str, data: Any) -> None:
        events_received.append((event_type, data))

    client = connected_client(daemon, callback)
    try:
        # Trigger trade event in daemon (via test harness)
        daemon.trigger_event("GatewayUserTrade", 123, {"accountId": 123, "profitAndLoss": -45.50})

        # Wait for event to propagate
        assert wait_until(lambda: daemon_events(events_received), timeout=10)

        # Assert event received
        received = daemon_events(events_received)
        assert len(received) == 1
        assert received[0][0] == "GatewayUserTrade"
        assert received[0][1]["profitAndLoss"] == -45.50
        assert events_received[0] == ("connection_status", {"connected": True})
    finally:
        client.disconnect()


def test_account_filtering(daemon: Any) -> None:
    """Test client only receives events for its account"""
    events_received: list[tuple[str, Any]] = []

    def callback(event_type: str, data: Any) -> None:
        events_received.append((event_type, data))

    # Client for account 123
    client = connected_client(daemon, callback)
    try:
        # Trigger event for account 456 (different account)
        daemon.trigger_event("GatewayUserTrade", 456, {"accountId": 456, "profitAndLoss": -100})
        # ... then one for 123 and a daemon-wide one (account_id null), which pass the filter
        daemon.trigger_event("marker", 123, {"n": 1})
        daemon.trigger_event("daemon_status", None, {"status": "RUNNING"})

        # Wait for the later events: the one for 456 would have arrived before them
        assert wait_until(lambda: len(daemon_events(events_received)) >= 2, timeout=10)

        # Assert event NOT received (filtered out)
        assert daemon_events(events_received) == [
            ("marker", {"n": 1}),
            ("daemon_status", {"status": "RUNNING"}),
        ]
    finally:
        client.disconnect()


def test_reconnection(daemon: Any) -> None:
    """Test automatic reconnection after disconnect"""
    statuses: list[bool] = []

    def callback(event_type: str, data: Any) -> None:
        if event_type == "connection_status":
            statuses.append(data["connected"])

    client = DaemonClient(account_id=123, event_callback=callback, url=daemon.url)
    client.connect()
    try:
        # Wait for connection
        assert wait_until(lambda: client.connected, timeout=10)
        assert client.connected == True  # noqa: E712

        # Stop daemon (simulate crash)
        daemon.stop()

        # Wait for disconnect
        assert wait_until(lambda: not client.connected, timeout=10)
        assert client.connected == False  # noqa: E712

        # Restart daemon
        daemon.start()

        # Client should auto-reconnect (with retry logic: 1, 2, 4, 8, 10 s)
        assert wait_until(lambda: client.connected, timeout=20)
        assert client.connected == True  # noqa: E712
        assert statuses == [True, False, True]
    finally:
        client.disconnect()
    assert statuses == [True, False, True, False]
