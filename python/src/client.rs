//! `tradewire.Client`: the core client with Python conventions (keyword configuration,
//! iteration, context manager, exceptions). Every call that can wait releases the GIL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple, PyType, PyWeakrefReference};
use serde_json::Value;
use tradewire::{Client, Config, ErrorCategory, Event};

use crate::errors::{self, config_error, core_call, detached, request_error, seconds};
use crate::event::PyEvent;
use crate::frames::{self, frame_of, request_body, Frame};
use crate::json;
use crate::listeners::{self, SelfRef, Style};
use crate::logging;
use crate::waiting::{
    batch_for, collect, deadline_of, finish, next_or_closed, next_slice, take_into, wait_one, Next,
};

/// A connection to a WebSocket event stream that stays up by itself.
///
/// Keyword arguments are the configuration fields (durations in seconds), e.g.
/// `Client("ws://localhost:8765", preset="daemon", account_id=123)`.
#[pyclass(frozen, weakref, name = "Client", module = "tradewire")]
pub struct PyClient {
    client: Arc<Client>,
    preset: &'static str,
    started: AtomicBool,
    /// This object, for the `on_*` functions (set when it starts).
    me: SelfRef,
    /// Set once the client counts as closed for the log forwarder (`logging::client_closed`).
    uncounted: Arc<AtomicBool>,
}

