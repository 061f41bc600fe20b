"""tradewire's Python raw pass-through (issue 30): Client(preset="raw"), events taken with
recv_batch and each message's text taken as it came (ev.raw, a str), nothing parsed. Every
frame counts, as in bench-tradewire --preset raw and picows_raw_client.py: a frame is looked
into only to recognise the markers by their first bytes and, in paced mode, to read its "ts";
the run fails when the count differs from the frames the server sent."""

import tradewire

from benchlib import RawTally, args, die


def main() -> None:
    url, mode = args()
    tally = RawTally("tradewire-py-raw", paced=mode == "paced")
    client = tradewire.Client(url, preset="raw")
    client.start()
    while True:
        batch = client.recv_batch(1024, timeout=60.0)
        if not batch:
            die("tradewire-py-raw: no event for 60 s")
        for ev in batch:
            if ev.kind != "message":
                if ev.kind == "disconnected":
                    die(f"tradewire-py-raw: disconnected: {ev.reason}")
                continue
            if tally.frame(ev.raw):
                client.close()
                return


main()
