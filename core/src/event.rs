//! Everything the application receives: messages and lifecycle events, in one ordered stream.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::time::{Duration, SystemTime};

use tungstenite::Bytes;

mod account_value;
mod error_event;
mod lag_change;

pub use account_value::AccountValue;
pub use error_event::{ErrorEvent, ErrorKind};

/// One item of the event stream.
///
/// Lifecycle events travel in the same channel as messages and in order, so an application
/// can rebuild its state from the stream alone. Each connection has an epoch (1, 2, ...):
/// messages between `Connected{epoch: n}` and `Disconnected{epoch: n}` came over connection n,
/// and a gap can only be at an epoch boundary or at a `Lagged` marker.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A message from the server that passed the filters.
    Message(Message),
    /// A connection was established (the WebSocket handshake completed).
    Connected {
        /// Connection number, from 1.
        epoch: u64,
        /// The URL, with secrets redacted.
        url: String,
    },
    /// The server accepted our credentials (presets with a login step).
    Authenticated {
        /// Connection number.
        epoch: u64,
    },
    /// A connection ended.
    Disconnected {
        /// Connection number.
        epoch: u64,
        /// The close code: the one in the close frame that ended the connection, 1005 when
        /// that frame had none, and 1006 when it ended without a close frame (reset, EOF, no
        /// data within `heartbeat_timeout`), as RFC 6455 §7.1.5 reports it.
        code: Option<u16>,
        /// The close reason, or a description of how the connection ended.
        reason: String,
        /// The error that ended it, if it did not end with a close frame.
        error: Option<String>,
        /// The application ended it (`close()`, `disconnect()`, `reconnect()`).
        by_client: bool,
    },
    /// The client will try again after `delay`.
    Reconnecting {
        /// Attempt number since the last stable connection, from 1.
        attempt: u32,
        /// How long the client waits before this attempt.
        delay: Duration,
        /// Why a reconnect is needed (the last failure).
        reason: String,
    },
    /// The client stopped trying. `Client::reconnect()` starts again.
    GaveUp {
        /// Why it stopped.
        reason: String,
    },
    /// Bad input or a failure that did not end the stream.
    Error(ErrorEvent),
    /// `dropped` events were discarded by the overflow policy just before this point.
    Lagged {
        /// How many events were dropped.
        dropped: u64,
    },
    /// A response to a request nobody is waiting for any more.
    Response {
        /// The request id.
        id: u64,
        /// The status the server gave (HTTP-like, 200 = success).
        status: u16,
        /// The response payload as JSON text.
        data: Option<String>,
    },
    /// A lag crossed `lag_warning` (once; [`Event::CaughtUp`] follows when it falls below
    /// half of it). Delivered in order, before the next message.
    Lagging {
        /// Which lag: the feed's or the application's.
        lag: crate::lag::Lag,
        /// How far behind, in seconds.
        seconds: f64,
    },
    /// A lag that crossed `lag_warning` fell below half of it again.
    CaughtUp {
        /// Which lag.
        lag: crate::lag::Lag,
        /// How far behind now, in seconds.
        seconds: f64,
    },
    /// The feed skipped sequence numbers (config `sequence`). Delivered in order, just
    /// before the message that skipped ahead.
    Gap {
        /// The stream: the value at `sequence_key`, `None` without one.
        key: Option<String>,
        /// The number that was due.
        expected: u64,
        /// The number that came.
        received: u64,
        /// How many are missing: `received - expected`.
        missing: u64,
        /// Connection number.
        epoch: u64,
    },
}

