//! Dialects: how frames on the wire become events, and what the client says on its own
//! (login, subscriptions, pongs, heartbeats).

pub(crate) mod gaps;
pub(crate) mod json;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

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
    /// A sequence gap under `on_gap = "reconnect"`: reconnect to resynchronise.
    Resync(String),
    /// The server closed the session inside the protocol (SockJS `c` frame).
    ServerClose { code: u16, reason: String },
    /// A response to request `id`.
    Response {
        id: u64,
        status: u16,
        data: Option<String>,
    },
    /// The answer to a JSON request: the message carrying its id (`id`: the id's JSON text).
    Reply { id: String, text: String },
}

/// The ids of the JSON requests waiting for their answer (each id's JSON text, `42` or
/// `"abc"`), as a dialect sees them.
pub(crate) trait Awaited {
    /// No request waits: nothing to look for (the common case, one call per message).
    fn is_empty(&self) -> bool;
    /// A request with this id waits.
    fn contains(&self, id: &str) -> bool;
}

/// No request waits (tests).
#[cfg(test)]
pub(crate) struct NoneAwaited;

#[cfg(test)]
impl Awaited for NoneAwaited {
    fn is_empty(&self) -> bool {
        true
    }
    fn contains(&self, _: &str) -> bool {
        false
    }
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
    /// Bad input found in this frame so far (a frame may carry many items).
    pub bad: BadInFrame,
    /// The JSON requests waiting for their answer.
    pub awaited: &'a dyn Awaited,
    /// The sequence numbers seen (used when `sequence` is configured).
    pub sequencer: &'a mut crate::sequence::Sequencer,
}

/// Bad items of one frame reported as events of their own; the rest are coalesced into one
/// event with their count, so that a frame of 200,000 bad items gives 4 events, not 200,000.
pub(crate) const BAD_SHOWN_PER_FRAME: u32 = 3;

/// Counts the bad input of one frame: the first [`BAD_SHOWN_PER_FRAME`] are reported on
/// their own, the others only counted until the end of the frame.
#[derive(Debug, Default)]
pub(crate) struct BadInFrame {
    shown: u32,
    more: u64,
    kind: Option<ErrorKind>,
}

impl BadInFrame {
    /// Whether this bad input is reported on its own (true) or only counted.
    pub fn admit(&mut self, kind: ErrorKind) -> bool {
        if self.shown < BAD_SHOWN_PER_FRAME {
            self.shown += 1;
            return true;
        }
        self.more += 1;
        self.kind.get_or_insert(kind);
        false
    }

    /// At the end of the frame: the kind and message of the event that reports the bad
    /// input only counted, if any; then starts over.
    pub fn summary(&mut self) -> Option<(ErrorKind, String)> {
        let done = std::mem::take(self);
        let kind = done.kind?;
        let s = if done.more == 1 { "" } else { "s" };
        Some((
            kind,
            format!(
                "{} more bad item{s} in this frame were skipped (the first {} were reported on their own)",
                done.more, done.shown
            ),
        ))
    }
}

