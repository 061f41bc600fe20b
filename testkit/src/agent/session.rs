//! Per-agent connection bookkeeping: admission, supersede, pongs and timeouts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{jwt, messages};
use crate::server::core::{Admission, Behavior, Cmd, ConnId, Core};
use crate::server::HandshakeInfo;
use crate::sync::lock;

struct Conn {
    agent_id: String,
    last_pong: Instant,
}

#[derive(Default)]
struct Book {
    /// agentId -> the connection currently serving it.
    by_agent: HashMap<String, ConnId>,
    conns: HashMap<ConnId, Conn>,
}

/// The agent server's protocol logic.
pub(crate) struct Sessions {
    secret: String,
    agents: Vec<String>,
    ping_interval: Duration,
    book: Mutex<Book>,
    pongs: AtomicUsize,
}

impl Sessions {
    pub(crate) fn new(secret: String, agents: Vec<String>, ping_interval: Duration) -> Sessions {
        Sessions {
            secret,
            agents,
            ping_interval,
            book: Mutex::new(Book::default()),
            pongs: AtomicUsize::new(0),
        }
    }

    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }

    pub(crate) fn pongs(&self) -> usize {
        self.pongs.load(Ordering::SeqCst)
    }

    /// The connection currently serving `agent_id`.
    pub(crate) fn conn_of(&self, agent_id: &str) -> Option<ConnId> {
        lock(&self.book).by_agent.get(agent_id).copied()
    }

    /// Sends `text` to the connection of `agent_id`; false if none.
    pub(crate) fn send_to_agent(&self, core: &Core, agent_id: &str, text: String) -> bool {
        match self.conn_of(agent_id) {
            Some(id) => core.send_to(id, Cmd::Text(text.into())),
            None => false,
        }
    }

    /// One keepalive round: close connections without a pong for two
    /// intervals ("Connection timeout"), ping the others.
    pub(crate) fn keepalive(&self, core: &Core) {
        if core.is_silent() {
            return;
        }
        let now = Instant::now();
        let mut stale = Vec::new();
        let mut live = Vec::new();
        {
            let mut book = lock(&self.book);
            for (id, conn) in &book.conns {
                if now.duration_since(conn.last_pong) > self.ping_interval * 2 {
                    stale.push(*id);
                } else {
                    live.push(*id);
                }
            }
            for id in &stale {
                if let Some(conn) = book.conns.remove(id) {
                    if book.by_agent.get(&conn.agent_id) == Some(id) {
                        book.by_agent.remove(&conn.agent_id);
                    }
                }
            }
        }
        for id in stale {
            log::debug!("agent connection {id}: no pong, closing");
            core.send_to(id, Cmd::Close(1000, "Connection timeout".into()));
        }
        let ping = messages::ping();
        for id in live {
            core.send_to(id, Cmd::Text(ping.as_str().into()));
        }
    }
}

impl Behavior for Sessions {
    fn on_open(&self, core: &Core, id: ConnId, info: &HandshakeInfo) -> Admission {
        let user = info
            .query_param("token")
            .and_then(|token| jwt::verify(&self.secret, token))
            .and_then(|claims| claims.get("userId").cloned())
            .filter(|user| user.is_string() || user.is_number());
        if user.is_none() {
            return Admission::Close(1008, "Invalid token".into());
        }
        let agent_id = match info.query_param("agentId") {
            Some(agent) if self.agents.iter().any(|a| a == agent) => agent.to_string(),
            _ => return Admission::Close(1008, "Agent not found".into()),
        };
        let previous = {
            let mut book = lock(&self.book);
            let previous = book.by_agent.insert(agent_id.clone(), id);
            if let Some(old) = previous {
                book.conns.remove(&old);
            }
            book.conns.insert(
                id,
                Conn {
                    agent_id: agent_id.clone(),
                    last_pong: Instant::now(),
                },
            );
            previous
        };
        if let Some(old) = previous {
            log::debug!("agent {agent_id}: connection {id} supersedes {old}");
            core.send_to(old, Cmd::Close(1000, "New connection established".into()));
        }
        Admission::Accept(vec![
            messages::connected(&agent_id),
            messages::initial_data(&agent_id),
        ])
    }

    fn on_text(&self, _core: &Core, id: ConnId, text: &str) {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(text) else {
            return;
        };
        if message.get("type").and_then(|t| t.as_str()) == Some("pong") {
            self.pongs.fetch_add(1, Ordering::SeqCst);
            if let Some(conn) = lock(&self.book).conns.get_mut(&id) {
                conn.last_pong = Instant::now();
            }
        }
    }

    fn on_close(&self, id: ConnId) {
        let mut book = lock(&self.book);
        if let Some(conn) = book.conns.remove(&id) {
            if book.by_agent.get(&conn.agent_id) == Some(&id) {
                book.by_agent.remove(&conn.agent_id);
            }
        }
    }
}