impl Event {
    /// The kind of the event as a short lowercase name: `message`, `connected`,
    /// `authenticated`, `disconnected`, `reconnecting`, `gave_up`, `error`, `lagged`, `response`,
    /// `lagging`, `caught_up`, `gap`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Message(_) => "message",
            Event::Connected { .. } => "connected",
            Event::Authenticated { .. } => "authenticated",
            Event::Disconnected { .. } => "disconnected",
            Event::Reconnecting { .. } => "reconnecting",
            Event::GaveUp { .. } => "gave_up",
            Event::Error(_) => "error",
            Event::Lagged { .. } => "lagged",
            Event::Response { .. } => "response",
            Event::Lagging { .. } => "lagging",
            Event::CaughtUp { .. } => "caught_up",
            Event::Gap { .. } => "gap",
        }
    }

    /// The connection number (1, 2, ...) the event belongs to, for the kinds that carry one
    /// (message, connected, authenticated, disconnected, gap, error); `None` for the others.
    /// The one rule the bindings and the bridge read.
    ///
    /// ```
    /// use tradewire::Event;
    /// assert_eq!(Event::Authenticated { epoch: 3 }.epoch(), Some(3));
    /// assert_eq!(Event::Lagged { dropped: 1 }.epoch(), None);
    /// ```
    pub fn epoch(&self) -> Option<u64> {
        match self {
            Event::Message(m) => Some(m.epoch()),
            Event::Connected { epoch, .. }
            | Event::Authenticated { epoch }
            | Event::Disconnected { epoch, .. }
            | Event::Gap { epoch, .. } => Some(*epoch),
            Event::Error(e) => Some(e.epoch),
            _ => None,
        }
    }

    /// Document 004's `connection-change` value: `Some(true)` for [`Event::Connected`],
    /// `Some(false)` for [`Event::Disconnected`], `None` for every other kind (a listener
    /// on [`KindSet::CONNECTION_CHANGE`](crate::KindSet::CONNECTION_CHANGE) gets exactly
    /// the events where it is `Some`).
    ///
    /// ```
    /// use tradewire::Event;
    /// let ev = Event::Connected { epoch: 1, url: "ws://h".into() };
    /// assert_eq!(ev.is_connected(), Some(true));
    /// assert_eq!(Event::Lagged { dropped: 1 }.is_connected(), None);
    /// ```
    pub fn is_connected(&self) -> Option<bool> {
        match self {
            Event::Connected { .. } => Some(true),
            Event::Disconnected { .. } => Some(false),
            _ => None,
        }
    }

    /// The message, if this is one.
    pub fn as_message(&self) -> Option<&Message> {
        match self {
            Event::Message(m) => Some(m),
            _ => None,
        }
    }

    /// The payload as JSON text: a message's (see [`Message::data_json`]) or a response's
    /// data; `None` for lifecycle events.
    ///
    /// ```
    /// use tradewire::Event;
    /// let ev = Event::Response { id: 7, status: 200, data: Some("{\"ok\":true}".into()) };
    /// assert_eq!(ev.data_json(), Some("{\"ok\":true}"));
    /// assert_eq!(Event::Lagged { dropped: 3 }.data_json(), None);
    /// ```
    pub fn data_json(&self) -> Option<&str> {
        match self {
            Event::Message(m) => m.data_json(),
            Event::Response { data, .. } => data.as_deref(),
            _ => None,
        }
    }

    /// The raw JSON text of the member `key` of the payload, found without parsing the rest;
    /// `None` when there is no payload, it is not an object, or it has no such member (a
    /// repeated key gives its last value, as `json.loads` does).
    ///
    /// ```
    /// use tradewire::Event;
    /// let ev = Event::Response { id: 7, status: 200, data: Some(r#"{"px":1.5,"qty":2}"#.into()) };
    /// assert_eq!(ev.data_member("qty"), Some("2"));
    /// assert_eq!(ev.data_member("nope"), None);
    /// ```
    pub fn data_member(&self, key: &str) -> Option<&str> {
        crate::envelope::member(self.data_json()?, key)
    }
}

/// The frame a message came in.
#[derive(Clone)]
enum Payload {
    /// The frame's text, followed by the unescaped copies of fields the frame holds only
    /// escaped (rare); `frame_len` says where the frame ends.
    Text(tungstenite::Utf8Bytes),
    Binary(Bytes),
}

/// Where a short text field of a message is: a byte range of the payload, or absent.
/// Eight bytes instead of a heap string per field (two allocations less per message).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    const NONE: Span = Span {
        start: u32::MAX,
        end: u32::MAX,
    };

    fn range(self) -> Option<Range<usize>> {
        (self != Span::NONE).then_some(self.start as usize..self.end as usize)
    }
}

