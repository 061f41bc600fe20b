//! `tradewire.Event`: one item of the event stream, with its payload converted to Python
//! objects on first access only.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString};
use tradewire::{AccountValue, Event};

use crate::json;

/// One item of a client's event stream: a message or a lifecycle event.
///
/// `kind` says which; attributes that do not apply to a kind are None.
#[pyclass(frozen, name = "Event", module = "tradewire")]
pub struct PyEvent {
    event: Event,
    /// When the binding took the event from the queue (lifecycle events carry no time).
    taken_at: SystemTime,
    data: PyOnceLock<Py<PyAny>>,
}

impl PyEvent {
    pub fn new(event: Event) -> PyEvent {
        // A message carries its own time; only lifecycle events need the clock read here.
        let taken_at = match event {
            Event::Message(_) => UNIX_EPOCH,
            _ => SystemTime::now(),
        };
        PyEvent {
            event,
            taken_at,
            data: PyOnceLock::new(),
        }
    }

    /// The event as a Python object that the cyclic garbage collector does not track.
    ///
    /// PyO3 makes every class collectable, but an `Event` has no `__traverse__` (its only
    /// Python reference, the cached `data`, is not visited), so the collector can never free
    /// anything through it: tracking it only makes each collection walk it. A stream keeps
    /// thousands alive in a `recv_batch` list, and those walks took a tenth of the consumer's
    /// time (benches/, docs/BENCHMARKS.md).
    pub fn into_py(py: Python<'_>, event: Event) -> PyResult<Bound<'_, PyEvent>> {
        let obj = Bound::new(py, PyEvent::new(event))?;
        // SAFETY: `obj` is a live object of a GC type; untracking a tracked object is allowed
        // at any time, and PyO3's dealloc untracks again only if it is tracked.
        unsafe { pyo3::ffi::PyObject_GC_UnTrack(obj.as_ptr().cast()) };
        Ok(obj)
    }
}

/// What `ev[key]` finds.
enum Member<'py> {
    /// The member, converted on its own.
    Value(Py<PyAny>),
    /// The payload is an object without this member.
    Absent,
    /// The payload was already converted: look the key up in the dict.
    Dict(Bound<'py, PyDict>),
    /// No payload, or a payload that is not an object.
    NoObject,
}

impl PyEvent {
    fn member<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Member<'py>> {
        if let Some(cached) = self.data.get(py) {
            return Ok(match cached.bind(py).cast::<PyDict>() {
                Ok(d) => Member::Dict(d.clone()),
                Err(_) => Member::NoObject,
            });
        }
        let Some(text) = self.event.data_json() else {
            return Ok(Member::NoObject);
        };
        if !text.trim_start().starts_with('{') {
            return Ok(Member::NoObject);
        }
        // JSON object keys are strings: any other key is simply absent, as in a dict.
        let Ok(k) = key.cast::<PyString>() else {
            return Ok(Member::Absent);
        };
        Ok(match self.event.data_member(&k.to_cow()?) {
            Some(raw) => Member::Value(json::value_to_py(py, raw)?.unbind()),
            None => Member::Absent,
        })
    }
}

fn secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}

