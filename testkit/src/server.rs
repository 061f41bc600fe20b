//! [`WsServer`]: a real WebSocket server on 127.0.0.1 with fault injection.

mod connection;
pub(crate) mod core;
mod handshake;
mod listener;
mod options;
mod readiness;
mod session;
mod stream;
mod transport;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tungstenite::Bytes;

pub use self::options::{HandshakeInfo, ServerOptions, TokenCheck};
pub use self::stream::StreamHandle;

use self::core::{Behavior, Cmd, Core, TlsSetup};
use crate::sync::lock;
use crate::wait;

/// A WebSocket server on 127.0.0.1 whose faults are controlled by the test.
///
/// One accept thread and one thread per connection; dropping the server
/// drops every connection and joins every thread.
///
/// ```
/// use std::time::Duration;
/// use tradewire_testkit::{ServerOptions, TokenCheck, WsServer};
///
/// let server = WsServer::start(ServerOptions {
///     path: Some("/feed".into()),
///     token: TokenCheck::Required("s3cret".into()),
///     greeting: vec![r#"{"type":"hello"}"#.into()],
///     ..ServerOptions::default()
/// })
/// .unwrap();
/// let url = format!("{}?token=s3cret", server.url()); // path "/feed" is set
/// let (mut client, _) = tungstenite::connect(url).unwrap();
/// assert_eq!(client.read().unwrap().into_text().unwrap().as_str(), r#"{"type":"hello"}"#);
/// client.send(tungstenite::Message::text("ping?")).unwrap();
/// assert!(server.wait_for_received(|m| m == "ping?", Duration::from_secs(2)).is_some());
/// server.close_all(4000, "bye");
/// ```
pub struct WsServer {
    core: Arc<Core>,
    accept: Option<JoinHandle<()>>,
}

impl WsServer {
    /// Binds 127.0.0.1:`opts.port` (0 = ephemeral) and starts serving.
    pub fn start(opts: ServerOptions) -> io::Result<WsServer> {
        WsServer::start_with(opts, None)
    }

