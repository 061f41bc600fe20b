//! The one error type of the crate.
//!
//! Every message says what failed and, where there is something to do about it, what to do.

use std::fmt;

/// One problem found in a configuration, with the name of the field it concerns.
/// `Display` and `Debug` scrub every known secret from the message.
#[derive(Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The configuration field, as named in the schema (`heartbeat_timeout`, `url`, ...).
    pub field: String,
    /// What is wrong with it and what a valid value looks like.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, crate::redact::scrub(&self.message))
    }
}

impl fmt::Debug for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldError")
            .field("field", &self.field)
            .field("message", &crate::redact::scrub(&self.message))
            .finish()
    }
}

/// Everything that can go wrong in tradewire.
///
/// `Display` and `Debug` scrub every secret the library knows of (tokens, passwords, token
/// query parameters, access tokens obtained) from the message, in every encoding.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid. Every problem found is listed, each with its field name.
    Config(Vec<FieldError>),
    /// A connection could not be established (DNS, TCP, TLS or the WebSocket handshake).
    Connect(String),
    /// The server refused our credentials.
    Auth(String),
    /// The client is not connected (or not live yet), so nothing was sent.
    NotConnected(String),
    /// A request did not get a usable response.
    Request(String),
    /// An operation did not complete in time.
    Timeout(String),
    /// The client has been closed; create a new one to connect again.
    Closed,
    /// The client was used in a way its state does not allow (for example `start()` twice).
    Usage(String),
    /// An I/O error outside a connection attempt.
    Io(String),
}

impl Error {
    pub(crate) fn config(field: &str, message: impl Into<String>) -> Error {
        Error::Config(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }

    /// A short stable name for the kind of error (`config`, `connect`, `auth`, ...), used by
    /// the bindings to pick an exception class or a result code.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Config(_) => "config",
            Error::Connect(_) => "connect",
            Error::Auth(_) => "auth",
            Error::NotConnected(_) => "not_connected",
            Error::Request(_) => "request",
            Error::Timeout(_) => "timeout",
            Error::Closed => "closed",
            Error::Usage(_) => "usage",
            Error::Io(_) => "io",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = Plain(self).to_string();
        f.write_str(&crate::redact::scrub(&text))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scrub = |m: &str| crate::redact::scrub(m).into_owned();
        match self {
            Error::Config(problems) => f.debug_tuple("Config").field(problems).finish(),
            Error::Closed => f.write_str("Closed"),
            other => {
                let name = match other {
                    Error::Connect(_) => "Connect",
                    Error::Auth(_) => "Auth",
                    Error::NotConnected(_) => "NotConnected",
                    Error::Request(_) => "Request",
                    Error::Timeout(_) => "Timeout",
                    Error::Usage(_) => "Usage",
                    _ => "Io",
                };
                f.debug_tuple(name)
                    .field(&scrub(&Plain(other).message()))
                    .finish()
            }
        }
    }
}

/// An error's text before scrubbing.
struct Plain<'a>(&'a Error);

impl Plain<'_> {
    /// The message a variant carries (empty for `Config` and `Closed`).
    fn message(&self) -> String {
        match self.0 {
            Error::Connect(m)
            | Error::Auth(m)
            | Error::NotConnected(m)
            | Error::Request(m)
            | Error::Timeout(m)
            | Error::Usage(m)
            | Error::Io(m) => m.clone(),
            Error::Config(_) | Error::Closed => String::new(),
        }
    }
}

impl fmt::Display for Plain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::Config(problems) => {
                if problems.len() == 1 {
                    write!(f, "invalid configuration: {}", problems[0])
                } else {
                    write!(f, "invalid configuration ({} problems):", problems.len())?;
                    for p in problems {
                        write!(f, "\n  - {p}")?;
                    }
                    Ok(())
                }
            }
            Error::Connect(m) => write!(f, "connection failed: {m}"),
            Error::Auth(m) => write!(f, "authentication failed: {m}"),
            Error::NotConnected(m) => write!(f, "not connected: {m}"),
            Error::Request(m) => write!(f, "request failed: {m}"),
            Error::Timeout(m) => write!(f, "timed out: {m}"),
            Error::Closed => write!(
                f,
                "the client is closed; create a new client to connect again"
            ),
            Error::Usage(m) => write!(f, "{m}"),
            Error::Io(m) => write!(f, "I/O error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The message of a caught panic, for a log line.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_error_lists_every_problem_with_its_field() {
        let e = Error::Config(vec![
            FieldError {
                field: "url".into(),
                message: "is required".into(),
            },
            FieldError {
                field: "jitter".into(),
                message: "must be between 0 and 1".into(),
            },
        ]);
        let s = e.to_string();
        assert!(s.contains("2 problems"));
        assert!(s.contains("url: is required"));
        assert!(s.contains("jitter: must be between 0 and 1"));
    }
}
