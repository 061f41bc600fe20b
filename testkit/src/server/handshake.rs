//! The WebSocket upgrade: path and token checks, and recording the request.

use std::cell::RefCell;
use std::time::Instant;

use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::http::StatusCode;
use tungstenite::{HandshakeError, WebSocket};

use super::options::{HandshakeInfo, ServerOptions, TokenCheck};
use super::transport::Transport;
use crate::query::parse_query;

/// A completed upgrade.
pub(crate) struct Upgraded {
    /// The open WebSocket.
    pub(crate) ws: WebSocket<Transport>,
    /// What the client sent.
    pub(crate) info: HandshakeInfo,
    /// False when the token check failed (the caller closes with 1008).
    pub(crate) token_ok: bool,
}

/// Runs the server handshake on `stream` (whose read timeout must be short),
/// answering 404 for a wrong path and 401 for a bad token when configured.
/// `on_accept` sees the request before the 101 response is written, so a
/// client that got its 101 can rely on it having been recorded.
pub(crate) fn upgrade(
    stream: Transport,
    opts: &ServerOptions,
    on_accept: &dyn Fn(&HandshakeInfo),
    keep_going: &dyn Fn() -> bool,
    deadline: Instant,
) -> Result<Upgraded, String> {
    let outcome: RefCell<Option<(HandshakeInfo, bool)>> = RefCell::new(None);
    // The error type is fixed by tungstenite's `Callback` trait.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| {
        let info = info_from_request(request);
        if let Some(path) = &opts.path {
            if info.path != *path {
                return Err(error_response(StatusCode::NOT_FOUND, "Not Found"));
            }
        }
        let token_ok = match &opts.token {
            TokenCheck::None => true,
            TokenCheck::Required(expected) => info.token() == Some(expected.as_str()),
        };
        if !token_ok && opts.reject_token_with_http_401 {
            return Err(error_response(StatusCode::UNAUTHORIZED, "Unauthorized"));
        }
        on_accept(&info);
        *outcome.borrow_mut() = Some((info, token_ok));
        Ok(response)
    };
    let mut attempt = tungstenite::accept_hdr(stream, callback);
    let ws = loop {
        match attempt {
            Ok(ws) => break ws,
            Err(HandshakeError::Interrupted(mid)) => {
                if !keep_going() {
                    return Err("server stopping during WebSocket handshake".into());
                }
                if Instant::now() >= deadline {
                    return Err("WebSocket handshake timed out".into());
                }
                attempt = mid.handshake();
            }
            Err(HandshakeError::Failure(e)) => return Err(format!("handshake rejected: {e}")),
        }
    };
    let (info, token_ok) = outcome
        .into_inner()
        .ok_or_else(|| "handshake finished without a request".to_string())?;
    Ok(Upgraded { ws, info, token_ok })
}

fn error_response(status: StatusCode, body: &str) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(body.to_string()));
    *response.status_mut() = status;
    response
}

fn info_from_request(request: &Request) -> HandshakeInfo {
    let uri = request.uri();
    HandshakeInfo {
        path: uri.path().to_string(),
        query: uri.query().map(parse_query).unwrap_or_default(),
        headers: request
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
    }
}
