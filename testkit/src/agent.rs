//! [`AgentServer`]: the Nexgent trading-agent WebSocket server (reference document 003).

mod jwt;
mod messages;
mod session;

use std::io;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use self::session::Sessions;
use crate::query::percent_encode;
use crate::server::core::Behavior;
use crate::server::{ServerOptions, WsServer};
use crate::ticker::Ticker;

/// Options for [`AgentServer::start`].
#[derive(Clone, Debug)]
pub struct AgentOptions {
    /// HMAC secret the JWTs are signed with.
    pub secret: String,
    /// Agent ids that exist; any other `agentId` gets 1008 "Agent not found".
    pub agents: Vec<String>,
    /// How often the server pings; a connection without a pong for two
    /// intervals is closed with 1000 "Connection timeout".
    pub ping_interval: Duration,
    /// Port to listen on (0 = ephemeral).
    pub port: u16,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            secret: "test-secret".into(),
            agents: vec!["agent-1".into()],
            ping_interval: Duration::from_secs(30),
            port: 0,
        }
    }
}

/// A server like Nexgent's `ws://host:4000/ws?token=<JWT>&agentId=<id>`.
///
/// * bad or missing JWT: the handshake completes, then close 1008 "Invalid token";
/// * unknown `agentId`: close 1008 "Agent not found";
/// * one connection per agent: an older one is closed with 1000 "New connection established";
/// * on connect it sends `connected` then `initial_data` (two positions);
/// * every `ping_interval` it sends `{"type":"ping","timestamp":..}` and closes
///   connections that sent no `{"type":"pong"}` for two intervals.
///
/// Dereferences to [`WsServer`] for fault injection.
///
/// ```
/// use tradewire_testkit::{AgentOptions, AgentServer};
///
/// let server = AgentServer::start(AgentOptions::default()).unwrap();
/// let url = server.url_for(&server.token_for("user-1"), "agent-1");
/// let (mut client, _) = tungstenite::connect(url).unwrap();
/// let first = client.read().unwrap().into_text().unwrap();
/// assert!(first.as_str().contains(r#""type":"connected""#));
/// ```
pub struct AgentServer {
    _keepalive: Ticker,
    sessions: Arc<Sessions>,
    server: WsServer,
}

impl AgentServer {
    /// Starts the server on path `/ws`.
    pub fn start(opts: AgentOptions) -> io::Result<Self> {
        let sessions = Arc::new(Sessions::new(
            opts.secret.clone(),
            opts.agents.clone(),
            opts.ping_interval,
        ));
        let server = WsServer::start_with(
            ServerOptions {
                path: Some("/ws".into()),
                port: opts.port,
                ..ServerOptions::default()
            },
            Some(sessions.clone() as Arc<dyn Behavior>),
        )?;
        let keepalive = {
            let core = server.core().clone();
            let sessions = sessions.clone();
            Ticker::start("tw-agent-ping", opts.ping_interval, move || {
                sessions.keepalive(&core)
            })?
        };
        Ok(AgentServer {
            _keepalive: keepalive,
            sessions,
            server,
        })
    }

    /// A real HS256 JWT with claims `{"userId":user_id,"iat":now}` signed with
    /// the server's secret.
    ///
    /// # Panics
    ///
    /// If OpenSSL cannot compute the HMAC.
    pub fn token_for(&self, user_id: &str) -> String {
        let claims = json!({"userId": user_id, "iat": crate::clock::unix_ms() / 1000});
        match jwt::sign(self.sessions.secret(), &claims) {
            Ok(token) => token,
            Err(e) => panic!("signing a JWT failed: {e}"),
        }
    }

    /// `ws://127.0.0.1:PORT/ws?token=<token>&agentId=<agent_id>` (escaped).
    pub fn url_for(&self, token: &str, agent_id: &str) -> String {
        format!(
            "{}?token={}&agentId={}",
            self.server.url(),
            percent_encode(token),
            percent_encode(agent_id)
        )
    }

    /// JSON `{"type":"pong",...}` messages received from clients so far.
    pub fn pongs_received(&self) -> usize {
        self.sessions.pongs()
    }

    /// Whether `agent_id` currently has a connection.
    pub fn is_agent_connected(&self, agent_id: &str) -> bool {
        self.sessions.conn_of(agent_id).is_some()
    }

    /// Sends `{"type":"position_update","data":data}` to the agent's
    /// connection; false if the agent is not connected.
    pub fn position_update(&self, agent_id: &str, data: Value) -> bool {
        self.send_to_agent(agent_id, messages::position_update(data))
    }

    /// Sends `{"type":"price_update_batch","data":{"updates":updates,"timestamp":..}}`
    /// to the agent's connection; false if the agent is not connected.
    pub fn price_update_batch(&self, agent_id: &str, updates: Value) -> bool {
        self.send_to_agent(agent_id, messages::price_update_batch(updates))
    }

    /// Sends `{"type":"error","data":{"message":message}}` to the agent's
    /// connection; false if the agent is not connected.
    pub fn send_error(&self, agent_id: &str, message: &str) -> bool {
        self.send_to_agent(agent_id, messages::error(message))
    }

    fn send_to_agent(&self, agent_id: &str, text: String) -> bool {
        self.sessions
            .send_to_agent(self.server.core(), agent_id, text)
    }
}

impl Deref for AgentServer {
    type Target = WsServer;

    fn deref(&self) -> &WsServer {
        &self.server
    }
}
