//! Requests without waiting (`send_request`), and the checks every request passes first.

use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::RecvTimeoutError;

use super::{lock, Client, COMMAND_TIMEOUT};
use crate::engine::Command;
use crate::error::{Error, Result};

impl Client {
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
    ///             println!("{}", data.unwrap_or_default());
    ///             break;
    ///         }
    ///     }
    /// }
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn send_request(&self, endpoint: &str, body: Option<&str>) -> Result<u64> {
        self.check_request(endpoint)?;
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.command(Command::SendRequest {
            endpoint: endpoint.to_string(),
            body: body.map(String::from),
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

    /// What every request must pass before it is sent: an open client, a preset with
    /// requests, an endpoint that fits the frame, a started client.
    pub(super) fn check_request(&self, endpoint: &str) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        if self.settings.preset != crate::preset::Preset::Tradovate {
            return Err(Error::usage(format!(
                "request() needs a preset with request/response correlation (tradovate); this client uses the {} preset: use send_text() instead",
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
