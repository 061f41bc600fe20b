"""websockets (sync client) + orjson: recv() in a loop, parse, filter by account."""

import orjson
from websockets.sync.client import connect

from benchlib import ACCOUNT, BEGIN, END, Mark, args, mono_ns, report


def main() -> None:
    url, mode = args()
    paced = mode == "paced"
    loads = orjson.loads
    mark = None
    matched = 0
    lat: list[int] = []
    append = lat.append
    with connect(url, max_size=None) as ws:
        while True:
            event = loads(ws.recv())
            acc = event.get("account_id")
            if acc is not None and acc != ACCOUNT:
                continue
            t = event["type"]
            data = event["data"]
            if t == BEGIN:
                mark, matched = Mark(), 0
                lat.clear()
            elif t == END:
                report("websockets-sync", mark, matched, data["sent"], lat)
                return
            elif mark is not None:
                matched += 1
                ts = data["ts"]
                if paced:
                    append(mono_ns() - ts)


main()
