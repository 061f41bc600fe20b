"""Type stubs of the extension module ``tradewire._native`` (re-exported by ``tradewire``
and ``tradewire.testing``)."""

import builtins
from types import TracebackType
from typing import (
    Any,
    Callable,
    Iterable,
    Iterator,
    Literal,
    Mapping,
    Optional,
    Union,
    final,
    overload,
)

from typing_extensions import Self, disjoint_base

__version__: str
__all__ = [
    "AgentServer",
    "AuthError",
    "BreakoutServer",
    "Client",
    "ClosedError",
    "ConfigError",
    "ConnectError",
    "DaemonServer",
    "Error",
    "Event",
    "FaultProxy",
    "ReplayServer",
    "NotConnectedError",
    "RequestError",
    "StreamHandle",
    "TimeoutError",
    "TradovateServer",
    "WsServer",
    "_shutdown",
    "__version__",
]

_EventKind = Literal[
    "message",
    "connected",
    "authenticated",
    "disconnected",
    "reconnecting",
    "gave_up",
    "error",
    "lagged",
    "response",
    "lagging",
    "caught_up",
    "gap",
]

# What Client.on listens to: a kind, "*" (every kind; document 004's "activity" too),
# "connection_change" ("connection-change": connected and disconnected), or several of them.
_KindAlias = Literal["*", "activity", "connection_change", "connection-change"]
_Kinds = Union[_EventKind, _KindAlias, Iterable[Union[_EventKind, _KindAlias]]]

# Why a connection attempt failed (`Error.reason`).
_Reason = Literal["connection_refused", "timed_out", "dns", "tls", "handshake", "auth"]

class Error(Exception):
    """Base class of every exception tradewire raises."""

    reason: Optional[_Reason]
    """Why a connection attempt failed (errors of ``wait_live``, ``start(wait=...)``,
    ``connect(wait=...)``): ``"connection_refused"``, ``"timed_out"``, ``"dns"``, ``"tls"``,
    ``"handshake"`` or ``"auth"``; None for every other error."""

class ConfigError(Error):
    """The configuration is invalid; the message names every offending argument."""

class ConnectError(Error):
    """A connection could not be established."""

class AuthError(Error):
    """The server refused the credentials."""

class NotConnectedError(Error):
    """The client is not connected, so nothing was sent."""

class RequestError(Error):
    """A request did not get a usable response."""

class TimeoutError(Error, builtins.TimeoutError):
    """An operation did not complete in time."""

class ClosedError(Error):
    """The event stream has ended: the client was closed, or it gave up (until reconnect())."""

@final
class Event:
    """One item of a client's event stream: a message or a lifecycle event."""

    @property
    def kind(self) -> _EventKind: ...
    @property
    def type(self) -> Optional[str]:
        """The message type; for an ``error`` event, the kind of error (``invalid_json``, ...),
        which the JSON form (``to_dict()``) calls ``"error"``."""
    @property
    def account_id(self) -> Union[int, str, None]:
        """The account with the JSON type the server sent: ``123`` is an ``int`` (of any
        size), ``"123"`` a ``str``; None when the message names none. The ``account_id``
        filter treats ``123`` and ``"123"`` as the same account."""
    @property
    def data(self) -> Any:
        """The payload as ``json.loads`` would give it: integers of any size are ``int``,
        floats compare equal to ``json.loads``'s, ``1e400`` is ``inf``, lone surrogate escapes
        are kept, and any nesting depth is read (no recursion). Converted once, then cached."""
    def __getitem__(self, key: str, /) -> Any: ...
    def get(self, key: str, default: Any = None) -> Any: ...
    @property
    def raw(self) -> Union[str, bytes, None]: ...
    @property
    def received_at(self) -> float: ...
    @property
    def server_time(self) -> Optional[float]:
        """Unix seconds of the message by the server's clock (``time_pointer``; breakout: its
        ``ts``); None when the message has none or the event is not a message."""
    @property
    def epoch(self) -> Optional[int]: ...
    @property
    def url(self) -> Optional[str]: ...
    @property
    def code(self) -> Optional[int]: ...
    @property
    def reason(self) -> Optional[str]: ...
    @property
    def error(self) -> Optional[str]:
        """``disconnected``: the error that ended the connection; ``error``: what went wrong
        (also ``message``)."""
    @property
    def message(self) -> Optional[str]:
        """``error``: what went wrong, the same text as ``error``, under the JSON form's name
        (``to_dict()["message"]``); None for other kinds."""
    @property
    def by_client(self) -> Optional[bool]: ...
    @property
    def is_connected(self) -> Optional[bool]:
        """Document 004's ``isConnected``: True for ``connected``, False for
        ``disconnected``, None for other kinds."""
    @property
    def attempt(self) -> Optional[int]: ...
    @property
    def delay(self) -> Optional[float]: ...
    @property
    def dropped(self) -> Optional[int]: ...
    @property
    def lag(self) -> Optional[str]:
        """``lagging`` / ``caught_up``: ``'feed'`` (the feed is late, ``status()['feed_lag']``)
        or ``'consumer'`` (the application is late, ``status()['consumer_lag']``)."""
    @property
    def seconds(self) -> Optional[float]:
        """``lagging`` / ``caught_up``: how far behind, in seconds."""
    @property
    def key(self) -> Optional[str]:
        """``gap``: the stream (the value at ``sequence_key``), None without one."""
    @property
    def expected(self) -> Optional[int]:
        """``gap``: the sequence number that was due."""
    @property
    def received(self) -> Optional[int]:
        """``gap``: the sequence number that came."""
    @property
    def missing(self) -> Optional[int]:
        """``gap``: how many messages are missing (``received - expected``)."""
    @property
    def id(self) -> Optional[int]: ...
    @property
    def status(self) -> Optional[int]: ...
    def to_json(self) -> str:
        """The event's JSON form as one line: the same text as a ``tradewire listen`` line and
        C's ``tw_event_to_json``. ``"kind"`` first, then every field of its kind (``null``
        when absent); the payload as the server wrote it, the account with its JSON type,
        ``received_at`` and ``server_time`` as ISO-8601 UTC with microseconds (a ``str``,
        where the attributes are Unix seconds), a binary frame in base64."""
    def to_dict(self) -> dict[str, Any]:
        """``json.loads(ev.to_json())``, read the way ``data`` is (big integers, any depth)."""

