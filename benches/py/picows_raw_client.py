"""picows + uvloop, raw (issue 30's Python raw peer): on_ws_frame takes each text frame's
payload as an owned str (get_payload_as_utf8_text: what a pass-through hands on), nothing
parsed. Every frame counts, with the same bookkeeping as tw_raw_client.py (benchlib.RawTally):
markers recognised by their first bytes, "ts" read in paced mode, and a count that differs
from the server's is an error."""

import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from benchlib import RawTally, args

URL, MODE = args()


class Listener(WSListener):
    def __init__(self) -> None:
        self.tally = RawTally("picows-raw", paced=MODE == "paced")

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type != WSMsgType.TEXT:
            if frame.msg_type == WSMsgType.CLOSE:
                transport.disconnect()
            return
        if self.tally.frame(frame.get_payload_as_utf8_text()):
            transport.send_close()
            transport.disconnect()


async def main() -> None:
    transport, _ = await ws_connect(Listener, URL)
    await transport.wait_disconnected()


uvloop.run(main())
