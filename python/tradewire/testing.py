"""Real WebSocket servers on 127.0.0.1 with fault injection, to test reconnect handling.

Every server runs real sockets (no mocks) in background threads and stops when closed::

    from tradewire.testing import DaemonServer
    import tradewire

    with DaemonServer() as daemon:
        events = []
        client = tradewire.DaemonClient(123, lambda t, d: events.append((t, d)), url=daemon.url)
        client.connect()
        daemon.wait_for_connections(1)
        daemon.trigger_event("GatewayUserTrade", 123, {"profitAndLoss": -45.5})
        daemon.drop_all()      # the client sees a disconnect and reconnects
        client.disconnect()

Servers: ``WsServer`` (generic), ``DaemonServer`` (document 002), ``AgentServer`` (003),
``BreakoutServer`` (001), ``TradovateServer`` (000); ``FaultProxy`` sits in front of any of
them and pauses, blackholes, throttles or resets the TCP traffic. ``ReplayServer`` serves a
recording made with ``record=`` back to a client, one recorded connection per connection.
"""

from __future__ import annotations

from ._native import (
    AgentServer,
    BreakoutServer,
    DaemonServer,
    FaultProxy,
    ReplayServer,
    StreamHandle,
    TradovateServer,
    WsServer,
)

__all__ = [
    "AgentServer",
    "BreakoutServer",
    "DaemonServer",
    "FaultProxy",
    "ReplayServer",
    "StreamHandle",
    "TradovateServer",
    "WsServer",
]
