//! `tradewire.testing`: the testkit's real servers and fault injection for Python tests.
//!
//! Every class runs real sockets on 127.0.0.1. `close()` (or leaving a `with` block) stops a
//! server and joins its threads; so does garbage collection, later.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use serde_json::Value;
use tradewire_testkit::{
    events, AgentOptions, AgentServer, BreakoutOptions, BreakoutServer, DaemonServer, FaultProxy,
    ProxyMode, ServerOptions, StreamHandle, TokenCheck, TradovateOptions, TradovateServer,
    TradovateUser, WsServer,
};

use crate::errors::{closed_error, detached, seconds};
use crate::json;
use crate::logging;

fn io_err(what: &str, e: std::io::Error) -> PyErr {
    pyo3::exceptions::PyOSError::new_err(format!("{what}: {e}"))
}

fn json_arg(data: Option<&Bound<'_, PyAny>>) -> PyResult<Value> {
    match data {
        None => Ok(Value::Object(Default::default())),
        Some(d) => json::to_json(d),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The server behind a Python object.
enum Server {
    Ws(WsServer),
    Daemon(DaemonServer),
    Agent(AgentServer),
    Breakout(BreakoutServer),
    Tradovate(TradovateServer),
}

impl Server {
    fn ws(&self) -> &WsServer {
        match self {
            Server::Ws(s) => s,
            Server::Daemon(s) => s,
            Server::Agent(s) => s,
            Server::Breakout(s) => s,
            Server::Tradovate(s) => s,
        }
    }

    /// The URL clients connect to.
    fn url(&self) -> String {
        match self {
            Server::Tradovate(t) => t.ws_url(),
            other => other.ws().url(),
        }
    }

    /// Stops listening (for tradovate: the token endpoints too).
    fn stop(&self) {
        match self {
            Server::Tradovate(t) => t.stop(),
            other => other.ws().stop(),
        }
    }

    fn restart(&self) -> std::io::Result<()> {
        match self {
            Server::Tradovate(t) => t.restart(),
            other => other.ws().restart(),
        }
    }

    /// Close frames to every connection (for tradovate: `c[code,"reason"]` first).
    fn close_all(&self, code: u16, reason: &str) {
        match self {
            Server::Tradovate(t) => t.close_all(code, reason),
            other => other.ws().close_all(code, reason),
        }
    }
}

/// A WebSocket server on 127.0.0.1 whose faults the test controls; base class of the
/// preset servers.
#[pyclass(subclass, frozen, name = "WsServer", module = "tradewire.testing")]
pub struct PyWsServer {
    server: Mutex<Option<Arc<Server>>>,
}

impl PyWsServer {
    fn wrap(server: Server) -> PyWsServer {
        PyWsServer {
            server: Mutex::new(Some(Arc::new(server))),
        }
    }

    fn get(&self, py: Python<'_>) -> PyResult<Arc<Server>> {
        lock(&self.server)
            .clone()
            .ok_or_else(|| closed_error(py, "the server is closed"))
    }

    /// Runs `f` on the server with the GIL released.
    fn with<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&WsServer) -> T + Send) -> PyResult<T> {
        self.with_server(py, move |s| f(s.ws()))
    }

    fn with_server<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Server) -> T + Send,
    ) -> PyResult<T> {
        let server = self.get(py)?;
        detached(py, move || f(&server))
    }

    /// Runs `f` on the preset server that `pick` finds inside, with the GIL released; a
    /// TypeError naming `what` when this object holds another kind of server.
    fn with_preset<S, T: Send>(
        &self,
        py: Python<'_>,
        what: &str,
        pick: fn(&Server) -> Option<&S>,
        f: impl FnOnce(&S) -> T + Send,
    ) -> PyResult<T> {
        self.with_server(py, move |s| pick(s).map(f))?
            .ok_or_else(|| PyTypeError::new_err(format!("not {what}")))
    }
}

#[pymethods]
impl PyWsServer {
    #[new]
    #[pyo3(signature = (*, path=None, token=None, tls=false, greeting=None, port=0, reject_token_with_http_401=false))]
    fn new(
        py: Python<'_>,
        path: Option<String>,
        token: Option<String>,
        tls: bool,
        greeting: Option<Vec<String>>,
        port: u16,
        reject_token_with_http_401: bool,
    ) -> PyResult<Self> {
        logging::ensure_forwarder(py);
        let opts = ServerOptions {
            path,
            token: token.map_or(TokenCheck::None, TokenCheck::Required),
            reject_token_with_http_401,
            tls,
            greeting: greeting.unwrap_or_default(),
            port,
        };
        let server = py
            .detach(|| WsServer::start(opts))
            .map_err(|e| io_err("could not start the server", e))?;
        Ok(PyWsServer::wrap(Server::Ws(server)))
    }

