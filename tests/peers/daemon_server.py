#!/usr/bin/env python3
"""Document-002 daemon broadcaster on the third-party Python `websockets` library.

A peer server for tradewire's interoperability tests: the WebSocket side is entirely the
`websockets` library (modern `websockets.asyncio.server` API), so the Rust client is tested
against code nobody on this team wrote.

    .venv/bin/python tests/peers/daemon_server.py [--port N] [--host 127.0.0.1] [--no-compression]

permessage-deflate is on, as it is by default in `websockets` (`--no-compression` turns it off).

On start it prints one line `READY <port>` on stdout. Then it reads JSON commands, one per line,
on stdin and answers each with exactly one line on stdout:

    {"cmd":"broadcast","text":"..."}                 -> OK <clients sent to>
    {"cmd":"burst","text":"...","count":N}           -> OK <clients sent to>   (the text N times)
    {"cmd":"sequence","count":N[,"first":1]}        -> OK <clients sent to>   (N messages
                                                        {"type":"seq","data":{"seq":first..first+N-1}})
    {"cmd":"event","type":T,"account_id":A,"data":D} -> OK <n>   (sends {"type","account_id","data"};
                                                        account_id omitted when absent in the command)
    {"cmd":"count"}                                  -> COUNT <open connections>
    {"cmd":"stop"[,"code":1001,"reason":""]}         -> OK 0     (close frames, stop listening)
    {"cmd":"start"}                                  -> OK 0     (listen again on the same port)
    {"cmd":"drop"[,"rst":true]}                      -> OK <n>   (abort transports, no close frame;
                                                        rst: SO_LINGER 0 so the peer sees a TCP RST)
    {"cmd":"close","code":C[,"reason":R]}            -> OK <n>   (close frame C to every client, keep listening)
    {"cmd":"freeze"}                                 -> OK <n>   (stop reading every current connection:
                                                        no pong, no close, no data — a half-open peer)
    {"cmd":"received"}                               -> RECEIVED <json array of client text messages>
    {"cmd":"closes"}                                 -> CLOSES <json array of [code, reason] of the close
                                                        frames clients sent (code null: none)>
    {"cmd":"extensions"}                             -> EXTENSIONS <json array, per open connection,
                                                        of the names of its negotiated extensions>
    {"cmd":"quit"}                                   -> OK 0, then exit 0
    anything else                                    -> ERR <message>

EOF on stdin (the parent died or closed the pipe) exits at once with status 0.
The server answers WebSocket pings (library default) and never pings clients itself
(ping_interval=None), so it never disconnects a client for keepalive reasons, unless started
with `--keepalive S`: then it pings every S seconds and closes a connection (1011 "keepalive
ping timeout") whose pong has not come S seconds later, as the library does by default.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import os
import socket
import struct
import sys
import threading

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

CLOSE_WAIT_S = 3.0  # how long `stop` waits for closing handshakes before aborting
START_RETRY_S = 5.0  # how long `start` retries EADDRINUSE


def reply(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Daemon:
    def __init__(self, host: str, port: int, keepalive: float | None = None) -> None:
        self.host = host
        self.port = port
        self.keepalive = keepalive
        self.compression: str | None = "deflate"
        self.server = None
        self.connections: set[ServerConnection] = set()
        self.frozen: set[ServerConnection] = set()
        self.received: list[str] = []
        self.closes: list[list[object]] = []

    # ------------------------------------------------------------------ WebSocket side
    async def handler(self, ws: ServerConnection) -> None:
        self.connections.add(ws)
        try:
            async for message in ws:
                if isinstance(message, str):
                    self.received.append(message)
        except ConnectionClosed:
            pass
        finally:
            rcvd = ws.protocol.close_rcvd  # the client's close frame, as the library parsed it
            if rcvd is not None:
                self.closes.append([int(rcvd.code), rcvd.reason])
            self.connections.discard(ws)
            self.frozen.discard(ws)

    def open_connections(self) -> list[ServerConnection]:
        return [
            c
            for c in self.connections
            if c.protocol.state is State.OPEN and c not in self.frozen
        ]

    async def start(self) -> None:
        if self.server is not None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_RETRY_S
        while True:
            try:
                self.server = await serve(
                    self.handler,
                    self.host,
                    self.port,
                    ping_interval=self.keepalive,
                    ping_timeout=self.keepalive,
                    close_timeout=CLOSE_WAIT_S,
                    max_size=None,
                    compression=self.compression,
                )
                break
            except OSError as e:
                if e.errno != errno.EADDRINUSE or loop.time() >= deadline:
                    raise
                await asyncio.sleep(0.05)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self, code: int, reason: str) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        server.close(code=code, reason=reason)
        try:
            await asyncio.wait_for(server.wait_closed(), CLOSE_WAIT_S)
        except asyncio.TimeoutError:
            self.abort_all(rst=False)

    def abort_all(self, rst: bool) -> int:
        """Abort every transport (also those in a closing handshake); return how many were open."""
        n = 0
        for c in list(self.connections):
            transport = c.transport
            if transport is None or transport.is_closing():
                continue
            if c.protocol.state is State.OPEN:
                n += 1
            if rst:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
            transport.abort()
        return n

    # ------------------------------------------------------------------ control side
    async def command(self, line: str) -> str:
        try:
            cmd = json.loads(line)
            if not isinstance(cmd, dict):
                raise ValueError("command must be a JSON object")
            name = cmd.get("cmd")
            if name == "broadcast":
                text = cmd["text"]
                if not isinstance(text, str):
                    raise ValueError("text must be a string")
                return f"OK {self.broadcast(text)}"
            if name == "burst":
                text, count = cmd["text"], cmd["count"]
                if not isinstance(text, str) or not isinstance(count, int):
                    raise ValueError("text must be a string and count an integer")
                sent = 0
                for _ in range(count):
                    sent = self.broadcast(text)
                return f"OK {sent}"
            if name == "sequence":
                count, first = cmd["count"], cmd.get("first", 1)
                if not isinstance(count, int) or not isinstance(first, int):
                    raise ValueError("count and first must be integers")
                sent = 0
                for seq in range(first, first + count):
                    sent = self.broadcast(json.dumps({"type": "seq", "data": {"seq": seq}}))
                    if seq % 1000 == 0:
                        await asyncio.sleep(0)  # let the transports write
                return f"OK {sent}"
            if name == "event":
                event = {"type": cmd["type"]}
                if "account_id" in cmd:
                    event["account_id"] = cmd["account_id"]
                event["data"] = cmd.get("data", {})
                return f"OK {self.broadcast(json.dumps(event))}"
            if name == "count":
                return f"COUNT {len([c for c in self.connections if c.protocol.state is State.OPEN])}"
            if name == "stop":
                await self.stop(int(cmd.get("code", 1001)), str(cmd.get("reason", "")))
                return "OK 0"
            if name == "start":
                await self.start()
                return "OK 0"
            if name == "drop":
                return f"OK {self.abort_all(bool(cmd.get('rst', False)))}"
            if name == "close":
                code = int(cmd["code"])
                reason = str(cmd.get("reason", ""))
                targets = self.open_connections()
                for c in targets:
                    asyncio.create_task(c.close(code, reason))
                await asyncio.sleep(0)  # let the close frames hit the transports
                return f"OK {len(targets)}"
            if name == "freeze":
                targets = self.open_connections()
                for c in targets:
                    c.transport.pause_reading()
                    self.frozen.add(c)
                return f"OK {len(targets)}"
            if name == "received":
                return "RECEIVED " + json.dumps(self.received)
            if name == "extensions":
                return "EXTENSIONS " + json.dumps(
                    [[e.name for e in c.protocol.extensions] for c in self.open_connections()]
                )
            if name == "closes":
                return "CLOSES " + json.dumps(self.closes)
            return f"ERR unknown command {name!r}"
        except Exception as e:  # a bad command must never kill the peer
            return f"ERR {type(e).__name__}: {e}".replace("\n", " ")

    def broadcast(self, text: str) -> int:
        targets = self.open_connections()
        broadcast(targets, text)
        return len(targets)


def stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
    """Blocking stdin reader on a daemon thread: never keeps the process alive."""
    for raw in sys.stdin.buffer:
        loop.call_soon_threadsafe(queue.put_nowait, raw.decode("utf-8", "replace"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 = ephemeral")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--keepalive", type=float, default=None, help="ping interval and timeout, seconds"
    )
    parser.add_argument(
        "--no-compression", action="store_true", help="no permessage-deflate (on by default)"
    )
    args = parser.parse_args()

    daemon = Daemon(args.host, args.port, args.keepalive)
    daemon.compression = None if args.no_compression else "deflate"
    await daemon.start()

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    threading.Thread(target=stdin_lines, args=(loop, queue), daemon=True).start()
    reply(f"READY {daemon.port}")

    while True:
        line = await queue.get()
        if line is None:  # EOF: the parent is gone
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
        reply(await daemon.command(line))

    daemon.abort_all(rst=False)
    sys.stdout.flush()
    os._exit(0)  # exit now: no waiting on closing handshakes or the stdin thread


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        os._exit(0)
