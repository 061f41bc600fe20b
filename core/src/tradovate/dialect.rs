//! The tradovate dialect (reference 000): SockJS frames, `authorize` on open, responses
//! `{i, s, d}` matched to requests, events `{e, d}` (`props`, `md`, `clock`, `shutdown`).

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::sockjs::{self, Frame, Item};
use crate::config::Settings;
use crate::dialect::json::handle_json_text;
use crate::dialect::{Ctx, Dialect, Signal};
use crate::event::ErrorKind;
use crate::subscriptions::{Framed, Wire};

/// Request id of the login (`authorize`), as the reference uses it.
const AUTH_ID: u64 = 0;
/// The client heartbeat frame.
const HEARTBEAT: &str = "[]";

#[derive(Default)]
pub(crate) struct Tradovate {
    authenticated: bool,
    /// `authorize` went out on this connection: a later `o` is a heartbeat (reference 000
    /// sends one login per connection).
    authorize_sent: bool,
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
                // The application sees the event as the server sent it, then the client
                // closes and reconnects.
                handle_json_text(text, ctx);
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
        self.authorize_sent = false;
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

    fn subscription_frame(&self, wire: &Wire, next_id: &mut u64) -> Option<Framed> {
        let (endpoint, body) = match wire {
            Wire::Request { endpoint, body } => (endpoint.clone(), body.clone()),
            Wire::Message(m) => match as_request(m) {
                Some(r) => r,
                None => {
                    return Some(Framed {
                        text: m.clone(),
                        request: None,
                    })
                }
            },
        };
        let id = *next_id;
        *next_id += 1;
        Some(Framed {
            text: sockjs::request_frame(&endpoint, id, body.as_deref()),
            request: Some((id, endpoint)),
        })
    }