    /// `ws://127.0.0.1:PORT` plus the path (`wss://` with TLS).
    #[getter]
    fn url(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.get(py)?.url())
    }

    /// The listening port (kept across stop/restart).
    #[getter]
    fn port(&self, py: Python<'_>) -> PyResult<u16> {
        Ok(self.get(py)?.ws().port())
    }

    /// PEM of the self-signed certificate when serving TLS.
    #[getter]
    fn cert_pem<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        Ok(self.get(py)?.ws().cert_pem().map(|p| PyBytes::new(py, &p)))
    }

    /// Sends a text frame to every live connection.
    fn broadcast(&self, py: Python<'_>, text: &str) -> PyResult<()> {
        self.with(py, |s| s.broadcast(text))
    }

    /// Sends a binary frame to every live connection.
    fn broadcast_binary(&self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        self.with(py, |s| s.broadcast_binary(data))
    }

    /// Writes bytes unframed to every connection (e.g. a malformed frame).
    fn send_raw(&self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        self.with(py, |s| s.send_raw(data))
    }

    /// Sends a close frame with `code` and `reason` to every connection.
    #[pyo3(signature = (code=1000, reason=""))]
    fn close_all(&self, py: Python<'_>, code: u16, reason: &str) -> PyResult<()> {
        self.with_server(py, |s| s.close_all(code, reason))
    }

    /// Shuts every connection's socket down at once, without a close frame.
    fn drop_all(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |s| s.drop_all())
    }

    /// Half-open mode: neither read nor send on any connection (client pings go
    /// unanswered) while the sockets stay open.
    fn set_silent(&self, py: Python<'_>, silent: bool) -> PyResult<()> {
        self.with(py, |s| s.set_silent(silent))
    }

    /// Whether the server is silent.
    fn is_silent(&self, py: Python<'_>) -> PyResult<bool> {
        self.with(py, |s| s.is_silent())
    }

    /// Refuses connections for `seconds` (existing ones are kept).
    fn refuse_for(&self, py: Python<'_>, seconds: f64) -> PyResult<()> {
        let d = self::seconds("seconds", seconds)?;
        self.with(py, |s| s.refuse_for(d))
    }

    /// Drops every connection and stops listening until `start()` / `restart()`.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        self.with_server(py, |s| s.stop())
    }

    /// Listens on the same port again after `stop()`.
    fn restart(&self, py: Python<'_>) -> PyResult<()> {
        self.with_server(py, |s| s.restart())?
            .map_err(|e| io_err("could not listen again", e))
    }

    /// Same as `restart()` (the vocabulary of document 002's test harness).
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        self.restart(py)
    }

    /// While set, every new connection completes the handshake and is closed at once with
    /// `code` and `reason`; `accept_then_close(None)` turns it off.
    #[pyo3(signature = (code, reason=""))]
    fn accept_then_close(&self, py: Python<'_>, code: Option<u16>, reason: &str) -> PyResult<()> {
        let close = code.map(|c| (c, reason.to_string()));
        self.with(py, |s| s.accept_then_close(close))
    }

    /// Live WebSocket connections.
    fn connection_count(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |s| s.connection_count())
    }

    /// Completed handshakes since start.
    fn accepted_total(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |s| s.accepted_total())
    }

    /// Waits until at least `n` connections are live; False on timeout.
    #[pyo3(signature = (n, timeout=5.0))]
    fn wait_for_connections(&self, py: Python<'_>, n: usize, timeout: f64) -> PyResult<bool> {
        let t = seconds("timeout", timeout)?;
        self.with(py, |s| s.wait_for_connections(n, t))
    }

    /// Waits until at most `n` connections are live; False on timeout.
    #[pyo3(signature = (n, timeout=5.0))]
    fn wait_for_at_most(&self, py: Python<'_>, n: usize, timeout: f64) -> PyResult<bool> {
        let t = seconds("timeout", timeout)?;
        self.with(py, |s| s.wait_for_at_most(n, t))
    }

    /// Every text message received from any client, in arrival order.
    fn received(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.with(py, |s| s.received())
    }

    /// One dict per completed handshake: `{"path", "query", "headers"}` (lists of pairs).
    fn handshakes<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let list = self.with(py, |s| s.handshakes())?;
        list.into_iter()
            .map(|h| {
                let d = PyDict::new(py);
                d.set_item("path", h.path)?;
                d.set_item("query", h.query)?;
                d.set_item("headers", h.headers)?;
                Ok(d)
            })
            .collect()
    }

    /// Broadcasts generated messages at `rate` per second (<= 0: as fast as possible) until
    /// `count` were sent or the returned handle is stopped. `kind` "daemon": realistic
    /// document-002 events for `account_id`; "seq": `{"type":"seq","account_id":..,"data":{"seq":N}}`.
    #[pyo3(signature = (rate, count=None, account_id=123, kind="daemon"))]
    fn stream(
        &self,
        py: Python<'_>,
        rate: f64,
        count: Option<u64>,
        account_id: Option<i64>,
        kind: &str,
    ) -> PyResult<PyStream> {
        let make: Box<dyn FnMut(u64) -> String + Send> = match (kind, account_id) {
            ("daemon", Some(a)) => Box::new(move |seq| events::daemon_event(seq, a)),
            ("daemon", None) => {
                return Err(PyValueError::new_err("kind='daemon' needs an account_id"))
            }
            ("seq", a) => Box::new(move |seq| events::sequenced(seq, a)),
            (other, _) => {
                return Err(PyValueError::new_err(format!(
                    "kind must be 'daemon' or 'seq', not {other:?}"
                )))
            }
        };
        let handle = self.with(py, move |s| s.stream(rate, count, make))?;
        Ok(PyStream {
            handle: Mutex::new(Some(handle)),
            final_sent: AtomicU64::new(0),
        })
    }

    /// Stops the server and joins its threads; idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let server = lock(&self.server).take();
        detached(py, move || drop(server))
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let name = slf.get_type().name()?;
        Ok(match lock(&slf.get().server).as_ref() {
            Some(s) => format!("<{name} url='{}'>", s.url()),
            None => format!("<{name} closed>"),
        })
    }
}