impl PyClient {
    fn create(py: Python<'_>, config: Value) -> PyResult<PyClient> {
        let config = Config::from_value(config).map_err(errors::to_py)?;
        let preset = config.get_preset().name();
        let client = Client::new(config).map_err(errors::to_py)?;
        logging::client_opened(py);
        Ok(PyClient {
            client: Arc::new(client),
            preset,
            started: AtomicBool::new(false),
            me: SelfRef::default(),
            uncounted: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Registers the websocket-client style `on_*` keyword arguments, in the order of
    /// `Style::KEYWORDS` (open, message, error, close).
    fn add_keyword_listeners(
        &self,
        py: Python<'_>,
        functions: [Option<Py<PyAny>>; 4],
    ) -> PyResult<()> {
        for ((_, style, kind), function) in Style::KEYWORDS.into_iter().zip(functions) {
            if let Some(f) = function.filter(|f| !f.is_none(py)) {
                listeners::add(py, &self.client, kind.into(), f, style, &self.me)?;
            }
        }
        Ok(())
    }

    /// Waits up to `timeout` (None: for ever) for an event with the GIL released, running
    /// Python's signal handlers whenever a signal interrupts the wait.
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Next> {
        if let Some(e) = next_or_closed(self.client.try_recv())? {
            return Ok(e);
        }
        let deadline = deadline_of(timeout)?;
        Ok(next_or_closed(wait_one(py, &self.client, deadline)?)?.unwrap_or(Next::Timeout))
    }

    /// `Client::wait_live` in slices, checking for signals between them, with the GIL
    /// released while waiting.
    fn wait_until_live(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        let deadline = deadline_of(timeout)?;
        let client = &self.client;
        loop {
            let slice = next_slice(deadline).unwrap_or(Duration::ZERO);
            match detached(py, || client.wait_live(slice))? {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == ErrorCategory::Timeout && next_slice(deadline).is_some() => {
                    py.check_signals()?
                }
                Err(e) => return Err(errors::to_py(e)),
            }
        }
    }

    fn do_start(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let this = slf.get();
        logging::ensure_forwarder(py);
        if this.me.get().is_none() {
            let _ = this.me.set(PyWeakrefReference::new(slf)?.unbind());
        }
        let client = &this.client;
        core_call(py, || client.start())?;
        this.started.store(true, Ordering::SeqCst);
        Ok(())
    }
}

#[pymethods]
impl PyClient {
    /// `on_open(client)`, `on_message(client, message)`, `on_error(client, error)` and
    /// `on_close(client, close_status_code, close_msg)` are listeners, called as
    /// websocket-client calls them; every other keyword argument is a configuration field.
    #[new]
    #[pyo3(signature = (url=None, *, on_open=None, on_message=None, on_error=None, on_close=None, **config))]
    fn new(
        py: Python<'_>,
        url: Option<&Bound<'_, PyAny>>,
        on_open: Option<Py<PyAny>>,
        on_message: Option<Py<PyAny>>,
        on_error: Option<Py<PyAny>>,
        on_close: Option<Py<PyAny>>,
        config: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let value = json::config_value(py, url, config)?;
        let client = PyClient::create(py, value)?;
        client.add_keyword_listeners(py, [on_open, on_message, on_error, on_close])?;
        Ok(client)
    }

    /// A client from a configuration dict: the same fields as the keyword arguments, or the
    /// `{protocol, host, port, rejectUnauthorized, connectTimeout}` connection options.
    #[classmethod]
    fn from_config(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        config: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let value = json::to_json(config)
            .map_err(|e| config_error(py, "(config)", &e.value(py).to_string()))?;
        PyClient::create(py, value)
    }

    /// Starts the connection thread and returns at once; progress arrives as events.
    /// With `wait=seconds`: then waits until the connection is live, as wait_live(wait).
    #[pyo3(signature = (*, wait=None))]
    fn start(slf: &Bound<'_, Self>, wait: Option<f64>) -> PyResult<()> {
        PyClient::do_start(slf)?;
        match wait {
            Some(w) => slf.get().wait_until_live(slf.py(), Some(w)),
            None => Ok(()),
        }
    }

    /// Waits until the connection is live (after the login for presets that log in) and
    /// returns None; at once when it already is. Raises the first failed attempt's error
    /// (ConnectError, or AuthError for refused credentials) with `.reason` one of
    /// "connection_refused", "timed_out", "dns", "tls", "handshake", "auth" (or None); the
    /// client keeps reconnecting in the background, so calling it again waits for the next
    /// attempt. Raises TimeoutError (reason "timed_out") when `timeout` seconds pass first
    /// (None: no limit), tradewire.Error before start(), ClosedError once closed or after
    /// 'gave_up', NotConnectedError after disconnect(). The GIL is released while waiting,
    /// and Ctrl-C interrupts it.
    #[pyo3(signature = (timeout=None))]
    fn wait_live(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        self.wait_until_live(py, timeout)
    }

    /// The next event, or None if none came within `timeout` seconds (None: wait for ever).
    /// Raises ClosedError once the stream has ended and every event has been taken: after
    /// close(), and after a 'gave_up' event until reconnect() starts a new stream.
    #[pyo3(signature = (timeout=None))]
    fn recv(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<PyEvent>> {
        match self.next_event(py, timeout)? {
            Next::Event(e) => Ok(Some(PyEvent::new(e))),
            Next::Timeout => Ok(None),
            Next::Closed(e) => Err(errors::to_py(e)),
        }
    }

    /// Waits up to `timeout` seconds for one event, then takes the events already queued,
    /// up to `max` in all. An empty list means the timeout expired.
    #[pyo3(signature = (max=1024, timeout=None))]
    fn recv_batch<'py>(
        &self,
        py: Python<'py>,
        max: usize,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let client = &self.client;
        let mut batch = batch_for(max);
        let mut failed = None;
        // Events already queued are taken and converted with the GIL held: on a fast feed
        // (the hot path) a call neither releases the GIL nor reads the clock.
        let queued = client.recv_batch_with(max, Some(Duration::ZERO), |e| {
            take_into(py, e, &mut batch, &mut failed)
        });
        match queued {
            Ok(0) if max > 0 => {}
            Ok(_) => return finish(py, batch, failed),
            Err(e) => return Err(errors::to_py(e)),
        }
        // None queued: wait for the first event with the GIL released, running signal
        // handlers when a signal interrupts the wait; then take the rest as above, converting
        // each as it is taken (no intermediate Vec of events).
        let deadline = deadline_of(timeout)?;
        match wait_one(py, client, deadline)? {
            Ok(Some(e)) => {
                if take_into(py, e, &mut batch, &mut failed).is_continue() {
                    // Whatever this gives, the first event is delivered: the end of the
                    // stream (or any refusal) is for the next call to report.
                    let _ = client.recv_batch_with(max - 1, Some(Duration::ZERO), |e| {
                        take_into(py, e, &mut batch, &mut failed)
                    });
                }
                finish(py, batch, failed)
            }
            Ok(None) => Ok(PyList::empty(py)),
            Err(e) => Err(errors::to_py(e)),
        }
    }

    /// The events already queued, up to `max`; never waits (an empty list: none queued).
    /// Raises ClosedError as recv() does. With ready_fd() on, an empty take arms the fd: it
    /// becomes readable when the next event is queued or the stream ends.
    #[pyo3(signature = (max=1024))]
    fn try_recv_batch<'py>(&self, py: Python<'py>, max: usize) -> PyResult<Bound<'py, PyList>> {
        let take = |each: &mut dyn FnMut(_) -> _| {
            self.client.recv_batch_with(max, Some(Duration::ZERO), each)
        };
        Ok(collect(py, max, take)?.0)
    }

    /// For an event loop that reads the socket on its own thread (tradewire.aio): the
    /// queued events (up to max); if none, first runs the connection lent by the I/O thread
    /// without waiting, or asks for it. Returns (events, lent): when events is empty, wait on
    /// ready_fd() and, if lent, on io_fd() too. Never blocks.
    fn read_batch<'py>(&self, py: Python<'py>, max: usize) -> PyResult<(Bound<'py, PyList>, bool)> {
        let (batch, done) = collect(py, max, |each| self.client.read_batch_with(max, each))?;
        Ok((batch, done.lent))
    }

