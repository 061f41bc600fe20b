#!/usr/bin/env python3
"""A WebSocket server on the third-party `websockets` library that numbers its messages per
channel, as trading feeds do, and drops or repeats some on purpose: a peer for tradewire's
sequence-gap tests (config `sequence`, `sequence_key`).

    .venv/bin/python tests/peers/numbered_server.py [--port N] [--host 127.0.0.1]

Each channel has a counter that continues across connections (a feed whose numbers span the
session). Messages are `{"type":"trade","channel":C,"seq":N,"px":...}` sent to every open
connection.

On start it prints `READY <port>`; then it reads one JSON command per stdin line and answers
each with one line:

    {"cmd":"count"}                              -> COUNT <open connections>
    {"cmd":"publish","channel":C,"count":N[,"drop":[k,...]]}
                                                 -> OK <sent>  (numbers the next N messages of
                                                    C; those at the 0-based positions in
                                                    `drop` are skipped: numbered, never sent)
    {"cmd":"repeat","channel":C}                 -> OK 1 (sends C's last number again)
    {"cmd":"drop_connections"}                   -> OK <n> (aborts every transport)
    {"cmd":"quit"}                               -> OK 0, then exit 0

EOF on stdin exits at once with status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading

from websockets.asyncio.server import ServerConnection, serve
from websockets.protocol import State


def reply(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Feed:
    def __init__(self) -> None:
        self.open: set[ServerConnection] = set()
        self.next: dict[str, int] = {}

    async def handler(self, ws: ServerConnection) -> None:
        self.open.add(ws)
        try:
            await ws.wait_closed()
        finally:
            self.open.discard(ws)

    async def send(self, text: str) -> None:
        for c in list(self.open):
            if c.protocol.state is State.OPEN:
                await c.send(text)

    @staticmethod
    def message(channel: str, n: int) -> str:
        return json.dumps({"type": "trade", "channel": channel, "seq": n, "px": 100 + n})

    async def command(self, cmd: dict) -> str:
        name = cmd.get("cmd")
        if name == "count":
            return f"COUNT {len([c for c in self.open if c.protocol.state is State.OPEN])}"
        if name == "publish":
            channel = str(cmd["channel"])
            drop = set(cmd.get("drop", []))
            sent = 0
            for i in range(int(cmd["count"])):
                n = self.next.get(channel, 1)
                self.next[channel] = n + 1
                if i in drop:
                    continue
                await self.send(self.message(channel, n))
                sent += 1
            return f"OK {sent}"
        if name == "repeat":
            channel = str(cmd["channel"])
            await self.send(self.message(channel, self.next.get(channel, 1) - 1))
            return "OK 1"
        if name == "drop_connections":
            n = 0
            for c in list(self.open):
                if c.transport is not None and not c.transport.is_closing():
                    n += 1
                    c.transport.abort()
            return f"OK {n}"
        return f"ERR unknown command {name!r}"


def stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
    for raw in sys.stdin.buffer:
        loop.call_soon_threadsafe(queue.put_nowait, raw.decode("utf-8", "replace"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 = ephemeral")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()

    feed = Feed()
    server = await serve(feed.handler, args.host, args.port, ping_interval=None)
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
            cmd = json.loads(line)
            if not isinstance(cmd, dict):
                raise ValueError("command must be a JSON object")
            if cmd.get("cmd") == "quit":
                reply("OK 0")
                break
            reply(await feed.command(cmd))
        except Exception as e:  # a bad command must never kill the peer
            reply(f"ERR {type(e).__name__}: {e}".replace("\n", " "))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        os._exit(0)
