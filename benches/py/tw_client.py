"""tradewire's Python API: Client(preset="daemon", account_id=123), events taken with
recv_batch; the account filter runs in the Rust core, so only matching events reach Python.
Per delivered event the consumer reads ev.kind, ev.type and ev["ts"] (one member of the
payload, converted on its own). With TW_ACCESS=dict (tw_client_dict.py) it reads
ev.data["ts"] instead: the whole payload converted to a dict, as json.loads would give it.
TW_BATCH=N sets recv_batch's max (default 1024, the API's default). The thread in
recv_batch reads the socket itself (inline_reads, the default); with TW_INLINE_READS=0
(tw_client_thread.py) the client is made with inline_reads=False: the I/O thread reads.
With TW_BUSY_POLL=seconds (tw_client_spin.py: 1 s) the thread in recv_batch polls the socket
without sleeping while the feed is active (busy_poll): it keeps a CPU busy."""

import os

import tradewire

from benchlib import ACCOUNT, BEGIN, END, Mark, args, die, mono_ns, report

BATCH = int(os.environ.get("TW_BATCH", "1024"))
DICT = os.environ.get("TW_ACCESS") == "dict"
THREAD = os.environ.get("TW_INLINE_READS") == "0"
SPIN = float(os.environ.get("TW_BUSY_POLL", "0"))
NAME = (
    "tradewire-py-dict" if DICT else "tradewire-py-thread" if THREAD
    else "tradewire-py-spin" if SPIN else "tradewire-py"
)


def main() -> None:
    url, mode = args()
    paced = mode == "paced"
    options: dict[str, object] = {"inline_reads": False} if THREAD else {}
    if SPIN:
        options["busy_poll"] = SPIN
    client = tradewire.Client(url, preset="daemon", account_id=ACCOUNT, **options)
    client.start()
    mark = None
    matched = 0
    lat: list[int] = []
    append = lat.append
    while True:
        batch = client.recv_batch(BATCH, timeout=60.0)
        if not batch:
            die("tradewire: no event for 60 s")
        for ev in batch:
            if ev.kind != "message":
                if ev.kind == "disconnected":
                    die(f"tradewire: disconnected: {ev.reason}")
                continue
            t = ev.type
            if t == BEGIN:
                mark, matched = Mark(), 0
                lat.clear()
            elif t == END:
                report(NAME, mark, matched, ev["sent"], lat)
                client.close()
                return
            elif mark is not None:
                matched += 1
                ts = ev.data["ts"] if DICT else ev["ts"]
                if paced:
                    append(mono_ns() - ts)


main()