    fn on_text(&mut self, text: &str, ctx: &mut Ctx<'_>) {
        let frame = match sockjs::decode(text) {
            Ok(f) => f,
            // As the reference client does: logged, not an error for the application.
            Err(e) => return ctx.ignored_input(&e, text),
        };
        match frame {
            // A later `o` is a heartbeat: answered with one once logged in, as 000 does.
            Frame::Open if self.authorize_sent => {
                if self.authenticated {
                    ctx.replies.push(HEARTBEAT.to_string());
                }
            }
            Frame::Open => match ctx.token {
                Some(token) => {
                    self.authorize_sent = true;
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
    match as_request(message) {
        Some((endpoint, body)) => sockjs::request_frame(&endpoint, id, body.as_deref()),
        None => message.to_string(),
    }
}

/// The endpoint and body of a message of the form `{"endpoint": ..., "body": ...}`.
fn as_request(message: &str) -> Option<(String, Option<String>)> {
    #[derive(serde::Deserialize)]
    struct Req<'a> {
        endpoint: String,
        #[serde(borrow)]
        body: Option<&'a RawValue>,
    }
    let r = serde_json::from_str::<Req<'_>>(message).ok()?;
    let body = r.body.map(|b| {
        let t = b.get();
        // A JSON string body is sent as its content (the reference sends strings as they are).
        serde_json::from_str::<String>(t).unwrap_or_else(|_| t.to_string())
    });
    Some((r.endpoint, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{Delivery, Overflow};
    use crate::event::Event;
    use crate::history::History;
    use crate::status::Counters;
    use crate::{Config, Preset};
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    /// What a run of frames produced.
    struct Outcome {
        events: Vec<Event>,
        replies: Vec<String>,
        signals: Vec<Signal>,
        counters: Arc<Counters>,
    }

    /// Runs text frames through the dialect as the engine does, each frame ended.
    fn run(d: &mut Tradovate, frames: &[&str]) -> Outcome {
        let s = Config::for_preset(Preset::Tradovate)
            .token("t")
            .resolve()
            .unwrap();
        let counters = Arc::new(Counters::default());
        let history = History::new(0);
        let (mut delivery, streams) = Delivery::new(1 << 20, Overflow::Block, counters.clone());
        let (mut replies, mut signals) = (Vec::new(), Vec::new());
        let mut sequencer = crate::sequence::Sequencer::default();
        for frame in frames {
            let mut ctx = Ctx {
                s: &s,
                counters: &counters,
                history: &history,
                delivery: &mut delivery,
                replies: &mut replies,
                latency: None,
                now: std::time::SystemTime::now(),
                epoch: 1,
                signals: &mut signals,
                token: Some("t"),
                bad: Default::default(),
                awaited: &crate::dialect::NoneAwaited,
                sequencer: &mut sequencer,
            };
            d.on_text(frame, &mut ctx);
            ctx.end_frame();
        }
        let events = streams.current().try_iter().collect();
        Outcome {
            events,
            replies,
            signals,
            counters,
        }
    }

    /// Runs one text frame through a logged-in dialect; returns the events.
    fn events_of(frame: &str) -> (Vec<Event>, Arc<Counters>) {
        let mut d = Tradovate {
            authenticated: true,
            authorize_sent: true,
        };
        let out = run(&mut d, &[frame]);
        (out.events, out.counters)
    }

    #[test]
    fn one_authorize_per_connection_and_a_later_o_is_a_heartbeat() {
        let mut d = Tradovate::default();
        let out = run(&mut d, &["o", "o"]);
        assert_eq!(out.replies.len(), 1, "{:?}", out.replies);
        assert!(out.replies[0].starts_with("authorize\n0\n"));
        let out = run(&mut d, &[r#"a[{"i":0,"s":200}]"#, "o"]);
        assert!(matches!(out.signals[..], [Signal::Authenticated]));
        assert_eq!(out.replies, ["[]"]);
        // A new connection logs in again.
        d.on_open(&Config::for_preset(Preset::Tradovate).token("t").resolve().unwrap());
        let out = run(&mut d, &["o"]);
        assert!(out.replies[0].starts_with("authorize\n0\n"));
    }

    #[test]
    fn shutdown_is_delivered_as_the_event_it_is_then_ends_the_connection() {
        let (events, _) = events_of(r#"a[{"e":"shutdown","d":{"reason":"maintenance"}}]"#);
        match &events[..] {
            [Event::Message(m)] => {
                assert_eq!(m.msg_type(), Some("shutdown"));
                assert!(m.raw().unwrap().contains("maintenance"));
            }
            other => panic!("{other:?}"),
        }
        let mut d = Tradovate::default();
        let out = run(&mut d, &[r#"a[{"e":"shutdown","d":{}}]"#]);
        assert!(matches!(out.signals[..], [Signal::Shutdown(_)]));
    }

    #[test]
    fn text_that_is_not_sockjs_is_counted_not_an_event() {
        let (events, counters) = events_of("hello, not sockjs");
        assert!(events.is_empty(), "{events:?}");
        assert_eq!(counters.errors.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_frame_of_200000_bad_items_gives_a_bounded_number_of_error_events() {
        let mut frame = String::from("a[");
        for i in 0..200_000 {
            if i > 0 {
                frame.push(',');
            }
            frame.push_str(if i % 2 == 0 { "1" } else { "{}" });
        }
        frame.push(']');
        let (events, counters) = events_of(&frame);
        let errors: Vec<_> = events
            .iter()
            .map(|e| match e {
                Event::Error(e) => e.message.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(
            errors[3].starts_with("199997 more bad items in this frame were skipped"),
            "{errors:?}"
        );
        // Every bad item is counted.
        assert_eq!(counters.errors.load(Ordering::Relaxed), 200_000);
    }

    #[test]
    fn good_items_around_bad_ones_are_delivered_in_order() {
        let (events, _) =
            events_of(r#"a[{"e":"props","d":{"n":1}},5,6,7,8,{"e":"props","d":{"n":2}}]"#);
        let kinds: Vec<_> = events.iter().map(|e| e.kind()).collect();
        assert_eq!(
            kinds,
            ["message", "error", "error", "error", "message", "error"]
        );
    }

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

    #[test]
    fn subscriptions_are_requests_with_fresh_ids() {
        let d = Tradovate::default();
        let mut next = 7;
        let wire = Wire::Request {
            endpoint: "md/subscribeQuote".into(),
            body: Some(r#"{"symbol":"ESZ5"}"#.into()),
        };
        let f = d.subscription_frame(&wire, &mut next).unwrap();
        assert_eq!(f.text, "md/subscribeQuote\n7\n\n{\"symbol\":\"ESZ5\"}");
        assert_eq!(f.request, Some((7, "md/subscribeQuote".into())));
        let f = d.subscription_frame(&wire, &mut next).unwrap();
        assert_eq!(f.request.unwrap().0, 8);
        // The on_connect form of a message is a request too; other text goes as it is.
        let m = Wire::Message(r#"{"endpoint":"md/subscribeDOM","body":{"symbol":"NQ"}}"#.into());
        let f = d.subscription_frame(&m, &mut next).unwrap();
        assert_eq!(f.text, "md/subscribeDOM\n9\n\n{\"symbol\":\"NQ\"}");
        let f = d.subscription_frame(&Wire::Message("raw".into()), &mut next).unwrap();
        assert_eq!((f.text.as_str(), f.request), ("raw", None));
        assert_eq!(next, 10);
    }
}
