//! [`TradovateServer`]: the Tradovate WebSocket API and its REST token
//! endpoints (reference document 000).
//!
//! The WebSocket side runs on [`WsServer`]; the token endpoints on a small
//! HTTP/1.1 server of their own. Both listen on 127.0.0.1.

mod auth;
mod delay;
mod http;
mod session;
mod tokens;
mod wire;

use std::fmt;
use std::io;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use self::wire::{array_frame, close_frame, props_item};

use self::auth::{Auth, RENEW_PATH, TOKEN_PATH};
use self::delay::Delayer;
use self::http::HttpServer;
use self::session::{Recorded, Sessions, MD_PATH, WS_PATH};
use self::tokens::TokenKind;
use crate::server::core::{Behavior, Cmd};
use crate::server::{ServerOptions, WsServer};
use crate::ticker::Ticker;
use crate::wait;

/// A user the token endpoint knows.
#[derive(Clone, PartialEq, Eq)]
pub struct TradovateUser {
    /// Login name (`name` of the token request).
    pub name: String,
    /// Password (`password` of the token request).
    pub password: String,
    /// `userId` of the token response and `user/syncrequest`.
    pub user_id: i64,
    /// Ids of the user's accounts (`user/syncrequest`, `account/list`).
    pub accounts: Vec<i64>,
}

impl fmt::Debug for TradovateUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TradovateUser")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .field("user_id", &self.user_id)
            .field("accounts", &self.accounts)
            .finish()
    }
}

/// Options for [`TradovateServer::start`].
#[derive(Clone, Debug)]
pub struct TradovateOptions {
    /// Known users; default: `"trader"`/`"secret"`, id 7, accounts 101 and 202.
    pub users: Vec<TradovateUser>,
    /// Lifetime of the tokens issued (default 80 minutes).
    pub token_lifetime: Duration,
    /// Time between the server's `h` frames to authorized connections (default 2.5 s).
    pub heartbeat_interval: Duration,
    /// WebSocket port (0 = ephemeral, kept across restarts).
    pub port: u16,
    /// HTTP port of the token endpoints (0 = ephemeral, kept across restarts).
    pub http_port: u16,
}

impl Default for TradovateOptions {
    fn default() -> Self {
        TradovateOptions {
            users: vec![TradovateUser {
                name: "trader".into(),
                password: "secret".into(),
                user_id: 7,
                accounts: vec![101, 202],
            }],
            token_lifetime: Duration::from_secs(80 * 60),
            heartbeat_interval: Duration::from_millis(2500),
            port: 0,
            http_port: 0,
        }
    }
}

/// A server like Tradovate's: REST token endpoints and SockJS-framed WebSockets.
///
/// HTTP ([`auth_url`](Self::auth_url), [`renew_url`](Self::renew_url)); every
/// response has `Connection: close`:
/// * `POST /v1/auth/accesstokenrequest` with `{name, password, appId, appVersion,
///   sec, cid}` (and `"p-ticket"` on a retry after a penalty): 200 with
///   `{accessToken, mdAccessToken, expirationTime, userStatus, userId, name, ...}`,
///   or 200 `{"errorText":"Incorrect username or password. Please try again."}`;
///   a body that is not a JSON object gets 400 `{"errorText":..}`.
/// * `GET` (or `POST`) `/v1/auth/renewaccesstoken` with `Authorization: Bearer
///   <accessToken>`: a new token pair with a new expiry (the old one stays
///   valid until it expires); a missing, unknown or expired token gets 401.
///
/// WebSocket ([`ws_url`](Self::ws_url) and [`md_url`](Self::md_url); other
/// paths get close 1008 "Not Found" right after the handshake):
/// * `o` on connect; `authorize\n<id>\n\n<token>` answers `a[{"s":200,"i":<id>}]`
///   for an unexpired `accessToken` (`mdAccessToken` on the md socket), else
///   `a[{"s":401,"i":<id>,"d":"Access is denied"}]` and the socket stays open;
/// * `h` every `heartbeat_interval` to authorized connections;
/// * `endpoint\n<id>\n<query>\n<body>` from an authorized connection answers
///   `a[{"s":200,"i":<id>,"d":...}]` (keys in that order): `user/syncrequest`
///   → `{"users":[..],"accounts":[..],"positions":[],"orders":[],..}`,
///   `account/list` → the accounts, `md/subscribequote` → `{"ok":true}` then
///   three `a[{"e":"md","d":{"quotes":[..]}}]` frames, anything else →
///   `{"ok":true,"endpoint":..}`; endpoints match case-insensitively. Before
///   authorization: `a[{"s":401,"i":<id>,"d":"Not authorized"}]`;
/// * `[]` frames are client heartbeats (counted); other frames are ignored.
///
/// Dereferences to [`WsServer`] for the generic faults (`set_silent`,
/// `refuse_for`, `send_raw`, `accept_then_close`, `received`, ...).
///
/// ```
/// use tradewire_testkit::{TradovateOptions, TradovateServer};
///
/// let server = TradovateServer::start(TradovateOptions::default()).unwrap();
/// assert!(server.ws_url().ends_with("/v1/websocket"));
/// let (mut client, _) = tungstenite::connect(server.ws_url()).unwrap();
/// assert_eq!(client.read().unwrap().into_text().unwrap().as_str(), "o");
/// client.send(tungstenite::Message::text("authorize\n0\n\nnot-a-token")).unwrap();
/// let answer = client.read().unwrap().into_text().unwrap();
/// assert_eq!(answer.as_str(), r#"a[{"s":401,"i":0,"d":"Access is denied"}]"#);
/// ```
pub struct TradovateServer {
    // Field order is drop order: the threads that hold the core stop first.
    _heartbeat: Ticker,
    _delayer: Delayer,
    http: HttpServer,
    sessions: Arc<Sessions>,
    auth: Arc<Auth>,
    server: WsServer,
}