impl Drop for PyWsServer {
    fn drop(&mut self) {
        // Joining the server's threads can take a moment: not with the GIL held.
        if let Some(server) = lock(&self.server).take() {
            let _ = std::thread::Builder::new()
                .name("tw-server-close".into())
                .spawn(move || drop(server));
        }
    }
}

/// The risk daemon's one-way broadcaster (document 002): any path, no authentication,
/// `{"type","account_id","data"}` events.
#[pyclass(extends = PyWsServer, frozen, name = "DaemonServer", module = "tradewire.testing")]
pub struct PyDaemonServer;

#[pymethods]
impl PyDaemonServer {
    #[new]
    #[pyo3(signature = (port=0))]
    fn new(py: Python<'_>, port: u16) -> PyResult<PyClassInitializer<Self>> {
        logging::ensure_forwarder(py);
        let server = py
            .detach(|| DaemonServer::start_on(port))
            .map_err(|e| io_err("could not start the daemon server", e))?;
        Ok(
            PyClassInitializer::from(PyWsServer::wrap(Server::Daemon(server)))
                .add_subclass(PyDaemonServer),
        )
    }

    /// Broadcasts `{"type": event_type, "account_id": account_id, "data": data}`.
    #[pyo3(signature = (event_type, account_id=None, data=None))]
    fn trigger_event(
        slf: &Bound<'_, Self>,
        event_type: &str,
        account_id: Option<i64>,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let py = slf.py();
        let data = json_arg(data)?;
        fn pick(s: &Server) -> Option<&DaemonServer> {
            match s {
                Server::Daemon(d) => Some(d),
                _ => None,
            }
        }
        slf.as_super()
            .get()
            .with_preset(py, "a daemon server", pick, move |d| {
                d.trigger_event(event_type, account_id, data)
            })
    }
}

/// The trading-agent server of document 003: path `/ws`, JWT in query `token`, `agentId`,
/// JSON pings, one connection per agent.
#[pyclass(extends = PyWsServer, frozen, name = "AgentServer", module = "tradewire.testing")]
pub struct PyAgentServer;

