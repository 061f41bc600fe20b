"""Issue 26, the Tradovate client of reference document 000 as a drop-in: its defaults and
environments, its token file (on by default, its format), the token answer readable with
token_info(), and send_request with a caller-chosen id."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlparse

import pytest
from conftest import PEERS, STATE_HOME, Peer, wait_until

import tradewire
from tradewire.testing import TradovateServer

CREDENTIALS = {"name": "trader", "password": "secret", "appId": "tests"}

# Document 000's AccessTokenResponse.
ANSWER_MEMBERS = {
    "accessToken", "mdAccessToken", "expirationTime", "userStatus", "userId", "name", "hasLive",
    "hasSimPlus", "hasFunded", "hasMarketData", "outdatedLiquidationPolicy",
    "outdatedSentimentPolicy", "experience", "orgName",
}


def first_of(client: tradewire.Client, kind: str, timeout: float = 15.0, **want: Any) -> tradewire.Event:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ev = client.recv(timeout=0.2)
        if ev is not None and ev.kind == kind and all(getattr(ev, k) == v for k, v in want.items()):
            return ev
    raise AssertionError(f"no {kind!r} event {want} within {timeout} s")


def client_of(server: TradovateServer, **config: Any) -> tradewire.Client:
    config.setdefault("credentials", CREDENTIALS)
    return tradewire.Client(server.url, preset="tradovate", auth_url=server.auth_url, **config)


def test_the_defaults_are_the_documents_staging_host_and_environments_are_named() -> None:
    staging = tradewire.Client(preset="tradovate", credentials=CREDENTIALS, token_file=None)
    assert staging.url == "wss://live-api.staging.ninjatrader.dev/v1/websocket"
    live = tradewire.Client(preset="tradovate", environment="live", token="t")
    assert live.url == "wss://live.tradovateapi.com/v1/websocket"
    with pytest.raises(tradewire.ConfigError, match=r'"staging", "demo" or "live".*did you mean "demo"'):
        tradewire.Client(preset="tradovate", environment="demoo", token="t")


def test_token_info_is_the_answer_without_its_tokens() -> None:
    with TradovateServer() as server:
        client = client_of(server, token_file=False)
        assert client.token_info() is None
        with client:
            first_of(client, "authenticated")
            info = client.token_info()
            assert info is not None
            assert (info["userId"], info["name"], info["orgName"]) == (7, "trader", "tradewire-test")
            assert info["hasLive"] is False
            assert set(info) == ANSWER_MEMBERS - {"accessToken", "mdAccessToken"} | {"retrievedAt"}
            assert isinstance(info["retrievedAt"], int)
            # The userId is what the application's own requests need.
            synced = client.request("user/syncrequest", {"users": [info["userId"]]})
            assert synced is not None


def test_credentials_without_app_version_or_cid_send_the_documents_defaults() -> None:
    with TradovateServer() as server:
        with client_of(server, credentials={"name": "trader", "password": "secret"}, token_file=None) as client:
            first_of(client, "authenticated")
        sent = server.last_token_request()
        assert sent is not None
        assert (sent["appVersion"], sent["cid"]) == ("1.0", 0)
        assert "password" not in sent


def test_send_request_takes_the_callers_id() -> None:
    with TradovateServer() as server:
        with client_of(server, token_file=None) as client:
            first_of(client, "authenticated")
            first_of(client, "response")  # the sync answer
            assert client.send_request("account/list", request_id=500) == 500
            ev = first_of(client, "response", id=500)
            assert ev.status == 200 and isinstance(ev.data, list)
            assert any(r[0] == "account/list" and r[1] == 500 for r in server.requests())
            assert client.send_request("account/list") > 500
            server.drop_responses(True)
            client.send_request("order/placeorder", {"qty": 1}, request_id=42)
            with pytest.raises(tradewire.RequestError, match="already waiting"):
                client.send_request("order/placeorder", {"qty": 1}, request_id=42)
            with pytest.raises(tradewire.RequestError, match="login"):
                client.send_request("account/list", request_id=0)


def test_the_token_file_is_on_by_default_private_and_in_the_documents_format() -> None:
    with TradovateServer() as server:
        port = urlparse(server.auth_url).port
        path = STATE_HOME / "tradewire" / f"tradovate-127.0.0.1_{port}-trader.json"
        with client_of(server) as client:
            first_of(client, "authenticated")
        stored = json.loads(path.read_text())
        assert set(stored) == ANSWER_MEMBERS | {"retrievedAt"}
        assert isinstance(stored["retrievedAt"], int)
        if os.name == "posix":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        with client_of(server) as client:
            first_of(client, "authenticated")
        assert server.token_requests() == 1, "the default file was used"


def test_a_token_file_the_documents_client_wrote_is_used(tmp_path: Path) -> None:
    with TradovateServer() as server:
        path = tmp_path / "access-token.json"
        with client_of(server, token_file=str(path)) as client:
            first_of(client, "authenticated")
        # As the document's TokenManager writes it: JSON.stringify(tokenInfo, null, 2).
        info = json.loads(path.read_text())
        info["retrievedAt"] = int(time.time() * 1000) - 60_000
        path.write_text(json.dumps(info, indent=2))
        with client_of(server, token_file=str(path)) as client:
            first_of(client, "authenticated")
            assert server.token_requests() == 1
            shown = client.token_info()
            assert shown is not None and shown["retrievedAt"] == info["retrievedAt"]


@pytest.fixture
def sockjs_peer() -> Iterator[Peer]:
    """tests/peers/sockjs_server.js (the npm `sockjs` package)."""
    node = shutil.which("node")
    if node is None or not (PEERS / "node_modules" / "sockjs").is_dir():
        pytest.fail("node and tests/peers/node_modules are needed (run scripts/setup.sh)")
    peer = Peer([node, str(PEERS / "sockjs_server.js"), "--port", "0"], "sockjs_server.js")
    try:
        yield peer
    finally:
        peer.close()


def test_caller_ids_and_token_info_through_npm_sockjs(sockjs_peer: Peer, tmp_path: Path) -> None:
    """sockjs-node's raw WebSocket endpoint carries the Tradovate frames, the peer answering
    by hand; the token comes from the testkit's token endpoint. (Its framed endpoint closes
    on Tradovate's `authorize` frame, which is not JSON.)"""

    def received(part: str) -> bool:
        reply = sockjs_peer.command(cmd="received")
        return any(part in m for m in json.loads(reply[len("RECEIVED "):]))

    def write(text: str) -> None:
        assert sockjs_peer.command(cmd="write", text=text) == "OK 1"

    path = tmp_path / "access-token.json"
    with TradovateServer() as auth:
        url = f"ws://127.0.0.1:{sockjs_peer.port}/sockjs/websocket"
        with tradewire.Client(
            url, preset="tradovate", auth_url=auth.auth_url, credentials=CREDENTIALS, token_file=str(path)
        ) as client:
            assert wait_until(lambda: sockjs_peer.command(cmd="count") == "COUNT 1", 15)
            write("o")
            assert wait_until(lambda: received("authorize\n0\n\n"), 15)
            write('a[{"s":200,"i":0}]')
            first_of(client, "authenticated")
            info = client.token_info()
            assert info is not None and info["userId"] == 7
            assert wait_until(lambda: received('user/syncrequest\n1\n\n{"users":[7]}'), 15)
            assert client.send_request("account/list", request_id=500) == 500
            assert wait_until(lambda: received("account/list\n500\n"), 15)
            write('a[{"s":200,"i":500,"d":[{"id":101}]}]')
            ev = first_of(client, "response", id=500)
            assert (ev.status, ev.data) == (200, [{"id": 101}])
    stored = json.loads(path.read_text())
    assert stored["userId"] == 7 and isinstance(stored["retrievedAt"], int)
