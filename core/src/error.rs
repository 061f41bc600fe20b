//! The one error type of the crate: [`Error`], its [`ErrorCategory`], and the underlying
//! error it keeps as its `source()`.
//!
//! Every message says what failed and, where there is something to do about it, what to do.
//! No text of an error shows a known secret: the message is scrubbed when it is displayed,
//! and so is every link of the `source()` chain (see [`Error`]).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::redact::{escape_controls, scrub};

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
        write!(f, "{}: {}", self.field, scrub(&self.message))
    }
}

impl fmt::Debug for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldError")
            .field("field", &self.field)
            .field("message", &scrub(&self.message))
            .finish()
    }
}

/// What kind of failure an [`Error`] is: what [`Error::kind`] returns, and what the bindings
/// map to an exception class (Python) or a result code (C).
///
/// Not to be confused with [`ErrorKind`](crate::ErrorKind), the kind of an
/// [`Event::Error`](crate::Event::Error) (a problem reported on the event stream, not a call
/// that failed).
///
/// ```
/// use tradewire::{Config, ErrorCategory};
///
/// let err = Config::new("ftp://example.com").validate().unwrap_err();
/// assert_eq!(err.kind(), ErrorCategory::Config);
/// assert_eq!(err.kind().as_str(), "config");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// The configuration is invalid. Every problem found is listed
    /// ([`Error::problems`]), each with its field name.
    Config,
    /// A connection could not be established (DNS, TCP, TLS or the WebSocket handshake).
    Connect,
    /// The server refused our credentials.
    Auth,
    /// The client is not connected (or not live yet), so nothing was sent.
    NotConnected,
    /// A request did not get a usable response.
    Request,
    /// An operation did not complete in time.
    Timeout,
    /// The client has been closed (create a new one to connect again); from `recv`, also:
    /// the event stream ended after `GaveUp` and every event was taken (`reconnect()` starts
    /// a new stream). The message says which.
    Closed,
    /// The client was used in a way its state does not allow (for example `start()` twice).
    Usage,
    /// An I/O error outside a connection attempt.
    Io,
}

impl ErrorCategory {
    /// A short stable name (`config`, `connect`, `auth`, `not_connected`, `request`,
    /// `timeout`, `closed`, `usage`, `io`): it never changes for a category.
    ///
    /// ```
    /// assert_eq!(tradewire::ErrorCategory::NotConnected.as_str(), "not_connected");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::Config => "config",
            ErrorCategory::Connect => "connect",
            ErrorCategory::Auth => "auth",
            ErrorCategory::NotConnected => "not_connected",
            ErrorCategory::Request => "request",
            ErrorCategory::Timeout => "timeout",
            ErrorCategory::Closed => "closed",
            ErrorCategory::Usage => "usage",
            ErrorCategory::Io => "io",
        }
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a connection attempt failed, for an application to branch on: what
/// [`Error::reason`] returns for the errors of [`Client::wait_live`](crate::Client::wait_live)
/// (and of a connection attempt in general). Its [`as_str`](ConnectReason::as_str) names
/// never change.
///
/// ```
/// # use std::time::Duration;
/// use tradewire::{Client, Config, ConnectReason};
///
/// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
/// let client = Client::connect(Config::new(format!("ws://127.0.0.1:{port}")))?;
/// match client.wait_live(Duration::from_secs(5)) {
///     Ok(()) => {}
///     Err(e) if e.reason() == Some(ConnectReason::ConnectionRefused) => {
///         log::warn!("nobody listens yet; the client keeps trying: {e}");
///     }
///     Err(e) => log::error!("{:?}: {e}", e.reason().map(|r| r.as_str())),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectReason {
    /// Nobody listens at the address (TCP `ECONNREFUSED`).
    ConnectionRefused,
    /// The attempt did not complete within `connect_timeout` (DNS, TCP, TLS or the
    /// WebSocket handshake), a TCP `ETIMEDOUT`, or `wait_live` itself ran out of time.
    TimedOut,
    /// The host name could not be resolved.
    Dns,
    /// The TLS handshake failed (untrusted certificate, a server that does not speak TLS, ...).
    Tls,
    /// The server did not complete the WebSocket handshake: an HTTP status other than 101
    /// (except 401/403, which are [`Auth`](ConnectReason::Auth)) or a malformed answer.
    Handshake,
    /// The credentials were refused: HTTP 401/403 to the handshake, a rejected token
    /// request or login (Tradovate). Errors with this reason have the category
    /// [`ErrorCategory::Auth`].
    Auth,
}

