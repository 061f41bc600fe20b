//! [`BreakoutServer`]: the breakout-bot engine's WebSocket (reference document 001).

use std::io;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::clock::unix_ms;
use crate::server::core::{Admission, Behavior, Cmd, ConnId, Core};
use crate::server::{HandshakeInfo, ServerOptions, WsServer};
use crate::ticker::Ticker;

/// Options for [`BreakoutServer::start`].
#[derive(Clone, Debug)]
pub struct BreakoutOptions {
    /// Time between `HEARTBEAT` messages (the first is sent on connect).
    pub heartbeat_interval: Duration,
    /// Port to listen on (0 = ephemeral).
    pub port: u16,
}

impl Default for BreakoutOptions {
    fn default() -> Self {
        BreakoutOptions {
            heartbeat_interval: Duration::from_secs(30),
            port: 0,
        }
    }
}

/// A server like the breakout-bot FastAPI endpoint `GET /ws/`: messages are
/// `{"type":..,"ts":<unix ms>,"data":{..}}`; a `HEARTBEAT`
/// (`{"latency_ms":<f64>,"server_time":<ms>}`) goes out right after the
/// handshake and then every `heartbeat_interval` to every connection.
/// Dereferences to [`WsServer`] for fault injection.
///
/// ```
/// use tradewire_testkit::{BreakoutOptions, BreakoutServer};
///
/// let server = BreakoutServer::start(BreakoutOptions::default()).unwrap();
/// assert!(server.url().ends_with("/ws/"));
/// let (mut client, _) = tungstenite::connect(server.url()).unwrap();
/// let first = client.read().unwrap().into_text().unwrap();
/// assert!(first.as_str().starts_with(r#"{"type":"HEARTBEAT""#));
/// server.publish("ENGINE_UPDATE", serde_json::json!({"state": "RUNNING"}));
/// ```
pub struct BreakoutServer {
    _heartbeat: Ticker,
    server: WsServer,
}

impl BreakoutServer {
    /// Starts the server on path `/ws/`.
    pub fn start(opts: BreakoutOptions) -> io::Result<Self> {
        let server = WsServer::start_with(
            ServerOptions {
                path: Some("/ws/".into()),
                port: opts.port,
                ..ServerOptions::default()
            },
            Some(Arc::new(Heartbeat) as Arc<dyn Behavior>),
        )?;
        let heartbeat = {
            let core = server.core().clone();
            Ticker::start(
                "tw-breakout-heartbeat",
                opts.heartbeat_interval,
                move || {
                    if !core.is_silent() {
                        core.broadcast(Cmd::Text(heartbeat().into()));
                    }
                },
            )?
        };
        Ok(BreakoutServer {
            _heartbeat: heartbeat,
            server,
        })
    }

    /// Broadcasts `{"type":event_type,"ts":<now ms>,"data":data}`, e.g.
    /// `ENGINE_UPDATE`, `SIGNAL`, `ORDER_PLACED`, `POSITION_OPEN`, `KILL_SWITCH`.
    pub fn publish(&self, event_type: &str, data: Value) {
        self.server
            .broadcast(&message(event_type, &data.to_string()));
    }
}

impl Deref for BreakoutServer {
    type Target = WsServer;

    fn deref(&self) -> &WsServer {
        &self.server
    }
}

/// `{"type":..,"ts":..,"data":..}` with the type JSON-escaped and `data` already JSON.
fn message(event_type: &str, data: &str) -> String {
    let event_type = Value::from(event_type);
    format!(
        r#"{{"type":{event_type},"ts":{},"data":{data}}}"#,
        unix_ms()
    )
}

/// A heartbeat whose latency is the time spent building it (in ms).
fn heartbeat() -> String {
    let started = Instant::now();
    let server_time = unix_ms();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let data = serde_json::json!({"latency_ms": latency_ms, "server_time": server_time});
    message("HEARTBEAT", &data.to_string())
}

/// Sends the first heartbeat right after the handshake.
struct Heartbeat;

impl Behavior for Heartbeat {
    fn on_open(&self, _core: &Core, _id: ConnId, _info: &HandshakeInfo) -> Admission {
        Admission::Accept(vec![heartbeat()])
    }

    fn on_text(&self, _core: &Core, _id: ConnId, _text: &str) {}

    fn on_close(&self, _id: ConnId) {}
}
