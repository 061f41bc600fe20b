"""After 'gave_up' the event stream ends: iteration stops and recv() raises ClosedError once
the queued events are taken; reconnect() starts a new stream (issue 18)."""

from __future__ import annotations

import pytest

import tradewire
from tradewire.testing import DaemonServer

from conftest import wait_until


def _client(url: str) -> tradewire.Client:
    return tradewire.Client(
        url,
        preset="daemon",
        max_reconnect_attempts=1,
        min_uptime=0,
        backoff_initial=0.05,
        backoff_max=0.1,
        jitter=0,
    )


def test_iteration_stops_and_recv_raises_after_gave_up_then_reconnect_starts_a_new_stream() -> None:
    with DaemonServer() as server:
        with _client(server.url) as client:
            assert server.wait_for_connections(1, timeout=20)
            server.trigger_event("Position", 123, {"qty": 1})
            assert wait_until(lambda: client.status()["messages_received"] == 1, timeout=20)
            server.stop()
            # The for loop ends by itself after the last queued event, gave_up.
            kinds = [ev.kind for ev in client]
            assert kinds[0] == "connected", kinds
            assert "message" in kinds, kinds
            assert kinds[-3:] == ["disconnected", "reconnecting", "gave_up"], kinds
            # recv() raises at once, saying why and what to do.
            with pytest.raises(tradewire.ClosedError, match="gave up.*reconnect"):
                client.recv(timeout=20)
            with pytest.raises(tradewire.ClosedError):
                client.recv_batch(timeout=20)
            assert client.status()["state"] == "gave_up"

            # reconnect() starts a new stream: recv() and iteration give events again.
            server.restart()
            client.reconnect()
            ev = client.recv(timeout=20)
            assert ev is not None and ev.kind == "connected", ev
            assert ev.epoch == 2
        # close(): the events queued before it, then the stream ends for good.
        assert [ev.kind for ev in client] == ["disconnected"]
        with pytest.raises(tradewire.ClosedError, match="closed"):
            client.recv(timeout=20)
