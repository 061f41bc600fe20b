"""tradewire.Client: events, conversion, sending, errors, lifecycle."""

from __future__ import annotations

import builtins
import json
import logging
import threading
import time
from typing import Any, Callable

import pytest
from conftest import wait_until

import tradewire
from tradewire.testing import DaemonServer, WsServer


def first_of(client: tradewire.Client, kind: str, timeout: float = 10.0) -> tradewire.Event:
    """The next event of `kind`, skipping others."""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ev = client.recv(timeout=0.2)
        if ev is not None and ev.kind == kind:
            return ev
    raise AssertionError(f"no {kind!r} event within {timeout} s")


def live_client(server: Any, **config: Any) -> tradewire.Client:
    client = tradewire.Client(server.url, **config)
    client.start()
    first_of(client, "connected")
    assert server.wait_for_connections(1, 10)
    return client


def test_messages_are_converted_like_json_loads(kit_daemon: DaemonServer) -> None:
    data = {
        "id": 101112,
        "contractId": "CON.F.US.MNQ.U25",
        "profitAndLoss": -45.5,
        "prices": [21000.25, 0.1, 1e-7, 1.2345678901234567, -0.0, 1e300],
        "big": 2**63 + 5,
        "neg": -(2**63),
        "flags": [True, False, None],
        "nested": {"a": {"b": [{"c": "d"}, []]}, "empty": {}},
        "text": "caf\u00e9 \u2603 \U0001f600 \"quoted\" \\ \n",
    }
    with live_client(kit_daemon, preset="daemon", account_id=123) as client:
        kit_daemon.trigger_event("GatewayUserTrade", 123, data)
        ev = first_of(client, "message")
        assert ev.type == "GatewayUserTrade"
        assert ev.account_id == 123  # the server sent the integer 123
        assert isinstance(ev.raw, str)
        assert ev.data == json.loads(ev.raw)["data"] == data
        assert ev.data is ev.data  # converted once, then cached
        assert ev.epoch == 1
        assert ev.received_at > 1.7e9
        assert "GatewayUserTrade" in repr(ev)


def test_item_access_reads_one_member_like_data(kit_daemon: DaemonServer) -> None:
    data = {
        "ts": 1700000000123456789,
        "big": 2**63 + 5,
        "neg": -42,
        "px": 21000.25,
        "sym": "ES",
        "esc": "a\"b\u00e9",
        "nested": {"a": [1, {"b": None}]},
        "flag": True,
    }
    with live_client(kit_daemon, preset="daemon", account_id=123) as client:
        kit_daemon.trigger_event("GatewayUserTrade", 123, data)
        kit_daemon.trigger_event("list_payload", 123, [1, 2])
        ev = first_of(client, "message")
        listed = first_of(client, "message")
        for key, value in data.items():
            assert ev[key] == value and type(ev[key]) is type(value), key
            assert ev.get(key) == value
        assert ev.get("missing") is None and ev.get("missing", 7) == 7
        with pytest.raises(KeyError):
            ev["missing"]
        assert ev.get(5) is None  # type: ignore[arg-type]  # JSON keys are strings
        # Once ev.data is converted, item access reads the same dict.
        assert ev.data["px"] == ev["px"] == 21000.25
        with pytest.raises(KeyError):
            ev["missing"]
        with pytest.raises(TypeError):
            listed["ts"]
        assert listed.get("ts", "d") == "d"
        connected = tradewire.Client(kit_daemon.url, preset="daemon")
        with connected:
            ev2 = first_of(connected, "connected")
            assert ev2.get("ts") is None
            with pytest.raises(TypeError, match="connected event has no JSON object payload"):
                ev2["ts"]


def test_lifecycle_events_and_close_ends_iteration(kit_daemon: DaemonServer) -> None:
    client = tradewire.Client(kit_daemon.url, preset="daemon")
    with client:
        connected = first_of(client, "connected")
        assert connected.epoch == 1 and connected.url == client.url
        assert client.recv(timeout=0.05) is None  # timeout
        kit_daemon.drop_all()
        gone = first_of(client, "disconnected")
        assert gone.epoch == 1 and gone.reason
        again = first_of(client, "connected")
        assert again.epoch == 2
        assert client.status()["reconnects"] >= 1
    assert client.status()["state"] == "closed"
    leftover = list(client)  # the queued events, then StopIteration
    assert all(isinstance(e, tradewire.Event) for e in leftover)
    with pytest.raises(tradewire.ClosedError):
        client.recv(timeout=0.1)


