"""``DaemonClient``: the client class of the risk daemon's WebSocket API (document 002)."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional, Union

from ._native import Client, Event

_log = logging.getLogger("tradewire")

EventCallback = Callable[[str, Any], Any]


class DaemonClient:
    """Receives the risk daemon's event broadcast, as document 002's ``DaemonClient`` does.

    ``event_callback(event_type, data)`` is called on a background thread for every event of
    ``account_id`` (and for daemon-wide events, whose ``account_id`` is null), and with
    ``('connection_status', {'connected': True/False})`` whenever the connection comes up or
    goes down. The client reconnects by itself as the document says: every 5 s while the daemon
    was never reached, after a drop 1, 2, 4, 8, then every 10 seconds, each plus at most 10 %
    jitter. An exception raised by the callback is
    logged (logger ``tradewire``) and the stream goes on.

    The constructor takes the reference client's arguments, positionally or by their names
    (``DaemonClient(account_id=123, event_callback=print)``); ``account_id=None`` receives
    the events of every account. ``url`` (default ``ws://localhost:8765``, the document's) and
    any other keyword argument of :class:`tradewire.Client` (for example
    ``heartbeat_timeout=20``) may follow.

    As in the document: ``connected`` is true from the ``('connection_status', {'connected':
    True})`` callback on, and false from the one with ``False`` on; ``disconnect()`` closes
    the connection (close code 1000), stops reconnecting and reports ``{'connected':
    False}`` if the connection was up, before it returns; ``connect()`` connects again. One
    :class:`tradewire.Client` serves the ``DaemonClient`` for its life: ``disconnect()`` is its
    ``disconnect(1000)`` and ``connect()`` its ``connect()`` (the next connection epoch).

    Example::

        def on_event(event_type, data):
            print(event_type, data)

        client = DaemonClient(account_id=123, event_callback=on_event)
        client.connect()
        ...
        client.disconnect()
    """

    def __init__(
        self,
        account_id: Optional[Union[int, str]],
        event_callback: EventCallback,
        url: str = "ws://localhost:8765",
        **config: Any,
    ) -> None:
        self.account_id = account_id
        self.event_callback = event_callback
        self.url = url
        self._config = config
        self._client: Optional[Client] = None
        self._connected = False
        # Between connect() and disconnect(): events are delivered. Events of connections
        # before `_from_epoch` (still queued when connect() was called again) are not.
        self._active = False
        self._from_epoch = 1
        self._lock = threading.Lock()
        # Held while the callback runs: disconnect() waits for a delivery in progress (a
        # reentrant lock, so that the callback itself may call disconnect()).
        self._delivering = threading.RLock()

    @property
    def connected(self) -> bool:
        """Whether the connection to the daemon is up."""
        return self._connected

    def connect(self, wait: Optional[float] = None) -> None:
        """Starts connecting in the background and returns at once (no-op while connected or
        connecting; after ``disconnect()``, connects again). With ``wait=seconds``, then waits
        until the connection is up, as ``Client.wait_live(wait)``: raises the first failed
        attempt's error (``.reason`` says why, e.g. ``"connection_refused"``) or
        ``TimeoutError``; the client keeps reconnecting in the background either way."""
        with self._lock:
            if self._active:
                return
            client = self._client
            if client is None:
                config = dict(self._config)
                config.setdefault("preset", "daemon")
                if self.account_id is not None:
                    config.setdefault("account_id", self.account_id)
                client = Client(self.url, **config)
                client.set_callback(self._on_event)
                self._client = client
            self._from_epoch = client.status()["epoch"] + 1
            self._active = True
        client.connect(wait=wait)

    def disconnect(self) -> None:
        """Closes the connection (close code 1000) and stops reconnecting. Reports
        ``('connection_status', {'connected': False})`` if the connection was up; no callback
        comes after it returns. ``connect()`` connects again. May be called from the
        callback."""
        with self._lock:
            client, was_active = self._client, self._active
            self._active = False
        if client is not None and was_active:
            client.disconnect(1000, "")
        with self._delivering:
            self._set_connected(False)

    def _on_event(self, event: Event) -> None:
        with self._delivering:
            with self._lock:
                epoch = event.epoch
                if not self._active or (epoch is not None and epoch < self._from_epoch):
                    return
            self._handle(event)

    def _handle(self, event: Event) -> None:
        kind = event.kind
        if kind == "message":
            self._deliver(event.type or "", event.data)
        elif kind == "connected":
            self._set_connected(True)
        elif kind == "disconnected":
            self._set_connected(False)
        elif kind == "error":
            _log.warning("ignored a bad message from the daemon: %s", event.error)
        elif kind == "gave_up":
            _log.error("stopped reconnecting to the daemon: %s", event.reason)
        elif kind == "lagged":
            _log.warning("%s daemon events were dropped (the callback is too slow)", event.dropped)

    def _set_connected(self, connected: bool) -> None:
        with self._lock:
            changed = self._connected != connected
            self._connected = connected
        if changed:
            self._deliver("connection_status", {"connected": connected})

    def _deliver(self, event_type: str, data: Any) -> None:
        try:
            self.event_callback(event_type, data)
        except Exception:
            _log.exception("the event callback raised on a %r event; the stream goes on", event_type)

    def __repr__(self) -> str:
        state = "connected" if self._connected else "not connected"
        return f"<tradewire.DaemonClient account_id={self.account_id!r} url={self.url!r} {state}>"