@final
class Client:
    """A connection to a WebSocket event stream that stays up by itself."""

    def __new__(
        cls,
        url: Optional[str] = None,
        *,
        on_open: Optional[Callable[[Client], Any]] = None,
        on_message: Optional[Callable[[Client, Union[str, bytes]], Any]] = None,
        on_error: Optional[Callable[[Client, Error], Any]] = None,
        on_close: Optional[Callable[[Client, Optional[int], str], Any]] = None,
        **config: Any,
    ) -> Self:
        """Keyword arguments are configuration fields, except ``on_open(client)``,
        ``on_message(client, message)``, ``on_error(client, error)`` and
        ``on_close(client, close_status_code, close_msg)``: listeners called as
        websocket-client calls them (for 'connected', 'message', 'error', 'disconnected')."""
    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self: ...
    def start(self, *, wait: Optional[float] = None) -> None:
        """Starts connecting and returns at once; with ``wait=seconds``, then ``wait_live(wait)``."""
    def wait_live(self, timeout: Optional[float] = None) -> None:
        """Returns once the connection is live (after the login for presets that log in);
        raises the first failed attempt's error (ConnectError or AuthError, with ``.reason``),
        TimeoutError (reason ``"timed_out"``) when ``timeout`` seconds pass first, ClosedError
        once closed or gave up. The client keeps reconnecting in the background."""
    @overload
    def recv(self, timeout: None = None) -> Event: ...
    @overload
    def recv(self, timeout: float) -> Optional[Event]: ...
    def recv_batch(self, max: int = 1024, timeout: Optional[float] = None) -> list[Event]: ...
    def try_recv_batch(self, max: int = 1024) -> list[Event]:
        """The events already queued, up to ``max``; never waits. With ``ready_fd()`` on, an
        empty list arms the fd (readable when the next event is queued or the stream ends)."""
    def read_batch(self, max: int) -> tuple[list[Event], bool]:
        """For an event loop that reads the socket on its own thread (``tradewire.aio``): the
        queued events (up to ``max``); if none, first runs the connection lent by the I/O
        thread without waiting, or asks for it. Returns ``(events, lent)``: when ``events`` is
        empty, wait on ``ready_fd()`` and, if ``lent``, on ``io_fd()`` too. Never blocks."""
    def stop_reading(self) -> None:
        """The loop stops waiting on ``io_fd()`` (no task awaits events): the I/O thread takes
        the connection back and reads into the queue meanwhile."""
    def io_fd(self) -> int:
        """The connection's poller fd (owned by the client): readable when the connection
        lent to the loop has something to read. Watch it only while ``read_batch()`` says
        ``lent``. Linux only."""
    def ready_fd(self) -> int:
        """A file descriptor (owned by the client) that becomes readable when events may be
        queued: wait on it only after ``try_recv_batch()`` returned an empty list."""
    def __iter__(self) -> Iterator[Event]: ...
    def __next__(self) -> Event: ...
    def send(self, message: Union[str, bytes, bytearray, dict[str, Any], list[Any], tuple[Any, ...]]) -> None: ...
    def request(
        self,
        endpoint: Union[str, dict[str, Any]],
        body: Union[str, dict[str, Any], list[Any], None] = None,
        timeout: float = 5.0,
    ) -> Any: ...
    def send_request(
        self,
        endpoint: str,
        body: Union[str, dict[str, Any], list[Any], None] = None,
        request_id: Optional[int] = None,
    ) -> int: ...
    def subscribe(
        self,
        message: Union[str, dict[str, Any], list[Any], tuple[Any, ...]],
        key: Optional[str] = None,
        unsubscribe: Union[str, dict[str, Any], list[Any], tuple[Any, ...], None] = None,
    ) -> str:
        """Record a subscription under ``key`` (default: the message text) and return the key.
        Sent now if live, and again after every later (re)connect and login, in the order
        made, after the ``on_connect`` messages. ``send()`` is never replayed; this is."""
    def subscribe_request(
        self,
        endpoint: str,
        body: Union[str, dict[str, Any], list[Any], None] = None,
        unsubscribe_endpoint: Optional[str] = None,
        key: Optional[str] = None,
    ) -> str:
        """Tradovate: a subscription sent as a request with a fresh id after every login; a
        refusal arrives as an ``error`` event of kind ``subscription_failed``."""
    def unsubscribe(self, key: str) -> bool:
        """Forget the subscription; send its unsubscribe message if live. False if unknown."""
    def subscriptions(self) -> list[dict[str, Any]]:
        """The live set, in replay order: ``{"key", "message", "unsubscribe"}`` or, for
        requests, ``{"key", "endpoint", "body", "unsubscribe_endpoint"}``."""
    def token_info(self) -> Optional[dict[str, Any]]:
        """Tradovate: the token answer without its tokens (``userId``, ``name``, ``orgName``,
        ``hasLive``, ``expirationTime``, ..., ``retrievedAt`` in Unix ms), or None."""
    def status(self) -> dict[str, Any]: ...
    def history(self) -> list[Event]: ...
    def reconnect(self) -> None: ...
    def disconnect(self, code: int = 1000, reason: str = "") -> None: ...
    def connect(self, *, wait: Optional[float] = None) -> None: ...
    @property
    def ready_state(self) -> int: ...
    def close(self) -> None: ...
    def set_callback(self, callback: Callable[[Event], Any]) -> None: ...
    def on(self, kinds: _Kinds, listener: Callable[[Event], Any]) -> int:
        """Calls ``listener(event)`` for each event of ``kinds`` on the callback thread;
        returns a handle for ``off``. The first listener takes the event stream: ``recv``,
        ``recv_batch`` and iteration raise ``tradewire.Error`` from then on."""
    def off(self, handle: int) -> bool:
        """Removes a listener; False if there is none with this handle. Once it returns the
        listener is not running (unless called from inside it) and never called again."""
    def clear_listeners(self, kinds: Optional[_Kinds] = None) -> int:
        """Stops calling listeners for ``kinds`` (None or ``"*"``: all); a listener left
        with no kind is removed. Returns how many were removed."""
    @property
    def url(self) -> str: ...
    @property
    def preset(self) -> str: ...
    @property
    def config(self) -> Mapping[str, Any]:
        """The resolved configuration, read-only: every default applied, durations in
        seconds, 004's ``rejectUnauthorized`` and ``connectTimeout`` (ms) too; the URL
        redacted, no token, credentials or headers."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        *_args: Any,
    ) -> bool: ...

def _shutdown() -> None: ...

# ------------------------------------------------------------------ tradewire.testing

@final
class StreamHandle:
    """A running ``stream()``."""

    def stop(self) -> int: ...
    @property
    def sent(self) -> int: ...
    def is_finished(self) -> bool: ...
    def wait_finished(self, timeout: float = 10.0) -> bool: ...

@disjoint_base
class WsServer:
    """A WebSocket server on 127.0.0.1 whose faults the test controls."""

    def __new__(
        cls,
        *,
        path: Optional[str] = None,
        token: Optional[str] = None,
        tls: bool = False,
        greeting: Optional[list[str]] = None,
        port: int = 0,
        reject_token_with_http_401: bool = False,
    ) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def cert_pem(self) -> Optional[bytes]: ...
    def broadcast(self, text: str) -> None: ...
    def broadcast_binary(self, data: bytes) -> None: ...
    def send_raw(self, data: bytes) -> None: ...
    def close_all(self, code: int = 1000, reason: str = "") -> None: ...
    def drop_all(self) -> None: ...
    def set_silent(self, silent: bool) -> None: ...
    def is_silent(self) -> bool: ...
    def refuse_for(self, seconds: float) -> None: ...
    def stop(self) -> None: ...
    def restart(self) -> None: ...
    def start(self) -> None: ...
    def accept_then_close(self, code: Optional[int], reason: str = "") -> None: ...
    def connection_count(self) -> int: ...
    def accepted_total(self) -> int: ...
    def wait_for_connections(self, n: int, timeout: float = 5.0) -> bool: ...
    def wait_for_at_most(self, n: int, timeout: float = 5.0) -> bool: ...
    def received(self) -> list[str]: ...
    def handshakes(self) -> list[dict[str, Any]]: ...
    def stream(
        self,
        rate: float,
        count: Optional[int] = None,
        account_id: Optional[int] = 123,
        kind: str = "daemon",
    ) -> StreamHandle: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_args: Any) -> bool: ...

@final
class DaemonServer(WsServer):
    """The risk daemon's one-way broadcaster (document 002)."""

    def __new__(cls, port: int = 0) -> Self: ...
    def trigger_event(
        self, event_type: str, account_id: Optional[int] = None, data: Any = None
    ) -> None: ...
    def trigger_test_event(self, event_type: str, data: Any) -> None:
        """Document 002's harness: the account is ``data["accountId"]``."""