impl ConnectReason {
    /// The stable name: `connection_refused`, `timed_out`, `dns`, `tls`, `handshake`, `auth`.
    ///
    /// ```
    /// assert_eq!(tradewire::ConnectReason::ConnectionRefused.as_str(), "connection_refused");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectReason::ConnectionRefused => "connection_refused",
            ConnectReason::TimedOut => "timed_out",
            ConnectReason::Dns => "dns",
            ConnectReason::Tls => "tls",
            ConnectReason::Handshake => "handshake",
            ConnectReason::Auth => "auth",
        }
    }
}

impl fmt::Display for ConnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in tradewire: a [category](ErrorCategory) (what to do about
/// it), a message (what failed, in words), and, when the failure came from an I/O, TLS or
/// JSON error, that error as [`source()`](std::error::Error::source).
///
/// `Display` and `Debug` scrub every secret the library knows of (tokens, passwords, token
/// query parameters, access tokens obtained) from the message, in every encoding. So does
/// every link of the `source()` chain: the underlying error itself when no link of its chain
/// shows a known secret (so `downcast_ref::<std::io::Error>()` works), else a copy of its
/// text with the secrets scrubbed and control characters escaped. The message already
/// quotes the underlying error: a report that prints the chain shows its text twice.
///
/// A failed connection attempt also has a [reason](Error::reason) to branch on
/// (`connection_refused`, `timed_out`, `dns`, `tls`, `handshake`, `auth`).
///
/// Two errors are equal when their category, reason, message and configuration problems
/// are; the source is not compared.
///
/// ```
/// use tradewire::{Client, Config, ErrorCategory};
///
/// let client = Client::new(Config::new("ws://127.0.0.1:9"))?;
/// let err = client.send_text("hello").unwrap_err();
/// match err.kind() {
///     ErrorCategory::NotConnected => log::warn!("not sent: {err}"),
///     other => log::error!("{other}: {err}"),
/// }
/// # Ok::<(), tradewire::Error>(())
/// ```
#[derive(Clone)]
pub struct Error(Box<Repr>);

#[derive(Clone)]
struct Repr {
    kind: ErrorCategory,
    /// What failed (for `Config`: empty, the problems say it).
    message: String,
    /// Every problem of a `Config` error (empty for the other categories).
    problems: Vec<FieldError>,
    /// Why a connection attempt failed, when known.
    reason: Option<ConnectReason>,
    source: Option<Source>,
}

/// The underlying error as kept: shared, so that `Error` stays `Clone`.
type Source = Arc<dyn StdError + Send + Sync + 'static>;

/// What `Closed` says where the end of the stream is not the question (start, send,
/// request, reconnect after `close()`).
const CLOSED: &str = "the client is closed (create a new client to connect again), or its event stream ended after gave_up (reconnect() starts a new one)";

impl Error {
    /// An error of `kind` saying `message` (for `Config`, see [`Error::config`]). The
    /// shorthands below take a `String`, so that `"...".into()` needs no annotation.
    pub(crate) fn new(kind: ErrorCategory, message: impl Into<String>) -> Error {
        Error(Box::new(Repr {
            kind,
            message: message.into(),
            problems: Vec::new(),
            reason: None,
            source: None,
        }))
    }

    /// An invalid configuration: one problem of one field.
    pub(crate) fn config(field: &str, message: impl Into<String>) -> Error {
        Error::invalid_config(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }

    /// An invalid configuration: every problem found, each with its field.
    pub(crate) fn invalid_config(problems: Vec<FieldError>) -> Error {
        let mut e = Error::new(ErrorCategory::Config, String::new());
        e.0.problems = problems;
        e
    }

    /// A connection could not be established.
    pub(crate) fn connect(message: String) -> Error {
        Error::new(ErrorCategory::Connect, message)
    }

    /// A connection attempt (or the login that comes with it) failed for `reason` (`None`:
    /// none of the reasons [`ConnectReason`] names): category `Auth` for
    /// [`ConnectReason::Auth`], else `Connect`.
    pub(crate) fn attempt_failed(message: String, reason: Option<ConnectReason>) -> Error {
        let kind = if reason == Some(ConnectReason::Auth) {
            ErrorCategory::Auth
        } else {
            ErrorCategory::Connect
        };
        Error::new(kind, message).with_reason(reason)
    }

    /// This error, with `reason` (see [`Error::reason`]).
    pub(crate) fn with_reason(mut self, reason: Option<ConnectReason>) -> Error {
        self.0.reason = reason;
        self
    }

    /// Nothing was sent: the client is not connected or not live yet.
    pub(crate) fn not_connected(message: String) -> Error {
        Error::new(ErrorCategory::NotConnected, message)
    }

    /// A request got no usable response.
    pub(crate) fn request(message: String) -> Error {
        Error::new(ErrorCategory::Request, message)
    }

    /// An operation did not complete in time.
    pub(crate) fn timeout(message: String) -> Error {
        Error::new(ErrorCategory::Timeout, message)
    }

    /// A call the client's state (or preset) does not allow.
    pub(crate) fn usage(message: String) -> Error {
        Error::new(ErrorCategory::Usage, message)
    }

    /// An I/O error outside a connection attempt.
    pub(crate) fn io(message: String) -> Error {
        Error::new(ErrorCategory::Io, message)
    }

    /// The client is closed (start, send, request or reconnect after `close()`).
    pub(crate) fn closed() -> Error {
        Error::new(ErrorCategory::Closed, CLOSED)
    }

    /// The event stream has ended and every event has been taken: after `close()`, or
    /// (`gave_up`) after a `GaveUp` event, until `reconnect()` starts a new stream. The one
    /// wording of that end for every binding.
    pub(crate) fn stream_ended(gave_up: bool) -> Error {
        Error::new(
            ErrorCategory::Closed,
            if gave_up {
                "the client gave up (see the 'gave_up' event) and every event has been received; call reconnect() to start a new stream"
            } else {
                "the client is closed and every event has been received"
            },
        )
    }

    /// This error, caused by `source` (an I/O, TLS or JSON error): `source()` gives it back
    /// (its text scrubbed of known secrets, see [`Error`]).
    pub(crate) fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Error {
        self.0.source = Some(keep(source));
        self
    }

    /// What kind of failure this is; the bindings map it to an exception class or a result
    /// code.
    ///
    /// ```
    /// # use tradewire::{Client, Config, ErrorCategory};
    /// let client = Client::new(Config::new("ws://127.0.0.1:9"))?;
    /// client.close();
    /// assert_eq!(client.start().unwrap_err().kind(), ErrorCategory::Closed);
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn kind(&self) -> ErrorCategory {
        self.0.kind
    }

    /// Every problem of a configuration error ([`ErrorCategory::Config`]), each with its
    /// field; empty for the other categories.
    ///
    /// ```
    /// let err = tradewire::Config::new("ftp://example.com").validate().unwrap_err();
    /// assert!(err.problems().iter().any(|p| p.field == "url"));
    /// ```
    pub fn problems(&self) -> &[FieldError] {
        &self.0.problems
    }

    /// Why a connection attempt failed, for the errors that come from one (mostly those of
    /// [`Client::wait_live`](crate::Client::wait_live)): refused, timed out, DNS, TLS,
    /// handshake, auth. `None` for every other error, and for attempts that failed for
    /// another cause (a poll error, an unreachable network, ...). A `wait_live` that ran out
    /// of time is category `Timeout` with reason `timed_out`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// let client = tradewire::Client::connect(tradewire::Config::new(format!("ws://127.0.0.1:{port}")))?;
    /// let err = client.wait_live(Duration::from_secs(5)).unwrap_err();
    /// assert_eq!(err.reason().map(|r| r.as_str()), Some("connection_refused"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reason(&self) -> Option<ConnectReason> {
        self.0.reason
    }
}

impl PartialEq for Error {
    fn eq(&self, other: &Error) -> bool {
        self.0.kind == other.0.kind
            && self.0.reason == other.0.reason
            && self.0.message == other.0.message
            && self.0.problems == other.0.problems
    }
}

impl Eq for Error {}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = Plain(self).to_string();
        f.write_str(&scrub(&text))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.0.kind);
        if let Some(r) = self.0.reason {
            d.field("reason", &r);
        }
        if self.0.kind == ErrorCategory::Config {
            d.field("problems", &self.0.problems);
        } else {
            d.field("message", &scrub(&self.0.message));
        }
        if let Some(s) = &self.0.source {
            d.field("source", &scrub(&format!("{s:?}")));
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// An error's text before scrubbing.
struct Plain<'a>(&'a Error);