fn with_agent<T: Send>(
    slf: &Bound<'_, PyAgentServer>,
    f: impl FnOnce(&AgentServer) -> T + Send,
) -> PyResult<T> {
    fn pick(s: &Server) -> Option<&AgentServer> {
        match s {
            Server::Agent(a) => Some(a),
            _ => None,
        }
    }
    slf.as_super()
        .get()
        .with_preset(slf.py(), "an agent server", pick, f)
}

#[pymethods]
impl PyAgentServer {
    #[new]
    #[pyo3(signature = (secret="test-secret", agents=None, ping_interval=30.0, port=0))]
    fn new(
        py: Python<'_>,
        secret: &str,
        agents: Option<Vec<String>>,
        ping_interval: f64,
        port: u16,
    ) -> PyResult<PyClassInitializer<Self>> {
        logging::ensure_forwarder(py);
        let opts = AgentOptions {
            secret: secret.to_string(),
            agents: agents.unwrap_or_else(|| vec!["agent-1".into()]),
            ping_interval: seconds("ping_interval", ping_interval)?,
            port,
        };
        let server = py
            .detach(|| AgentServer::start(opts))
            .map_err(|e| io_err("could not start the agent server", e))?;
        Ok(
            PyClassInitializer::from(PyWsServer::wrap(Server::Agent(server)))
                .add_subclass(PyAgentServer),
        )
    }

    /// A valid HS256 JWT for `user_id`, signed with the server's secret.
    fn token_for(slf: &Bound<'_, Self>, user_id: &str) -> PyResult<String> {
        with_agent(slf, |a| a.token_for(user_id))
    }

    /// The URL with `token` and `agentId` query parameters.
    fn url_for(slf: &Bound<'_, Self>, token: &str, agent_id: &str) -> PyResult<String> {
        with_agent(slf, |a| a.url_for(token, agent_id))
    }

    /// JSON pongs received from clients so far.
    fn pongs_received(slf: &Bound<'_, Self>) -> PyResult<usize> {
        with_agent(slf, |a| a.pongs_received())
    }

    /// Whether `agent_id` has a connection.
    fn is_agent_connected(slf: &Bound<'_, Self>, agent_id: &str) -> PyResult<bool> {
        with_agent(slf, |a| a.is_agent_connected(agent_id))
    }

    /// Sends `{"type":"position_update","data":data}` to the agent; False if not connected.
    fn position_update(
        slf: &Bound<'_, Self>,
        agent_id: &str,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let data = json::to_json(data)?;
        with_agent(slf, |a| a.position_update(agent_id, data))
    }

    /// Sends a `price_update_batch` with `updates` to the agent; False if not connected.
    fn price_update_batch(
        slf: &Bound<'_, Self>,
        agent_id: &str,
        updates: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let updates = json::to_json(updates)?;
        with_agent(slf, |a| a.price_update_batch(agent_id, updates))
    }

    /// Sends `{"type":"error","data":{"message":message}}` to the agent; False if not connected.
    fn send_error(slf: &Bound<'_, Self>, agent_id: &str, message: &str) -> PyResult<bool> {
        with_agent(slf, |a| a.send_error(agent_id, message))
    }
}

/// The breakout-bot engine's endpoint (document 001): path `/ws/`, a `HEARTBEAT` on connect
/// and every `heartbeat_interval` seconds.
#[pyclass(extends = PyWsServer, frozen, name = "BreakoutServer", module = "tradewire.testing")]
pub struct PyBreakoutServer;

#[pymethods]
impl PyBreakoutServer {
    #[new]
    #[pyo3(signature = (heartbeat_interval=30.0, port=0))]
    fn new(
        py: Python<'_>,
        heartbeat_interval: f64,
        port: u16,
    ) -> PyResult<PyClassInitializer<Self>> {
        logging::ensure_forwarder(py);
        let opts = BreakoutOptions {
            heartbeat_interval: seconds("heartbeat_interval", heartbeat_interval)?,
            port,
        };
        let server = py
            .detach(|| BreakoutServer::start(opts))
            .map_err(|e| io_err("could not start the breakout server", e))?;
        Ok(
            PyClassInitializer::from(PyWsServer::wrap(Server::Breakout(server)))
                .add_subclass(PyBreakoutServer),
        )
    }

