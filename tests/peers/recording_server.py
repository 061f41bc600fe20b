#!/usr/bin/env python3
"""A WebSocket server on the third-party `websockets` library that records, per connection,
every text message a client sent, in order: a peer for tradewire's subscription tests.

    .venv/bin/python tests/peers/recording_server.py [--port N] [--host 127.0.0.1]
                                                     [--tradovate] [--heartbeat-ms 1000]

Plain mode: the server sends nothing; it records each text message as it came.

--tradovate: a SockJS-framed Tradovate-like server (reference document 000): `o` on open and
`h` every --heartbeat-ms; `authorize\\n0\\n\\n<token>` is answered `a[{"i":0,"s":200}]`; every
other request `endpoint\\n<id>\\n\\n<body>` is answered `a[{"i":<id>,"s":200,"d":{}}]` (or with
the status set by `refuse`). The client heartbeat `[]` is not recorded.

On start it prints `READY <port>`; then it reads one JSON command per stdin line and answers
each with one line:

    {"cmd":"connections"}               -> CONNECTIONS <json array, one array of the received
                                           text messages per connection, in accept order>
    {"cmd":"count"}                     -> COUNT <open connections>
    {"cmd":"drop"}                      -> OK <n>  (abort every transport: no close frame)
    {"cmd":"refuse","endpoint":E,"status":S[,"error_text":T]}
                                        -> OK 0    (tradovate: later requests to E are answered
                                                    with status S; with error_text: status 200
                                                    and d = {"errorText": T})
    {"cmd":"ignore","endpoint":E}       -> OK 0    (tradovate: later requests to E get no answer)
    {"cmd":"quit"}                      -> OK 0, then exit 0
    anything else                       -> ERR <message>

EOF on stdin exits at once with status 0. Pings are answered (library default); the server
never pings clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State


def reply(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Recorder:
    def __init__(self, tradovate: bool, heartbeat_s: float) -> None:
        self.tradovate = tradovate
        self.heartbeat_s = heartbeat_s
        self.connections: list[list[str]] = []
        self.open: set[ServerConnection] = set()
        self.refused: dict[str, dict] = {}
        self.ignored: set[str] = set()

    async def handler(self, ws: ServerConnection) -> None:
        log: list[str] = []
        self.connections.append(log)
        self.open.add(ws)
        beat = None
        try:
            if self.tradovate:
                await ws.send("o")
                beat = asyncio.create_task(self.heartbeats(ws))
            async for message in ws:
                if not isinstance(message, str):
                    continue
                if self.tradovate and message == "[]":
                    continue
                log.append(message)
                if self.tradovate:
                    await self.answer(ws, message)
        except ConnectionClosed:
            pass
        finally:
            if beat is not None:
                beat.cancel()
            self.open.discard(ws)

    async def heartbeats(self, ws: ServerConnection) -> None:
        try:
            while True:
                await asyncio.sleep(self.heartbeat_s)
                await ws.send("h")
        except (ConnectionClosed, asyncio.CancelledError):
            pass

    async def answer(self, ws: ServerConnection, message: str) -> None:
        parts = message.split("\n", 3)
        if len(parts) < 2 or not parts[1].isdigit():
            return
        endpoint, rid = parts[0], int(parts[1])
        if endpoint in self.ignored:
            return
        answer: dict = {"i": rid, "s": 200, "d": {}}
        refused = self.refused.get(endpoint)
        if refused is not None and endpoint != "authorize":
            if refused.get("error_text") is not None:
                answer["d"] = {"errorText": refused["error_text"]}
            else:
                answer["s"] = refused["status"]
                answer["d"] = f"{endpoint} refused"
        try:
            await ws.send("a" + json.dumps([answer]))
        except ConnectionClosed:
            # Closing: keep reading, so that every message that came before the close frame
            # is recorded.
            pass

    def command(self, line: str) -> str:
        try:
            cmd = json.loads(line)
            if not isinstance(cmd, dict):
                raise ValueError("command must be a JSON object")
            name = cmd.get("cmd")
            if name == "connections":
                return "CONNECTIONS " + json.dumps(self.connections)
            if name == "count":
                return f"COUNT {len([c for c in self.open if c.protocol.state is State.OPEN])}"
            if name == "drop":
                n = 0
                for c in list(self.open):
                    if c.transport is not None and not c.transport.is_closing():
                        n += 1
                        c.transport.abort()
                return f"OK {n}"
            if name == "refuse":
                self.refused[str(cmd["endpoint"])] = {
                    "status": int(cmd.get("status", 400)),
                    "error_text": cmd.get("error_text"),
                }
                return "OK 0"
            if name == "ignore":
                self.ignored.add(str(cmd["endpoint"]))
                return "OK 0"
            return f"ERR unknown command {name!r}"
        except Exception as e:  # a bad command must never kill the peer
            return f"ERR {type(e).__name__}: {e}".replace("\n", " ")


def stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
    for raw in sys.stdin.buffer:
        loop.call_soon_threadsafe(queue.put_nowait, raw.decode("utf-8", "replace"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 = ephemeral")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tradovate", action="store_true")
    parser.add_argument("--heartbeat-ms", type=int, default=1000)
    args = parser.parse_args()

    recorder = Recorder(args.tradovate, args.heartbeat_ms / 1000.0)
    server = await serve(
        recorder.handler, args.host, args.port, ping_interval=None, max_size=None
    )
    port = server.sockets[0].getsockname()[1]

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    threading.Thread(target=stdin_lines, args=(loop, queue), daemon=True).start()
    reply(f"READY {port}")

    while True:
        line = await queue.get()
        if line is None:
            break
        line = line.strip()
        if not line:
            continue
        try:
            is_quit = json.loads(line).get("cmd") == "quit"
        except Exception:
            is_quit = False
        if is_quit:
            reply("OK 0")
            break
        reply(recorder.command(line))
        # Let the loop run the connections between commands.
        await asyncio.sleep(0)

    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        os._exit(0)
