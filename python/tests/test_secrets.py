"""The Python part of the secret-canary suite (tests/rust/secrets.rs has the rest): a server
that refuses the handshake with a body echoing the request (token header and query
parameter) and a forged log line; every Python-visible output (event repr and fields,
exception str and repr, status, client repr, records of the `tradewire` logger at DEBUG)
must hold no 8-character run of any form of any secret, and no raw control character that
the server sent. The forms are computed here with urllib and json, independently of the
library's scrubber."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import urllib.parse
from typing import Optional

import pytest

import tradewire

BEARER = "tok+Bear/er=3%&!' z"
QUERY_TOKEN = "qry+Que/ry=4%&!' q"
FORGERY = "\r\nINFO tradewire: forged line\x1b[2J"
RUN = 8


def forms(secret: str) -> list[str]:
    out = {secret, repr(secret)[1:-1]}
    for safe in ("", "!'()*", "/"):
        for quote in (urllib.parse.quote, urllib.parse.quote_plus):
            encoded = quote(secret, safe=safe)
            out.add(encoded)
            out.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded))
    escaped = json.dumps(secret)[1:-1]
    out.update({escaped, escaped.replace("/", "\\/")})
    return sorted(out)


def find_leak(text: str, secrets: list[str]) -> Optional[str]:
    for secret in secrets:
        for form in forms(secret):
            for i in range(max(1, len(form) - RUN + 1)):
                run = form[i : i + RUN]
                if run in text:
                    return f"{run!r} of {secret!r} (as {form!r}) in {text!r}"
    return None


class EchoRefusal:
    """Answers every HTTP request with `status` and a body that repeats the request."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.requests += 1
                body = ("you sent:\n" + data.decode("latin-1") + FORGERY).encode()
                head = f"HTTP/1.1 {self.status} Refused\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                conn.sendall(head.encode() + body)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("status", [401, 500])
def test_no_secret_reaches_python(status: int) -> None:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("tradewire")
    handler = Collect()
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    server = EchoRefusal(status)
    outputs: list[str] = []
    try:
        client = tradewire.Client(
            f"ws://127.0.0.1:{server.port}/ws",
            token=BEARER,
            query={"api_token": QUERY_TOKEN},
            max_reconnect_attempts=1,
            backoff_initial=0.05,
            jitter=0,
        )
        with client:
            while True:
                ev = client.recv(timeout=20)
                assert ev is not None, "no gave_up event"
                outputs.append(repr(ev))
                outputs.extend(str(v) for v in (ev.reason, ev.error, ev.url, ev.raw) if v is not None)
                if ev.kind == "gave_up":
                    break
            with pytest.raises(tradewire.Error) as info:
                client.send({"type": "x"})
            outputs += [str(info.value), repr(info.value)]
            outputs += [repr(client.status()), repr(client)]
        with pytest.raises(tradewire.Error) as bad:
            tradewire.Client(f"ws://h/?token={urllib.parse.quote(QUERY_TOKEN)}", token=BEARER, jitter=7)
        outputs += [str(bad.value), repr(bad.value)]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
        server.close()
    assert server.requests >= 1
    assert any("<redacted>" in o for o in outputs), outputs
    logs = [r.getMessage() for r in records]
    assert logs, "the tradewire logger received records"
    for text in outputs + logs:
        leak = find_leak(text, [BEARER, QUERY_TOKEN])
        assert leak is None, leak
        assert "\x1b" not in text and "\nINFO tradewire: forged" not in text, text
