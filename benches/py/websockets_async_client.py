"""websockets (asyncio client, the default asyncio event loop) + orjson: async for over the
connection, parse, filter by account."""

import asyncio

import orjson
from websockets.asyncio.client import connect

from benchlib import ACCOUNT, BEGIN, END, Mark, args, mono_ns, report


async def main() -> None:
    url, mode = args()
    paced = mode == "paced"
    loads = orjson.loads
    mark = None
    matched = 0
    lat: list[int] = []
    append = lat.append
    async with connect(url, max_size=None) as ws:
        async for message in ws:
            event = loads(message)
            acc = event.get("account_id")
            if acc is not None and acc != ACCOUNT:
                continue
            t = event["type"]
            data = event["data"]
            if t == BEGIN:
                mark, matched = Mark(), 0
                lat.clear()
            elif t == END:
                report("websockets-asyncio", mark, matched, data["sent"], lat)
                return
            elif mark is not None:
                matched += 1
                ts = data["ts"]
                if paced:
                    append(mono_ns() - ts)


asyncio.run(main())
