//! The preset servers of `tradewire.testing`: the daemon of document 002, the agent server
//! of 003, the breakout server of 001 and the Tradovate server of 000, each a `WsServer`
//! with its own controls.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tradewire_testkit::{
    AgentOptions, AgentServer, BreakoutOptions, BreakoutServer, DaemonServer, TradovateOptions,
    TradovateServer, TradovateUser,
};

use super::*;
use crate::errors::seconds;
use crate::json;

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

    /// Document 002's test harness: broadcasts `event_type` with `data`, addressed to the
    /// account in `data["accountId"]` (or `data["account_id"]`; none: every account).
    fn trigger_test_event(
        slf: &Bound<'_, Self>,
        event_type: &str,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let value = json_arg(Some(data))?;
        let account = ["accountId", "account_id"]
            .iter()
            .find_map(|k| value.get(*k).and_then(Value::as_i64));
        Self::trigger_event(slf, event_type, account, Some(data))
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

    /// The latest token request's body as a dict (`password` and `sec` left out), or None.
    fn last_token_request(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        match with_tradovate(slf, |t| t.last_token_request())? {
            Some(v) => Ok(json::to_py(py, &v.to_string())?.unbind()),
            None => Ok(py.None()),
        }
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
