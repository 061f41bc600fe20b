//! Dialects: how frames on the wire become events, and what the client says on its own
//! (login, subscriptions, pongs, heartbeats).

pub(crate) mod json;

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use tungstenite::{Bytes, Utf8Bytes};

use crate::config::Settings;
use crate::delivery::Delivery;
use crate::event::{ErrorEvent, ErrorKind, Event, Message};
use crate::history::History;
use crate::status::Counters;

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
        log::warn!(
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

    /// Handles one text frame.
    fn on_text(&mut self, text: Utf8Bytes, ctx: &mut Ctx<'_>);

    /// Handles one binary frame.
    fn on_binary(&mut self, bytes: Bytes, ctx: &mut Ctx<'_>);
}

/// The dialect of a configuration.
pub(crate) fn for_settings(s: &Settings) -> Box<dyn Dialect> {
    Box::new(json::Json { raw: s.raw })
}