    /// Starts a server whose connections are also handled by `behavior`.
    pub(crate) fn start_with(
        opts: ServerOptions,
        behavior: Option<Arc<dyn Behavior>>,
    ) -> io::Result<WsServer> {
        let tls = if opts.tls {
            let (identity, cert_pem) =
                crate::tls::try_self_signed_identity().map_err(io::Error::other)?;
            let acceptor = native_tls::TlsAcceptor::new(identity).map_err(io::Error::other)?;
            Some(TlsSetup { acceptor, cert_pem })
        } else {
            None
        };
        let listener = listener::bind(opts.port, Duration::from_secs(2))?;
        let port = listener.local_addr()?.port();
        let core = Arc::new(Core::new(opts, tls, behavior, listener, port));
        let accept = listener::spawn_accept_loop(core.clone())?;
        log::debug!("WebSocket server listening on port {port}");
        Ok(WsServer {
            core,
            accept: Some(accept),
        })
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// The listening port (the same across stop/restart).
    pub fn port(&self) -> u16 {
        self.core.port
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.core.port))
    }

    /// `ws://127.0.0.1:PORT` plus the configured path (`wss://` with TLS).
    ///
    /// Without a configured path, add a query as `/?k=v`: some clients
    /// (tungstenite among them) send `GET ?k=v` for `ws://host:port?k=v`,
    /// which is not valid HTTP.
    pub fn url(&self) -> String {
        let scheme = if self.core.opts.tls { "wss" } else { "ws" };
        let path = self.core.opts.path.as_deref().unwrap_or("");
        format!("{scheme}://127.0.0.1:{}{path}", self.core.port)
    }

    /// PEM of the self-signed certificate when serving TLS.
    pub fn cert_pem(&self) -> Option<Vec<u8>> {
        self.core.tls.as_ref().map(|tls| tls.cert_pem.clone())
    }

    /// Sends a text frame to every live connection.
    pub fn broadcast(&self, text: &str) {
        self.core.broadcast(Cmd::Text(text.into()));
    }

    /// Sends a binary frame to every live connection.
    pub fn broadcast_binary(&self, bytes: &[u8]) {
        self.core
            .broadcast(Cmd::Binary(Bytes::copy_from_slice(bytes)));
    }

    /// Writes `bytes` unframed to every connection's stream (after anything
    /// queued before), e.g. a malformed frame from [`crate::frames`].
    pub fn send_raw(&self, bytes: &[u8]) {
        self.core.broadcast(Cmd::Raw(Bytes::copy_from_slice(bytes)));
    }

    /// Sends a close frame with `code` and `reason` to every connection (after
    /// anything queued before), waits up to 1 s for the answer, then drops it.
    pub fn close_all(&self, code: u16, reason: &str) {
        self.core.broadcast(Cmd::Close(code, reason.to_string()));
    }

    /// Shuts every connection's TCP socket down at once, without a close
    /// frame; returns when they are gone.
    pub fn drop_all(&self) {
        self.core.kill_all();
    }

    /// Half-open mode: while silent the server neither reads (so client
    /// pings get no pong) nor sends on any connection, including new ones,
    /// whose upgrade request is not even read. Sockets stay open. Messages
    /// broadcast meanwhile are discarded; `close_all` and `drop_all` still act.
    pub fn set_silent(&self, silent: bool) {
        self.core.set_silent(silent);
    }

    /// Whether [`set_silent`](Self::set_silent) is on.
    pub fn is_silent(&self) -> bool {
        self.core.is_silent()
    }

    /// Closes the listener now (connections are refused) and rebinds the same
    /// port after `d` in the background. Existing connections are kept.
    pub fn refuse_for(&self, d: Duration) {
        listener::reopen_after(&self.core, d);
    }

    /// Drops every connection and closes the listener until [`restart`](Self::restart).
    pub fn stop(&self) {
        listener::close(&self.core);
        self.core.kill_all();
    }

    /// Listens on the same port again (retrying briefly while it is in use).
    pub fn restart(&self) -> io::Result<()> {
        listener::reopen(&self.core)
    }

    /// While `Some((code, reason))`, every new connection completes the
    /// handshake and is then closed at once with that code and reason.
    pub fn accept_then_close(&self, close: Option<(u16, String)>) {
        *lock(&self.core.accept_close) = close;
    }

    /// Live (open, admitted) WebSocket connections.
    pub fn connection_count(&self) -> usize {
        self.core.open_count()
    }

    /// Completed handshakes since start, including ones closed at once.
    pub fn accepted_total(&self) -> usize {
        self.core.accepted_total()
    }

    /// Waits until at least `n` connections are live; false on timeout.
    pub fn wait_for_connections(&self, n: usize, timeout: Duration) -> bool {
        wait::until(timeout, || (self.connection_count() >= n).then_some(())).is_some()
    }

    /// Waits until at most `n` connections are live; false on timeout.
    pub fn wait_for_at_most(&self, n: usize, timeout: Duration) -> bool {
        wait::until(timeout, || (self.connection_count() <= n).then_some(())).is_some()
    }

    /// Every close frame a client sent, in arrival order: its code (None: a close frame
    /// without one) and reason.
    pub fn closes_received(&self) -> Vec<(Option<u16>, String)> {
        self.core.closes()
    }

    /// Every text message received from any client, in arrival order.
    pub fn received(&self) -> Vec<String> {
        self.core.received()
    }

    /// Waits until some received message (including ones received before the
    /// call) matches `pred`, and returns the first such message.
    pub fn wait_for_received(
        &self,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Option<String> {
        wait::until(timeout, || self.core.find_received(&pred))
    }

    /// One entry per completed handshake, in order.
    pub fn handshakes(&self) -> Vec<HandshakeInfo> {
        self.core.handshakes()
    }

    /// Broadcasts `make(seq)` for seq = 1, 2, ... at `rate_per_sec` (paced
    /// against deadlines from the start, in ~1 ms bursts at 1000/s and more;
    /// a rate that is not positive means as fast as possible) until `count`
    /// messages were sent or the handle is stopped or dropped.
    pub fn stream(
        &self,
        rate_per_sec: f64,
        count: Option<u64>,
        make: impl FnMut(u64) -> String + Send + 'static,
    ) -> StreamHandle {
        StreamHandle::start(self.core.clone(), rate_per_sec, count, make)
    }
}

impl Drop for WsServer {
    fn drop(&mut self) {
        self.core.set_shutdown();
        listener::close(&self.core);
        self.core.kill_all();
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        self.core.join_threads();
        log::debug!("WebSocket server on port {} stopped", self.core.port);
    }
}
