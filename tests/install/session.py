"""A short live session of an installed `tradewire` wheel (tests/install/wheel.sh).

    python session.py serve-tls CERT_FILE      # a wss server; prints its URL, runs until stdin closes
    python session.py client URL [URL...]       # ws/wss sessions against those URLs
    python session.py local                     # ws and wss servers of its own, then the sessions

A session: connect (TLS verified: no verify_tls=False anywhere), receive three broadcast
messages, close. For `local`, the wss server's self-signed certificate is trusted through
SSL_CERT_FILE, set before the first TLS connection; for `client`, the caller decides where
the trust comes from (wheel.sh: the system bundle, with the certificate added to it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading

import tradewire
from tradewire.testing import WsServer


def session(url: str, server: WsServer | None = None) -> None:
    with tradewire.Client(url, preset="json") as client:
        client.wait_live(10.0)  # `with` started it
        got: list[str] = []
        for _ in range(200):
            if server is not None:
                server.broadcast(json.dumps({"type": "tick", "data": {"n": len(got)}}))
            ev = client.recv(timeout=0.1)
            if ev is not None and ev.kind == "message":
                got.append(ev.type or "")
            if len(got) == 3:
                break
        if len(got) < 3:
            raise SystemExit(f"{url}: {len(got)} messages, expected 3")
    print(f"session ok: {url.split(':')[0]} ({tradewire.__version__})")


def broadcast_forever(server: WsServer, stop: threading.Event) -> None:
    while not stop.wait(0.05):
        server.broadcast(json.dumps({"type": "tick", "data": {}}))


def main() -> None:
    mode = sys.argv[1]
    if mode == "serve-tls":
        with WsServer(tls=True) as server:
            with open(sys.argv[2], "wb") as f:
                f.write(server.cert_pem or b"")
            stop = threading.Event()
            threading.Thread(target=broadcast_forever, args=(server, stop), daemon=True).start()
            print(server.url, flush=True)
            sys.stdin.read()
            stop.set()
    elif mode == "client":
        for url in sys.argv[2:]:
            session(url)
    elif mode == "local":
        with WsServer() as plain, WsServer(tls=True) as secure:
            with tempfile.NamedTemporaryFile(suffix=".pem", delete=False) as f:
                f.write(secure.cert_pem or b"")
            os.environ["SSL_CERT_FILE"] = f.name
            try:
                session(plain.url, plain)
                session(secure.url, secure)
            finally:
                os.unlink(f.name)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