impl Ctx<'_> {
    /// Delivers a message (and records it in the history).
    pub fn message(&mut self, m: Message) {
        self.history.record(&m);
        self.delivery.push(Event::Message(m));
    }

    /// Reports bad input: counted, logged and delivered as an `Error` event; beyond the
    /// first few of a frame, only counted until [`Ctx::end_frame`] reports them in one event.
    pub fn bad_input(&mut self, kind: ErrorKind, message: String, raw: Option<&str>) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        if !self.bad.admit(kind) {
            return;
        }
        tw_warn!(
            "tradewire: skipped a bad message ({}): {}",
            kind.as_str(),
            message
        );
        self.delivery.push(Event::Error(ErrorEvent::new(
            kind, message, raw, self.epoch,
        )));
    }

    /// Input that the protocol ignores (tradovate: a text frame that is not SockJS): counted
    /// in `errors` and logged, scrubbed, with its control characters escaped and cut; no
    /// event.
    pub fn ignored_input(&mut self, why: &str, raw: &str) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        tw_info!(
            "tradewire: ignored a frame ({why}): {}",
            crate::redact::untrusted(raw, 200)
        );
    }

    /// Ends a frame: the bad input only counted in it is reported by one `Error` event.
    /// Inline for the usual frame with nothing bad in it (one comparison per frame).
    #[inline]
    pub fn end_frame(&mut self) {
        if self.bad.shown != 0 {
            self.report_bad_frame();
        }
    }

    /// The rare end of a frame that had bad input: out of line, so that the per-frame path
    /// stays small.
    #[cold]
    #[inline(never)]
    fn report_bad_frame(&mut self) {
        if let Some((kind, message)) = self.bad.summary() {
            tw_warn!("tradewire: {message}");
            self.delivery.push(Event::Error(ErrorEvent::new(
                kind, message, None, self.epoch,
            )));
        }
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

    /// The frame of a subscription (see `subscriptions`); `next_id` hands out request ids.
    /// `None` when this dialect has no such frame (a request on a preset without requests).
    fn subscription_frame(
        &self,
        wire: &crate::subscriptions::Wire,
        _next_id: &mut u64,
    ) -> Option<crate::subscriptions::Framed> {
        match wire {
            crate::subscriptions::Wire::Message(m) => Some(crate::subscriptions::Framed {
                text: m.clone(),
                request: None,
            }),
            crate::subscriptions::Wire::Request { .. } => None,
        }
    }

    /// Handles one text frame (borrowed from the read buffer: copy what is delivered).
    fn on_text(&mut self, text: &str, ctx: &mut Ctx<'_>);

    /// Handles one binary frame.
    fn on_binary(&mut self, bytes: &[u8], ctx: &mut Ctx<'_>);
}

/// How a dialect that logs in gets the credential it logs in with, kept across connections
/// (Tradovate: an access token requested, saved and renewed, `tradovate::renew::Tokens`).
pub(crate) trait Login: Send {
    /// Before a connection: `Ready` when a usable credential is at hand, `Waiting` while one
    /// is being obtained (the engine waits for a wake-up or a command and asks again).
    fn poll_ready(&mut self) -> Readiness;
    /// The credential to log in with.
    fn token(&self) -> Option<String>;
    /// The user the credential belongs to, when known.
    fn user_id(&self) -> Option<i64>;
    /// While live: renews ahead of expiry; when to look again (`None`: no timer).
    fn tend(&mut self) -> Option<Instant>;
    /// The server refused the credential: forgets it. `false` when no new one can be had
    /// (the engine gives up).
    fn refused(&mut self) -> bool;
    /// Stops waiting for any request in flight.
    fn cancel(&mut self);
}

/// What [`Login::poll_ready`] found.
pub(crate) enum Readiness {
    Ready,
    Waiting,
    /// Retrying cannot help (refused credentials, a captcha, none configured).
    Fatal(String),
    /// Worth retrying after the backoff delay; the reason when the failure has one (a token
    /// request that could not reach its server: refused, DNS, TLS, timed out).
    Retry(String, Option<crate::error::ConnectReason>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_shows_its_first_bad_items_and_counts_the_rest_once() {
        let mut bad = BadInFrame::default();
        assert_eq!(bad.summary(), None, "nothing bad, no summary");
        let shown = (0..200_000)
            .filter(|_| bad.admit(ErrorKind::Decode))
            .count();
        assert_eq!(shown, BAD_SHOWN_PER_FRAME as usize);
        let (kind, message) = bad.summary().unwrap();
        assert_eq!(kind, ErrorKind::Decode);
        assert!(
            message.starts_with("199997 more bad items in this frame were skipped"),
            "{message}"
        );
        // The next frame starts over.
        assert_eq!(bad.summary(), None);
        assert!(bad.admit(ErrorKind::InvalidJson));
        assert_eq!(bad.summary(), None, "only shown ones: no summary");
    }
}