def test_recv_batch(kit_daemon: DaemonServer) -> None:
    with live_client(kit_daemon, preset="daemon") as client:
        for i in range(20):
            kit_daemon.trigger_event("seq", None, {"i": i})
        got: list[tradewire.Event] = []

        def take() -> bool:
            batch = client.recv_batch(8, timeout=0.5)
            assert len(batch) <= 8
            got.extend(batch)
            return len(got) >= 20

        wait_until(take, timeout=10)
        assert [e.data["i"] for e in got] == list(range(20))
        assert client.recv_batch(8, timeout=0.05) == []


def test_recv_batch_takes_every_queued_event_up_to_max(kit_daemon: DaemonServer) -> None:
    with live_client(kit_daemon, preset="daemon") as client:
        before = client.status()["events_delivered"]
        for i in range(50):
            kit_daemon.trigger_event("seq", None, {"i": i})
        # Every event queued first (the core counts each as it enters the queue): each batch
        # is then full, and the last one holds the rest.
        assert wait_until(lambda: client.status()["events_delivered"] >= before + 50, timeout=20)
        sizes = []
        got: list[int] = []
        while len(got) < 50:
            batch = client.recv_batch(16, timeout=5)
            sizes.append(len(batch))
            got.extend(e.data["i"] for e in batch if e.kind == "message")
        assert got == list(range(50))
        assert all(n == 16 for n in sizes[:-1]) and 1 <= sizes[-1] <= 16, sizes
        assert len(sizes) == 4, sizes
        assert client.recv_batch(16, timeout=0) == []
        assert client.recv_batch(0) == []


def test_reading_a_client_that_has_a_callback_is_an_error(kit_daemon: DaemonServer) -> None:
    seen: list[str] = []
    client = tradewire.Client(kit_daemon.url, preset="daemon")
    client.set_callback(lambda ev: seen.append(ev.kind))
    client.start()
    try:
        assert wait_until(lambda: "connected" in seen)
        for read in (lambda: client.recv(timeout=0), lambda: client.recv_batch(timeout=0), lambda: next(client)):
            with pytest.raises(tradewire.Error, match="callback"):
                read()
        kit_daemon.trigger_event("after", None, {})
        assert wait_until(lambda: seen.count("message") == 1)  # the callback still gets it
    finally:
        client.close()


def test_send_str_bytes_dict_list(kit_daemon: DaemonServer) -> None:
    with live_client(kit_daemon, preset="daemon") as client:
        client.send("plain")
        client.send({"type": "subscribe", "agentId": "a1", "n": [1, 2.5, None]})
        client.send([1, "two"])
        client.send(b"\x00\x01")
        want = ["plain", '{"type":"subscribe","agentId":"a1","n":[1,2.5,null]}', '[1,"two"]']
        assert wait_until(lambda: kit_daemon.received() == want, timeout=10), kit_daemon.received()
        with pytest.raises(TypeError):
            client.send(42)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            client.send({"x": object()})


def test_send_before_start_and_after_close() -> None:
    client = tradewire.Client("ws://127.0.0.1:9/", preset="daemon")
    with pytest.raises(tradewire.NotConnectedError) as e:
        client.send("x")
    assert isinstance(e.value, tradewire.Error)
    client.close()
    with pytest.raises(tradewire.ClosedError):
        client.send("x")
    with pytest.raises(tradewire.ClosedError):
        client.start()


def test_request_on_a_json_preset_takes_a_json_object(kit_daemon: DaemonServer) -> None:
    with tradewire.Client(kit_daemon.url, preset="daemon") as client:
        first_of(client, "connected")
        with pytest.raises(tradewire.RequestError, match="not valid JSON"):
            client.request("account/list")
        with pytest.raises(TypeError, match="tradovate"):
            client.request({"method": "x"}, {"body": 1})


def test_json_request_returns_the_answer_carrying_its_id(daemon: Any) -> None:
    """Document 004's requestId pattern, against the testkit and the `websockets` peer."""
    with tradewire.Client(daemon.url, preset="daemon", request_id_field="requestId") as client:
        first_of(client, "connected")
        assert daemon.wait_for_connections(1)
        result: dict[str, Any] = {}

        def ask() -> None:
            result["answer"] = client.request({"type": "getUser"}, timeout=10)

        asking = threading.Thread(target=ask)
        asking.start()
        sent = wait_until(lambda: next((m for m in daemon.received() if "getUser" in m), None))
        request_id = json.loads(sent)["requestId"]
        daemon.broadcast(json.dumps({"type": "response", "requestId": request_id, "payload": {"n": 1}}))
        asking.join(10)
        assert result["answer"] == {"type": "response", "requestId": request_id, "payload": {"n": 1}}
        daemon.broadcast('{"type":"tick"}')
        assert first_of(client, "message").type == "tick"  # the answer was not delivered


