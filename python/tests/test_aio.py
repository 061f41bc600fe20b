"""tradewire.aio: the asyncio client on the same core, against the testkit and the Python
`websockets` peer (tests/peers/daemon_server.py), on asyncio's default loop and on uvloop."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Awaitable, Callable, Iterator

import pytest
import uvloop

import tradewire
import tradewire.aio
from tradewire.testing import DaemonServer, WsServer

from conftest import WebsocketsDaemon

Runner = Callable[[Awaitable[Any]], Any]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Runs a coroutine to completion on a new loop: asyncio's default one, then uvloop's."""
    if request.param == "uvloop":
        return lambda main: uvloop.run(main)  # type: ignore[arg-type]
    return lambda main: asyncio.run(main)  # type: ignore[arg-type]


def seq_of(ev: tradewire.Event) -> int:
    data = ev.data
    assert isinstance(data, dict), ev
    seq = data["seq"]
    assert isinstance(seq, int)
    return seq


async def until_kind(client: tradewire.aio.Client, kind: str, timeout: float = 10.0) -> tradewire.Event:
    """The next event of `kind` (the ones before it are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind!r} event within {timeout} s"
        ev = await client.recv(timeout=left)
        if ev is not None and ev.kind == kind:
            return ev


def test_async_for_gets_messages_and_lifecycle_events_and_send_reaches_the_server(
    run: Runner, daemon: Any
) -> None:
    async def main() -> list[str]:
        async with tradewire.aio.Client(daemon.url, preset="daemon", account_id=7) as client:
            await until_kind(client, "connected")
            assert daemon.wait_for_connections(1)
            await client.send({"type": "hello"})
            for n in range(3):
                daemon.trigger_event("tick", 7, {"n": n})
            got = []
            async for ev in client:
                assert isinstance(ev, tradewire.Event)
                if ev.kind == "message":
                    got.append(str(ev.type))
                    if len(got) == 3:
                        break
            assert client.status()["state"] == "live"
            return got

    assert run(main()) == ["tick", "tick", "tick"]
    assert '{"type":"hello"}' in daemon.received()


def test_iteration_goes_on_across_a_server_restart(run: Runner, daemon: Any) -> None:
    async def main() -> list[str]:
        kinds: list[str] = []
        async with tradewire.aio.Client(
            daemon.url, preset="daemon", account_id=7, backoff_initial=0.05, backoff_max=0.2
        ) as client:
            await until_kind(client, "connected")
            assert daemon.wait_for_connections(1)
            daemon.trigger_event("before", 7, {})
            async for ev in client:
                kinds.append(ev.kind if ev.kind != "message" else f"message:{ev.type}")
                if ev.type == "before":
                    daemon.stop()
                    # The loop keeps running while the client reconnects (nothing blocks it).
                    await asyncio.sleep(0.2)
                    daemon.start()
                elif ev.kind == "connected" and "message:before" in kinds:
                    assert daemon.wait_for_connections(1)
                    daemon.trigger_event("after", 7, {})
                elif ev.type == "after":
                    break
        return kinds

    kinds = run(main())
    assert kinds[0] == "message:before"
    assert "disconnected" in kinds
    assert kinds.index("disconnected") < kinds.index("message:after")


@pytest.mark.parametrize("server", ["testkit", "websockets"])
def test_recv_cancelled_under_a_50000_event_stream_loses_nothing(run: Runner, server: str) -> None:
    count = 50_000
    kit = WsServer() if server == "testkit" else None
    peer = WebsocketsDaemon() if server == "websockets" else None
    url = kit.url if kit is not None else peer.url  # type: ignore[union-attr]

    async def main() -> tuple[list[int], int]:
        seen: list[int] = []
        cancelled = 0
        async with tradewire.aio.Client(url, types=["seq"]) as client:
            await until_kind(client, "connected")
            handles = []  # a stream stops when its handle goes
            # Paced, so that the reader both finds events queued and waits for them (and
            # is cancelled in both states).
            if kit is not None:
                assert kit.wait_for_connections(1)
                handles.append(kit.stream(50_000, count, account_id=None, kind="seq"))
            else:
                assert peer is not None and peer.wait_for_connections(1)

                def feed() -> None:
                    for first in range(1, count + 1, 1000):
                        reply = peer.peer.command(cmd="sequence", count=1000, first=first)
                        assert reply.startswith("OK"), reply

                feeding = asyncio.get_running_loop().run_in_executor(None, feed)
            n = 0
            while len(seen) < count:
                n += 1
                if n % 3 == 0:
                    # Cancelled at once, or while waiting for the fd: no event may be lost.
                    task = asyncio.ensure_future(client.recv())
                    await asyncio.sleep(0)
                    task.cancel()
                    try:
                        ev = await task
                    except asyncio.CancelledError:
                        cancelled += 1
                        continue
                elif n % 3 == 1:
                    try:
                        ev = await asyncio.wait_for(client.recv(), timeout=0.0001)
                    except asyncio.TimeoutError:
                        cancelled += 1
                        continue
                else:
                    batch = await client.recv_batch(max=97, timeout=30)
                    assert batch, "nothing for 30 s"
                    seen.extend(seq_of(e) for e in batch)
                    continue
                assert ev is not None
                seen.append(seq_of(ev))
            if peer is not None:
                await feeding
        return seen, cancelled

    try:
        seen, cancelled = run(main())
    finally:
        if kit is not None:
            kit.close()
        if peer is not None:
            peer.close()
    assert seen == list(range(1, count + 1)), "every sequence number exactly once, in order"
    assert cancelled > 0


def test_close_from_another_task_ends_async_for_after_the_queued_events(run: Runner) -> None:
    async def main() -> tuple[list[int], str]:
        server = WsServer()
        try:
            client = tradewire.aio.Client(server.url, types=["seq"])
            await client.start()
            assert server.wait_for_connections(1)
            server.stream(0, 500, account_id=None, kind="seq").wait_finished()
            # Every message is queued in the client before close() begins.
            while client.status()["messages_received"] < 500:
                await asyncio.sleep(0.01)
            delivered = -1
            while client.status()["events_delivered"] != delivered:
                delivered = client.status()["events_delivered"]
                await asyncio.sleep(0.05)
            seen: list[int] = []

            async def reader() -> None:
                async for ev in client:
                    if ev.kind == "message":
                        seen.append(seq_of(ev))

            task = asyncio.create_task(reader())
            await client.close()
            await asyncio.wait_for(task, timeout=10)
            return seen, client.status()["state"]
        finally:
            server.close()

    seen, state = run(main())
    assert seen == list(range(1, 501))
    assert state == "closed"


def test_a_waiting_reader_wakes_when_another_task_closes(run: Runner) -> None:
    async def main() -> None:
        with WsServer() as server:
            async with tradewire.aio.Client(server.url) as client:
                await until_kind(client, "connected")
                kinds: list[str] = []

                async def reader() -> None:
                    while True:
                        ev = await client.recv()
                        assert ev is not None
                        kinds.append(ev.kind)

                waiting = asyncio.create_task(reader())
                await asyncio.sleep(0.05)
                assert not waiting.done()
                await client.close()
                with pytest.raises(tradewire.ClosedError):
                    await asyncio.wait_for(waiting, timeout=10)
                assert "message" not in kinds

    run(main())


def test_several_clients_on_one_loop_each_get_their_own_events(run: Runner) -> None:
    async def main() -> list[list[int]]:
        servers = [WsServer() for _ in range(3)]
        clients = [tradewire.aio.Client(s.url, types=["seq"]) for s in servers]
        handles = []  # a stream stops when its handle goes
        try:
            for c in clients:
                await c.start()
            for s, n in zip(servers, (100, 200, 300)):
                assert s.wait_for_connections(1)
                handles.append(s.stream(0, n, account_id=None, kind="seq"))

            async def drain(c: tradewire.aio.Client, n: int) -> list[int]:
                got: list[int] = []
                while len(got) < n:
                    batch = await c.recv_batch(timeout=30)
                    got.extend(seq_of(e) for e in batch if e.kind == "message")
                return got

            return list(await asyncio.gather(*(drain(c, n) for c, n in zip(clients, (100, 200, 300)))))
        finally:
            for c in clients:
                await c.close()
            for s in servers:
                s.close()

    got = run(main())
    assert got == [list(range(1, n + 1)) for n in (100, 200, 300)]


def test_timeouts_and_errors_are_those_of_the_blocking_api(run: Runner) -> None:
    async def main() -> None:
        with WsServer() as server:
            client = tradewire.aio.Client(server.url)
            with pytest.raises(tradewire.Error, match="start"):
                await client.recv(timeout=0)
            await client.start()
            await until_kind(client, "connected")
            assert await client.recv(timeout=0.05) is None
            assert await client.recv_batch(timeout=0.05) == []
            assert await client.recv_batch(max=0) == []
            await client.disconnect()
            with pytest.raises(tradewire.NotConnectedError):
                await client.send("x")
            await client.connect(wait=10)
            await client.send("x")
            await client.close()
            await client.close()  # idempotent
            with pytest.raises(tradewire.ClosedError):
                while True:
                    await client.recv()
        with pytest.raises(tradewire.ConfigError):
            tradewire.aio.Client("ws://127.0.0.1:1", overflow="sometimes")

    run(main())


def test_request_and_subscriptions_on_a_json_feed(run: Runner, kit_daemon: DaemonServer) -> None:
    async def main() -> None:
        async with tradewire.aio.Client(kit_daemon.url, preset="daemon") as client:
            await client.wait_live(10)
            key = await client.subscribe({"type": "subscribe", "topic": "a"})
            assert [s["key"] for s in client.subscriptions()] == [key]
            assert await client.unsubscribe(key)
            assert not await client.unsubscribe(key)
            with pytest.raises(tradewire.TimeoutError):
                # The daemon answers no request: the loop goes on while it waits.
                ticks = 0

                async def tick() -> None:
                    nonlocal ticks
                    while True:
                        await asyncio.sleep(0.01)
                        ticks += 1

                t = asyncio.create_task(tick())
                try:
                    await client.request({"type": "ask"}, timeout=0.3)
                finally:
                    t.cancel()
            assert ticks > 3

    run(main())


def _threads_and_fds() -> tuple[int, int]:
    return len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))


def test_the_loop_closing_without_close_leaves_no_thread_or_fd_behind(run: Runner) -> None:
    with WsServer() as server:
        kept: list[tradewire.aio.Client] = []

        async def warm() -> None:
            # Starts whatever a first run starts once (logging forwarder, default executor
            # of this loop only), so the counts below compare like with like.
            async with tradewire.aio.Client(server.url) as c:
                await until_kind(c, "connected")

        run(warm())
        gc.collect()
        time.sleep(0.2)
        before = _threads_and_fds()

        async def main() -> None:
            for _ in range(3):
                c = tradewire.aio.Client(server.url)
                kept.append(c)  # still referenced after the loop: closed by the loop's end
                await c.start()
                await until_kind(c, "connected")
                # A reader waits on the fd when the loop goes away.
            asyncio.get_running_loop().call_later(0.05, lambda: None)
            await asyncio.sleep(0.1)

        run(main())
        deadline = time.monotonic() + 5
        while _threads_and_fds() != before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _threads_and_fds() == before
        assert all(c.status()["state"] == "closed" for c in kept)
        with pytest.raises(tradewire.ClosedError):
            asyncio.run(kept[0].recv())


CTRL_C_CHILD = """
import asyncio, sys
import tradewire.aio

