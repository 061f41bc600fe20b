"""permessage-deflate from Python: offered by default, `compression=None` turns it off
(the `websockets` peer of tests/peers reports what each connection negotiated)."""

from __future__ import annotations

import json
from typing import Any

import tradewire
from conftest import WebsocketsDaemon, wait_until


def negotiated(peer: WebsocketsDaemon) -> Any:
    reply = peer.peer.command(cmd="extensions")
    assert reply.startswith("EXTENSIONS "), reply
    return json.loads(reply[len("EXTENSIONS "):])


def test_compression_is_offered_by_default_and_none_turns_it_off() -> None:
    peer = WebsocketsDaemon()
    try:
        for config, want in (({}, [["permessage-deflate"]]), ({"compression": None}, [[]])):
            with tradewire.Client(peer.url, preset="daemon", account_id=123, **config) as client:
                assert peer.wait_for_connections(1, 10)
                assert negotiated(peer) == want
                peer.trigger_event("trade", 123, {"fill": "x" * 5000})
                ev = client.recv(timeout=10.0)
                while ev is not None and ev.kind != "message":
                    ev = client.recv(timeout=10.0)
                assert ev is not None and ev.data == {"fill": "x" * 5000}
                client.send({"type": "hello", "pad": "y" * 2000})
                assert wait_until(lambda: len(peer.received()) > 0, 10, 0.05)
                assert json.loads(peer.received()[-1])["pad"] == "y" * 2000
            assert wait_until(lambda: peer.connection_count() == 0, 10, 0.05)
    finally:
        peer.close()


def test_compression_accepts_deflate_and_refuses_other_values() -> None:
    tradewire.Client("ws://127.0.0.1:1", compression="deflate").close()
    try:
        tradewire.Client("ws://127.0.0.1:1", compression="gzip")
    except tradewire.ConfigError as e:
        assert "compression" in str(e)
    else:
        raise AssertionError("compression='gzip' was accepted")
