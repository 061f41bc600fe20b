//! Taking events: `recv`, `recv_timeout`, `try_recv`, `recv_batch` and the stream itself
//! (`events`). With inline reads the waiting thread runs the live connection itself
//! (`engine::handoff`); every rule about waiting (never started, a listener registered, the end of
//! a stream) is decided here, once, for every binding.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::Client;
use crate::engine::Ran;
use crate::error::{Error, ErrorCategory, Result};
use crate::event::Event;
use crate::status::State;

impl Client {
    /// The current event stream. Every clone receives from the same queue (each event goes
    /// to one receiver). The stream ends, and iteration over it with it, once the queued
    /// events are taken after `close()`, or after a `GaveUp` event; `reconnect()` after
    /// `GaveUp` starts a new stream: call `events()` again to read it ([`Client::recv`] and
    /// the callback move to it by themselves).
    pub fn events(&self) -> Receiver<Event> {
        self.streams.current()
    }

    /// Waits for the next event; `Err(Closed)` once the stream has ended (after `close()`,
    /// or after `GaveUp` until `reconnect()`) and every queued event has been taken;
    /// `Err(Usage)` at once if the client was never started.
    ///
    /// Fails with `Usage` once a listener was registered ([`Client::on`],
    /// [`Client::set_callback`]: the listeners own the stream); so do
    /// [`Client::recv_timeout`], [`Client::try_recv`] and [`Client::recv_batch`].
    pub fn recv(&self) -> Result<Event> {
        self.check_no_callback()?;
        loop {
            if let Some(e) = self.recv_until(None)? {
                return Ok(e);
            }
        }
    }