def test_binary_and_invalid_frames(kit_daemon: DaemonServer) -> None:
    with live_client(kit_daemon, preset="daemon") as client:
        kit_daemon.broadcast("{not json")
        err = first_of(client, "error")
        assert err.type == "invalid_json" and err.error and err.raw == "{not json"
        kit_daemon.trigger_event("after", None, {"ok": True})
        assert first_of(client, "message").data == {"ok": True}
    with WsServer() as server, live_client(server, preset="raw") as client:
        server.broadcast_binary(b"\x00\xffbin")
        ev = first_of(client, "message")
        assert ev.raw == b"\x00\xffbin"


def test_error_events_have_the_json_forms_names(kit_daemon: DaemonServer) -> None:
    # The JSON form names an error event's kind "error" and its text "message"; the attributes
    # `type` (the kind) and `error` (the text) stay, and `message` is the JSON form's name.
    with live_client(kit_daemon, preset="daemon") as client:
        kit_daemon.broadcast("{not json")
        err = first_of(client, "error")
        as_json = err.to_dict()
        assert (as_json["error"], as_json["message"]) == (err.type, err.message)
        assert err.message == err.error and err.message
        kit_daemon.trigger_event("after", None, {"ok": True})
        assert first_of(client, "message").message is None


def test_history_and_status(kit_daemon: DaemonServer) -> None:
    with live_client(kit_daemon, preset="daemon", history=3) as client:
        for i in range(5):
            kit_daemon.trigger_event("seq", None, {"i": i})
        wait_until(lambda: len(client.history()) == 3 and client.history()[-1].data == {"i": 4})
        assert [e.data["i"] for e in client.history()] == [2, 3, 4]
        status = client.status()
        assert status["state"] == "live" and status["connected"] is True
        assert status["messages_received"] >= 5
        assert "live" in repr(client)


def close_while_iterating(client: tradewire.Client, ready: Callable[[list[str]], bool]) -> list[str]:
    """Iterates over `client` on another thread, closes it from this one once `ready(kinds seen
    so far)`, checks that the iteration ended, and returns the kinds it saw."""
    kinds: list[str] = []

    def consume() -> None:
        for ev in client:
            kinds.append(ev.kind)

    consumer = threading.Thread(target=consume)
    consumer.start()
    assert wait_until(lambda: ready(kinds), timeout=10)
    client.close()
    consumer.join(timeout=10)
    assert not consumer.is_alive(), "iteration did not end after close()"
    return kinds


def test_close_from_another_thread_while_iterating(kit_daemon: DaemonServer) -> None:
    client = tradewire.Client(kit_daemon.url, preset="daemon")
    client.start()
    close_while_iterating(client, lambda kinds: "connected" in kinds)


@pytest.mark.parametrize("inline_reads", [True, False])
def test_stream_filter_send_and_close_from_another_thread_with_and_without_inline_reads(
    daemon: Any, inline_reads: bool
) -> None:
    """inline_reads (the default): the thread in recv reads the socket; without it the I/O
    thread does. Same events, same API."""
    client = tradewire.Client(
        daemon.url, preset="daemon", account_id=123, inline_reads=inline_reads
    )
    client.start()
    first_of(client, "connected")
    assert daemon.wait_for_connections(1, 10)
    for i in range(50):
        daemon.trigger_event("seq", 123, {"i": i})
        daemon.trigger_event("seq", 456, {"i": -i})  # another account: filtered out
    got: list[int] = []

    def take() -> bool:
        got.extend(e["i"] for e in client.recv_batch(16, timeout=0.5) if e.kind == "message")
        return len(got) >= 50

    assert wait_until(take, timeout=10)
    assert got == list(range(50))
    client.send({"type": "hello"})
    assert client.recv(timeout=0.2) is None

    # Closed once the consumer has had 0.3 s to be waiting in the socket read.
    started = time.monotonic()
    kinds = close_while_iterating(client, lambda _: time.monotonic() - started >= 0.3)
    assert kinds[-1:] == ["disconnected"], kinds


def test_bad_arguments_raise_config_error_naming_the_argument() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"heartbeat_interval": "soon"}, "heartbeat_interval"),
        ({"heartbeat_intervall": 5}, "heartbeat_intervall"),
        ({"preset": "nope"}, "preset"),
        ({"jitter": 7}, "jitter"),
        ({"types": {1, 2}}, "types"),
        ({"queue_capacity": -1}, "queue_capacity"),
        ({"url": "http://example.com"}, "url"),
    ]
    for kwargs, name in cases:
        with pytest.raises(tradewire.ConfigError) as e:
            tradewire.Client(**kwargs)
        assert name in str(e.value), (kwargs, str(e.value))
        assert isinstance(e.value, tradewire.Error)
    with pytest.raises(tradewire.ConfigError, match="url"):
        tradewire.DaemonClient(123, print, url="not a url").connect()
    with pytest.raises(tradewire.ConfigError):
        tradewire.Client.from_config([1, 2])  # type: ignore[arg-type]


