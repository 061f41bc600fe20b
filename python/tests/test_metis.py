"""Document 004 (METIS `WebSocketApi` on Node `ws`) as a drop-in: the `{protocol, host, port}`
form (or preset="metis") gives `ev.data` as the whole parsed message, the text itself when it
is not JSON, binary JSON parsed and other binary delivered as bytes; `connection_change`
listeners with `ev.is_connected`; `clear_listeners`; `client.config`; `send(str | dict)`.
Against tradewire.testing.WsServer and against tests/peers/metis_server.js (Node `ws`)."""

from __future__ import annotations

import json
import queue
import shutil
import time
from typing import Any, Callable, Iterator

import pytest

import tradewire
from tradewire.testing import WsServer

from conftest import PEERS, Peer, wait_until


def metis_client(port: int, **config: Any) -> tradewire.Client:
    return tradewire.Client.from_config(
        {"protocol": "ws", "host": "127.0.0.1", "port": port, "backoff_initial": 0.1, "jitter": 0.0, **config}
    )


def first_of(client: tradewire.Client, kind: str, timeout: float = 10.0) -> tradewire.Event:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ev = client.recv(timeout=0.2)
        if ev is not None and ev.kind == kind:
            return ev
    raise AssertionError(f"no {kind!r} event within {timeout} s")


@pytest.fixture
def node_metis() -> Iterator[Peer]:
    """tests/peers/metis_server.js (Node `ws`)."""
    node = shutil.which("node")
    if node is None or not (PEERS / "node_modules" / "ws").is_dir():
        pytest.fail("node and tests/peers/node_modules are needed (run scripts/setup.sh)")
    peer = Peer([node, str(PEERS / "metis_server.js"), "--port", "0"], "metis_server.js")
    try:
        yield peer
    finally:
        peer.close()


def check_004_shapes(client: tradewire.Client, text: Callable[[str], Any], binary: Callable[[bytes], Any]) -> None:
    text('{"type":"status-update","payload":{"status":"ok"}}')
    ev = first_of(client, "message")
    # The document's handler: const { type, payload } = event.data
    assert ev.data == {"type": "status-update", "payload": {"status": "ok"}}
    assert ev.data["payload"]["status"] == "ok" and ev.type == "status-update"
    assert ev["payload"] == {"status": "ok"}

    text("plain text, not JSON")
    ev = first_of(client, "message")
    assert ev.data == "plain text, not JSON" and ev.raw == "plain text, not JSON"
    as_dict = ev.to_dict()
    assert as_dict["data"] == as_dict["raw"] == "plain text, not JSON"

    binary(b'{"type":"alert","payload":{"message":"hot"}}')
    ev = first_of(client, "message")
    assert ev.data == {"type": "alert", "payload": {"message": "hot"}} and ev.type == "alert"

    binary(b"\xff\x00{\x01")
    ev = first_of(client, "message")
    assert ev.raw == b"\xff\x00{\x01" and ev.data is None


def test_whole_messages_text_and_binary_from_the_testkit() -> None:
    with WsServer() as server:
        client = metis_client(server.port)
        assert client.preset == "metis"
        with client:
            first_of(client, "connected")
            check_004_shapes(client, server.broadcast, server.broadcast_binary)


def test_whole_messages_text_and_binary_from_node_ws(node_metis: Peer) -> None:
    with metis_client(node_metis.port) as client:
        first_of(client, "connected")
        wait_until(lambda: node_metis.command(cmd="count") == "COUNT 1")
        check_004_shapes(
            client,
            lambda t: node_metis.command(cmd="broadcast", text=t),
            lambda b: node_metis.command(cmd="binary", hex=b.hex()),
        )
        assert node_metis.command(cmd="message", type="metric", payload={"name": "cpu", "value": 0.5}) == "OK 1"
        assert first_of(client, "message").data == {"type": "metric", "payload": {"name": "cpu", "value": 0.5}}


