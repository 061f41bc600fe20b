//! Real WebSocket servers on `127.0.0.1` with fault injection, for testing
//! `tradewire` clients.
//!
//! Everything here opens real sockets: there are no mocks. Each server runs an
//! accept thread and one thread per connection, and stops and joins all of its
//! threads when dropped.
//!
//! * [`WsServer`] is the generic server: broadcast text, binary or raw bytes,
//!   close or drop connections, go silent (half-open), refuse connections for a
//!   while, reject handshakes, and record what clients sent.
//! * [`DaemonServer`], [`AgentServer`] and [`BreakoutServer`] speak the wire
//!   formats of the risk daemon, the Nexgent agent server and the breakout-bot
//!   engine on top of it.
//! * [`TradovateServer`] speaks Tradovate's SockJS-framed WebSocket API and
//!   serves its REST token endpoints, with token, penalty and response faults.
//! * [`FaultProxy`] sits in front of any server and pauses, blackholes,
//!   throttles or resets the TCP traffic.
//! * [`SilentListener`] accepts TCP connections and never answers.
//! * [`ReplayServer`] plays a tradewire recording (`record = path`) back to a client.
//!
//! ```
//! use std::time::Duration;
//! use tradewire_testkit::{ServerOptions, WsServer};
//!
//! let server = WsServer::start(ServerOptions::default()).unwrap();
//! let (mut client, _) = tungstenite::connect(server.url()).unwrap();
//! assert!(server.wait_for_connections(1, Duration::from_secs(2)));
//! server.broadcast("hello");
//! assert_eq!(client.read().unwrap().into_text().unwrap().as_str(), "hello");
//! ```

#![deny(missing_docs)]

pub mod agent;
pub mod breakout;
pub mod canary;
pub mod daemon;
pub mod events;
pub mod frames;
pub mod probe;
pub mod proxy;
pub mod replay;
pub mod server;
pub mod tls;
pub mod tradovate;

mod clock;
mod query;
mod sockopt;
mod sync;
mod ticker;
mod wait;

pub use agent::{AgentOptions, AgentServer};
pub use breakout::{BreakoutOptions, BreakoutServer};
pub use daemon::DaemonServer;
pub use proxy::{FaultProxy, ProxyMode};
pub use replay::ReplayServer;
pub use server::{HandshakeInfo, ServerOptions, StreamHandle, TokenCheck, WsServer};
pub use tls::SilentListener;
pub use tradovate::{TradovateOptions, TradovateServer, TradovateUser};