    /// Broadcasts `{"type": event_type, "ts": <now ms>, "data": data}`.
    #[pyo3(signature = (event_type, data=None))]
    fn publish(
        slf: &Bound<'_, Self>,
        event_type: &str,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let py = slf.py();
        let data = json_arg(data)?;
        fn pick(s: &Server) -> Option<&BreakoutServer> {
            match s {
                Server::Breakout(b) => Some(b),
                _ => None,
            }
        }
        slf.as_super()
            .get()
            .with_preset(py, "a breakout server", pick, move |b| {
                b.publish(event_type, data)
            })
    }
}

/// The Tradovate API of document 000: REST token endpoints (`auth_url`) and the SockJS-framed
/// WebSocket (`url`), with requests answered. Default user "trader" / "secret" (user id 7,
/// accounts 101 and 202).
#[pyclass(extends = PyWsServer, frozen, name = "TradovateServer", module = "tradewire.testing")]
pub struct PyTradovateServer;

fn with_tradovate<T: Send>(
    slf: &Bound<'_, PyTradovateServer>,
    f: impl FnOnce(&TradovateServer) -> T + Send,
) -> PyResult<T> {
    fn pick(s: &Server) -> Option<&TradovateServer> {
        match s {
            Server::Tradovate(t) => Some(t),
            _ => None,
        }
    }
    slf.as_super()
        .get()
        .with_preset(slf.py(), "a tradovate server", pick, f)
}

#[pymethods]
impl PyTradovateServer {
    /// `users`: dicts `{"name", "password", "user_id", "accounts"}` (default: one user
    /// "trader" / "secret").
    #[new]
    #[pyo3(signature = (users=None, token_lifetime=4800.0, heartbeat_interval=2.5, port=0, http_port=0))]
    fn new(
        py: Python<'_>,
        users: Option<Vec<Bound<'_, PyDict>>>,
        token_lifetime: f64,
        heartbeat_interval: f64,
        port: u16,
        http_port: u16,
    ) -> PyResult<PyClassInitializer<Self>> {
        logging::ensure_forwarder(py);
        let mut opts = TradovateOptions {
            token_lifetime: seconds("token_lifetime", token_lifetime)?,
            heartbeat_interval: seconds("heartbeat_interval", heartbeat_interval)?,
            port,
            http_port,
            ..TradovateOptions::default()
        };
        if let Some(users) = users {
            opts.users = users
                .iter()
                .map(|u| -> PyResult<TradovateUser> {
                    let get = |k: &str| {
                        u.get_item(k)?
                            .ok_or_else(|| PyValueError::new_err(format!("a user needs {k:?}")))
                    };
                    Ok(TradovateUser {
                        name: get("name")?.extract()?,
                        password: get("password")?.extract()?,
                        user_id: get("user_id")?.extract()?,
                        accounts: get("accounts")?.extract()?,
                    })
                })
                .collect::<PyResult<_>>()?;
        }
        let server = py
            .detach(|| TradovateServer::start(opts))
            .map_err(|e| io_err("could not start the tradovate server", e))?;
        Ok(
            PyClassInitializer::from(PyWsServer::wrap(Server::Tradovate(server)))
                .add_subclass(PyTradovateServer),
        )
    }

    /// The market-data WebSocket URL.
    #[getter]
    fn md_url(slf: &Bound<'_, Self>) -> PyResult<String> {
        with_tradovate(slf, |t| t.md_url())
    }

    /// The access-token URL (`auth_url` of the client configuration).
    #[getter]
    fn auth_url(slf: &Bound<'_, Self>) -> PyResult<String> {
        with_tradovate(slf, |t| t.auth_url())
    }

    /// The token renewal URL.
    #[getter]
    fn renew_url(slf: &Bound<'_, Self>) -> PyResult<String> {
        with_tradovate(slf, |t| t.renew_url())
    }

    /// While on, the token endpoint answers every login with an `errorText`.
    fn reject_credentials(slf: &Bound<'_, Self>, on: bool) -> PyResult<()> {
        with_tradovate(slf, |t| t.reject_credentials(on))
    }

    /// Sends a `shutdown` event to every connection.
    fn send_shutdown(slf: &Bound<'_, Self>) -> PyResult<()> {
        with_tradovate(slf, |t| t.send_shutdown())
    }

    /// Delays every response by `seconds` from now on.
    fn set_response_delay(slf: &Bound<'_, Self>, seconds: f64) -> PyResult<()> {
        let d = self::seconds("seconds", seconds)?;
        with_tradovate(slf, |t| t.set_response_delay(d))
    }