/// A message from the server.
///
/// The frame's bytes are kept as received (one copy out of the read buffer); the type,
/// account and payload are ranges of them, and the payload is parsed only when asked.
///
/// ```
/// # fn show(m: &tradewire::Message) {
/// log::info!("{:?} for {:?}: {}", m.msg_type(), m.account_id(), m.data_json().unwrap_or("-"));
/// let value: Option<serde_json::Value> = m.data();
/// # }
/// ```
#[derive(Clone)]
pub struct Message {
    payload: Payload,
    frame_len: u32,
    msg_type: Span,
    account_id: Span,
    data: Span,
    received_at: SystemTime,
    server_time: Option<SystemTime>,
    epoch: u64,
}

impl Message {
    /// A text message: `text` is the frame; `msg_type` and `account_id` are slices of it, or
    /// strings of their own (unescaped JSON strings), which are stored after the frame;
    /// `data` is a byte range of `text`.
    pub(crate) fn text(
        text: &str,
        msg_type: Option<&str>,
        account_id: Option<&str>,
        data: Option<Range<usize>>,
        received_at: SystemTime,
        epoch: u64,
    ) -> Message {
        // Frames are limited by max_message_size; a frame over 4 GiB cannot be described by
        // u32 ranges, so such a (hypothetical) frame keeps no fields.
        let Ok(frame_len) = u32::try_from(text.len()) else {
            return Message::text(
                text.get(..0).unwrap_or(""),
                None,
                None,
                None,
                received_at,
                epoch,
            );
        };
        let inside = |f: &str| -> Option<Span> {
            let start = (f.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
            (start + f.len() <= text.len()).then_some(Span {
                start: start as u32,
                end: (start + f.len()) as u32,
            })
        };
        let (t, a) = (
            msg_type.map(|f| (f, inside(f))),
            account_id.map(|f| (f, inside(f))),
        );
        let outside = [t, a]
            .iter()
            .flatten()
            .filter(|(_, s)| s.is_none())
            .map(|(f, _)| f.len())
            .sum::<usize>();
        let mut buf: Option<String> = (outside > 0).then(|| {
            let mut b = String::with_capacity(text.len() + outside);
            b.push_str(text);
            b
        });
        let mut place = |field: Option<(&str, Option<Span>)>| match field {
            None => Span::NONE,
            Some((_, Some(span))) => span,
            Some((f, None)) => match buf.as_mut() {
                Some(b) if b.len() + f.len() <= u32::MAX as usize => {
                    let start = b.len() as u32;
                    b.push_str(f);
                    Span {
                        start,
                        end: b.len() as u32,
                    }
                }
                _ => Span::NONE,
            },
        };
        let (msg_type, account_id) = (place(t), place(a));
        let data = match data {
            Some(r) if r.end <= text.len() => Span {
                start: r.start as u32,
                end: r.end as u32,
            },
            _ => Span::NONE,
        };
        let payload = match buf {
            Some(b) => tungstenite::Utf8Bytes::from(b),
            None => tungstenite::Utf8Bytes::from(text),
        };
        Message {
            payload: Payload::Text(payload),
            frame_len,
            msg_type,
            account_id,
            data,
            received_at,
            server_time: None,
            epoch,
        }
    }

    /// A text message that is not JSON, whose data is the text itself as a JSON string
    /// (document 004: "falls back to raw string if JSON parsing fails"). The string is stored
    /// after the frame, so `raw()` is still the frame and `data_json()` is `"<the text>"`.
    pub(crate) fn text_as_data(text: &str, received_at: SystemTime, epoch: u64) -> Message {
        // Serializing a str cannot fail.
        let quoted = serde_json::to_string(text).unwrap_or_default();
        let (Ok(frame_len), Ok(end)) = (
            u32::try_from(text.len()),
            u32::try_from(text.len() + quoted.len()),
        ) else {
            return Message::text(text, None, None, None, received_at, epoch);
        };
        let mut buf = String::with_capacity(text.len() + quoted.len());
        buf.push_str(text);
        buf.push_str(&quoted);
        Message {
            payload: Payload::Text(tungstenite::Utf8Bytes::from(buf)),
            frame_len,
            msg_type: Span::NONE,
            account_id: Span::NONE,
            data: Span {
                start: frame_len,
                end,
            },
            received_at,
            server_time: None,
            epoch,
        }
    }

    /// Whether the frame was not JSON and its data is its text as a JSON string
    /// ([`Message::text_as_data`]: the metis preset).
    pub(crate) fn data_is_the_text(&self) -> bool {
        self.data != Span::NONE && self.data.start >= self.frame_len
    }

    /// The message with the server's timestamp read from it (`time_pointer`).
    pub(crate) fn with_server_time(mut self, server_time: Option<SystemTime>) -> Message {
        self.server_time = server_time;
        self
    }

    pub(crate) fn binary(bytes: Bytes, received_at: SystemTime, epoch: u64) -> Message {
        Message {
            frame_len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            payload: Payload::Binary(bytes),
            msg_type: Span::NONE,
            account_id: Span::NONE,
            data: Span::NONE,
            received_at,
            server_time: None,
            epoch,
        }
    }

    /// A field stored in the text payload.
    fn field(&self, span: Span) -> Option<&str> {
        match &self.payload {
            Payload::Text(t) => t.as_str().get(span.range()?),
            Payload::Binary(_) => None,
        }
    }

    /// The message type (`/type` by default), if the message had one.
    pub fn msg_type(&self) -> Option<&str> {
        self.field(self.msg_type)
    }

    /// The account the message is for, in canonical text form (`"123"`), if it had one.
    /// [`Message::account_value`] also says whether the server sent a number or a string.
    pub fn account_id(&self) -> Option<&str> {
        self.field(self.account_id)
    }

    /// The account the message is for with its JSON type: `123` is
    /// [`AccountValue::Integer`], `"123"` is [`AccountValue::String`] (the account filter
    /// treats both as the same account). `None` when the message names no account.
    ///
    /// ```
    /// use tradewire::AccountValue;
    /// # fn show(m: &tradewire::Message) {
    /// match m.account_value() {
    ///     Some(AccountValue::Integer(digits)) => log::info!("numeric account {digits}"),
    ///     Some(AccountValue::String(text)) => log::info!("account {text:?}"),
    ///     _ => log::info!("no account"),
    /// }
    /// # }
    /// ```
    pub fn account_value(&self) -> Option<AccountValue<'_>> {
        let text = self.field(self.account_id)?;
        // The envelope keeps an integer as the digits of the frame and a string either as
        // the content between its quotes (no escapes) or, unescaped, after the frame: the
        // byte before the span tells them apart, with no flag stored per message.
        let start = self.account_id.start as usize;
        let is_string = start >= self.frame_len as usize
            || start
                .checked_sub(1)
                .and_then(|i| self.raw_bytes().get(i))
                .is_some_and(|b| *b == b'"');
        Some(if is_string {
            AccountValue::String(text)
        } else {
            AccountValue::Integer(text)
        })
    }