async def main(url):
    async with tradewire.aio.Client(url) as client:
        print("READY", flush=True)
        async for ev in client:
            pass

try:
    asyncio.run(main(sys.argv[1]))
except KeyboardInterrupt:
    print("INTERRUPTED", flush=True)
"""


def test_ctrl_c_stops_asyncio_run_cleanly() -> None:
    with WsServer() as server:
        child = subprocess.Popen(
            [sys.executable, "-c", CTRL_C_CHILD, server.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "READY"
            assert server.wait_for_connections(1)
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=20)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        assert child.returncode == 0, err
        assert out.strip() == "INTERRUPTED"
        assert "Traceback" not in err, err
        assert server.wait_for_at_most(0)


def test_an_idle_client_wakes_the_loop_only_for_frames_that_arrive(run: Runner) -> None:
    """The loop is never woken by a timer: with heartbeats far apart, an idle connection wakes
    it once at most (the I/O thread handing it the connection); with heartbeats every 50 ms
    it is woken by their pongs (read on the loop's thread while it holds the connection), a
    few times per ping at most."""
    woken = 0

    class Counting(tradewire.aio.Client):
        def _on_ready(self) -> None:
            nonlocal woken
            woken += 1
            super()._on_ready()

    async def main(heartbeat: float, at_most: int) -> None:
        with WsServer() as server:
            config = {"heartbeat_interval": heartbeat, "heartbeat_timeout": heartbeat * 3}
            async with Counting(server.url, **config) as client:
                await until_kind(client, "connected")
                nonlocal woken
                woken = 0
                assert await client.recv(timeout=0.5) is None
                assert woken <= at_most, f"{woken} wake-ups in 0.5 s, heartbeat every {heartbeat} s"
                server.broadcast('{"type":"one"}')
                ev = await client.recv(timeout=10)
                assert ev is not None and ev.type == "one"

    run(main(30.0, 1))
    # 10 pings in 0.5 s: each pong wakes the loop, or the I/O thread takes the connection
    # back for the ping and lends it again (a wake-up or two).
    run(main(0.05, 3 * 10 + 2))


def test_the_loop_reads_the_socket_itself_and_gets_every_event_once(run: Runner) -> None:
    """With inline reads (the default) the loop holds the connection while it awaits: the
    events of a paced stream reach it without the I/O thread; without inline reads, the
    I/O thread reads. Either way, every event once, in order."""
    lent_seen: list[bool] = []

    class Watching(tradewire.aio.Client):
        def _take(self, max: int) -> list[tradewire.Event]:
            batch = super()._take(max)
            lent_seen.append(self._lent)
            return batch

        def _on_ready(self) -> None:
            super()._on_ready()
            lent_seen.append(self._lent)

    async def main(**config: Any) -> None:
        lent_seen.clear()
        with WsServer() as server:
            async with Watching(server.url, **config) as client:
                await until_kind(client, "connected")

                async def feed() -> None:
                    for i in range(2_000):
                        server.broadcast(f'{{"type":"tick","seq":{i}}}')
                        if i % 50 == 49:
                            await asyncio.sleep(0.002)

                feeder = asyncio.ensure_future(feed())
                seqs: list[int] = []
                while len(seqs) < 2_000:
                    ev = await client.recv(timeout=10)
                    assert ev is not None, f"stopped after {len(seqs)}"
                    if ev.kind == "message":
                        seqs.append(seq_of(ev))
                await feeder
                assert seqs == list(range(2_000))

    run(main())
    assert any(lent_seen), "the loop never held the connection"
    run(main(inline_reads=False))
    assert not any(lent_seen), "without inline reads nothing is lent"
