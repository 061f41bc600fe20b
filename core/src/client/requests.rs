//! Requests without waiting (`send_request`, `send_request_with_id`), and the checks every
//! request passes first.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::{lock, Client, COMMAND_TIMEOUT};
use crate::engine::Command;
use crate::error::{Error, Result};

impl Client {
    /// Sends a request and waits for its response (presets with request/response
    /// correlation: tradovate). Returns the response payload (`d`) as JSON text.
    ///
    /// Fails at once with `NotConnected` when not logged in; with `Request` when the server
    /// answers with an error status, or when the connection drops before the response (the
    /// outcome is then unknown: check before retrying); with `Timeout` when no response comes
    /// within `timeout` (a late response is delivered as a `Response` event). A request is
    /// never re-sent after a reconnect.
    ///
    /// ```no_run
    /// # let client = tradewire::Client::new(tradewire::Config::for_preset(tradewire::Preset::Tradovate).token("t")).unwrap();
    /// let accounts = client.request("account/list", None, std::time::Duration::from_secs(5))?;
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn request(&self, endpoint: &str, body: Option<&str>, timeout: Duration) -> Result<String> {
        self.check_request(endpoint)?;
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.command(Command::Request {
            endpoint: endpoint.to_string(),
            body: body.map(String::from),
            timeout,
            reply,
        })?;
        self.ask(
            answer,
            timeout,
            &format!("no response to {endpoint}"),
            "a Response event",
        )
    }

    /// Sends a request without waiting for its response (presets with request/response
    /// correlation: tradovate) and returns its id; the response arrives as an
    /// [`Event::Response`](crate::Event::Response) carrying that id, in order with the other
    /// events. Ids are never reused by a client. Fails as [`Client::request`] does before
    /// sending (`Usage` on other presets or a bad endpoint, `NotConnected` when not logged in).
    ///
    /// ```no_run
    /// # let client = tradewire::Client::connect(tradewire::Config::for_preset(tradewire::Preset::Tradovate).token("t"))?;
    /// let id = client.send_request("account/list", None)?;
    /// for event in client.events().iter() {
    ///     if let tradewire::Event::Response { id: got, data, .. } = event {
    ///         if got == id {
    ///             log::info!("{}", data.unwrap_or_default());
    ///             break;
    ///         }
    ///     }
    /// }
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn send_request(&self, endpoint: &str, body: Option<&str>) -> Result<u64> {
        self.send_request_as(endpoint, body, None)
    }

    /// [`Client::send_request`] with the caller's id, as reference document 000's
    /// `send(endpoint, body, requestId)`: the response arrives as an
    /// [`Event::Response`](crate::Event::Response) carrying `id`. Ids the client chooses
    /// itself stay above every id used, so they never meet a caller's. Fails with `Usage`
    /// when `id` is 0 (the login's) or a request with this id still waits for its response
    /// on this connection, and otherwise as [`Client::send_request`].
    ///
    /// ```no_run
    /// # let client = tradewire::Client::connect(tradewire::Config::for_preset(tradewire::Preset::Tradovate).token("t"))?;
    /// client.send_request_with_id("account/list", None, 1000)?;
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn send_request_with_id(&self, endpoint: &str, body: Option<&str>, id: u64) -> Result<u64> {
        self.send_request_as(endpoint, body, Some(id))
    }

    /// Sends a request with the caller's id, or the next one; its id.
    fn send_request_as(&self, endpoint: &str, body: Option<&str>, id: Option<u64>) -> Result<u64> {
        self.check_request(endpoint)?;
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.command(Command::SendRequest {
            endpoint: endpoint.to_string(),
            body: body.map(String::from),
            id,
            reply,
        })?;
        match self.await_reply(&answer, Instant::now() + COMMAND_TIMEOUT) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => Err(Error::timeout(
                "the I/O thread did not take the request".into(),
            )),
            Err(RecvTimeoutError::Disconnected) => Err(Error::closed()),
        }
    }

    /// Sends a JSON request and waits for its answer, on every preset but tradovate (which
    /// correlates its own way: [`Client::request`]). `message` is a JSON object; its
    /// `request_id_field` member (`id` by default; document 004's clients use `requestId`)
    /// carries the id: the caller's if it has one, otherwise a fresh one written in. The
    /// message from the server that carries the same id is the answer: returned here (its
    /// whole text), not delivered as an event.
    ///
    /// Fails with `Usage` when `message` is not a JSON object or its id already waits,
    /// `NotConnected` when not live, `Timeout` when no answer came in time (a late answer
    /// is delivered as a message), and `Request` when the connection drops first (the
    /// outcome is then unknown).
    ///
    /// ```no_run
    /// # let client = tradewire::Client::connect(tradewire::Config::new("ws://localhost:9000"))?;
    /// let answer = client.request_json(r#"{"method":"positions"}"#, std::time::Duration::from_secs(5))?;
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn request_json(&self, message: &str, timeout: Duration) -> Result<String> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        if self.correlates_by_endpoint() {
            return Err(Error::usage(
                "the tradovate preset correlates requests by endpoint: use request(endpoint, body)"
                    .into(),
            ));
        }
        if lock(&self.thread).is_none() {
            return Err(Error::not_connected(
                "the client is not started; call start() first".into(),
            ));
        }
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.command(Command::RequestJson {
            message: message.to_string(),
            timeout,
            reply,
        })?;
        self.ask(answer, timeout, "no answer to the request", "a message")
    }

    /// Waits for a request's answer until `timeout` (and a margin for the I/O thread).
    /// `what` starts the timeout's message, `late` says what a late answer becomes.
    fn ask(
        &self,
        answer: Receiver<Result<String>>,
        timeout: Duration,
        what: &str,
        late: &str,
    ) -> Result<String> {
        let deadline = Instant::now() + timeout + Duration::from_millis(50);
        match self.await_reply(&answer, deadline) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                Err(Error::timeout(format!(
                    "{what} within {:.1} s: the outcome is unknown (a late answer arrives as {late})",
                    timeout.as_secs_f64()
                )))
            }
        }
    }

    /// Whether requests name an endpoint ([`Client::request`], tradovate) rather than carry
    /// an id in a JSON object ([`Client::request_json`], every other preset).
    pub fn correlates_by_endpoint(&self) -> bool {
        self.settings.preset == crate::preset::Preset::Tradovate
    }

    /// What every request must pass before it is sent: an open client, a preset with
    /// requests, an endpoint that fits the frame, a started client.
    pub(super) fn check_request(&self, endpoint: &str) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        if !self.correlates_by_endpoint() {
            return Err(Error::usage(format!(
                "request(endpoint, body) is tradovate's; this client uses the {} preset: use request_json(message) (its answer carries the same id)",
                self.settings.preset.name()
            )));
        }
        if endpoint.is_empty() || endpoint.contains('\n') {
            return Err(Error::usage(format!(
                "{endpoint:?} is not a valid endpoint (expected something like \"account/list\")"
            )));
        }
        if lock(&self.thread).is_none() {
            return Err(Error::not_connected(
                "the client is not started; call start() first".into(),
            ));
        }
        Ok(())
    }
}
