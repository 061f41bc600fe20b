//! Subscriptions on the wire: the replay on each new connection, the changes made while it
//! is live, and the answers to Tradovate subscription requests. The registry itself (what
//! to send, and when a frame is due) is `crate::subscriptions`; this file only writes what
//! it says, on the thread that runs the connection.

use std::sync::MutexGuard;

use super::session::write;
use super::*;
use crate::subscriptions::{refusal, Subscriptions, Wire};

impl Engine {
    fn registry(&self) -> MutexGuard<'_, Subscriptions> {
        self.subscriptions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends every subscription on the new connection, in the order they were made: after
    /// the on-connect messages (and the login and sync request), before the connection is
    /// reported live, so no application message goes out before them.
    pub(super) fn replay_subscriptions(
        &mut self,
        ws: &mut WebSocket<Metered>,
        want_write: &mut bool,
    ) -> std::result::Result<(), End> {
        let wires = self.registry().replay(self.epoch);
        if wires.is_empty() {
            return Ok(());
        }
        self.counters
            .subscriptions_replayed
            .fetch_add(wires.len() as u64, Ordering::Relaxed);
        tw_debug!(
            "tradewire: sending {} subscription(s) on connection {}",
            wires.len(),
            self.epoch
        );
        match self.write_subscriptions(ws, want_write, &wires) {
            Err((e, true)) => Err(End::Broken(format!(
                "could not send the subscriptions: {e}"
            ))),
            Err((e, false)) => {
                tw_warn!("tradewire: a subscription was not sent: {e}");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    /// While live: sends what `subscribe`/`unsubscribe` queued for this connection. The
    /// error's flag says whether the connection broke.
    pub(super) fn subscription_changes(
        &mut self,
        ws: &mut WebSocket<Metered>,
        want_write: &mut bool,
        live: bool,
    ) -> std::result::Result<(), (Error, bool)> {
        if !live {
            // Logging in: the replay after the login carries the change.
            return Ok(());
        }
        let wires = self.registry().changes(self.epoch);
        self.write_subscriptions(ws, want_write, &wires)
    }

    /// Writes subscription frames in order; the first error (at once when the connection
    /// broke).
    fn write_subscriptions(
        &mut self,
        ws: &mut WebSocket<Metered>,
        want_write: &mut bool,
        wires: &[Wire],
    ) -> std::result::Result<(), (Error, bool)> {
        let mut first = Ok(());
        for wire in wires {
            let Some(framed) = self.dialect.subscription_frame(wire, &mut self.next_id) else {
                tw_warn!(
                    "tradewire: a subscription request cannot be sent on the {} preset; skipped",
                    self.s.preset.name()
                );
                continue;
            };
            if let Some((id, endpoint)) = framed.request {
                // Unanswered: a caller may not choose this id for a request of its own.
                self.unanswered.insert(id);
                self.subscription_requests.insert(id, endpoint);
            }
            match write(ws, Outgoing::Text(framed.text), want_write) {
                Ok(()) => {}
                Err((e, true)) => return Err((e, true)),
                Err(failed) => {
                    if first.is_ok() {
                        first = Err(failed);
                    }
                }
            }
        }
        first
    }

    /// The answer to a Tradovate subscription request: checked, a refusal reported as an
    /// `Error` event of kind `subscription_failed` naming the endpoint (not retried), and in
    /// no case delivered as a response. `false` when `id` is not a subscription request.
    pub(super) fn subscription_answer(&mut self, id: u64, status: u16, data: Option<&str>) -> bool {
        let Some(endpoint) = self.subscription_requests.remove(&id) else {
            return false;
        };
        if let Some(why) = refusal(status, data) {
            let message = format!(
                "the server refused the subscription request to {endpoint} (request {id}, {}); it is not retried on this connection, and is sent again after the next reconnect unless unsubscribed",
                crate::redact::untrusted(&why, SERVER_TEXT_LIMIT)
            );
            tw_warn!("tradewire: {message}");
            self.emit_error(ErrorKind::SubscriptionFailed, &message);
        }
        true
    }

    /// The connection ended: nothing more is queued for it, and no answer is awaited.
    pub(super) fn subscriptions_ended(&mut self) {
        self.registry().ended();
        self.subscription_requests.clear();
    }
}