@final
class AgentServer(WsServer):
    """The trading-agent server of document 003."""

    def __new__(
        cls,
        secret: str = "test-secret",
        agents: Optional[list[str]] = None,
        ping_interval: float = 30.0,
        port: int = 0,
    ) -> Self: ...
    def token_for(self, user_id: str) -> str: ...
    def url_for(self, token: str, agent_id: str) -> str: ...
    def pongs_received(self) -> int: ...
    def is_agent_connected(self, agent_id: str) -> bool: ...
    def position_update(self, agent_id: str, data: Any) -> bool: ...
    def price_update_batch(self, agent_id: str, updates: Any) -> bool: ...
    def send_error(self, agent_id: str, message: str) -> bool: ...

@final
class BreakoutServer(WsServer):
    """The breakout-bot engine's endpoint (document 001)."""

    def __new__(cls, heartbeat_interval: float = 30.0, port: int = 0) -> Self: ...
    def publish(self, event_type: str, data: Any = None) -> None: ...

@final
class TradovateServer(WsServer):
    """The Tradovate API of document 000: token endpoints and the SockJS WebSocket."""

    def __new__(
        cls,
        users: Optional[list[dict[str, Any]]] = None,
        token_lifetime: float = 4800.0,
        heartbeat_interval: float = 2.5,
        port: int = 0,
        http_port: int = 0,
    ) -> Self: ...
    @property
    def md_url(self) -> str: ...
    @property
    def auth_url(self) -> str: ...
    @property
    def renew_url(self) -> str: ...
    def reject_credentials(self, on: bool) -> None: ...
    def send_shutdown(self) -> None: ...
    def set_response_delay(self, seconds: float) -> None: ...
    def drop_responses(self, on: bool) -> None: ...
    def emit_props(self, account_id: int, entity_type: str, entity: Any) -> None: ...
    def emit(self, frame: str) -> None: ...
    def token_requests(self) -> int: ...
    def last_token_request(self) -> Optional[dict[str, Any]]: ...
    def authorizations(self) -> int: ...
    def wait_for_authorizations(self, n: int, timeout: float = 5.0) -> bool: ...
    def requests(self) -> list[tuple[str, int, str]]: ...
    def client_heartbeats(self) -> int: ...

@final
class ReplayServer:
    """Serves a recording (``record=``) back to a client: each recorded connection to the
    next client that connects, at the recorded pace divided by ``speed`` (None: as fast as
    possible), ending as it ended (close code, dropped socket, silence)."""

    def __new__(cls, path: str, speed: Optional[float] = 1.0) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def ended(self) -> int: ...
    def received(self) -> list[str]: ...
    def wait_finished(self, timeout: float = 10.0) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_args: Any) -> bool: ...

@final
class FaultProxy:
    """A TCP proxy in front of a server that injects network faults."""

    def __new__(cls, upstream: Union[WsServer, int, str]) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def mode(self) -> str: ...
    def set_mode(self, mode: str, bytes: Optional[int] = None, every: Optional[float] = None) -> None: ...
    def reset_all(self) -> None: ...
    def connection_count(self) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_args: Any) -> bool: ...