def test_send_a_string_or_an_object_and_request_by_request_id(node_metis: Peer) -> None:
    with metis_client(node_metis.port) as client:
        first_of(client, "connected")
        client.send("Hello, WebSocket!")
        client.send({"type": "command", "action": "execute"})

        def received() -> list[str]:
            reply = node_metis.command(cmd="received")
            got: list[str] = json.loads(reply[len("RECEIVED "):])
            return got

        got = wait_until(lambda: len(received()) >= 2 and received())
        assert got[0] == "Hello, WebSocket!"
        assert json.loads(got[1]) == {"type": "command", "action": "execute"}
        answer = client.request({"type": "request", "data": {"action": "getData"}}, timeout=10.0)
        assert answer["type"] == "response" and answer["data"] == {"echo": {"action": "getData"}}
        assert "requestId" in answer


def test_the_json_preset_keeps_its_payload_rules() -> None:
    with WsServer() as server, tradewire.Client(server.url) as client:
        first_of(client, "connected")
        server.broadcast('{"type":"t","data":{"a":1}}')
        assert first_of(client, "message").data == {"a": 1}
        server.broadcast("not json")
        ev = first_of(client, "message")
        assert ev.data is None and ev.raw == "not json"


def test_connection_change_listeners_and_clear_listeners() -> None:
    with WsServer() as server:
        client = metis_client(server.port)
        changes: queue.Queue[tuple[str, Any]] = queue.Queue()
        activity: list[str] = []
        client.on("connection-change", lambda ev: changes.put((ev.kind, ev.is_connected)))
        client.on("activity", lambda ev: activity.append(ev.kind))
        with client:
            assert changes.get(timeout=10) == ("connected", True)
            server.close_all(1001, "going away")
            assert changes.get(timeout=10) == ("disconnected", False)
            assert changes.get(timeout=10) == ("connected", True)
            assert wait_until(lambda: activity.count("connected") >= 2)
            assert activity[0] == "connected" and "disconnected" in activity
            # clearEventListeners(['connection-change']) then clearEventListeners()
            assert client.clear_listeners("connection_change") == 1
            before = len(activity)
            server.close_all(1001, "again")
            assert wait_until(lambda: "reconnecting" in activity[before:])
            assert server.wait_for_connections(1, 10)
            assert changes.empty()
            assert not {"connected", "disconnected"} & set(activity[before:])
            assert client.clear_listeners() == 1


def test_is_connected_is_none_for_other_kinds() -> None:
    with WsServer() as server, metis_client(server.port) as client:
        assert first_of(client, "connected").is_connected is True
        server.broadcast("{}")
        assert first_of(client, "message").is_connected is None
        assert client.status()["connected"]


def test_config_is_read_only_and_has_no_secret() -> None:
    with WsServer() as server:
        client = tradewire.Client.from_config(
            {
                "protocol": "ws",
                "host": "127.0.0.1",
                "port": server.port,
                "rejectUnauthorized": False,
                "connectTimeout": 2500,
                "query": {"token": "q-s3cret"},
                "headers": {"X-Key": "h-s3cret"},
                "account_id": 7,
            }
        )
        config = client.config
        assert config["preset"] == "metis"
        assert config["url"] == f"ws://127.0.0.1:{server.port}/?token=<redacted>"
        assert (config["host"], config["port"], config["protocol"]) == ("127.0.0.1", server.port, "ws")
        assert (config["connect_timeout"], config["connectTimeout"]) == (2.5, 2500)
        assert config["verify_tls"] is False and config["rejectUnauthorized"] is False
        assert config["account_id"] == "7" and config["request_id_field"] == "requestId"
        assert config["heartbeat_interval"] == 10.0 and config["max_reconnect_attempts"] is None
        assert "s3cret" not in repr(dict(config))
        with pytest.raises(TypeError):
            config["url"] = "ws://elsewhere"  # type: ignore[index]
        assert client.config["url"] == config["url"]
        client.close()
