"""wait_live(timeout), start(wait=...), connect(wait=...): live, or the first attempt's error
with a reason to branch on; the client keeps reconnecting in the background (issue 26)."""

from __future__ import annotations

import _thread
import socket
import threading
import time
from typing import Any, Iterator

import pytest

import tradewire
from tradewire.testing import TradovateServer, WsServer

SOON = 10.0
QUICK: dict[str, Any] = {"backoff_initial": 0.05, "backoff_max": 0.2, "jitter": 0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A listening socket that never accepts nor answers: handshakes stall."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    try:
        yield s.getsockname()[1]
    finally:
        s.close()


def _live_eventually(client: tradewire.Client) -> list[tradewire.Error]:
    """wait_live until it succeeds within SOON (each failed attempt raises as it happens)."""
    deadline = time.monotonic() + SOON
    seen: list[tradewire.Error] = []
    while True:
        try:
            client.wait_live(max(0.0, deadline - time.monotonic()))
            return seen
        except tradewire.TimeoutError:
            raise
        except tradewire.Error as e:
            seen.append(e)


def test_live_against_either_daemon(daemon: Any) -> None:
    with tradewire.Client(daemon.url, preset="daemon", **QUICK) as client:
        client.wait_live(SOON)
        assert client.status()["connected"]
        client.wait_live(0)  # already live: at once
    client = tradewire.Client(daemon.url, preset="daemon", **QUICK)
    try:
        client.start(wait=SOON)
        assert client.status()["state"] == "live"
    finally:
        client.close()


def test_refused_then_live_when_the_server_appears() -> None:
    port = _free_port()
    client = tradewire.Client(f"ws://127.0.0.1:{port}", **QUICK)
    try:
        with pytest.raises(tradewire.ConnectError) as info:
            client.start(wait=SOON)
        assert info.value.reason == "connection_refused"
        assert str(port) in str(info.value)
        with WsServer(port=port):
            before = _live_eventually(client)
        assert all(e.reason == "connection_refused" for e in before), before
    finally:
        client.close()


def test_connect_wait_shorthand_and_daemon_client() -> None:
    port = _free_port()
    client = tradewire.Client(f"ws://127.0.0.1:{port}", **QUICK)
    try:
        with pytest.raises(tradewire.ConnectError) as info:
            client.connect(wait=SOON)
        assert info.value.reason == "connection_refused"
    finally:
        client.close()
    events: list[Any] = []
    daemon = tradewire.DaemonClient(None, lambda t, d: events.append((t, d)), url=f"ws://127.0.0.1:{port}", **QUICK)
    with pytest.raises(tradewire.ConnectError) as info:
        daemon.connect(wait=SOON)
    assert info.value.reason == "connection_refused"
    daemon.disconnect()


def test_dns_tls_handshake_and_auth_reasons() -> None:
    cases: list[tuple[str, dict[str, Any], type[tradewire.Error], str]] = []
    with WsServer() as plain, WsServer(tls=True) as tls, WsServer(path="/ws") as pathed, WsServer(
        token="right", reject_token_with_http_401=True
    ) as guarded:
        cases = [
            ("ws://nonexistent.invalid:8765/", {}, tradewire.ConnectError, "dns"),
            (plain.url.replace("ws://", "wss://"), {}, tradewire.ConnectError, "tls"),
            (tls.url, {}, tradewire.ConnectError, "tls"),
            (f"ws://127.0.0.1:{pathed.port}/elsewhere", {}, tradewire.ConnectError, "handshake"),
            (guarded.url, {"token": "wrong"}, tradewire.AuthError, "auth"),
        ]
        for url, extra, cls, reason in cases:
            with tradewire.Client(url, **QUICK, **extra) as client:
                with pytest.raises(cls) as info:
                    client.wait_live(SOON)
                assert info.value.reason == reason, (url, info.value)


def test_tradovate_auth_refused_and_live_after_login() -> None:
    credentials = {"name": "trader", "password": "secret", "appId": "tests", "appVersion": "1.0"}
    with TradovateServer() as server:
        server.reject_credentials(True)
        client = tradewire.Client(
            server.url, preset="tradovate", auth_url=server.auth_url, credentials=credentials, **QUICK
        )
        try:
            with pytest.raises(tradewire.AuthError) as info:
                client.start(wait=SOON)
            assert info.value.reason == "auth"
            assert "secret" not in str(info.value)
        finally:
            client.close()
        server.reject_credentials(False)
        with tradewire.Client(
            server.url, preset="tradovate", auth_url=server.auth_url, credentials=credentials, **QUICK
        ) as client:
            client.wait_live(SOON)
            assert client.status()["authenticated"]


def test_timeouts(silent_listener: int) -> None:
    url = f"ws://127.0.0.1:{silent_listener}"
    # The attempt runs out of connect_timeout: a ConnectError with reason timed_out.
    with tradewire.Client(url, connect_timeout=0.3, **QUICK) as client:
        with pytest.raises(tradewire.ConnectError) as info:
            client.wait_live(SOON)
        assert info.value.reason == "timed_out"
    # wait_live runs out first: TimeoutError (also the built-in one), reason timed_out.
    with tradewire.Client(url, connect_timeout=60, **QUICK) as client:
        with pytest.raises(TimeoutError) as timeout:
            client.wait_live(0.2)
        assert isinstance(timeout.value, tradewire.TimeoutError)
        assert timeout.value.reason == "timed_out"


def test_usage_closed_and_other_errors_have_no_reason(silent_listener: int) -> None:
    client = tradewire.Client(f"ws://127.0.0.1:{silent_listener}", connect_timeout=60, **QUICK)
    with pytest.raises(tradewire.Error) as usage:
        client.wait_live(1)
    assert usage.value.reason is None
    client.start()
    closer = threading.Timer(0.2, client.close)
    closer.start()
    with pytest.raises(tradewire.ClosedError):
        client.wait_live(SOON)
    closer.join()
    with pytest.raises(tradewire.ClosedError):
        client.wait_live(SOON)
    assert tradewire.ConfigError("x").reason is None


def test_ctrl_c_interrupts_wait_live(silent_listener: int) -> None:
    with tradewire.Client(f"ws://127.0.0.1:{silent_listener}", connect_timeout=60, **QUICK) as client:
        timer = threading.Timer(0.2, _thread.interrupt_main)
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            client.wait_live(SOON)
        timer.join()
        assert client.status()["state"] == "connecting"  # still trying
