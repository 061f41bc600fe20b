//! Problems that did not end the event stream: [`ErrorEvent`] and its [`ErrorKind`].

use std::fmt;

/// What kind of problem an [`ErrorEvent`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A text frame that is not valid JSON.
    InvalidJson,
    /// JSON that is not an object.
    NotAnObject,
    /// A JSON object without a usable type field.
    MissingType,
    /// A text frame that is not valid UTF-8 (the connection is closed with 1007).
    InvalidUtf8,
    /// A binary frame where text was expected.
    UnexpectedBinary,
    /// A message larger than `max_message_size` (the connection is closed with 1009).
    MessageTooLarge,
    /// A WebSocket protocol violation by the server (the connection is closed with 1002).
    Protocol,
    /// A connection attempt failed.
    Connect,
    /// The server rejected our credentials.
    Auth,
    /// A frame of the dialect could not be decoded.
    Decode,
    /// The server refused a subscription request (tradovate `subscribe_request`); the
    /// message names the endpoint. It is not retried until the next (re)connect.
    SubscriptionFailed,
}

impl ErrorKind {
    /// Short lowercase name (`invalid_json`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidJson => "invalid_json",
            ErrorKind::NotAnObject => "not_an_object",
            ErrorKind::MissingType => "missing_type",
            ErrorKind::InvalidUtf8 => "invalid_utf8",
            ErrorKind::UnexpectedBinary => "unexpected_binary",
            ErrorKind::MessageTooLarge => "message_too_large",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Connect => "connect",
            ErrorKind::Auth => "auth",
            ErrorKind::Decode => "decode",
            ErrorKind::SubscriptionFailed => "subscription_failed",
        }
    }
}

/// A problem that did not end the event stream.
#[derive(Debug, Clone)]
pub struct ErrorEvent {
    /// What kind of problem.
    pub kind: ErrorKind,
    /// What happened, in words.
    pub message: String,
    /// The offending frame's text (cut to 1 KiB), when there was one.
    pub raw: Option<String>,
    /// The connection it happened on (0 if none).
    pub epoch: u64,
}

impl ErrorEvent {
    pub(crate) fn new(
        kind: ErrorKind,
        message: impl Into<String>,
        raw: Option<&str>,
        epoch: u64,
    ) -> ErrorEvent {
        // Scrubbed first (a window a little longer than what is kept, so that a secret
        // across the cut is recognised), cut after.
        let raw = raw.map(|r| {
            let cut = |t: &str, n: usize| {
                let end = t.char_indices().nth(n).map(|(i, _)| i).unwrap_or(t.len());
                t[..end].to_string()
            };
            cut(&crate::redact::scrub(&cut(r, 1024 + 64)), 1024)
        });
        ErrorEvent {
            kind,
            message: crate::redact::scrub(&message.into()).into_owned(),
            raw,
            epoch,
        }
    }
}

impl fmt::Display for ErrorEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}
