//! `subscribe`, `unsubscribe`, `subscriptions`: the live set of subscriptions, replayed
//! after every (re)connect and login (see `crate::subscriptions` for the rules).

use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::RecvTimeoutError;

use super::{lock, Client, COMMAND_TIMEOUT};
use crate::engine::Command;
use crate::error::{Error, Result};
use crate::subscriptions::{Subscribed, Subscription, Wire};

impl Client {
    /// Records a subscription under its key and returns the key. It is sent now if the
    /// connection is live, and again after every later (re)connect and login, in the order
    /// subscriptions were made, after the `on_connect` messages (tradovate: after the login,
    /// `user/syncrequest` and `on_connect`). The first application message of a new
    /// connection goes out only after all of them.
    ///
    /// The key defaults to the message text. Subscribing a key again replaces its entry in
    /// place: with the same message nothing is sent again; with another message the new one
    /// is sent (the old one's unsubscribe message is not: call [`Client::unsubscribe`]
    /// first for that). A subscription made while the client is connecting, backing off or
    /// disconnected reaches the next connection once. Unlike [`Client::send_text`], which is
    /// never replayed, this is the one way to have a message sent again after a reconnect.
    ///
    /// Works before `start()` (sent on the first connection). Fails with `Closed` after
    /// `close()`, `Usage` for a request on a preset other than tradovate, and with the
    /// write's error when the live connection could not take the message (larger than
    /// `max_write_buffer`, or the server does not read; the entry stays recorded and is sent
    /// again after the next reconnect). A connection that breaks while sending is no
    /// failure: the next connection's replay carries the subscription.
    ///
    /// ```no_run
    /// use tradewire::{Client, Config, Preset, Subscription};
    ///
    /// let client = Client::connect(Config::for_preset(Preset::Agent).token("jwt"))?;
    /// client.subscribe(
    ///     Subscription::message(r#"{"type":"subscribe","agentId":"a1"}"#)
    ///         .key("a1")
    ///         .unsubscribe(r#"{"type":"unsubscribe","agentId":"a1"}"#),
    /// )?;
    /// client.subscribe(r#"{"type":"subscribe","channel":"alerts"}"#)?;
    /// client.unsubscribe("a1")?;
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn subscribe(&self, subscription: impl Into<Subscription>) -> Result<String> {
        let subscription = subscription.into();
        self.check_subscription(&subscription)?;
        let key = {
            let mut registry = lock(&self.subscriptions);
            let key = registry.add(subscription);
            self.counters
                .subscriptions
                .store(registry.len() as u64, Ordering::Relaxed);
            key
        };
        self.apply_subscriptions()?;
        Ok(key)
    }

    /// Forgets the subscription with this key (it is not replayed any more) and, if it was
    /// given an unsubscribe message and the live connection had it, sends that message now.
    /// `Ok(false)` when no subscription had the key. Fails with `Closed` after `close()`.
    pub fn unsubscribe(&self, key: &str) -> Result<bool> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        let removed = {
            let mut registry = lock(&self.subscriptions);
            let removed = registry.remove(key);
            self.counters
                .subscriptions
                .store(registry.len() as u64, Ordering::Relaxed);
            removed
        };
        if removed {
            self.apply_subscriptions()?;
        }
        Ok(removed)
    }

    /// The live set of subscriptions, in the order they are replayed.
    pub fn subscriptions(&self) -> Vec<Subscribed> {
        lock(&self.subscriptions).list()
    }

    /// What every subscription must pass: an open client; requests only where requests are.
    fn check_subscription(&self, s: &Subscription) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        if s.has_request() && !self.correlates_by_endpoint() {
            return Err(Error::usage(format!(
                "subscription requests (endpoint, body) are tradovate's; this client uses the {} preset: subscribe with a message instead",
                self.settings.preset.name()
            )));
        }
        for w in [Some(s.wire()), s.unsubscribe_wire()].into_iter().flatten() {
            if let Wire::Request { endpoint, .. } = w {
                if endpoint.is_empty() || endpoint.contains('\n') {
                    return Err(Error::usage(format!(
                        "{endpoint:?} is not a valid endpoint (expected something like \"md/subscribeQuote\")"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Has the thread that runs the connection send what the registry queued for it, and
    /// waits until it has (nothing to wait for before `start()`).
    fn apply_subscriptions(&self) -> Result<()> {
        if lock(&self.thread).is_none() {
            return Ok(());
        }
        let (done, answer) = crossbeam_channel::bounded(1);
        self.command(Command::Subscriptions { done })?;
        match self.await_reply(&answer, Instant::now() + COMMAND_TIMEOUT) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => Err(Error::timeout(
                "the I/O thread did not take the subscription".into(),
            )),
            // Closed meanwhile: nothing more will be sent.
            Err(RecvTimeoutError::Disconnected) => Ok(()),
        }
    }

    /// `close()`: the registry ends with the client.
    pub(super) fn forget_subscriptions(&self) {
        lock(&self.subscriptions).clear();
        self.counters.subscriptions.store(0, Ordering::Relaxed);
    }
}
