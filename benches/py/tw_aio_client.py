"""tradewire's asyncio API (tradewire.aio.Client) on uvloop: ``async for`` over
recv_batch's batches. Client(preset="daemon", account_id=123): the account filter runs in the
Rust core, so only matching events reach Python. The core's I/O thread reads the socket and
wakes the loop through the client's readiness fd (one wake-up per batch). Per delivered event
the consumer reads ev.kind, ev.type and ev["ts"], as tw_client.py does. TW_LOOP=asyncio runs
it on asyncio's default loop instead of uvloop."""

import asyncio
import os

import uvloop

import tradewire.aio

from benchlib import ACCOUNT, BEGIN, END, Mark, args, die, mono_ns, report

LOOP = os.environ.get("TW_LOOP", "uvloop")
NAME = "tradewire-aio" if LOOP == "uvloop" else "tradewire-aio-asyncio"


async def main() -> None:
    url, mode = args()
    paced = mode == "paced"
    mark = None
    matched = 0
    lat: list[int] = []
    append = lat.append
    async with tradewire.aio.Client(url, preset="daemon", account_id=ACCOUNT) as client:
        while True:
            batch = await client.recv_batch(1024, timeout=60.0)
            if not batch:
                die("tradewire.aio: no event for 60 s")
            for ev in batch:
                if ev.kind != "message":
                    if ev.kind == "disconnected":
                        die(f"tradewire.aio: disconnected: {ev.reason}")
                    continue
                t = ev.type
                if t == BEGIN:
                    mark, matched = Mark(), 0
                    lat.clear()
                elif t == END:
                    report(NAME, mark, matched, ev["sent"], lat)
                    return
                elif mark is not None:
                    matched += 1
                    ts = ev["ts"]
                    if paced:
                        append(mono_ns() - ts)


if LOOP == "uvloop":
    uvloop.run(main())
else:
    asyncio.run(main())
