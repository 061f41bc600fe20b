//! The tradovate dialect (reference 000): SockJS frames, `authorize` on open, responses
//! `{i, s, d}` matched to requests, events `{e, d}` (`props`, `md`, `clock`, `shutdown`).

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::json::handle_json_text;
use super::{Ctx, Dialect, Signal};
use crate::config::Settings;
use crate::event::ErrorKind;
use crate::sockjs::{self, Frame, Item};

/// Request id of the login (`authorize`), as the reference uses it.
const AUTH_ID: u64 = 0;
/// The client heartbeat frame.
const HEARTBEAT: &str = "[]";

#[derive(Default)]
pub(crate) struct Tradovate {
    authenticated: bool,
}

/// An item of an `a` frame: a response (`i`, `s`, `d`) or an event (`e`, `d`).
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    i: Option<u64>,
    s: Option<u16>,
    #[serde(borrow)]
    e: Option<Cow<'a, str>>,
    #[serde(borrow)]
    d: Option<&'a RawValue>,
}

impl Tradovate {
    fn item(&mut self, text: &str, ctx: &mut Ctx<'_>) {
        let env: Envelope<'_> = match serde_json::from_str(text) {
            Ok(env) => env,
            Err(e) => {
                return ctx.bad_input(
                    ErrorKind::Decode,
                    format!("a SockJS message is not a JSON object: {e}"),
                    Some(text),
                )
            }
        };
        if let Some(id) = env.i {
            let status = env.s.unwrap_or(0);
            let data = env.d.map(|d| d.get().to_string());
            if id == AUTH_ID && !self.authenticated {
                if status == 200 {
                    self.authenticated = true;
                    ctx.signals.push(Signal::Authenticated);
                } else {
                    let why = data.as_deref().unwrap_or("no reason given");
                    ctx.signals.push(Signal::AuthRejected(format!(
                        "the server refused the access token (status {status}: {why})"
                    )));
                }
                return;
            }
            ctx.signals.push(Signal::Response { id, status, data });
            return;
        }
        match env.e.as_deref() {
            Some("shutdown") => {
                let why = env.d.map(|d| d.get().to_string()).unwrap_or_default();
                ctx.signals.push(Signal::Shutdown(
                    format!("the server announced a shutdown {why}")
                        .trim()
                        .to_string(),
                ));
            }
            Some(_) => handle_json_text(text, ctx),
            None => ctx.bad_input(
                ErrorKind::Decode,
                "a SockJS message is neither a response (i) nor an event (e)".into(),
                Some(text),
            ),
        }
    }
}

impl Dialect for Tradovate {
    fn on_open(&mut self, _s: &Settings) -> Vec<String> {
        // Nothing until the server's `o` frame.
        self.authenticated = false;
        Vec::new()
    }

    fn needs_auth(&self) -> bool {
        true
    }

    fn after_auth(&mut self, s: &Settings, user_id: Option<i64>, next_id: &mut u64) -> Vec<String> {
        let mut out = Vec::new();
        let mut take = || {
            let id = *next_id;
            *next_id += 1;
            id
        };
        if !s.market_data {
            match user_id {
                Some(uid) => out.push(sockjs::request_frame("user/syncrequest", take(), Some(&format!(r#"{{"users":[{uid}]}}"#)))),
                None => tw_warn!("tradewire: no user id is known (static token), so user/syncrequest was not sent"),
            }
        }
        for m in &s.on_connect {
            out.push(on_connect_frame(m, take()));
        }
        out
    }

    fn heartbeat(&self) -> Option<&'static str> {
        self.authenticated.then_some(HEARTBEAT)
    }

    fn request_frame(&self, endpoint: &str, id: u64, body: Option<&str>) -> Option<String> {
        Some(sockjs::request_frame(endpoint, id, body))
    }

    fn on_text(&mut self, text: &str, ctx: &mut Ctx<'_>) {
        let frame = match sockjs::decode(text) {
            Ok(f) => f,
            Err(e) => return ctx.bad_input(ErrorKind::Decode, e, Some(text)),
        };
        match frame {
            Frame::Open => match ctx.token {
                Some(token) => {
                    ctx.replies
                        .push(sockjs::request_frame("authorize", AUTH_ID, Some(token)))
                }
                None => ctx.signals.push(Signal::AuthRejected(
                    "no access token is available to log in".into(),
                )),
            },
            Frame::Heartbeat => {}
            Frame::Close { code, reason } => ctx.signals.push(Signal::ServerClose { code, reason }),
            Frame::Messages(items) => {
                for item in items {
                    match item {
                        Item::Json(t) => self.item(t, ctx),
                        Item::Text(t) if t.trim_start().starts_with('{') => self.item(&t, ctx),
                        // A plain SockJS string message: delivered as it is.
                        Item::Text(t) => handle_json_text(&t, ctx),
                    }
                }
            }
        }
    }

    fn on_binary(&mut self, bytes: &[u8], ctx: &mut Ctx<'_>) {
        ctx.bad_input(
            ErrorKind::UnexpectedBinary,
            format!(
                "a binary frame of {} bytes arrived; the tradovate protocol uses text frames",
                bytes.len()
            ),
            None,
        );
    }
}

/// An `on_connect` entry as a frame: `{"endpoint": "md/subscribeQuote", "body": {...}}` becomes
/// a request; anything else is sent as it is.
fn on_connect_frame(message: &str, id: u64) -> String {
    #[derive(serde::Deserialize)]
    struct Req<'a> {
        endpoint: String,
        #[serde(borrow)]
        body: Option<&'a RawValue>,
    }
    match serde_json::from_str::<Req<'_>>(message) {
        Ok(r) => {
            let body = r.body.map(|b| {
                let t = b.get();
                // A JSON string body is sent as its content (the reference sends strings as they are).
                serde_json::from_str::<String>(t).unwrap_or_else(|_| t.to_string())
            });
            sockjs::request_frame(&r.endpoint, id, body.as_deref())
        }
        Err(_) => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_connect_entries() {
        assert_eq!(
            on_connect_frame(
                r#"{"endpoint":"md/subscribeQuote","body":{"symbol":"ESZ5"}}"#,
                4
            ),
            "md/subscribeQuote\n4\n\n{\"symbol\":\"ESZ5\"}"
        );
        assert_eq!(
            on_connect_frame(r#"{"endpoint":"account/list"}"#, 5),
            "account/list\n5\n\n"
        );
        assert_eq!(on_connect_frame("raw text", 6), "raw text");
    }
}
