//! Stopping and starting again without closing: `disconnect()`, and connecting after it.

use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::RecvTimeoutError;

use super::{lock, Client, COMMAND_TIMEOUT};
use crate::engine::Command;
use crate::error::{Error, Result};
use crate::status::State;

impl Client {
    /// Closes the connection with `code` and `reason`, waits for the server's close (briefly,
    /// as `close()` does), and stops reconnecting; the client stays usable:
    /// [`Client::start`] or [`Client::resume`] (Python: `connect()`) connects again with the
    /// next epoch, and [`Client::reconnect`] does too.
    ///
    /// The `Disconnected` event says `by_client: true`, and `status().state` is
    /// [`State::Disconnected`] when this returns. Without a live connection (connecting,
    /// waiting to reconnect, gave up) it stops there, with no event (there was no connection
    /// to end). Codes are those an endpoint may send (1000–1003, 1007–1014, 3000–4999) and a
    /// reason is at most 123 bytes: anything else is a `Usage` error and nothing is closed.
    ///
    /// ```no_run
    /// # let client = tradewire::Client::connect(tradewire::Config::new("ws://localhost:8765"))?;
    /// client.disconnect(1000, "end of session")?;
    /// assert_eq!(client.status().state, tradewire::State::Disconnected);
    /// client.resume()?; // connects again
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn disconnect(&self, code: u16, reason: &str) -> Result<()> {
        crate::close_code::check_close(code, reason)?;
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        if lock(&self.thread).is_none() {
            return Err(Error::not_connected(
                "the client is not started, so there is nothing to disconnect".into(),
            ));
        }
        let (done, answer) = crossbeam_channel::bounded(1);
        self.command(Command::Disconnect {
            code,
            reason: reason.to_string(),
            done,
        })?;
        match self.await_reply(&answer, Instant::now() + COMMAND_TIMEOUT) {
            Ok(()) => Ok(()),
            Err(RecvTimeoutError::Disconnected) => Err(Error::closed()),
            Err(RecvTimeoutError::Timeout) => Err(Error::timeout(
                "the I/O thread did not take the disconnect request".into(),
            )),
        }
    }

    /// Connects if the client is not on its way to a connection: starts it if it was never
    /// started, connects again after [`Client::disconnect`] or `GaveUp`, and does nothing
    /// while it is connecting, logging in, live or waiting to reconnect. Returns at once
    /// (progress arrives as events). This is Python's `connect()`.
    pub fn resume(&self) -> Result<()> {
        self.start_or_connect(true)
    }

    /// `start()` on a client already started: connects again if it is stopped; otherwise a
    /// `Usage` error, or nothing (`quiet`, for `resume()`).
    pub(super) fn start_again(&self, quiet: bool) -> Result<()> {
        match self.counters.state() {
            State::Disconnected | State::GaveUp => self.reconnect(),
            _ if quiet => Ok(()),
            _ => Err(Error::usage(
                "the client is already started (start() connects again only after disconnect() or gave_up; resume() does nothing while it runs)".into(),
            )),
        }
    }
}
