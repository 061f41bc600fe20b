"""picows + uvloop + orjson: a WSListener whose on_ws_frame parses the frame's payload
(a zero-copy memoryview) and filters by account."""

import orjson
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from benchlib import ACCOUNT, BEGIN, END, Mark, args, mono_ns, report

URL, MODE = args()
PACED = MODE == "paced"
loads = orjson.loads


class Listener(WSListener):
    def __init__(self) -> None:
        self.mark = None
        self.matched = 0
        self.lat: list[int] = []

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type != WSMsgType.TEXT:
            if frame.msg_type == WSMsgType.CLOSE:
                transport.disconnect()
            return
        event = loads(frame.get_payload_as_memoryview())
        acc = event.get("account_id")
        if acc is not None and acc != ACCOUNT:
            return
        t = event["type"]
        data = event["data"]
        if t == BEGIN:
            self.mark, self.matched = Mark(), 0
            self.lat.clear()
        elif t == END:
            report("picows", self.mark, self.matched, data["sent"], self.lat)
            transport.send_close()
            transport.disconnect()
        elif self.mark is not None:
            self.matched += 1
            ts = data["ts"]
            if PACED:
                self.lat.append(mono_ns() - ts)


async def main() -> None:
    transport, _ = await ws_connect(Listener, URL)
    await transport.wait_disconnected()


uvloop.run(main())
