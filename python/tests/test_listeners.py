"""Listeners: Client.on/off, the on_open/on_message/on_error/on_close arguments, and the
one rule between listeners and reading (recv, recv_batch, iteration)."""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
import weakref
from typing import Any, Optional

import pytest
from conftest import wait_until

import tradewire
from tradewire.testing import DaemonServer, WsServer


class Log:
    """What listeners saw, in call order (listeners run on one thread, one at a time)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.threads: set[int] = set()

    def listener(self, tag: str) -> Any:
        def call(ev: tradewire.Event) -> None:
            self.threads.add(threading.get_ident())
            self.calls.append((tag, ev.kind, ev.data["seq"] if ev.kind == "message" else None))

        return call

    def of(self, tag: str) -> list[tuple[str, Any]]:
        return [(kind, seq) for t, kind, seq in self.calls if t == tag]


def test_listeners_run_in_registration_order_for_their_kinds_in_event_order(
    kit_daemon: DaemonServer,
) -> None:
    log = Log()
    client = tradewire.Client(kit_daemon.url, preset="daemon")
    client.on("message", log.listener("messages"))
    client.on("*", log.listener("all"))
    client.on(["connected", "disconnected"], log.listener("lifecycle"))
    client.start()
    try:
        assert kit_daemon.wait_for_connections(1, 10)
        for seq in range(20):
            kit_daemon.trigger_event("tick", None, {"seq": seq})
        assert wait_until(lambda: len(log.of("messages")) == 20)
        messages = [(t, seq) for t, kind, seq in log.calls if kind == "message"]
        # Each message went to `messages`, then to `all`, before the next message.
        assert messages == [(t, seq) for seq in range(20) for t in ("messages", "all")]
        assert log.of("lifecycle") == [("connected", None)]
        assert log.of("all")[0] == ("connected", None)
        assert len(log.threads) == 1 and threading.get_ident() not in log.threads
    finally:
        client.close()
    # close() ends the connection: no listener is called for what follows it.
    n = len(log.calls)
    kit_daemon.trigger_event("late", None, {"seq": -1})
    assert len(log.calls) == n


def test_a_raising_listener_is_logged_and_the_others_still_run(
    kit_daemon: DaemonServer, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[int] = []

    def broken(ev: tradewire.Event) -> None:
        raise ValueError(f"listener bug {ev.data['seq']}")

    client = tradewire.Client(kit_daemon.url, preset="daemon")
    client.on("message", broken)
    client.on("message", lambda ev: got.append(ev.data["seq"]))
    with caplog.at_level(logging.ERROR, logger="tradewire"):
        with client:
            assert kit_daemon.wait_for_connections(1, 10)
            kit_daemon.trigger_event("tick", None, {"seq": 1})
            kit_daemon.trigger_event("tick", None, {"seq": 2})
            assert wait_until(lambda: got == [1, 2])
    raised = [r for r in caplog.records if "raised on a 'message' event" in r.getMessage()]
    assert len(raised) == 2, [r.getMessage() for r in caplog.records]
    assert raised[0].exc_info is not None and "listener bug 1" in str(raised[0].exc_info[1])


def test_off_removes_for_good_and_from_inside_a_listener(kit_daemon: DaemonServer) -> None:
    log = Log()
    client = tradewire.Client(kit_daemon.url, preset="daemon")
    removed_inside: list[bool] = []
    added_inside: list[int] = []

    def once(ev: tradewire.Event) -> None:
        # Removes itself and adds another, from inside its call (no deadlock).
        removed_inside.append(client.off(once_handle))
        added_inside.append(client.on("message", log.listener("late")))

    once_handle = client.on("message", once)
    gone = client.on("message", log.listener("gone"))
    client.on("message", log.listener("all"))
    with client:
        assert kit_daemon.wait_for_connections(1, 10)
        kit_daemon.trigger_event("tick", None, {"seq": 0})
        assert wait_until(lambda: len(log.of("all")) == 1)
        assert client.off(gone) is True
        assert client.off(gone) is False  # once only
        for seq in range(1, 4):
            kit_daemon.trigger_event("tick", None, {"seq": seq})
        assert wait_until(lambda: len(log.of("all")) == 4)
    assert removed_inside == [True]
    assert len(added_inside) == 1
    assert log.of("gone") == [("message", 0)]
    # The listener added during message 0 runs from message 1 on, after `all`.
    assert log.of("late") == [("message", s) for s in (1, 2, 3)]
    assert [t for t, _, seq in log.calls if seq == 1] == ["all", "late"]
    assert client.off(added_inside[0]) is False  # close() removed it


def test_off_waits_for_a_call_in_progress(kit_daemon: DaemonServer) -> None:
    entered = threading.Event()
    release = threading.Event()
    finished: list[bool] = []

    def slow(ev: tradewire.Event) -> None:
        entered.set()
        release.wait(10)
        finished.append(True)

    client = tradewire.Client(kit_daemon.url, preset="daemon")
    handle = client.on("message", slow)
    with client:
        assert kit_daemon.wait_for_connections(1, 10)
        kit_daemon.trigger_event("tick", None, {"seq": 0})
        assert entered.wait(10)
        # The GIL is released while off() waits: the listener can finish.
        threading.Timer(0.05, release.set).start()
        assert client.off(handle) is True
        assert finished == [True], "off() returned while the listener was running"


def test_with_a_listener_reading_is_refused_even_after_off(kit_daemon: DaemonServer) -> None:
    client = tradewire.Client(kit_daemon.url, preset="daemon")
    handle = client.on("connected", lambda ev: None)
    with client:
        for read in (
            lambda: client.recv(timeout=0),
            lambda: client.recv_batch(timeout=0),
            lambda: next(client),
        ):
            with pytest.raises(tradewire.Error, match="listeners"):
                read()
        assert client.off(handle)
        with pytest.raises(tradewire.Error, match="listeners"):
            client.recv(timeout=0)


def test_kinds_are_checked() -> None:
    client = tradewire.Client("ws://127.0.0.1:9")
    with pytest.raises(tradewire.Error, match="'connected'"):
        client.on("open", print)  # type: ignore[arg-type]
    with pytest.raises(tradewire.Error, match="not a kind of event"):
        client.on(["message", "tick"], print)  # type: ignore[list-item]
    with pytest.raises(tradewire.Error, match="at least one kind"):
        client.on([], print)
    with pytest.raises(TypeError, match="kinds"):
        client.on(3, print)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        client.on("message", "not callable")  # type: ignore[arg-type]
    # Nothing was registered: reading is refused only because the client never started.
    with pytest.raises(tradewire.Error, match=r"start\(\)"):
        client.recv(timeout=0.01)
    client.close()
    with pytest.raises(tradewire.ClosedError):
        client.on("message", print)


def test_websocket_client_keyword_arguments(kit_daemon: DaemonServer) -> None:
    calls: list[tuple[Any, ...]] = []
    client = tradewire.Client(
        kit_daemon.url,
        preset="daemon",
        on_open=lambda c: calls.append(("open", c)),
        on_message=lambda c, message: calls.append(("message", c, message)),
        on_close=lambda c, code, msg: calls.append(("close", c, code, msg)),
        reconnect=False,
    )
    with client:
        assert kit_daemon.wait_for_connections(1, 10)
        kit_daemon.trigger_event("tick", 7, {"seq": 0})
        assert wait_until(lambda: any(c[0] == "message" for c in calls))
        kit_daemon.close_all(4001, "bye")
        assert wait_until(lambda: any(c[0] == "close" for c in calls))
    assert [c[0] for c in calls] == ["open", "message", "close"]
    assert all(c[1] is client for c in calls)
    message = calls[1][2]
    assert isinstance(message, str)
    assert json.loads(message) == {"type": "tick", "account_id": 7, "data": {"seq": 0}}
    assert calls[2][2:] == (4001, "bye")


def test_on_message_gets_the_frame_as_received_str_or_bytes() -> None:
    got: list[Any] = []
    with WsServer() as server:
        client = tradewire.Client(
            server.url, preset="raw", on_message=lambda c, message: got.append(message)
        )
        with client:
            assert server.wait_for_connections(1, 10)
            server.broadcast_binary(b"\x00\x01binary")
            server.broadcast("text, not JSON")
            assert wait_until(lambda: len(got) == 2)
    assert got == [b"\x00\x01binary", "text, not JSON"]


def test_on_error_gets_a_tradewire_error_and_the_stream_goes_on() -> None:
    errors: list[Any] = []
    got: list[Any] = []
    with WsServer() as server:
        client = tradewire.Client(
            server.url,
            preset="daemon",
            on_error=lambda c, error: errors.append((c, error)),
            on_message=lambda c, message: got.append(json.loads(message)),
        )
        with client:
            assert server.wait_for_connections(1, 10)
            server.broadcast("this is not JSON")
            server.broadcast('{"type": "t", "data": 2}')
            assert wait_until(lambda: got)
        assert len(errors) == 1
        c, error = errors[0]
        assert c is client
        assert isinstance(error, tradewire.Error) and "JSON" in str(error), str(error)
    assert got == [{"type": "t", "data": 2}]


def test_a_dropped_client_with_keyword_listeners_is_freed(kit_daemon: DaemonServer) -> None:
    opened: list[bool] = []
    client: Optional[tradewire.Client] = tradewire.Client(
        kit_daemon.url, preset="daemon", on_open=lambda c: opened.append(True)
    )
    assert client is not None
    client.start()
    assert wait_until(lambda: opened)
    ref = weakref.ref(client)
    client = None
    gc.collect()
    # The listeners hold the client weakly: dropping it frees it (and closes it).
    assert ref() is None
    assert kit_daemon.wait_for_at_most(0, 10)


def test_clear_listeners_by_kind_and_all(kit_daemon: DaemonServer) -> None:
    """Document 004's clearEventListeners(type?): by kind, then every listener."""
    log = Log()
    client = tradewire.Client(kit_daemon.url, preset="daemon")
    client.on("connected", log.listener("open"))
    client.on(["message", "connected"], log.listener("both"))
    assert client.clear_listeners("connected") == 1  # "open" had no other kind
    with client:
        assert kit_daemon.wait_for_connections(1, 10)
        kit_daemon.trigger_event("tick", None, {"seq": 0})
        assert wait_until(lambda: len(log.of("both")) == 1)
        assert log.of("open") == []
        assert client.clear_listeners() == 1
        kit_daemon.trigger_event("tick", None, {"seq": 1})
        time.sleep(0.3)
        assert len(log.of("both")) == 1
        with pytest.raises(tradewire.Error):
            client.recv(timeout=0)  # the stream stays with the listeners
