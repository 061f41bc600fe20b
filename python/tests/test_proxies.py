"""The `proxy=` keyword (issue 22): through Debian's tinyproxy (HTTP CONNECT with Basic
authentication), refused proxy credentials as an AuthError with the `auth` reason, and the
password nowhere in Python's view of the client. tinyproxy comes from ./scripts/setup.sh; without
it these tests skip (fail with TRADEWIRE_REQUIRE_PEERS=1)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

import tradewire
from tradewire.testing import DaemonServer

SOON = 10.0
QUICK: dict[str, Any] = {"backoff_initial": 0.05, "backoff_max": 0.2, "jitter": 0}
USER = "desk"
PASSWORD = "py-proxy-pw-42"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Tinyproxy:
    """tinyproxy on a free port of 127.0.0.1 requiring USER:PASSWORD, its log in a temp dir."""

    def __init__(self, binary: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tradewire-py-tinyproxy-"))
        self.port = _free_port()
        self.log = self.dir / "tinyproxy.log"
        conf = self.dir / "tinyproxy.conf"
        conf.write_text(
            f"Port {self.port}\nListen 127.0.0.1\nTimeout 600\nLogLevel Info\n"
            f'LogFile "{self.log}"\nAllow 127.0.0.1\nBasicAuth {USER} {PASSWORD}\n'
        )
        self.proc = subprocess.Popen(
            [binary, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("tinyproxy did not start")
                time.sleep(0.02)

    def url(self, password: str) -> str:
        return f"http://{USER}:{password}@127.0.0.1:{self.port}"

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def tinyproxy() -> Iterator[Tinyproxy]:
    binary = shutil.which("tinyproxy") or shutil.which("tinyproxy", path="/usr/sbin:/usr/bin")
    if binary is None:
        if os.environ.get("TRADEWIRE_REQUIRE_PEERS") == "1":
            pytest.fail("tinyproxy not found (TRADEWIRE_REQUIRE_PEERS=1): run ./scripts/setup.sh")
        pytest.skip("tinyproxy not found: run ./scripts/setup.sh")
    proxy = Tinyproxy(binary)
    try:
        yield proxy
    finally:
        proxy.close()


def test_the_proxy_keyword_connects_through_tinyproxy_and_hides_the_password(
    tinyproxy: Tinyproxy,
) -> None:
    with DaemonServer() as server:
        with tradewire.Client(
            server.url, preset="daemon", proxy=tinyproxy.url(PASSWORD), **QUICK
        ) as client:
            client.wait_live(SOON)
            assert f"127.0.0.1:{server.port}" in tinyproxy.log.read_text()
            assert client.config["proxy"] == f"http://<redacted>@127.0.0.1:{tinyproxy.port}"
            for text in (repr(client), str(client.config), str(client.status())):
                assert PASSWORD not in text, text


def test_refused_proxy_credentials_are_an_auth_error(tinyproxy: Tinyproxy) -> None:
    with DaemonServer() as server:
        client = tradewire.Client(server.url, proxy=tinyproxy.url("wrong-pw-17"), **QUICK)
        try:
            with pytest.raises(tradewire.AuthError) as info:
                client.start(wait=SOON)
            assert info.value.reason == "auth"
            assert "wrong-pw-17" not in str(info.value)
            assert f"127.0.0.1:{tinyproxy.port}" in str(info.value)
        finally:
            client.close()


def test_a_bad_proxy_url_is_a_config_error_and_direct_is_accepted() -> None:
    with pytest.raises(tradewire.ConfigError) as info:
        tradewire.Client("ws://127.0.0.1:9", proxy="ftp://u:cfg-secret-9@h:1")
    assert "proxy" in str(info.value)
    assert "cfg-secret-9" not in str(info.value)
    tradewire.Client("ws://127.0.0.1:9", proxy="direct").close()