    /// The loop stops waiting on io_fd() (no task awaits events): the I/O thread takes the
    /// connection back and reads into the queue meanwhile.
    fn stop_reading(&self) {
        self.client.stop_reading()
    }

    /// The connection's poller fd (owned by the client): readable when the connection lent
    /// to the loop has something to read. Watch it only while read_batch() says lent.
    /// Linux only.
    fn io_fd(&self) -> PyResult<i32> {
        self.client.io_fd().map_err(errors::to_py)
    }

    /// A file descriptor that becomes readable when events may be queued, for an event loop
    /// (asyncio's add_reader, selectors): wait on it only after try_recv_batch() returned an
    /// empty list, then take again. Made on the first call; owned by the client (do not
    /// close it). Linux only.
    fn ready_fd(&self) -> PyResult<i32> {
        self.client.ready_fd().map_err(errors::to_py)
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyEvent>> {
        match self.next_event(py, None)? {
            Next::Event(e) => Ok(Some(PyEvent::new(e))),
            _ => Ok(None),
        }
    }

    /// Sends a frame now: str as text, bytes as binary, dict or list as JSON text.
    /// Raises NotConnectedError when the connection is not live (nothing is queued).
    fn send(&self, py: Python<'_>, message: &Bound<'_, PyAny>) -> PyResult<()> {
        let frame = frame_of(message, "send()")?;
        let client = &self.client;
        core_call(py, || match frame {
            Frame::Text(t) => client.send_text(t),
            Frame::Binary(b) => client.send_binary(b),
        })
    }

    /// Sends a request and waits for its answer. Tradovate: `request(endpoint, body=None)`,
    /// returns the response's payload. Every other preset: `request(message)` with a JSON
    /// object (dict or str) whose `request_id_field` member (default "id") carries its id,
    /// filled in when missing; returns the whole answer, the message with the same id.
    #[pyo3(signature = (endpoint, body=None, timeout=5.0))]
    fn request(
        &self,
        py: Python<'_>,
        endpoint: &Bound<'_, PyAny>,
        body: Option<&Bound<'_, PyAny>>,
        timeout: f64,
    ) -> PyResult<Py<PyAny>> {
        let timeout = seconds("timeout", timeout)?;
        let client = &self.client;
        let answer = if client.correlates_by_endpoint() {
            let endpoint: String = endpoint.extract().map_err(|_| {
                PyTypeError::new_err(
                    "request() on tradovate takes an endpoint str, such as \"account/list\"",
                )
            })?;
            let body = request_body(body)?;
            detached(py, || client.request(&endpoint, body.as_deref(), timeout))?
        } else {
            if body.is_some_and(|b| !b.is_none()) {
                return Err(PyTypeError::new_err(
                    "request(message) takes one JSON object on this preset; body= is for tradovate's endpoints",
                ));
            }
            let message = frames::json_text(endpoint, "request() message")?;
            detached(py, || client.request_json(&message, timeout))?
        };
        match answer {
            Ok(text) if text.trim().is_empty() => Ok(py.None()),
            Ok(text) => Ok(json::to_py(py, &text)?.unbind()),
            Err(e) if e.kind() == ErrorCategory::Usage => Err(request_error(py, e.to_string())),
            Err(e) => Err(errors::to_py(e)),
        }
    }

    /// Sends a request without waiting (tradovate) and returns its id; the response arrives
    /// as a 'response' event with that id. `request_id`: the caller's id, as document 000's
    /// `send(endpoint, body, requestId)` (0 and an id still unanswered raise RequestError).
    /// Raises as request() does before sending.
    #[pyo3(signature = (endpoint, body=None, request_id=None))]
    fn send_request(
        &self,
        py: Python<'_>,
        endpoint: &str,
        body: Option<&Bound<'_, PyAny>>,
        request_id: Option<u64>,
    ) -> PyResult<u64> {
        let body = request_body(body)?;
        let client = &self.client;
        let sent = detached(py, || match request_id {
            Some(id) => client.send_request_with_id(endpoint, body.as_deref(), id),
            None => client.send_request(endpoint, body.as_deref()),
        })?;
        match sent {
            Ok(id) => Ok(id),
            Err(e) if e.kind() == ErrorCategory::Usage => Err(request_error(py, e.to_string())),
            Err(e) => Err(errors::to_py(e)),
        }
    }

    /// Records a subscription under `key` (default: the message text) and returns the key;
    /// sends it now if live, and again after every later (re)connect and login, in order,
    /// after the on_connect messages. `message` and `unsubscribe` are str, dict or list.
    #[pyo3(signature = (message, key=None, unsubscribe=None))]
    fn subscribe(
        &self,
        py: Python<'_>,
        message: &Bound<'_, PyAny>,
        key: Option<String>,
        unsubscribe: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        crate::subscriptions::subscribe(py, &self.client, message, key, unsubscribe)
    }

    /// Tradovate: a subscription sent as a request with a fresh id after every login; a
    /// refusal is an 'error' event of kind subscription_failed. Returns the key.
    #[pyo3(signature = (endpoint, body=None, unsubscribe_endpoint=None, key=None))]
    fn subscribe_request(
        &self,
        py: Python<'_>,
        endpoint: String,
        body: Option<&Bound<'_, PyAny>>,
        unsubscribe_endpoint: Option<String>,
        key: Option<String>,
    ) -> PyResult<String> {
        let client = &self.client;
        crate::subscriptions::subscribe_request(
            py,
            client,
            endpoint,
            body,
            unsubscribe_endpoint,
            key,
        )
    }

    /// Forgets the subscription with `key`, sending its unsubscribe message if live; False
    /// when no subscription had the key.
    fn unsubscribe(&self, py: Python<'_>, key: &str) -> PyResult<bool> {
        let client = &self.client;
        core_call(py, || client.unsubscribe(key))
    }

    /// The live set of subscriptions, in replay order, as dicts.
    fn subscriptions(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        crate::subscriptions::list(py, &self.client)
    }

    /// Tradovate: what the access token in use came with, as a dict without its tokens
    /// (`userId`, `name`, `orgName`, `hasLive`, `expirationTime`, ... and `retrievedAt` in
    /// Unix milliseconds); None before a token, after a refusal, with a static token.
    fn token_info(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.client.token_info() {
            Some(info) => Ok(json::to_py(py, &info.to_json().to_string())?.unbind()),
            None => Ok(py.None()),
        }
    }

    /// The state and counters as a dict (durations in seconds).
    fn status(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let text = self.client.status().to_json().to_string();
        Ok(json::to_py(py, &text)?.unbind())
    }

    /// The last messages kept by the history ring (`history=N`), oldest first.
    fn history(&self) -> Vec<PyEvent> {
        self.client
            .history()
            .into_iter()
            .map(|m| PyEvent::new(Event::Message(m)))
            .collect()
    }

    /// Drops the current connection (if any) and connects again now; after 'gave_up',
    /// starts trying again on a new stream (recv() and iteration give events again).
    fn reconnect(&self, py: Python<'_>) -> PyResult<()> {
        let client = &self.client;
        core_call(py, || client.reconnect())
    }

    /// Closes the connection with `code` and `reason`, waits briefly for the server's close,
    /// and stops reconnecting; the client stays usable (connect() connects again). The
    /// 'disconnected' event has by_client=True, and status()["state"] is "disconnected" when
    /// this returns. Raises tradewire.Error for a code that cannot be sent (valid: 1000-1003,
    /// 1007-1014, 3000-4999) or a reason over 123 bytes, and nothing is closed.
    #[pyo3(signature = (code=1000, reason=""))]
    fn disconnect(&self, py: Python<'_>, code: u16, reason: &str) -> PyResult<()> {
        let client = &self.client;
        core_call(py, || client.disconnect(code, reason))
    }

    /// Connects: starts the client if it was never started, connects again after
    /// disconnect() or 'gave_up' (the next epoch, on-connect messages and login as the first
    /// time), and does nothing while it is connecting, live or waiting to reconnect.
    /// With `wait=seconds`: then waits until the connection is live, as wait_live(wait).
    #[pyo3(signature = (*, wait=None))]
    fn connect(&self, py: Python<'_>, wait: Option<f64>) -> PyResult<()> {
        logging::ensure_forwarder(py);
        let client = &self.client;
        core_call(py, || client.resume())?;
        self.started.store(true, Ordering::SeqCst);
        match wait {
            Some(w) => self.wait_until_live(py, Some(w)),
            None => Ok(()),
        }
    }

    /// The state as the WebSocket API's readyState: 0 CONNECTING (also while waiting to
    /// reconnect), 1 OPEN, 2 CLOSING, 3 CLOSED (not started, disconnected, gave up, closed).
    #[getter]
    fn ready_state(&self) -> u8 {
        self.client.status().state.ready_state()
    }

    /// Closes the connection and stops reconnecting; idempotent. Events queued before remain
    /// readable, then iteration ends.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let client = &self.client;
        let uncounted = &self.uncounted;
        detached(py, || {
            client.close();
            if !uncounted.swap(true, Ordering::SeqCst) {
                logging::client_closed();
            }
        })
    }

