//! `subscribe`, `subscribe_request`, `unsubscribe`, `subscriptions`: the core's registry of
//! subscriptions replayed after every (re)connect, with Python values for messages.

use pyo3::prelude::*;
use tradewire::{Client, Subscription};

use crate::errors::core_call;
use crate::frames::{json_text, request_body};
use crate::json;

/// `subscribe(message, key=None, unsubscribe=None)`: message and unsubscribe are str, or a
/// dict or list sent as JSON text.
pub fn subscribe(
    py: Python<'_>,
    client: &Client,
    message: &Bound<'_, PyAny>,
    key: Option<String>,
    unsubscribe: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let mut s = Subscription::message(json_text(message, "subscribe() message")?);
    if let Some(k) = key {
        s = s.key(k);
    }
    if let Some(u) = unsubscribe.filter(|u| !u.is_none()) {
        s = s.unsubscribe(json_text(u, "subscribe() unsubscribe")?);
    }
    core_call(py, || client.subscribe(s))
}

/// `subscribe_request(endpoint, body=None, unsubscribe_endpoint=None, key=None)`.
pub fn subscribe_request(
    py: Python<'_>,
    client: &Client,
    endpoint: String,
    body: Option<&Bound<'_, PyAny>>,
    unsubscribe_endpoint: Option<String>,
    key: Option<String>,
) -> PyResult<String> {
    let body = request_body(body)?;
    let mut s = Subscription::request(endpoint, body.as_deref());
    if let Some(e) = unsubscribe_endpoint {
        s = s.unsubscribe_endpoint(e);
    }
    if let Some(k) = key {
        s = s.key(k);
    }
    core_call(py, || client.subscribe(s))
}

/// `subscriptions()`: the live set as a list of dicts.
pub fn list(py: Python<'_>, client: &Client) -> PyResult<Py<PyAny>> {
    let entries: Vec<_> = client.subscriptions().iter().map(|s| s.to_json()).collect();
    let text = serde_json::Value::Array(entries).to_string();
    Ok(json::to_py(py, &text)?.unbind())
}