#[pymethods]
impl PyEvent {
    /// 'message', 'connected', 'authenticated', 'disconnected', 'reconnecting', 'gave_up',
    /// 'error', 'lagged', 'response', 'lagging', 'caught_up' or 'gap'.
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        // Interned once: a new string per access was a visible cost per event.
        match self.event {
            Event::Message(_) => intern!(py, "message"),
            Event::Connected { .. } => intern!(py, "connected"),
            Event::Authenticated { .. } => intern!(py, "authenticated"),
            Event::Disconnected { .. } => intern!(py, "disconnected"),
            Event::Reconnecting { .. } => intern!(py, "reconnecting"),
            Event::GaveUp { .. } => intern!(py, "gave_up"),
            Event::Error(_) => intern!(py, "error"),
            Event::Lagged { .. } => intern!(py, "lagged"),
            Event::Response { .. } => intern!(py, "response"),
            _ => return PyString::new(py, self.event.kind()),
        }
        .clone()
    }

    /// The message type; for an 'error' event, the kind of error (e.g. 'invalid_json').
    #[getter(r#type)]
    fn msg_type<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyString>> {
        match &self.event {
            // Message types repeat: they come from the interned-string cache of dict keys.
            Event::Message(m) => m.msg_type().map(|t| json::cached_str(py, t)),
            Event::Error(e) => Some(PyString::new(py, e.kind.as_str())),
            _ => None,
        }
    }

    /// The account the message is for, with the JSON type the server gave it: an int for
    /// `123` (of any size), a str for `"123"`; None when the message names none. The
    /// `account_id` filter treats `123` and `"123"` as the same account.
    #[getter]
    fn account_id<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(account) = self.event.as_message().and_then(|m| m.account_value()) else {
            return Ok(None);
        };
        Ok(Some(match account {
            // Digits of any length: an int, big ones through the exact reader.
            AccountValue::Integer(digits) => json::value_to_py(py, digits)?,
            other => PyString::new(py, other.as_str()).into_any(),
        }))
    }

    /// The payload as Python objects (the `data` field, or the whole message when it has
    /// none; the metis preset: the whole message, or the text itself when it is not JSON;
    /// the response body of a 'response'). None when the message was not JSON (other presets).
    /// Converted on first access, then cached.
    #[getter]
    fn data(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let Some(text) = self.event.data_json() else {
            return Ok(py.None());
        };
        self.data
            .get_or_try_init(py, || json::to_py(py, text).map(Bound::unbind))
            .map(|d| d.clone_ref(py))
    }

    /// `ev[key]` is `ev.data[key]`, read from the payload without converting the rest of it:
    /// a consumer that needs two fields of an event pays for those two, not for a dict of all
    /// of them. KeyError when the payload object has no such member; TypeError when the event
    /// has no JSON object payload.
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match self.member(py, key)? {
            Member::Value(v) => Ok(v),
            Member::Absent => Err(PyKeyError::new_err(key.clone().unbind())),
            Member::Dict(d) => d.as_any().get_item(key).map(Bound::unbind),
            Member::NoObject => Err(PyTypeError::new_err(format!(
                "this {} event has no JSON object payload to index (see ev.data)",
                self.event.kind()
            ))),
        }
    }

    /// `ev.get(key, default)` is `ev.data.get(key, default)` for a payload object, read the
    /// way `ev[key]` is; `default` when the payload is not an object or has no such member.
    #[pyo3(signature = (key, default=None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let default = || default.unwrap_or_else(|| py.None());
        Ok(match self.member(py, key)? {
            Member::Value(v) => v,
            Member::Absent | Member::NoObject => default(),
            Member::Dict(d) => match d.get_item(key)? {
                Some(v) => v.unbind(),
                None => default(),
            },
        })
    }

    /// The frame exactly as received: str for a text frame, bytes for a binary one. For an
    /// 'error' event, the offending text (cut to 1 KiB) if there was one.
    #[getter]
    fn raw(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        match &self.event {
            Event::Message(m) => Some(match m.raw() {
                Some(text) => text.into_pyobject(py).ok()?.into_any().unbind(),
                None => PyBytes::new(py, m.raw_bytes()).into_any().unbind(),
            }),
            Event::Error(e) => e
                .raw
                .as_deref()
                .and_then(|r| r.into_pyobject(py).ok())
                .map(|s| s.into_any().unbind()),
            _ => None,
        }
    }

    /// Unix time in seconds when the frame was read from the socket (for lifecycle events,
    /// when the client took the event from its queue).
    #[getter]
    fn received_at(&self) -> f64 {
        match &self.event {
            Event::Message(m) => secs(m.received_at()),
            _ => secs(self.taken_at),
        }
    }

    /// Unix time in seconds of the message by the server's clock, read at `time_pointer`
    /// (breakout: its `ts`); None when there is no such field, it is not a time, or the event
    /// is not a message. `received_at - server_time` is the message's one-way latency.
    #[getter]
    fn server_time(&self) -> Option<f64> {
        match &self.event {
            Event::Message(m) => m.server_time().map(secs),
            _ => None,
        }
    }

    /// The connection number (1, 2, ...) the event belongs to, when it has one.
    #[getter]
    fn epoch(&self) -> Option<u64> {
        self.event.epoch()
    }

    /// 'connected': the URL connected to (secrets redacted).
    #[getter]
    fn url(&self) -> Option<&str> {
        match &self.event {
            Event::Connected { url, .. } => Some(url),
            _ => None,
        }
    }

    /// 'disconnected': the close code (1006 when the connection ended without a close frame).
    #[getter]
    fn code(&self) -> Option<u16> {
        match &self.event {
            Event::Disconnected { code, .. } => *code,
            _ => None,
        }
    }

    /// Document 004's `isConnected` of a 'connection-change': True for 'connected', False
    /// for 'disconnected', None for other kinds (a listener on 'connection_change' gets
    /// exactly the events where it is not None).
    #[getter]
    fn is_connected(&self) -> Option<bool> {
        self.event.is_connected()
    }

    /// 'disconnected': whether the application ended it (close(), disconnect(),
    /// reconnect()); None for other kinds.
    #[getter]
    fn by_client(&self) -> Option<bool> {
        match &self.event {
            Event::Disconnected { by_client, .. } => Some(*by_client),
            _ => None,
        }
    }

    /// 'disconnected', 'reconnecting', 'gave_up': why.
    #[getter]
    fn reason(&self) -> Option<&str> {
        match &self.event {
            Event::Disconnected { reason, .. }
            | Event::Reconnecting { reason, .. }
            | Event::GaveUp { reason } => Some(reason),
            _ => None,
        }
    }

    /// 'disconnected': the error that ended the connection; 'error': what went wrong.
    #[getter]
    fn error(&self) -> Option<&str> {
        match &self.event {
            Event::Disconnected { error, .. } => error.as_deref(),
            Event::Error(e) => Some(&e.message),
            _ => None,
        }
    }

    /// 'error': what went wrong (the same text as `error`), under the name the event's JSON
    /// form gives it: there `"message"` is this text and `"error"` the kind (here `type`).
    #[getter]
    fn message(&self) -> Option<&str> {
        match &self.event {
            Event::Error(e) => Some(&e.message),
            _ => None,
        }
    }

    /// 'reconnecting': the attempt number, from 1.
    #[getter]
    fn attempt(&self) -> Option<u32> {
        match &self.event {
            Event::Reconnecting { attempt, .. } => Some(*attempt),
            _ => None,
        }
    }

    /// 'reconnecting': seconds before the attempt.
    #[getter]
    fn delay(&self) -> Option<f64> {
        match &self.event {
            Event::Reconnecting { delay, .. } => Some(delay.as_secs_f64()),
            _ => None,
        }
    }

    /// 'lagged': how many events the overflow policy dropped just before this one.
    #[getter]
    fn dropped(&self) -> Option<u64> {
        match &self.event {
            Event::Lagged { dropped } => Some(*dropped),
            _ => None,
        }
    }

    /// 'lagging' / 'caught_up': which lag, 'feed' (the feed is late: status()['feed_lag'])
    /// or 'consumer' (the application is late: status()['consumer_lag']).
    #[getter]
    fn lag(&self) -> Option<&'static str> {
        match &self.event {
            Event::Lagging { lag, .. } | Event::CaughtUp { lag, .. } => Some(lag.name()),
            _ => None,
        }
    }

    /// 'lagging' / 'caught_up': how far behind, in seconds.
    #[getter]
    fn seconds(&self) -> Option<f64> {
        match &self.event {
            Event::Lagging { seconds, .. } | Event::CaughtUp { seconds, .. } => Some(*seconds),
            _ => None,
        }
    }

    /// 'gap': the stream (the value at `sequence_key`), None without one.
    #[getter]
    fn key(&self) -> Option<&str> {
        match &self.event {
            Event::Gap { key, .. } => key.as_deref(),
            _ => None,
        }
    }

    /// 'gap': the sequence number that was due.
    #[getter]
    fn expected(&self) -> Option<u64> {
        match &self.event {
            Event::Gap { expected, .. } => Some(*expected),
            _ => None,
        }
    }

    /// 'gap': the sequence number that came.
    #[getter]
    fn received(&self) -> Option<u64> {
        match &self.event {
            Event::Gap { received, .. } => Some(*received),
            _ => None,
        }
    }

    /// 'gap': how many messages are missing (received - expected).
    #[getter]
    fn missing(&self) -> Option<u64> {
        match &self.event {
            Event::Gap { missing, .. } => Some(*missing),
            _ => None,
        }
    }

    /// 'response': the request id.
    #[getter]
    fn id(&self) -> Option<u64> {
        match &self.event {
            Event::Response { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// 'response': the status the server gave (200 = success).
    #[getter]
    fn status(&self) -> Option<u16> {
        match &self.event {
            Event::Response { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The event's JSON form as one line of text: the same text as a `tradewire listen` line
    /// and C's `tw_event_to_json` (`"kind"` first, then the fields of its kind; the payload
    /// as the server wrote it, the account with its JSON type, `received_at` as ISO-8601 UTC
    /// with microseconds, a binary frame in base64).
    fn to_json(&self) -> String {
        self.event.to_json()
    }

    /// The event's JSON form (see `to_json`) as Python objects, as `json.loads(ev.to_json())`
    /// would give it: big integers stay ints, any depth is read.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &self.event.to_json())
    }

    /// A short summary (kind, type, account, epoch, the first 120 characters of the frame;
    /// the lifecycle fields): `to_json()` has the whole event.
    fn __repr__(&self) -> String {
        let mut parts = vec![format!("kind={:?}", self.event.kind())];
        match &self.event {
            Event::Message(m) => {
                if let Some(t) = m.msg_type() {
                    parts.push(format!("type={}", py_str(t)));
                }
                match m.account_value() {
                    Some(AccountValue::Integer(digits)) => {
                        parts.push(format!("account_id={digits}"))
                    }
                    Some(other) => parts.push(format!("account_id={}", py_str(other.as_str()))),
                    None => {}
                }
                parts.push(format!("epoch={}", m.epoch()));
                match m.raw() {
                    Some(text) => parts.push(format!("raw={}", py_str(&cut(text, 120)))),
                    None => parts.push(format!("raw=<{} bytes>", m.raw_bytes().len())),
                }
            }
            Event::Connected { epoch, url } => {
                parts.push(format!("epoch={epoch}"));
                parts.push(format!("url={}", py_str(url)));
            }
            Event::Authenticated { epoch } => parts.push(format!("epoch={epoch}")),
            Event::Disconnected {
                epoch,
                code,
                reason,
                error,
                by_client,
            } => {
                parts.push(format!("epoch={epoch}"));
                if let Some(c) = code {
                    parts.push(format!("code={c}"));
                }
                parts.push(format!("reason={}", py_str(reason)));
                if let Some(e) = error {
                    parts.push(format!("error={}", py_str(e)));
                }
                if *by_client {
                    parts.push("by_client=True".into());
                }
            }
            Event::Reconnecting {
                attempt,
                delay,
                reason,
            } => {
                parts.push(format!("attempt={attempt}"));
                parts.push(format!("delay={:.3}", delay.as_secs_f64()));
                parts.push(format!("reason={}", py_str(reason)));
            }
            Event::GaveUp { reason } => parts.push(format!("reason={}", py_str(reason))),
            Event::Error(e) => {
                parts.push(format!("type={}", py_str(e.kind.as_str())));
                parts.push(format!("error={}", py_str(&e.message)));
            }
            Event::Lagged { dropped } => parts.push(format!("dropped={dropped}")),
            Event::Lagging { lag, seconds } | Event::CaughtUp { lag, seconds } => {
                parts.push(format!("lag={}", py_str(lag.name())));
                parts.push(format!("seconds={seconds:.3}"));
            }
            Event::Response { id, status, .. } => {
                parts.push(format!("id={id}"));
                parts.push(format!("status={status}"));
            }
            Event::Gap {
                key,
                expected,
                received,
                missing,
                epoch,
            } => {
                if let Some(k) = key {
                    parts.push(format!("key={}", py_str(k)));
                }
                parts.push(format!("expected={expected}"));
                parts.push(format!("received={received}"));
                parts.push(format!("missing={missing}"));
                parts.push(format!("epoch={epoch}"));
            }
            _ => {}
        }
        format!("Event({})", parts.join(", "))
    }
}

/// A string as a Python literal (single quotes, escapes) for `__repr__`.
fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The first `max` characters of `s`, with an ellipsis when cut.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}