    /// Calls `callback(event)` for every event on a background thread instead of queueing
    /// them for `recv`. Set it once, before `start()`. An exception in the callback is logged
    /// (logger `tradewire`) and the stream goes on.
    fn set_callback(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<()> {
        if !callback.bind(py).is_callable() {
            return Err(PyTypeError::new_err("the callback must be callable"));
        }
        self.client
            .set_callback(move |event| listeners::deliver(&callback, event))
            .map_err(errors::to_py)?;
        listeners::remember(&self.client);
        Ok(())
    }

    /// Calls `listener(event)` for each event of the given kinds (a kind such as 'message',
    /// a list of kinds, or '*' for all) on the client's callback thread, in event order;
    /// several listeners are called in registration order. Returns a handle for off(). An
    /// exception in a listener is logged (logger `tradewire`) and the others still run.
    /// The first listener takes the event stream: recv(), recv_batch() and iteration raise
    /// tradewire.Error from then on.
    fn on(&self, py: Python<'_>, kinds: &Bound<'_, PyAny>, listener: Py<PyAny>) -> PyResult<u64> {
        let kinds = listeners::kinds_of(kinds)?;
        listeners::add(py, &self.client, kinds, listener, Style::Event, &self.me)
    }

    /// Removes a listener by the handle on() returned; False if there is none (removed
    /// already, or by close()). Once it returns the listener is not running (unless off()
    /// is called from inside it) and is never called again.
    fn off(&self, py: Python<'_>, handle: u64) -> PyResult<bool> {
        let client = &self.client;
        // The GIL is released: a call of the listener in progress needs it to finish.
        detached(py, || client.off(tradewire::ListenerId::from_u64(handle)))
    }

    /// Stops calling listeners for `kinds` (a kind, a list of kinds; '*' or None: all), as
    /// document 004's clearEventListeners does: each listener loses those kinds, one left
    /// with none is removed. Returns how many were removed.
    #[pyo3(signature = (kinds=None))]
    fn clear_listeners(&self, py: Python<'_>, kinds: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
        let kinds = match kinds.filter(|k| !k.is_none()) {
            Some(k) => listeners::kinds_of(k)?,
            None => tradewire::KindSet::ALL,
        };
        let client = &self.client;
        // The GIL is released: a call of a listener in progress needs it to finish.
        detached(py, || client.clear_listeners(kinds))
    }

    /// The URL, with secrets redacted.
    #[getter]
    fn url(&self) -> &str {
        self.client.url()
    }

    /// The preset's name.
    #[getter]
    fn preset(&self) -> &'static str {
        self.preset
    }