def test_from_config_and_document_004_form() -> None:
    client = tradewire.Client.from_config({"protocol": "wss", "host": "api.example.com", "port": 8443})
    assert client.url.startswith("wss://api.example.com:8443")
    client.close()
    client = tradewire.Client.from_config({"url": "ws://127.0.0.1:1/", "preset": "agent", "token": "s3cret"})
    assert "s3cret" not in client.url and "s3cret" not in repr(client)
    assert client.preset == "agent"
    client.close()


def test_exception_hierarchy() -> None:
    for cls in (
        tradewire.ConfigError,
        tradewire.ConnectError,
        tradewire.AuthError,
        tradewire.NotConnectedError,
        tradewire.RequestError,
        tradewire.TimeoutError,
        tradewire.ClosedError,
    ):
        assert issubclass(cls, tradewire.Error) and cls.__module__ == "tradewire"
    assert issubclass(tradewire.TimeoutError, builtins.TimeoutError)
    assert issubclass(tradewire.Error, Exception)


def test_rust_logs_reach_python_logging(kit_daemon: DaemonServer) -> None:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("tradewire")
    handler = Collect()
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        # The cached level is refreshed when a client is created.
        with live_client(kit_daemon, preset="daemon"):
            pass
        assert wait_until(lambda: any(r.name.startswith("tradewire") and "connect" in r.getMessage() for r in records))
        assert all(not r.getMessage().startswith("tradewire: ") for r in records)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


def test_callback_client(kit_daemon: DaemonServer) -> None:
    seen: list[str] = []
    client = tradewire.Client(kit_daemon.url, preset="daemon")
    client.set_callback(lambda ev: seen.append(ev.kind))
    client.start()
    assert wait_until(lambda: "connected" in seen)
    with pytest.raises(tradewire.Error):
        client.set_callback(print)
    client.close()
    n = len(seen)
    kit_daemon.trigger_event("late", None, {})
    assert len(seen) == n  # nothing after close() returned


def test_tradovate_request_returns_the_parsed_payload() -> None:
    from tradewire.testing import TradovateServer

    with TradovateServer() as server:
        config = {"name": "trader", "password": "secret", "appId": "tests", "appVersion": "1.0"}
        with tradewire.Client(
            server.url, preset="tradovate", auth_url=server.auth_url, credentials=config, token_file=None
        ) as client:
            first_of(client, "authenticated", timeout=15)
            accounts = client.request("account/list")
            assert isinstance(accounts, list) and {a["id"] for a in accounts} == {101, 202}
            assert client.request("order/placeorder", {"accountId": 101, "qty": 1}) == {
                "ok": True,
                "endpoint": "order/placeorder",
            }
            assert any(r[0] == "order/placeorder" and '"qty":1' in r[2] for r in server.requests())
            server.drop_responses(True)
            with pytest.raises(tradewire.TimeoutError):
                client.request("account/list", timeout=0.3)
            with pytest.raises(builtins.TimeoutError):  # also a built-in TimeoutError
                client.request("account/list", timeout=0.3)


def test_tradovate_send_request_returns_the_id_and_the_answer_is_a_response_event() -> None:
    from tradewire.testing import TradovateServer

    with TradovateServer() as server:
        config = {"name": "trader", "password": "secret", "appId": "tests", "appVersion": "1.0"}
        with tradewire.Client(
            server.url, preset="tradovate", auth_url=server.auth_url, credentials=config, token_file=None
        ) as client:
            first_of(client, "authenticated", timeout=15)
            first_of(client, "response", timeout=15)  # the sync answer
            sent = client.send_request("order/placeorder", {"accountId": 101, "qty": 1})
            assert isinstance(sent, int) and sent > 0
            ev = first_of(client, "response", timeout=15)
            assert (ev.id, ev.status) == (sent, 200)
            assert ev.data == {"ok": True, "endpoint": "order/placeorder"}
    with tradewire.Client("ws://127.0.0.1:9") as other:
        with pytest.raises(tradewire.RequestError, match="tradovate"):
            other.send_request("account/list")


def test_trigger_test_event_takes_the_account_from_the_data(kit_daemon: DaemonServer) -> None:
    """Document 002's harness name: the account is the data's accountId."""
    with tradewire.Client(kit_daemon.url, preset="daemon", account_id=123) as client:
        first_of(client, "connected")
        assert kit_daemon.wait_for_connections(1, 10)
        kit_daemon.trigger_test_event("GatewayUserTrade", {"accountId": 456, "profitAndLoss": -1})
        kit_daemon.trigger_test_event("GatewayUserTrade", {"accountId": 123, "profitAndLoss": -45.5})
        ev = first_of(client, "message")
        assert (ev.type, ev.account_id, ev.data["profitAndLoss"]) == ("GatewayUserTrade", 123, -45.5)
