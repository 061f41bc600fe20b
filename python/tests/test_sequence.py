"""Sequence gaps (config `sequence`) against tests/peers/numbered_server.py (Python
`websockets`), a feed that numbers its messages per channel and drops or repeats some."""

from __future__ import annotations

import sys
from typing import Any, Iterator

import pytest

import tradewire
from conftest import PEERS, Peer, wait_until


@pytest.fixture
def feed() -> Iterator[Peer]:
    peer = Peer([sys.executable, str(PEERS / "numbered_server.py"), "--port", "0"], "numbered_server.py")
    try:
        yield peer
    finally:
        peer.close()


def connected(client: tradewire.Client, feed: Peer) -> None:
    client.wait_live(10.0)
    assert wait_until(lambda: feed.command(cmd="count") == "COUNT 1" or None)


def take(client: tradewire.Client, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        ev = client.recv(timeout=10.0)
        assert ev is not None, out
        if ev.kind == "message":
            d: Any = ev.data
            out.append(f"{d['channel']}{d['seq']}")
        elif ev.kind == "gap":
            out.append(f"gap {ev.key} {ev.expected}->{ev.received} ({ev.missing}) epoch {ev.epoch}")
    return out


def test_a_gap_event_comes_before_the_message_that_skipped(feed: Peer) -> None:
    url = f"ws://127.0.0.1:{feed.port}"
    with tradewire.Client(url, sequence="/seq", sequence_key="/channel", drop_duplicates=True) as client:
        connected(client, feed)
        assert feed.command(cmd="publish", channel="BTC", count=5, drop=[1, 2]).startswith("OK")
        assert feed.command(cmd="repeat", channel="BTC") == "OK 1"
        assert feed.command(cmd="publish", channel="BTC", count=1) == "OK 1"
        assert take(client, 4) == ["BTC1", "gap BTC 2->4 (2) epoch 1", "BTC4", "BTC5"]
        assert take(client, 1) == ["BTC6"], "the repeated BTC5 was held back"
        seq = client.status()["sequence"]
        assert (seq["gaps"], seq["missing"], seq["duplicates"]) == (1, 2, 1)
        assert seq["streams"]["BTC"] == {"gaps": 1, "missing": 2, "duplicates": 1}


def test_bad_sequence_settings_are_config_errors() -> None:
    with pytest.raises(tradewire.ConfigError) as info:
        tradewire.Client("ws://127.0.0.1:9", sequence="seq")
    assert "sequence" in str(info.value) and "must start with `/`" in str(info.value)
    with pytest.raises(tradewire.ConfigError) as info:
        tradewire.Client("ws://127.0.0.1:9", sequence="/seq", on_gap="resync")
    assert "on_gap" in str(info.value)
    with pytest.raises(tradewire.ConfigError) as info:
        tradewire.Client("ws://127.0.0.1:9", preset="raw", sequence="/seq")
    assert "raw preset" in str(info.value)