    /// The configuration the client runs on, read-only (a mappingproxy over a fresh dict):
    /// every default applied, durations in seconds, document 004's names too
    /// (`rejectUnauthorized`, `connectTimeout` in ms); the URL redacted, and no token,
    /// credentials or headers.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let dict = json::to_py(py, &self.client.config().to_json().to_string())?;
        py.import(intern!(py, "types"))?
            .getattr(intern!(py, "MappingProxyType"))?
            .call1((dict,))
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        if !slf.get().started.load(Ordering::SeqCst) {
            PyClient::do_start(&slf)?;
        }
        Ok(slf)
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!(
            "<tradewire.Client url='{}' preset='{}' state='{}'>",
            self.client.url(),
            self.preset,
            self.client.status().state.name()
        )
    }
}

impl Drop for PyClient {
    fn drop(&mut self) {
        // Closing joins the I/O and callback threads; the callback thread may be waiting for
        // the GIL, which the thread running this destructor holds. Close elsewhere.
        let client = self.client.clone();
        let uncounted = self.uncounted.clone();
        let spawned = std::thread::Builder::new()
            .name("tradewire-close".into())
            .spawn(move || {
                client.close();
                if !uncounted.swap(true, Ordering::SeqCst) {
                    logging::client_closed();
                }
            });
        if spawned.is_err() {
            // No thread: do not join with the GIL held; the threads end on their own once
            // the client's last reference goes.
            log::warn!("tradewire: could not start a thread to close a dropped client");
        }
    }
}
