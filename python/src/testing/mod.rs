//! `tradewire.testing`: the testkit's real servers and fault injection for Python tests.
//!
//! Every class runs real sockets on 127.0.0.1. `close()` (or leaving a `with` block) stops a
//! server and joins its threads; so does garbage collection, later.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use serde_json::Value;
use tradewire_testkit::{
    events, AgentServer, BreakoutServer, DaemonServer, ServerOptions, TokenCheck, TradovateServer,
    WsServer,
};

use crate::errors::{closed_error, detached, seconds};
use crate::json;
use crate::logging;

mod faults;
mod presets;
mod replay;

use faults::{PyFaultProxy, PyStream};
use presets::{PyAgentServer, PyBreakoutServer, PyDaemonServer, PyTradovateServer};

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
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWsServer>()?;
    m.add_class::<PyDaemonServer>()?;
    m.add_class::<PyAgentServer>()?;
    m.add_class::<PyBreakoutServer>()?;
    m.add_class::<PyTradovateServer>()?;
    m.add_class::<PyFaultProxy>()?;
    m.add_class::<PyStream>()?;
    m.add_class::<replay::PyReplayServer>()?;
    Ok(())
}