    /// While on, requests get no response at all.
    fn drop_responses(slf: &Bound<'_, Self>, on: bool) -> PyResult<()> {
        with_tradovate(slf, |t| t.drop_responses(on))
    }

    /// Sends a `props` event for `account_id` to every authorized connection.
    fn emit_props(
        slf: &Bound<'_, Self>,
        account_id: i64,
        entity_type: &str,
        entity: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let entity = json::to_json(entity)?;
        with_tradovate(slf, |t| t.emit_props(account_id, entity_type, entity))
    }

    /// Sends `frame` untouched to every connection (e.g. `a[...]`).
    fn emit(slf: &Bound<'_, Self>, frame: &str) -> PyResult<()> {
        with_tradovate(slf, |t| t.emit(frame))
    }

    /// Requests to the token endpoint so far.
    fn token_requests(slf: &Bound<'_, Self>) -> PyResult<usize> {
        with_tradovate(slf, |t| t.token_requests())
    }

    /// Successful WebSocket authorizations so far.
    fn authorizations(slf: &Bound<'_, Self>) -> PyResult<usize> {
        with_tradovate(slf, |t| t.authorizations())
    }

    /// Waits until at least `n` authorizations succeeded; False on timeout.
    #[pyo3(signature = (n, timeout=5.0))]
    fn wait_for_authorizations(slf: &Bound<'_, Self>, n: usize, timeout: f64) -> PyResult<bool> {
        let t = seconds("timeout", timeout)?;
        with_tradovate(slf, |s| s.wait_for_authorizations(n, t))
    }

    /// Every request received as `(endpoint, id, body)`, in order.
    fn requests(slf: &Bound<'_, Self>) -> PyResult<Vec<(String, u64, String)>> {
        with_tradovate(slf, |t| t.requests())
    }

    /// `[]` heartbeat frames received from clients so far.
    fn client_heartbeats(slf: &Bound<'_, Self>) -> PyResult<usize> {
        with_tradovate(slf, |t| t.client_heartbeats())
    }
}

/// A running `stream()`: stop it, or let it finish.
#[pyclass(frozen, name = "StreamHandle", module = "tradewire.testing")]
pub struct PyStream {
    handle: Mutex<Option<StreamHandle>>,
    final_sent: AtomicU64,
}

#[pymethods]
impl PyStream {
    /// Stops the stream; returns how many messages it sent.
    fn stop(&self, py: Python<'_>) -> PyResult<u64> {
        let handle = lock(&self.handle).take();
        if let Some(h) = handle {
            let n = detached(py, move || h.stop())?;
            self.final_sent.store(n, Ordering::SeqCst);
        }
        Ok(self.final_sent.load(Ordering::SeqCst))
    }

    /// Messages sent so far.
    #[getter]
    fn sent(&self) -> u64 {
        match lock(&self.handle).as_ref() {
            Some(h) => h.sent(),
            None => self.final_sent.load(Ordering::SeqCst),
        }
    }

    /// True once `count` messages were sent (or the stream was stopped).
    fn is_finished(&self) -> bool {
        lock(&self.handle).as_ref().is_none_or(|h| h.is_finished())
    }

    /// Waits until finished; False on timeout.
    #[pyo3(signature = (timeout=10.0))]
    fn wait_finished(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let t = seconds("timeout", timeout)?;
        let deadline = std::time::Instant::now().checked_add(t);
        loop {
            if self.is_finished() {
                return Ok(true);
            }
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Ok(false);
            }
            py.detach(|| std::thread::sleep(Duration::from_millis(5)));
            py.check_signals()?;
        }
    }
}

/// A TCP proxy on 127.0.0.1 in front of a server that injects network faults: pause,
/// blackhole (a silently dead path), trickle, reset.
#[pyclass(frozen, name = "FaultProxy", module = "tradewire.testing")]
pub struct PyFaultProxy {
    proxy: Mutex<Option<Arc<FaultProxy>>>,
    path: String,
}

impl PyFaultProxy {
    fn get(&self, py: Python<'_>) -> PyResult<Arc<FaultProxy>> {
        lock(&self.proxy)
            .clone()
            .ok_or_else(|| closed_error(py, "the proxy is closed"))
    }
}

