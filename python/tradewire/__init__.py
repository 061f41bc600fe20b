"""tradewire: a client for real-time trading event streams over WebSocket.

One Rust core connects (ws/wss), logs in, keeps the connection alive, notices a dead one,
reconnects with backoff, filters events to one account and hands every event to the
application, never losing one silently.

    import tradewire

    with tradewire.Client("ws://localhost:8765", preset="daemon", account_id=123) as client:
        for event in client:
            if event.kind == "message":
                print(event.type, event.data)

``DaemonClient`` is the callback-style client of the risk daemon (reference document 002).
Log records go to the ``tradewire`` logger of the standard ``logging`` module.
"""

from __future__ import annotations

import atexit as _atexit
import logging as _logging

from . import _native
from ._daemon import DaemonClient
from ._native import (
    AuthError,
    Client,
    ClosedError,
    ConfigError,
    ConnectError,
    Error,
    Event,
    NotConnectedError,
    RequestError,
    TimeoutError,
    __version__,
)

# A library logs; the application decides where records go (no "last resort" output on stderr).
_logging.getLogger("tradewire").addHandler(_logging.NullHandler())

# Background threads (callbacks, log forwarding) stop before the interpreter finalizes.
_atexit.register(_native._shutdown)

__all__ = [
    "AuthError",
    "Client",
    "ClosedError",
    "ConfigError",
    "ConnectError",
    "DaemonClient",
    "Error",
    "Event",
    "NotConnectedError",
    "RequestError",
    "TimeoutError",
    "__version__",
]
