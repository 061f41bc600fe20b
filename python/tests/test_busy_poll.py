"""busy_poll: the thread in recv polls the socket without sleeping while the feed is active.
Events arrive as without it, the setting reads back in the resolved configuration, and
Ctrl-C still interrupts a recv that spins (no system call is interrupted: the core returns
to Python between short spins)."""

import textwrap
import time

import tradewire
from conftest import assert_ctrl_c_ends, spawn_ready
from tradewire.testing import WsServer


def test_a_busy_polling_receiver_gets_the_events_in_order() -> None:
    with WsServer() as server:
        client = tradewire.Client(server.url, busy_poll=2.0)
        assert client.config["busy_poll"] == 2.0
        client.start()
        client.wait_live(10)
        server.wait_for_connections(1)
        for i in range(1000):
            server.broadcast('{"type":"x","data":{"i":%d}}' % i)
        got: list[int] = []
        deadline = time.monotonic() + 20
        while len(got) < 1000 and time.monotonic() < deadline:
            ev = client.recv(timeout=1)
            if ev is not None and ev.kind == "message":
                got.append(ev["i"])
        client.close()
        assert got == list(range(1000))


SCRIPT = textwrap.dedent(
    """
    import sys, tradewire
    from tradewire.testing import WsServer

    with WsServer() as server:
        # Spins for up to a minute after each frame.
        client = tradewire.Client(server.url, busy_poll=60)
        client.start()
        client.wait_live(10)
        server.wait_for_connections(1)
        server.broadcast('{"type":"x","data":{}}')
        while client.recv(timeout=10).kind != "message":
            pass
        print("READY", flush=True)
        try:
            while True:
                client.recv()
        except KeyboardInterrupt:
            print("INTERRUPTED", flush=True)
            sys.exit(3)
    """
)


def test_ctrl_c_interrupts_a_recv_that_spins() -> None:
    proc = spawn_ready([SCRIPT])
    time.sleep(0.3)
    assert_ctrl_c_ends(proc)