    /// The account the message is for as JSON text, with its type: `123` or `"123"`
    /// (borrowed from the frame, unless the server escaped characters in the string).
    /// `None` when the message names no account.
    pub fn account_id_json(&self) -> Option<Cow<'_, str>> {
        Some(match self.account_value()? {
            AccountValue::Integer(digits) => Cow::Borrowed(digits),
            AccountValue::String(text) => {
                let (start, end) = (self.account_id.start as usize, self.account_id.end as usize);
                let quoted = match (start.checked_sub(1), self.raw()) {
                    (Some(open), Some(raw)) if end < self.frame_len as usize => {
                        raw.get(open..end + 1)
                    }
                    _ => None,
                };
                match quoted {
                    // Between its quotes in the frame, as the server wrote it.
                    Some(quoted) => Cow::Borrowed(quoted),
                    // Unescaped after the frame: written again (serializing a str cannot fail).
                    None => Cow::Owned(serde_json::to_string(text).unwrap_or_default()),
                }
            }
        })
    }

    /// The whole frame as text, exactly as received (`None` for a binary frame).
    pub fn raw(&self) -> Option<&str> {
        match &self.payload {
            Payload::Text(t) => t.as_str().get(..self.frame_len as usize),
            Payload::Binary(_) => None,
        }
    }

    /// The frame's bytes (text or binary) exactly as received.
    pub fn raw_bytes(&self) -> &[u8] {
        match &self.payload {
            Payload::Text(_) => self.raw().unwrap_or("").as_bytes(),
            Payload::Binary(b) => b,
        }
    }

    /// Whether the frame was a binary frame.
    pub fn is_binary(&self) -> bool {
        matches!(self.payload, Payload::Binary(_))
    }

    /// The payload as JSON text (`/data` by default, or the whole message when it has no data
    /// field; the metis preset: always the whole message). `None` when the frame was not JSON,
    /// except under the metis preset, where a text frame that is not JSON gives its text as
    /// a JSON string (`"hello"` for the frame `hello`), as document 004's `event.data` does.
    pub fn data_json(&self) -> Option<&str> {
        self.field(self.data)
    }

    /// One member of the payload object as JSON text (`data_json()`'s top-level `key`),
    /// found without parsing the others: reading two fields of a large payload costs a scan,
    /// not a tree. `None` when the payload is not an object or has no such member.
    ///
    /// ```
    /// # fn show(m: &tradewire::Message) {
    /// let ts: Option<i64> = m.data_member("ts").and_then(|raw| raw.parse().ok());
    /// # }
    /// ```
    pub fn data_member(&self, key: &str) -> Option<&str> {
        crate::envelope::member(self.data_json()?, key)
    }

    /// The payload deserialized into any type (`serde_json::Value` for a generic tree).
    /// `None` when there is no JSON payload or it does not fit `T`.
    ///
    /// This goes through serde_json as configured in this build: it reads at most 128
    /// levels of nesting, and a `serde_json::Value` holds an integer beyond 64 bits as a
    /// float. [`Message::data_json`] is always the server's text, digits and depth intact.
    pub fn data<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(self.data_json()?).ok()
    }

    /// When the frame was read from the socket.
    pub fn received_at(&self) -> SystemTime {
        self.received_at
    }

    /// The server's own timestamp of the message: the value at `time_pointer` (breakout:
    /// `/ts`) read as epoch seconds, milliseconds, microseconds or nanoseconds (the unit
    /// told by its magnitude) or as an ISO-8601 string. `None` when no `time_pointer` is
    /// configured, the message has no such field, or its value is not a time.
    /// `received_at() - server_time()` is the message's one-way latency (as far as the two
    /// clocks agree); `status().feed_latency` keeps the latest.
    ///
    /// ```
    /// # fn show(m: &tradewire::Message) {
    /// if let (Some(sent), received) = (m.server_time(), m.received_at()) {
    ///     log::info!("in flight for {:?}", received.duration_since(sent).unwrap_or_default());
    /// }
    /// # }
    /// ```
    pub fn server_time(&self) -> Option<SystemTime> {
        self.server_time
    }

    /// The connection (epoch) the message came over.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Message");
        d.field("type", &self.msg_type())
            .field("account_id", &self.account_id())
            .field("epoch", &self.epoch);
        match &self.payload {
            Payload::Text(_) => {
                let s = self.raw().unwrap_or("");
                let cut = s.char_indices().nth(200).map(|(i, _)| i).unwrap_or(s.len());
                // Debug output ends up in logs: a server that echoes a secret must not put it
                // there (`raw()` and `data` still give the message unchanged).
                d.field("raw", &crate::redact::scrub(&s[..cut]));
            }
            Payload::Binary(b) => {
                d.field("binary_len", &b.len());
            }
        }
        d.finish()
    }
}

#[cfg(test)]
pub(crate) use tests::parsed_message;

#[cfg(test)]
mod tests;