    /// Waits up to `timeout` for the next event: `Ok(None)` on timeout, `Err(Closed)` once
    /// the stream has ended (after `close()`, or after `GaveUp` until `reconnect()`) and
    /// every queued event has been taken; `Err(Usage)` at once if the client was never started.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<Event>> {
        self.check_no_callback()?;
        self.recv_until(Instant::now().checked_add(timeout))
    }

    /// The next event if one is queued, `Err(Closed)` as [`Client::recv`]. Never waits and
    /// never reads the socket (under inline reads too: events queued by the I/O thread, or
    /// by a receiver's last read).
    pub fn try_recv(&self) -> Result<Option<Event>> {
        self.check_no_callback()?;
        self.take_or_arm().map_err(|e| self.ended(e))
    }

    /// [`Client::take`] for a take that does not wait: with the readiness fd on, empties it
    /// first, and arms it when nothing is queued (looking once more after arming, so that an
    /// event queued between the two looks is taken rather than announced to nobody).
    #[inline]
    pub(super) fn take_or_arm(&self) -> Result<Option<Event>> {
        let ready = &self.streams.ready;
        if !ready.is_enabled() {
            return self.take();
        }
        ready.drain();
        if let Some(e) = self.take()? {
            return Ok(Some(e));
        }
        ready.arm();
        self.take()
    }

    /// The next event if one is queued (a message held behind a lag event first), timed
    /// for `consumer_lag`.
    #[inline]
    pub(super) fn take(&self) -> Result<Option<Event>> {
        if let Some(e) = self.consumer.held() {
            return Ok(Some(e));
        }
        Ok(self.streams.try_recv()?.map(|e| self.consumer.taken(e)))
    }

    /// Waits up to `timeout` for one event (`None`: no limit; zero: do not wait, and do not
    /// read the socket), then takes the events already queued, up to `max` in all. An empty
    /// batch means the timeout expired (or `max` is 0); `Err(Closed)` as [`Client::recv`],
    /// once the stream has ended and every queued event has been taken; `Err(Usage)` at once
    /// if the client was never started (with a zero timeout too), or has listeners.
    ///
    /// One call per batch instead of one per event: the way to keep up with a fast feed.
    /// [`Client::recv_batch_with`] hands each event to a function instead of a new `Vec`.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use tradewire::{Client, Config, Event};
    ///
    /// let client = Client::connect(Config::new("ws://localhost:8765"))?;
    /// let batch = client.recv_batch(1024, Some(Duration::from_secs(1)))?;
    /// if batch.is_empty() {
    ///     log::info!("nothing for a second");
    /// }
    /// for event in batch {
    ///     if let Event::Message(m) = event {
    ///         log::info!("{:?}", m.msg_type());
    ///     }
    /// }
    /// client.close();
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn recv_batch(&self, max: usize, timeout: Option<Duration>) -> Result<Vec<Event>> {
        let mut batch = Vec::new();
        self.recv_batch_with(max, timeout, |e| {
            batch.push(e);
            ControlFlow::Continue(())
        })?;
        Ok(batch)
    }

    /// [`Client::recv_batch`], handing each event to `each` as it is taken (no allocation per
    /// batch); returns how many were handed over. `each` may stop the batch early with
    /// `ControlFlow::Break` (the event it was given counts as taken; the next stay queued).
    /// Nothing is taken before the checks pass, so on `Err` no event was handed over.
    pub fn recv_batch_with(
        &self,
        max: usize,
        timeout: Option<Duration>,
        mut each: impl FnMut(Event) -> ControlFlow<()>,
    ) -> Result<usize> {
        self.check_no_callback()?;
        if max == 0 {
            return Ok(0);
        }
        // A queued event is taken without reading the clock (a clock read per call is a
        // visible cost per event on a fast feed, docs/BENCHMARKS.md).
        let first = match self.take_or_arm().map_err(|e| self.ended(e))? {
            Some(e) => e,
            None => {
                let waited = match timeout {
                    Some(t) if t.is_zero() => {
                        self.check_started()?;
                        None
                    }
                    Some(t) => self.recv_until(Instant::now().checked_add(t))?,
                    None => Some(self.recv()?),
                };
                match waited {
                    Some(e) => e,
                    None => return Ok(0),
                }
            }
        };
        Ok(self.hand_over(first, max, &mut each))
    }

    /// Hands `first`, then the events queued behind it, to `each`: `max` at most, fewer if
    /// `each` breaks. Returns how many.
    #[inline]
    pub(super) fn hand_over(
        &self,
        first: Event,
        max: usize,
        each: &mut impl FnMut(Event) -> ControlFlow<()>,
    ) -> usize {
        let mut taken = 1;
        if each(first).is_break() {
            return taken;
        }
        while taken < max {
            let Ok(Some(e)) = self.take() else {
                break;
            };
            taken += 1;
            if each(e).is_break() {
                break;
            }
        }
        taken
    }

    /// For a binding that must run signal handlers while it waits (Python's Ctrl-C): waits
    /// as [`Client::recv_timeout`] until `until` (`None`: no limit), but returns `Ok(None)`
    /// early when a signal interrupted the wait, so that the caller can run its handlers and
    /// wait again. While this thread runs the connection (inline reads) it sleeps in the
    /// poller, which a signal interrupts: no periodic wake-up. While it waits on the queue
    /// instead (another thread runs the connection, none is live, or `inline_reads` is off),
    /// which a signal does not interrupt, it returns at least every `queue_slice`.
    #[doc(hidden)]
    pub fn recv_interruptible(
        &self,
        until: Option<Instant>,
        queue_slice: Duration,
    ) -> Result<Option<Event>> {
        self.check_no_callback()?;
        crate::transport::take_interrupted();
        self.wait_for_event(until, Some(queue_slice))
    }

    /// Waits until `until` (`None`: no limit) for the next event. A client that was never
    /// started (nor closed) would wait for ever: that is `Err(Usage)` saying to start it.
    fn recv_until(&self, until: Option<Instant>) -> Result<Option<Event>> {
        self.wait_for_event(until, None)
    }

    /// [`Client::recv_until`]; with `interruptible`, returns `Ok(None)` after a signal, and
    /// waits on the queue at most that long.
    fn wait_for_event(
        &self,
        until: Option<Instant>,
        interruptible: Option<Duration>,
    ) -> Result<Option<Event>> {
        self.check_started()?;
        if let Some(h) = &self.handoff {
            let rx = self.streams.current();
            loop {
                if let Some(e) = self.take().map_err(|e| self.ended(e))? {
                    return Ok(Some(e));
                }
                if until.is_some_and(|u| Instant::now() >= u) {
                    return Ok(None);
                }
                if h.run(until, true, &|| !rx.is_empty()) == Ran::Elsewhere {
                    // Another thread runs the connection, or none is live: wait for the
                    // next event (a connection that goes live announces itself with one).
                    break;
                }
                // Cleared whoever waits: a flag left set would end every later run at once.
                let signalled = crate::transport::take_interrupted();
                // A busy-polling run returns every few milliseconds: in between, an
                // interruptible receiver goes back to its binding, which runs the handlers
                // of signals that came while it spun (no system call was interrupted).
                let spun = !self.settings.busy_poll.is_zero();
                if (signalled || spun) && interruptible.is_some() {
                    return self.take().map_err(|e| self.ended(e));
                }
            }
        }
        if let Some(e) = self.consumer.held() {
            return Ok(Some(e));
        }
        let until = match interruptible {
            Some(slice) => {
                let end = Instant::now().checked_add(slice);
                match (until, end) {
                    (Some(u), Some(e)) => Some(u.min(e)),
                    (u, e) => u.or(e),
                }
            }
            None => until,
        };
        let taken = self.streams.recv_until(until).map_err(|e| self.ended(e))?;
        Ok(taken.map(|e| self.consumer.taken(e)))
    }

    /// The end of the stream, worded for the end it is (after `close()`, or after `GaveUp`):
    /// the one wording of every binding. Other errors pass unchanged.
    pub(super) fn ended(&self, e: Error) -> Error {
        if e.kind() != ErrorCategory::Closed {
            return e;
        }
        Error::stream_ended(self.counters.state() == State::GaveUp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Preset};

    #[test]
    fn waiting_on_a_client_never_started_says_to_start_it() {
        let client = Client::new(Config::for_preset(Preset::Daemon)).unwrap();
        for result in [
            client.recv_timeout(Duration::from_secs(3600)).map(|_| ()),
            client.recv().map(|_| ()),
        ] {
            let Err(e) = result else {
                panic!("expected a usage error, got {result:?}")
            };
            assert_eq!(e.kind(), ErrorCategory::Usage, "{e:?}");
            let message = e.to_string();
            assert!(message.contains("start()"), "{message}");
            assert!(message.contains("`with`"), "{message}");
        }
        // Closed without ever starting: the stream has ended, as after any close.
        client.close();
        let ended = client.recv().unwrap_err();
        assert_eq!(ended.kind(), ErrorCategory::Closed);
        assert_eq!(
            ended.to_string(),
            "the client is closed and every event has been received"
        );
    }

    /// A client that is never started (no server needed): what the `recv` family decides
    /// before any event exists.
    fn idle_client() -> Client {
        Client::new(Config::new("ws://127.0.0.1:9")).expect("a valid configuration")
    }

    #[test]
    fn a_batch_on_a_client_never_started_says_to_start_it_whatever_the_timeout() {
        let c = idle_client();
        for timeout in [Some(Duration::ZERO), Some(Duration::from_secs(3600)), None] {
            let e = c.recv_batch(16, timeout).unwrap_err();
            assert_eq!(e.kind(), ErrorCategory::Usage, "{e:?}");
            let message = e.to_string();
            assert!(message.contains("start()"), "{message}");
        }
        // Nothing asked for, nothing to refuse.
        assert!(c.recv_batch(0, None).unwrap().is_empty());
    }

    #[test]
    fn after_close_a_batch_is_closed() {
        let c = idle_client();
        c.close();
        for timeout in [None, Some(Duration::ZERO)] {
            let e = c.recv_batch(16, timeout).unwrap_err();
            assert_eq!(e, Error::stream_ended(false));
        }
    }

    #[test]
    fn with_a_callback_every_recv_is_a_usage_error_that_says_why() {
        let c = idle_client();
        assert!(matches!(c.try_recv(), Ok(None)));
        c.set_callback(|_| {}).unwrap();
        let errors = [
            c.recv().map(|_| ()).unwrap_err(),
            c.recv_timeout(Duration::ZERO).map(|_| ()).unwrap_err(),
            c.try_recv().map(|_| ()).unwrap_err(),
            c.recv_batch(16, Some(Duration::ZERO))
                .map(|_| ())
                .unwrap_err(),
        ];
        for e in errors {
            assert_eq!(e.kind(), ErrorCategory::Usage, "{e:?}");
            assert!(e.to_string().contains("callback"), "{e}");
        }
        // After close too: the callback, not a reader, owned the stream.
        c.close();
        assert!(matches!(c.try_recv(), Err(e) if e.kind() == ErrorCategory::Usage));
    }
}