#[pymethods]
impl PyFaultProxy {
    /// `upstream`: a server object (its path is kept in `url`), a port of 127.0.0.1, or
    /// "host:port".
    #[new]
    fn new(py: Python<'_>, upstream: &Bound<'_, PyAny>) -> PyResult<Self> {
        logging::ensure_forwarder(py);
        let (addr, path): (SocketAddr, String) = if let Ok(server) = upstream.cast::<PyWsServer>() {
            let s = server.get().get(py)?;
            let url = s.url();
            let path = url
                .splitn(4, '/')
                .nth(3)
                .map(|p| format!("/{p}"))
                .unwrap_or_default();
            (s.ws().addr(), path)
        } else if let Ok(port) = upstream.extract::<u16>() {
            (SocketAddr::from(([127, 0, 0, 1], port)), String::new())
        } else if let Ok(text) = upstream.extract::<String>() {
            let addr = text
                .parse()
                .map_err(|e| PyValueError::new_err(format!("bad address {text:?}: {e}")))?;
            (addr, String::new())
        } else {
            return Err(PyTypeError::new_err(
                "upstream must be a server, a port or 'host:port'",
            ));
        };
        let proxy = py
            .detach(|| FaultProxy::start(addr))
            .map_err(|e| io_err("could not start the proxy", e))?;
        Ok(PyFaultProxy {
            proxy: Mutex::new(Some(Arc::new(proxy))),
            path,
        })
    }

    /// `ws://127.0.0.1:PORT` plus the upstream server's path.
    #[getter]
    fn url(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("ws://{}{}", self.get(py)?.addr(), self.path))
    }

    /// The proxy's port.
    #[getter]
    fn port(&self, py: Python<'_>) -> PyResult<u16> {
        Ok(self.get(py)?.port())
    }

    /// The current mode: 'pass', 'pause', 'blackhole' or 'trickle'.
    #[getter]
    fn mode(&self, py: Python<'_>) -> PyResult<&'static str> {
        Ok(match self.get(py)?.mode() {
            ProxyMode::Pass => "pass",
            ProxyMode::Pause => "pause",
            ProxyMode::Blackhole => "blackhole",
            ProxyMode::Trickle { .. } => "trickle",
        })
    }

    /// 'pass' forwards; 'pause' holds bytes until 'pass'; 'blackhole' discards them with the
    /// sockets kept open; 'trickle' forwards `bytes` per `every` seconds each way.
    #[pyo3(signature = (mode, bytes=None, every=None))]
    fn set_mode(
        &self,
        py: Python<'_>,
        mode: &str,
        bytes: Option<usize>,
        every: Option<f64>,
    ) -> PyResult<()> {
        let mode = match mode {
            "pass" => ProxyMode::Pass,
            "pause" => ProxyMode::Pause,
            "blackhole" => ProxyMode::Blackhole,
            "trickle" => ProxyMode::Trickle {
                bytes: bytes.unwrap_or(1024),
                every: seconds("every", every.unwrap_or(0.1))?,
            },
            other => {
                return Err(PyValueError::new_err(format!(
                    "mode must be 'pass', 'pause', 'blackhole' or 'trickle', not {other:?}"
                )))
            }
        };
        let proxy = self.get(py)?;
        detached(py, move || proxy.set_mode(mode))
    }

    /// Resets every connection (TCP RST on both sides).
    fn reset_all(&self, py: Python<'_>) -> PyResult<()> {
        let proxy = self.get(py)?;
        detached(py, move || proxy.reset_all())
    }

    /// Connections the proxy carries.
    fn connection_count(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.get(py)?.connection_count())
    }

    /// Stops the proxy and closes its connections; idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let proxy = lock(&self.proxy).take();
        detached(py, move || drop(proxy))
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}

impl Drop for PyFaultProxy {
    fn drop(&mut self) {
        if let Some(proxy) = lock(&self.proxy).take() {
            let _ = std::thread::Builder::new()
                .name("tw-proxy-close".into())
                .spawn(move || drop(proxy));
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWsServer>()?;
    m.add_class::<PyDaemonServer>()?;
    m.add_class::<PyAgentServer>()?;
    m.add_class::<PyBreakoutServer>()?;
    m.add_class::<PyTradovateServer>()?;
    m.add_class::<PyFaultProxy>()?;
    m.add_class::<PyStream>()?;
    Ok(())
}
