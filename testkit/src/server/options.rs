//! Configuration of a [`WsServer`](super::WsServer) and what it records about handshakes.

/// How a server checks the client's token during the handshake.
///
/// The token is accepted from the query parameter `token` or from the header
/// `Authorization: Bearer <token>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TokenCheck {
    /// Any client is accepted.
    #[default]
    None,
    /// The client must present exactly this token.
    Required(String),
}

/// Options for [`WsServer::start`](super::WsServer::start).
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// If set, a handshake for any other path is answered with HTTP 404.
    pub path: Option<String>,
    /// Token check. A wrong or missing token completes the handshake and the
    /// connection is then closed with 1008 "Invalid token" (as servers that
    /// check after accepting do), unless `reject_token_with_http_401` is set.
    pub token: TokenCheck,
    /// Answer a wrong or missing token with HTTP 401 instead of accepting.
    pub reject_token_with_http_401: bool,
    /// Serve `wss://` with a freshly generated self-signed certificate for
    /// CN=localhost (SAN `localhost` and `127.0.0.1`).
    pub tls: bool,
    /// Text messages sent to every new connection right after the handshake.
    pub greeting: Vec<String>,
    /// Port to listen on; 0 picks an ephemeral port (kept across restarts).
    pub port: u16,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            path: None,
            token: TokenCheck::None,
            reject_token_with_http_401: false,
            tls: false,
            greeting: Vec::new(),
            port: 0,
        }
    }
}

/// What a client sent in one completed WebSocket handshake.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandshakeInfo {
    /// Request path without the query string, e.g. `/ws`.
    pub path: String,
    /// Query parameters in order, with `%XX` escapes decoded.
    pub query: Vec<(String, String)>,
    /// Request headers in order; names are lower-case.
    pub headers: Vec<(String, String)>,
}

impl HandshakeInfo {
    /// The first query parameter called `name`, if any.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first header called `name` (case-insensitive), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The token the client presented: query `token`, else `Authorization: Bearer`.
    pub fn token(&self) -> Option<&str> {
        self.query_param("token").or_else(|| {
            let value = self.header("authorization")?;
            let (scheme, rest) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
    }
}