impl TradovateServer {
    /// Starts the WebSocket server and the token endpoints.
    pub fn start(opts: TradovateOptions) -> io::Result<Self> {
        let auth = Arc::new(Auth::new(opts.users.clone(), opts.token_lifetime));
        let (jobs, delayed) = crossbeam_channel::unbounded();
        let sessions = Arc::new(Sessions::new(auth.clone(), jobs));
        let server = WsServer::start_with(
            ServerOptions {
                port: opts.port,
                ..ServerOptions::default()
            },
            Some(sessions.clone() as Arc<dyn Behavior>),
        )?;
        let delayer = Delayer::start(server.core().clone(), delayed)?;
        let heartbeat = {
            let core = server.core().clone();
            let sessions = sessions.clone();
            Ticker::start("tw-tradovate-h", opts.heartbeat_interval, move || {
                sessions.heartbeat(&core)
            })?
        };
        let http = {
            let auth = auth.clone();
            HttpServer::start(
                opts.http_port,
                Arc::new(move |request| auth.handle(request)),
            )?
        };
        Ok(TradovateServer {
            _heartbeat: heartbeat,
            _delayer: delayer,
            http,
            sessions,
            auth,
            server,
        })
    }

    /// `ws://127.0.0.1:PORT/v1/websocket` (authorize with an `accessToken`).
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}{WS_PATH}", self.server.port())
    }

    /// `ws://127.0.0.1:PORT/v1/md/websocket` (authorize with an `mdAccessToken`).
    pub fn md_url(&self) -> String {
        format!("ws://127.0.0.1:{}{MD_PATH}", self.server.port())
    }

    /// `http://127.0.0.1:HTTPPORT/v1/auth/accesstokenrequest`.
    pub fn auth_url(&self) -> String {
        format!("http://127.0.0.1:{}{TOKEN_PATH}", self.http.port())
    }

    /// `http://127.0.0.1:HTTPPORT/v1/auth/renewaccesstoken`.
    pub fn renew_url(&self) -> String {
        format!("http://127.0.0.1:{}{RENEW_PATH}", self.http.port())
    }

    /// Port of the token endpoints.
    pub fn http_port(&self) -> u16 {
        self.http.port()
    }

    /// While on, every token request is answered 200
    /// `{"errorText":"Incorrect username or password. Please try again."}`.
    pub fn reject_credentials(&self, on: bool) {
        self.auth.set_reject_credentials(on);
    }

    /// While on, every token request is answered HTTP 401
    /// `{"errorText":"Unauthorized"}` (renewals are not affected).
    pub fn reject_with_http_401(&self, on: bool) {
        self.auth.set_reject_401(on);
    }

    /// `Some((p_time_secs, captcha))`: the next token request is answered
    /// `{"p-ticket":<ticket>,"p-time":secs,"p-captcha":captcha}` (`p-time` is an
    /// integer for whole seconds). Until a request carries `"p-ticket":<ticket>`
    /// at least `p-time` after the ticket was handed out, every token request
    /// gets the same ticket again (`p-time` = the time still to wait for a
    /// too-early retry with the ticket); that retry succeeds and lifts the
    /// penalty. `None` lifts it at once.
    pub fn penalty(&self, p: Option<(f64, bool)>) {
        self.auth.set_penalty(p);
    }

    /// Lifetime of the tokens issued from now on (e.g. 2 s for expiry tests).
    pub fn set_token_lifetime(&self, d: Duration) {
        self.auth.set_lifetime(d);
    }

    /// Stops or resumes the `h` frames (sockets stay open).
    pub fn set_heartbeats(&self, on: bool) {
        self.sessions.set_heartbeats(on);
    }

    /// Sends `a[{"e":"shutdown","d":{"reasonCode":"Maintenance"}}]` to every connection.
    pub fn send_shutdown(&self) {
        self.emit(&array_frame(&[wire::shutdown_item()]));
    }

    /// Delays every response (and the `md` events after it) by `d` from now
    /// on; heartbeats and other frames keep flowing meanwhile.
    pub fn set_response_delay(&self, d: Duration) {
        self.sessions.set_response_delay(d);
    }

    /// While on, requests from authorized connections get no response at all
    /// (they are still recorded); `authorize` is still answered.
    pub fn drop_responses(&self, on: bool) {
        self.sessions.set_drop_responses(on);
    }

    /// Sends `a[`[`props_item`]`(account_id, entity_type, entity)]` to every
    /// authorized connection on [`ws_url`](Self::ws_url) (whatever accounts its
    /// user has). For several items in one frame use [`emit`](Self::emit)
    /// with [`array_frame`].
    pub fn emit_props(&self, account_id: i64, entity_type: &str, entity: Value) {
        let frame = array_frame(&[props_item(account_id, entity_type, entity)]);
        let core = self.server.core();
        for id in self.sessions.authorized(Some(TokenKind::Access)) {
            core.send_to(id, Cmd::Text(frame.as_str().into()));
        }
    }

    /// Sends `frame` as a text frame, untouched, to every connection
    /// (authorized or not), e.g. `a[...]` from [`array_frame`].
    pub fn emit(&self, frame: &str) {
        self.server.broadcast(frame);
    }

    /// Sends `c[code,"reason"]` to every connection, then closes its WebSocket
    /// with a close frame carrying the same code and reason when a close frame
    /// may carry that code (1000-1003, 1007-1014, 3000-4999), else 1000
    /// "Normal closure".
    pub fn close_all(&self, code: u16, reason: &str) {
        self.server.broadcast(&close_frame(code, reason));
        if ws_close_code_allowed(code) {
            self.server.close_all(code, reason);
        } else {
            self.server.close_all(1000, "Normal closure");
        }
    }

    /// Shuts every WebSocket's TCP socket down at once (no close frame).
    pub fn drop_all(&self) {
        self.server.drop_all();
    }

    /// Drops every connection and closes both listeners (WebSocket and HTTP)
    /// until [`restart`](Self::restart). Issued tokens stay valid.
    pub fn stop(&self) {
        self.http.stop();
        self.server.stop();
    }

    /// Listens on the same two ports again.
    pub fn restart(&self) -> io::Result<()> {
        self.http.restart()?;
        self.server.restart()
    }

    /// POST requests to the token endpoint so far, whatever their answer.
    pub fn token_requests(&self) -> usize {
        self.auth.token_requests()
    }

    /// The body of the latest token request (`name`, `appId`, `appVersion`, `cid`, ...),
    /// its `password` and `sec` left out.
    pub fn last_token_request(&self) -> Option<serde_json::Value> {
        self.auth.last_request()
    }

    /// GET or POST requests to the renewal endpoint so far, whatever their answer.
    pub fn renewals(&self) -> usize {
        self.auth.renewals()
    }

    /// Successful WebSocket authorizations so far (both sockets).
    pub fn authorizations(&self) -> usize {
        self.sessions.authorizations()
    }

    /// Waits until at least `n` authorizations succeeded; false on timeout.
    pub fn wait_for_authorizations(&self, n: usize, timeout: Duration) -> bool {
        wait::until(timeout, || (self.authorizations() >= n).then_some(())).is_some()
    }

    /// Every request frame received as `(endpoint, id, body)`, in order,
    /// including ones before authorization, excluding `authorize`.
    pub fn requests(&self) -> Vec<(String, u64, String)> {
        self.sessions.requests()
    }

    /// Waits until a request to `endpoint` (case-insensitive) was received
    /// (including before the call) and returns the first one.
    pub fn wait_for_request(
        &self,
        endpoint: &str,
        timeout: Duration,
    ) -> Option<(String, u64, String)> {
        let matches = |r: &Recorded| r.0.eq_ignore_ascii_case(endpoint);
        wait::until(timeout, || self.sessions.find_request(&matches))
    }

    /// `[]` frames received from clients so far.
    pub fn client_heartbeats(&self) -> usize {
        self.sessions.client_heartbeats()
    }

    /// Live WebSocket connections (both sockets, authorized or not).
    pub fn connection_count(&self) -> usize {
        self.server.connection_count()
    }

    /// Waits until at least `n` WebSocket connections are live; false on timeout.
    pub fn wait_for_connections(&self, n: usize, timeout: Duration) -> bool {
        self.server.wait_for_connections(n, timeout)
    }

    /// Access tokens issued and not yet expired.
    pub fn valid_tokens(&self) -> usize {
        self.auth.valid_tokens()
    }
}

/// Whether a WebSocket close frame may carry `code` (RFC 6455 §7.4).
fn ws_close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

impl Deref for TradovateServer {
    type Target = WsServer;

    fn deref(&self) -> &WsServer {
        &self.server
    }
}
