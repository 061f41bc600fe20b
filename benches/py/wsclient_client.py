"""websocket-client + orjson, as the DaemonClient of document 002 uses it: WebSocketApp with
an on_message callback that parses every event and keeps those for its account (or with a
null account), then calls the application with (type, data)."""

import orjson
import websocket

from benchlib import ACCOUNT, BEGIN, END, Mark, args, mono_ns, report


def main() -> None:
    url, mode = args()
    paced = mode == "paced"
    state = {"mark": None, "matched": 0}
    lat: list[int] = []
    append = lat.append
    loads = orjson.loads

    def on_event(t, data):
        if t == BEGIN:
            state["mark"], state["matched"] = Mark(), 0
            lat.clear()
        elif t == END:
            report("websocket-client", state["mark"], state["matched"], data["sent"], lat)
            app.close()
        elif state["mark"] is not None:
            state["matched"] += 1
            ts = data["ts"]
            if paced:
                append(mono_ns() - ts)

    def on_message(ws, message):
        event = loads(message)
        acc = event.get("account_id")
        if acc is None or acc == ACCOUNT:
            on_event(event["type"], event["data"])

    app = websocket.WebSocketApp(url, on_message=on_message)
    app.run_forever()


main()
