//! [`DaemonServer`]: the risk daemon's one-way broadcaster (reference document 002).

use std::io;
use std::ops::Deref;

use crate::events::{account_field, envelope};
use crate::server::{ServerOptions, WsServer};

/// A server like the risk daemon at `ws://localhost:8765`: any path, no
/// authentication, one-way JSON broadcast `{"type","account_id","data"}`.
/// Dereferences to [`WsServer`] for fault injection.
///
/// ```
/// use std::time::Duration;
/// use tradewire_testkit::DaemonServer;
///
/// let daemon = DaemonServer::start().unwrap();
/// let (mut client, _) = tungstenite::connect(daemon.url()).unwrap();
/// assert!(daemon.wait_for_connections(1, Duration::from_secs(2)));
/// daemon.trigger_event("GatewayUserTrade", Some(123), serde_json::json!({"profitAndLoss": -45.5}));
/// let text = client.read().unwrap().into_text().unwrap();
/// let event: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
/// assert_eq!(event["data"]["profitAndLoss"], -45.5);
/// ```
pub struct DaemonServer {
    /// The underlying server.
    pub server: WsServer,
}

impl DaemonServer {
    /// Starts on an ephemeral port.
    pub fn start() -> io::Result<Self> {
        Self::start_on(0)
    }

    /// Starts on `port` (0 = ephemeral), e.g. 8765 like the real daemon.
    pub fn start_on(port: u16) -> io::Result<Self> {
        let server = WsServer::start(ServerOptions {
            port,
            ..ServerOptions::default()
        })?;
        Ok(DaemonServer { server })
    }

    /// Broadcasts `{"type":event_type,"account_id":account_id,"data":data}`
    /// (`account_id` is `null` when `None`).
    pub fn trigger_event(
        &self,
        event_type: &str,
        account_id: Option<i64>,
        data: serde_json::Value,
    ) {
        let text = envelope(event_type, &account_field(account_id), &data.to_string());
        self.server.broadcast(&text);
    }
}

impl Deref for DaemonServer {
    type Target = WsServer;

    fn deref(&self) -> &WsServer {
        &self.server
    }
}