impl fmt::Display for Plain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.0 .0.message;
        match self.0.kind() {
            ErrorCategory::Config => {
                let problems = self.0.problems();
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
            ErrorCategory::Connect => write!(f, "connection failed: {m}"),
            ErrorCategory::Auth => write!(f, "authentication failed: {m}"),
            ErrorCategory::NotConnected => write!(f, "not connected: {m}"),
            ErrorCategory::Request => write!(f, "request failed: {m}"),
            ErrorCategory::Timeout => write!(f, "timed out: {m}"),
            ErrorCategory::Closed | ErrorCategory::Usage => f.write_str(m),
            ErrorCategory::Io => write!(f, "I/O error: {m}"),
        }
    }
}

/// The underlying error as `source()` will give it: the error itself when no link of its
/// chain shows a known secret or a control character, else a scrubbed copy of its chain.
fn keep(source: impl StdError + Send + Sync + 'static) -> Source {
    if chain_is_clean(&source) {
        Arc::new(source)
    } else {
        Arc::new(Scrubbed::of(&source))
    }
}

/// True when scrubbing and escaping would change no link's text (`Display`, `Debug`).
fn chain_is_clean(e: &(dyn StdError + 'static)) -> bool {
    let mut link = Some(e);
    while let Some(l) = link {
        let text = l.to_string();
        let debug = format!("{l:?}");
        if scrub(&text) != text.as_str()
            || escape_controls(&text) != text.as_str()
            || scrub(&debug) != debug.as_str()
        {
            return false;
        }
        link = l.source();
    }
    true
}

/// A copy of an error chain's text, secrets scrubbed and control characters escaped, link
/// by link: what `source()` gives in place of an error whose text showed a secret.
#[derive(Clone)]
struct Scrubbed {
    text: String,
    next: Option<Box<Scrubbed>>,
}

impl Scrubbed {
    fn of(e: &(dyn StdError + 'static)) -> Scrubbed {
        Scrubbed {
            text: escape_controls(&scrub(&e.to_string())).into_owned(),
            next: e.source().map(|s| Box::new(Scrubbed::of(s))),
        }
    }
}

impl fmt::Display for Scrubbed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Scrubbed again: a secret registered after the copy was made.
        f.write_str(&scrub(&self.text))
    }
}

impl fmt::Debug for Scrubbed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Scrubbed").field(&scrub(&self.text)).finish()
    }
}

impl StdError for Scrubbed {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.next.as_deref().map(|s| s as &(dyn StdError + 'static))
    }
}

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
mod tests;
