//! Dialects: how frames on the wire become events, and what the client says on its own
//! (login, subscriptions, pongs, heartbeats).

pub(crate) mod json;
pub(crate) mod tradovate;

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use crate::config::Settings;
use crate::delivery::Delivery;
use crate::event::{ErrorEvent, ErrorKind, Event, Message};
use crate::history::History;
use crate::status::Counters;

/// Something the engine must act on, found in a frame.
#[derive(Debug)]
pub(crate) enum Signal {
    /// The login was accepted: the connection is live.
    Authenticated,
    /// The login was refused.
    AuthRejected(String),
    /// The server announced a shutdown: reconnect.
    Shutdown(String),
    /// The server closed the session inside the protocol (SockJS `c` frame).
    ServerClose { code: u16, reason: String },
    /// A response to request `id`.
    Response {
        id: u64,
        status: u16,
        data: Option<String>,
    },
}

/// Everything a dialect may touch while handling one frame.
pub(crate) struct Ctx<'a> {
    pub s: &'a Settings,
    pub counters: &'a Counters,
    pub history: &'a History,
    pub delivery: &'a mut Delivery,
    /// Text frames to send back (pongs, acknowledgements).
    pub replies: &'a mut Vec<String>,
    /// A heartbeat latency measured from this frame.
    pub latency: Option<Duration>,
    pub now: SystemTime,
    pub epoch: u64,
    /// What the engine must act on after this frame.
    pub signals: &'a mut Vec<Signal>,
    /// The token to log in with, for dialects with a login step.
    pub token: Option<&'a str>,
}

impl Ctx<'_> {
    /// Delivers a message (and records it in the history).
    pub fn message(&mut self, m: Message) {
        self.history.record(&m);
        self.delivery.push(Event::Message(m));
    }

    /// Reports bad input: counted, logged and delivered as an `Error` event.
    pub fn bad_input(&mut self, kind: ErrorKind, message: String, raw: Option<&str>) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        tw_warn!(
            "tradewire: skipped a bad message ({}): {}",
            kind.as_str(),
            message
        );
        self.delivery.push(Event::Error(ErrorEvent::new(
            kind, message, raw, self.epoch,
        )));
    }

    /// Counts a message held back by a filter.
    pub fn filtered(&mut self) {
        self.counters.filtered.fetch_add(1, Ordering::Relaxed);
    }
}

/// A wire format.
pub(crate) trait Dialect: Send {
    /// Text frames to send right after the WebSocket handshake, before the connection is live.
    fn on_open(&mut self, s: &Settings) -> Vec<String> {
        let mut out: Vec<String> = s.auth_message.iter().cloned().collect();
        out.extend(s.on_connect.iter().cloned());
        out
    }

    /// Whether the connection needs a login before it is live.
    fn needs_auth(&self) -> bool {
        false
    }

    /// Frames to send right after the login is accepted (subscriptions, sync requests).
    /// `next_id` hands out request ids.
    fn after_auth(
        &mut self,
        _s: &Settings,
        _user_id: Option<i64>,
        _next_id: &mut u64,
    ) -> Vec<String> {
        Vec::new()
    }

    /// The application-level heartbeat frame, sent every `heartbeat_interval` once live
    /// (dialects whose liveness is not WebSocket ping/pong).
    fn heartbeat(&self) -> Option<&'static str> {
        None
    }

    /// The frame of a request, for dialects with request/response correlation.
    fn request_frame(&self, _endpoint: &str, _id: u64, _body: Option<&str>) -> Option<String> {
        None
    }

    /// Handles one text frame (borrowed from the read buffer: copy what is delivered).
    fn on_text(&mut self, text: &str, ctx: &mut Ctx<'_>);

    /// Handles one binary frame.
    fn on_binary(&mut self, bytes: &[u8], ctx: &mut Ctx<'_>);
}

/// The dialect of a configuration.
pub(crate) fn for_settings(s: &Settings) -> Box<dyn Dialect> {
    match s.preset {
        crate::preset::Preset::Tradovate => Box::new(tradovate::Tradovate::default()),
        _ => Box::new(json::Json { raw: s.raw }),
    }
}
