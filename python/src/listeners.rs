//! Python listeners: `Client.on(kinds, fn)`, `Client.off(handle)` and the websocket-client
//! style `on_open=`/`on_message=`/`on_error=`/`on_close=` arguments of `Client`. The
//! registry, its order and its rule with `recv` are the core's (`Client::on`); this module
//! converts the kinds and calls the Python functions with the GIL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyWeakrefReference};
use tradewire::{Client, Event, Kind, KindSet};

use crate::errors;
use crate::event::PyEvent;
use crate::logging;

/// Clients with Python listeners, closed at interpreter exit (their callback thread must not
/// be left waiting for the GIL while the interpreter finalizes).
static LISTENED_CLIENTS: Mutex<Vec<Weak<Client>>> = Mutex::new(Vec::new());
/// Set at interpreter exit: listeners are no longer called.
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

/// The Python client object, for the `on_*` functions' first argument: a weak reference
/// (the core client holds the listeners; a strong one would keep the client alive for ever),
/// set when the client starts (no event comes before).
pub type SelfRef = Arc<OnceLock<Py<PyWeakrefReference>>>;

/// How a Python function is called for an event.
#[derive(Clone, Copy)]
pub enum Style {
    /// `fn(event)` (`Client.on`, `set_callback`).
    Event,
    /// websocket-client's `on_open(client)`.
    Open,
    /// websocket-client's `on_message(client, message)`: the frame as received (str or bytes).
    Message,
    /// websocket-client's `on_error(client, error)`: a `tradewire.Error` with the message.
    Error,
    /// websocket-client's `on_close(client, close_status_code, close_msg)`.
    Close,
}

impl Style {
    /// The keyword argument of `Client` and the kind it listens to.
    pub const KEYWORDS: [(&'static str, Style, Kind); 4] = [
        ("on_open", Style::Open, Kind::Connected),
        ("on_message", Style::Message, Kind::Message),
        ("on_error", Style::Error, Kind::Error),
        ("on_close", Style::Close, Kind::Disconnected),
    ];

    fn name(self) -> &'static str {
        match self {
            Style::Event => "listener",
            Style::Open => "on_open callback",
            Style::Message => "on_message callback",
            Style::Error => "on_error callback",
            Style::Close => "on_close callback",
        }
    }
}

/// The kinds `kinds` names: one name, or an iterable of names (`"*"`: every kind).
pub fn kinds_of(kinds: &Bound<'_, PyAny>) -> PyResult<KindSet> {
    let names: Vec<String> = if let Ok(name) = kinds.cast::<PyString>() {
        vec![name.to_cow()?.into_owned()]
    } else {
        let mut names = Vec::new();
        for item in kinds.try_iter().map_err(|_| not_kinds(kinds))? {
            let item = item?;
            let name = item.cast::<PyString>().map_err(|_| not_kinds(&item))?;
            names.push(name.to_cow()?.into_owned());
        }
        names
    };
    KindSet::parse(names.iter().map(String::as_str)).map_err(errors::to_py)
}

fn not_kinds(obj: &Bound<'_, PyAny>) -> PyErr {
    let type_name = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    PyTypeError::new_err(format!(
        "kinds takes an event kind (str, e.g. 'message', or '*') or a list of them, not {type_name}"
    ))
}

/// Registers `function` for `kinds` on the core client; returns the listener's id.
pub fn add(
    py: Python<'_>,
    client: &Arc<Client>,
    kinds: KindSet,
    function: Py<PyAny>,
    style: Style,
    me: &SelfRef,
) -> PyResult<u64> {
    if !function.bind(py).is_callable() {
        return Err(PyTypeError::new_err(format!(
            "the {} must be callable",
            style.name()
        )));
    }
    let me = me.clone();
    let id = client
        .on(kinds, move |event| call(&function, style, &me, event))
        .map_err(errors::to_py)?;
    remember(client);
    Ok(id.as_u64())
}

/// Keeps a weak reference to a client with Python listeners, for `shutdown`.
pub fn remember(client: &Arc<Client>) {
    let mut clients = LISTENED_CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
    clients.retain(|w| w.strong_count() > 0);
    if !clients
        .iter()
        .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(client)))
    {
        clients.push(Arc::downgrade(client));
    }
}

/// Whether listeners may still be called (not at interpreter exit).
pub fn active() -> bool {
    !SHUTTING_DOWN.load(Ordering::SeqCst)
}

/// Calls one Python function for one event (on the core's callback thread); an exception
/// is logged under the `tradewire` logger and the other listeners still run.
fn call(function: &Py<PyAny>, style: Style, me: &SelfRef, event: &Event) {
    if !active() {
        return;
    }
    let kind = event.kind();
    Python::try_attach(|py| {
        if let Err(err) = call_with_gil(py, function, style, me, event) {
            logging::callback_error(
                py,
                &format!("the {} raised on a '{kind}' event", style.name()),
                err,
            );
        }
    });
}

fn call_with_gil(
    py: Python<'_>,
    function: &Py<PyAny>,
    style: Style,
    me: &SelfRef,
    event: &Event,
) -> PyResult<()> {
    if let Style::Event = style {
        let ev = PyEvent::into_py(py, event.clone())?;
        function.call1(py, (ev,))?;
        return Ok(());
    }
    // The client is gone (dropped): nobody to hand to the websocket-client style function.
    let Some(client) = me.get().and_then(|w| w.bind(py).upgrade()) else {
        return Ok(());
    };
    match (style, event) {
        (Style::Open, _) => function.call1(py, (client,))?,
        (Style::Message, Event::Message(m)) => {
            let message = match m.raw() {
                Some(text) => PyString::new(py, text).into_any(),
                None => PyBytes::new(py, m.raw_bytes()).into_any(),
            };
            function.call1(py, (client, message))?
        }
        (Style::Error, Event::Error(e)) => {
            let class = &errors::exceptions(py)?.error;
            let error = class.bind(py).call1((e.message.as_str(),))?;
            function.call1(py, (client, error))?
        }
        (Style::Close, Event::Disconnected { code, reason, .. }) => {
            function.call1(py, (client, *code, reason.as_str()))?
        }
        _ => return Ok(()),
    };
    Ok(())
}

/// At interpreter exit: stops calling listeners and closes the clients that have some
/// (with the GIL released, so that a call in progress can finish).
pub fn shutdown(py: Python<'_>) {
    SHUTTING_DOWN.store(true, Ordering::SeqCst);
    let clients: Vec<Arc<Client>> = LISTENED_CLIENTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .drain(..)
        .filter_map(|w| w.upgrade())
        .collect();
    py.detach(move || {
        for c in &clients {
            c.close();
        }
    });
}

/// Calls the Python callback with one event (on the core's callback thread).
pub(crate) fn deliver(callback: &Py<PyAny>, event: Event) {
    if !active() {
        return;
    }
    let kind = event.kind();
    Python::try_attach(|py| {
        let result = Py::new(py, PyEvent::new(event)).and_then(|ev| callback.call1(py, (ev,)));
        if let Err(err) = result {
            logging::callback_error(
                py,
                &format!("the event callback raised on a '{kind}' event"),
                err,
            );
        }
    });
}
