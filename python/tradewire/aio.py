"""asyncio API: the same client, awaited instead of blocking.

    import asyncio
    import tradewire.aio

    async def main() -> None:
        async with tradewire.aio.Client("ws://localhost:8765", preset="daemon") as client:
            async for event in client:
                print(event.kind, event.data)

    asyncio.run(main())

The configuration, the events (``tradewire.Event``) and the exceptions are those of
``tradewire.Client``. The core's I/O thread keeps the connection and its timers, as for the
blocking client. While a task awaits events, the loop's own thread reads the socket: the I/O
thread lends it the connection (with ``inline_reads``, the default), and the loop watches the
connection's poller fd (``io_fd``) and reads whatever has arrived each time it is readable,
without a thread hand-off per event. Otherwise (the I/O thread has the connection back, or
``inline_reads=False``) the loop learns that events are queued through the core's readiness fd.
Both are watched with ``loop.add_reader``, and each wake-up takes a whole batch. The loop never
blocks on the client and never polls it, and no thread is started per call. While no task
awaits, the loop does not read: the core's queue (its capacity and overflow policy) applies.

Cancellation loses nothing: events are taken without an ``await`` between taking and
returning them, so a ``recv()`` cancelled by ``asyncio.wait_for`` or ``task.cancel()`` leaves
every event for the next ``recv()``. Events taken by a wake-up wait in the client, in order.

Calls that wait for the server (``request``, ``disconnect``, ``wait_live``, ``close``) run
the blocking call in the loop's default executor, so the loop goes on meanwhile.

When the loop shuts down without ``close()`` (``asyncio.run`` returning or interrupted by
Ctrl-C), the client closes itself: its thread is joined and its file descriptors are closed.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from types import TracebackType
from typing import Any, Mapping, Optional, Union

from . import _native
from ._native import ClosedError, Event

__all__ = ["Client"]

# Events taken per wake-up (the most a batch holds when the caller does not say).
_BATCH = 1024

_Message = Union[str, bytes, bytearray, dict[str, Any], list[Any], tuple[Any, ...]]


class Client:
    """A connection to a WebSocket event stream that stays up by itself, for asyncio.

    ``Client(url=None, **config)`` takes the configuration of ``tradewire.Client``. Use it in
    ``async with`` (starts it, closes it), or call ``await start()`` and ``await close()``.
    Every method must be called from the event loop that started it.
    """

    def __init__(self, url: Optional[str] = None, **config: Any) -> None:
        self._init(_native.Client(url, **config))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Client:
        """A client from a configuration mapping, as ``tradewire.Client.from_config``."""
        self = cls.__new__(cls)
        self._init(_native.Client.from_config(config))
        return self

    def _init(self, native: _native.Client) -> None:
        self._native: Optional[_native.Client] = native
        self._fd = native.ready_fd()
        # The connection's poller, watched while the I/O thread lends the loop the connection.
        try:
            self._io_fd = native.io_fd()
        except _native.Error:  # no epoll: the I/O thread reads, the readiness fd says when
            self._io_fd = -1
        self._lent = False
        self._watching_io = False
        # Events taken by a wake-up and not yet returned, in order.
        self._buffer: deque[Event] = deque()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._waiters: list[asyncio.Future[None]] = []
        # Deadline timers of waits that were woken, cancelled by the next wait.
        self._stale_timers: list[asyncio.TimerHandle] = []
        self._watching = False
        self._guard: Optional[asyncio.Task[None]] = None
        self._closed = False
        # status() of a client closed because its loop shut down (its native client is gone).
        self._final_status: Optional[dict[str, Any]] = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, wait: Optional[float] = None) -> None:
        """Starts connecting and returns at once; with ``wait=seconds``, then
        ``await wait_live(wait)``."""
        self._bind()
        self._client().start()
        if wait is not None:
            await self.wait_live(wait)

    async def wait_live(self, timeout: Optional[float] = None) -> None:
        """As ``tradewire.Client.wait_live``: returns once the connection is live, raises the
        first failed attempt's error, TimeoutError after ``timeout`` seconds."""
        loop = self._bind()
        await loop.run_in_executor(None, self._client().wait_live, timeout)

    async def close(self) -> None:
        """Closes the connection and stops reconnecting; idempotent. Events queued before
        remain readable, then ``async for`` ends (in every task reading this client)."""
        if self._closed:
            return
        self._closed = True
        loop = self._bind()
        native = self._native
        if native is not None:
            await loop.run_in_executor(None, native.close)
        # The core wrote the readiness fd: the readers wake, take what is left, see the end.
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None

    async def __aenter__(self) -> Client:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ events

    async def recv(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The next event; None if none came within ``timeout`` seconds (None: no limit).
        Raises ClosedError once the stream has ended and every event has been taken."""
        buffer = self._buffer
        if buffer:
            return buffer.popleft()
        deadline = self._deadline(timeout)
        while True:
            batch = self._take(_BATCH)
            if batch:
                buffer.extend(batch)
                return buffer.popleft()
            # The wait, written out here and in recv_batch rather than in a coroutine of
            # its own: from the wake-up to the event, every step is latency.
            waiter, timer = self._arm(deadline)
            if waiter is None:
                return None
            try:
                await waiter
            except BaseException:  # cancelled: nothing was taken for this task
                self._disarm(waiter, timer)
                raise
            if buffer:
                self._woken(timer)
                return buffer.popleft()
            if not self._expired(waiter, timer, deadline):
                return None

    async def recv_batch(self, max: int = 1024, timeout: Optional[float] = None) -> list[Event]:
        """Waits up to ``timeout`` seconds (None: no limit) for one event, then returns the
        events queued, up to ``max``. An empty list means the timeout expired. Raises
        ClosedError once the stream has ended and every event has been taken."""
        if max <= 0:
            return []
        deadline = self._deadline(timeout)
        buffer = self._buffer
        while True:
            if buffer:
                return self._from_buffer(max)
            batch = self._take(max)
            if batch:
                return batch
            waiter, timer = self._arm(deadline)
            if waiter is None:
                return []
            try:
                await waiter
            except BaseException:  # cancelled: nothing was taken for this task
                self._disarm(waiter, timer)
                raise
            if buffer:
                self._woken(timer)
                return self._from_buffer(max)
            if not self._expired(waiter, timer, deadline):
                return []

    def __aiter__(self) -> Client:
        return self

    async def __anext__(self) -> Event:
        if self._buffer:
            return self._buffer.popleft()
        try:
            event = await self.recv()
        except ClosedError:
            raise StopAsyncIteration from None
        assert event is not None  # no timeout: an event or the end
        return event

    # ------------------------------------------------------------------ commands

    async def send(self, message: _Message) -> None:
        """Sends a frame now (str as text, bytes as binary, dict or list as JSON text).
        Raises NotConnectedError when the connection is not live (nothing is queued)."""
        self._client().send(message)

    async def request(
        self,
        endpoint: Union[str, dict[str, Any]],
        body: Union[str, dict[str, Any], list[Any], None] = None,
        timeout: float = 5.0,
    ) -> Any:
        """Sends a request and waits for its answer, as ``tradewire.Client.request``."""
        loop = self._bind()
        native = self._client()
        return await loop.run_in_executor(None, native.request, endpoint, body, timeout)

    async def subscribe(
        self,
        message: Union[str, dict[str, Any], list[Any], tuple[Any, ...]],
        key: Optional[str] = None,
        unsubscribe: Union[str, dict[str, Any], list[Any], tuple[Any, ...], None] = None,
    ) -> str:
        """Records a subscription, sent now if live and after every (re)connect; returns its
        key. As ``tradewire.Client.subscribe``."""
        return self._client().subscribe(message, key, unsubscribe)

    async def unsubscribe(self, key: str) -> bool:
        """Forgets the subscription and sends its unsubscribe message if live; False if unknown."""
        return self._client().unsubscribe(key)

    def subscriptions(self) -> list[dict[str, Any]]:
        """The live set of subscriptions, in replay order."""
        return self._client().subscriptions()

    async def reconnect(self) -> None:
        """Drops the connection (if any) and connects again now; after 'gave_up', starts a
        new stream."""
        self._client().reconnect()

    async def disconnect(self, code: int = 1000, reason: str = "") -> None:
        """Closes the connection with ``code`` and ``reason`` and stops reconnecting; the
        client stays usable (``connect()`` connects again)."""
        loop = self._bind()
        await loop.run_in_executor(None, self._client().disconnect, code, reason)

    async def connect(self, *, wait: Optional[float] = None) -> None:
        """Connects again after ``disconnect()`` or 'gave_up' (starts a client never started);
        with ``wait=seconds``, then ``await wait_live(wait)``."""
        self._bind()
        self._client().connect()
        if wait is not None:
            await self.wait_live(wait)

    def status(self) -> dict[str, Any]:
        """State and counters, as ``tradewire.Client.status``."""
        if self._native is None and self._final_status is not None:
            return self._final_status
        return self._client().status()

    def history(self) -> list[Event]:
        """The last messages kept (the ``history`` setting)."""
        return self._client().history()

    @property
    def url(self) -> str:
        """The URL, with secrets redacted."""
        return self._client().url

    @property
    def preset(self) -> str:
        """The preset's name."""
        return self._client().preset

    def __repr__(self) -> str:
        native = self._native
        return f"<tradewire.aio.Client {native!r}>" if native is not None else "<tradewire.aio.Client closed>"

    # ------------------------------------------------------------------ internals

    def _client(self) -> _native.Client:
        native = self._native
        if native is None:
            raise ClosedError("the event loop of this client shut down, which closed it")
        return native

    def _bind(self) -> asyncio.AbstractEventLoop:
        """The running loop, which must be the client's (the first call binds it)."""
        loop = asyncio.get_running_loop()
        self._client()
        if self._loop is None:
            self._loop = loop
            self._guard = loop.create_task(_guard(weakref.ref(self)), name="tradewire.aio guard")
        elif self._loop is not loop:
            raise RuntimeError("this tradewire.aio.Client belongs to another event loop")
        return loop

    def _deadline(self, timeout: Optional[float]) -> Optional[float]:
        loop = self._bind()
        if timeout is None:
            return None
        if timeout != timeout or timeout < 0:
            raise ValueError(f"timeout must be a number of seconds >= 0, not {timeout!r}")
        return loop.time() + timeout

    def _take(self, max: int) -> list[Event]:
        """The queued events, after reading what has arrived if the connection is lent to
        the loop (or asking for it); never blocks. Notes whether it is lent."""
        batch, self._lent = self._client().read_batch(max)
        return batch

    def _from_buffer(self, max: int) -> list[Event]:
        buffer = self._buffer
        if len(buffer) <= max:
            out = list(buffer)
            buffer.clear()
            return out
        return [buffer.popleft() for _ in range(max)]

    def _arm(
        self, deadline: Optional[float]
    ) -> tuple[Optional[asyncio.Future[None]], Optional[asyncio.TimerHandle]]:
        """Before a wait: a future that _on_ready completes when the readiness fd (armed by
        the empty take just before), or the poller fd if the connection is lent to the loop,
        is readable, and a timer that completes it at ``deadline``. (None, None) when the
        deadline has passed. Takes nothing itself: a cancelled wait loses no event. Called
        after ``_deadline``, which checked the running loop."""
        loop = self._loop
        assert loop is not None
        if deadline is not None and loop.time() >= deadline:
            return None, None
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        if not self._watching:
            loop.add_reader(self._fd, self._on_ready)
            self._watching = True
        if self._lent is not self._watching_io:
            self._watch_io()
        stale = self._stale_timers
        if stale:
            for timer in stale:
                timer.cancel()
            stale.clear()
        if deadline is None:
            return waiter, None
        return waiter, loop.call_at(deadline, _expire, waiter)

    def _woken(self, timer: Optional[asyncio.TimerHandle]) -> None:
        """After a wait that _on_ready ended with events (it let go of the waiter): the timer
        is cancelled by the next wait (or fires on a done waiter, which does nothing), not
        now, on the way from the wake-up to the event."""
        if timer is not None:
            self._stale_timers.append(timer)

    def _expired(
        self,
        waiter: asyncio.Future[None],
        timer: Optional[asyncio.TimerHandle],
        deadline: Optional[float],
    ) -> bool:
        """After a wait that ended without events (the deadline, or another task took them):
        False when the deadline has passed."""
        self._disarm(waiter, timer)
        loop = self._loop
        assert loop is not None
        return deadline is None or loop.time() < deadline

    def _disarm(self, waiter: asyncio.Future[None], timer: Optional[asyncio.TimerHandle]) -> None:
        if timer is not None:
            timer.cancel()
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    def _on_ready(self) -> None:
        """The readiness fd or the poller fd is readable: takes one batch (which reads the
        lent connection, and empties the readiness fd) into the buffer and wakes every
        waiting task. With no task waiting it takes nothing and stops watching (the next
        ``recv`` watches again), so that events wait in the core's bounded queue, not here.
        At the end of the stream, stops watching."""
        waiters = self._waiters
        for waiter in waiters:
            if not waiter.done():
                break
        else:
            self._unwatch()
            return
        native = self._native
        if native is None:
            self._unwatch()
            return
        try:
            batch, lent = native.read_batch(_BATCH)
        except Exception:  # the end (ClosedError) or a failure: a reader takes again, raises it
            self._unwatch()
        else:
            self._lent = lent
            if lent is not self._watching_io:
                self._watch_io()
            if not batch:
                # Nothing for the application (the frames read were filtered out, or a
                # spurious wake-up): the waiters go on waiting, on the right fds.
                return
            self._buffer.extend(batch)
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        # Every waiter is done: the tasks resume without looking for theirs in the list.
        waiters.clear()

    def _watch_io(self) -> None:
        """Watches the poller fd while the connection is lent to the loop, and only then
        (the I/O thread reads it otherwise)."""
        loop = self._loop
        if loop is None or self._io_fd < 0:
            return
        if self._lent and not self._watching_io:
            loop.add_reader(self._io_fd, self._on_ready)
            self._watching_io = True
        elif not self._lent and self._watching_io:
            self._watching_io = False
            loop.remove_reader(self._io_fd)

    def _unwatch(self) -> None:
        for timer in self._stale_timers:
            timer.cancel()
        self._stale_timers.clear()
        loop = self._loop
        if loop is None or loop.is_closed():
            self._watching = self._watching_io = False
            return
        if self._watching:
            self._watching = False
            loop.remove_reader(self._fd)
        if self._watching_io:
            self._watching_io = False
            loop.remove_reader(self._io_fd)
            # No task awaits: the I/O thread reads into the core's queue meanwhile.
            native = self._native
            if native is not None:
                native.stop_reading()

    def _abandon(self) -> None:
        """The loop shuts down and the client was not closed: close it now, and let go of the
        native client so that its thread and file descriptors are gone."""
        self._unwatch()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        native = self._native
        if native is None or self._closed:
            return
        self._closed = True
        native.close()
        self._final_status = native.status()
        self._native = None


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _guard(client: weakref.ref[Client]) -> None:
    """One per client while its loop runs: cancelled when the loop shuts down (asyncio.run
    cancels every task), it closes a client the application did not close."""
    try:
        await asyncio.get_running_loop().create_future()
    finally:
        c = client()
        if c is not None and not c._closed:
            c._abandon()
