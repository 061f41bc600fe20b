//! The exception hierarchy (`tradewire.Error` and its subclasses) and the mapping from the
//! core's `Error` to it.
//!
//! The classes are made at import with `type(name, bases, namespace)` so that
//! `tradewire.TimeoutError` can derive from both `tradewire.Error` and the built-in
//! `TimeoutError`.

use pyo3::exceptions::{PyException, PyTimeoutError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use tradewire::ErrorCategory;

/// The exception classes, created once per process.
pub struct Exceptions {
    pub error: Py<PyType>,
    pub config: Py<PyType>,
    pub connect: Py<PyType>,
    pub auth: Py<PyType>,
    pub not_connected: Py<PyType>,
    pub request: Py<PyType>,
    pub timeout: Py<PyType>,
    pub closed: Py<PyType>,
}

static EXCEPTIONS: PyOnceLock<Exceptions> = PyOnceLock::new();

/// The exception classes (created on first use).
pub fn exceptions(py: Python<'_>) -> PyResult<&Exceptions> {
    EXCEPTIONS.get_or_try_init(py, || create(py))
}

fn create(py: Python<'_>) -> PyResult<Exceptions> {
    let error = make(
        py,
        "Error",
        &[py.get_type::<PyException>()],
        "Base class of every exception tradewire raises.",
    )?;
    let base = error.bind(py).clone();
    let sub = |name: &str, doc: &str| make(py, name, std::slice::from_ref(&base), doc);
    Ok(Exceptions {
        config: sub(
            "ConfigError",
            "The configuration is invalid; the message names every offending argument.",
        )?,
        connect: sub(
            "ConnectError",
            "A connection could not be established (DNS, TCP, TLS or the WebSocket handshake).",
        )?,
        auth: sub("AuthError", "The server refused the credentials.")?,
        not_connected: sub(
            "NotConnectedError",
            "The client is not connected (or not live yet), so nothing was sent.",
        )?,
        request: sub("RequestError", "A request did not get a usable response.")?,
        timeout: make(
            py,
            "TimeoutError",
            &[base.clone(), py.get_type::<PyTimeoutError>()],
            "An operation did not complete in time (also a built-in TimeoutError).",
        )?,
        closed: sub(
            "ClosedError",
            "The event stream has ended: the client was closed (create a new client to connect again), or it gave up (reconnect() starts a new stream).",
        )?,
        error,
    })
}

/// `type(name, bases, {"__module__": "tradewire", "__doc__": doc, "reason": None})`: every
/// class has `reason` (None unless the error comes from a connection attempt, see `to_py`).
fn make(
    py: Python<'_>,
    name: &str,
    bases: &[Bound<'_, PyType>],
    doc: &str,
) -> PyResult<Py<PyType>> {
    let namespace = PyDict::new(py);
    namespace.set_item("__module__", "tradewire")?;
    namespace.set_item("__doc__", doc)?;
    namespace.set_item("reason", py.None())?;
    let bases = PyTuple::new(py, bases)?;
    let class = py
        .get_type::<PyType>()
        .call1((name, bases, namespace))?
        .cast_into::<PyType>()?;
    Ok(class.unbind())
}

/// A Python exception for a core error: the class of its category, its message being the
/// error's `Display` (the end of the stream too: core words it).
///
/// `Usage` and `Io` errors have no class of their own: they are raised as `tradewire.Error`.
/// The exception's `reason` is the error's [`reason`](tradewire::Error::reason) as its
/// stable name (`connection_refused`, `timed_out`, `dns`, `tls`, `handshake`, `auth`), or
/// None.
pub fn to_py(e: tradewire::Error) -> PyErr {
    Python::attach(|py| match exceptions(py) {
        Ok(x) => {
            let class = match e.kind() {
                ErrorCategory::Config => &x.config,
                ErrorCategory::Connect => &x.connect,
                ErrorCategory::Auth => &x.auth,
                ErrorCategory::NotConnected => &x.not_connected,
                ErrorCategory::Request => &x.request,
                ErrorCategory::Timeout => &x.timeout,
                ErrorCategory::Closed => &x.closed,
                _ => &x.error,
            };
            match e.reason() {
                Some(reason) => raise_with_reason(py, class, e.to_string(), reason.as_str()),
                None => raise(py, class, e.to_string()),
            }
        }
        Err(err) => err,
    })
}

/// An exception of `class` with `message` and the attribute `reason`.
fn raise_with_reason(
    py: Python<'_>,
    class: &Py<PyType>,
    message: String,
    reason: &'static str,
) -> PyErr {
    let made = class.bind(py).call1((message,)).and_then(|instance| {
        instance.setattr("reason", reason)?;
        Ok(PyErr::from_value(instance))
    });
    made.unwrap_or_else(|err| err)
}

/// An exception of one of our classes with `message`.
pub fn raise(py: Python<'_>, class: &Py<PyType>, message: String) -> PyErr {
    PyErr::from_type(class.bind(py).clone(), message)
}

/// A `ConfigError` for one argument, worded like the core's configuration errors.
pub fn config_error(py: Python<'_>, field: &str, message: &str) -> PyErr {
    match exceptions(py) {
        Ok(x) => raise(
            py,
            &x.config,
            format!("invalid configuration: {field}: {message}"),
        ),
        Err(err) => err,
    }
}

/// A `RequestError` with `message`.
pub fn request_error(py: Python<'_>, message: String) -> PyErr {
    match exceptions(py) {
        Ok(x) => raise(py, &x.request, message),
        Err(err) => err,
    }
}

/// A `ClosedError` with `message`, for the binding's own objects (the test servers of
/// `tradewire.testing`); a core error's wording comes from core (`to_py`).
pub fn closed_error(py: Python<'_>, message: &str) -> PyErr {
    match exceptions(py) {
        Ok(x) => raise(py, &x.closed, message.to_string()),
        Err(err) => err,
    }
}

/// Adds the classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let x = exceptions(py)?;
    for (name, class) in [
        ("Error", &x.error),
        ("ConfigError", &x.config),
        ("ConnectError", &x.connect),
        ("AuthError", &x.auth),
        ("NotConnectedError", &x.not_connected),
        ("RequestError", &x.request),
        ("TimeoutError", &x.timeout),
        ("ClosedError", &x.closed),
    ] {
        m.add(name, class.bind(py))?;
    }
    Ok(())
}

/// Runs `f` with the GIL released and turns a panic in it into `tradewire.Error` (no Rust
/// panic reaches Python as `PanicException`).
pub fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    let result = py.detach(move || std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    result.map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        match exceptions(py) {
            Ok(x) => raise(
                py,
                &x.error,
                format!("internal error in tradewire: {what} (please report this)"),
            ),
            Err(err) => err,
        }
    })
}

/// [`detached`] for a core call: its error becomes the matching exception.
pub fn core_call<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> tradewire::Result<T> + Send,
) -> PyResult<T> {
    detached(py, f)?.map_err(to_py)
}

/// Seconds as a duration; at most about 30 years (longer means "for ever" and would overflow
/// deadlines).
pub fn seconds(name: &str, s: f64) -> PyResult<std::time::Duration> {
    if s.is_nan() || s < 0.0 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{name} must be a number of seconds >= 0, got {s}"
        )));
    }
    Ok(std::time::Duration::from_secs_f64(s.min(1e9)))
}
