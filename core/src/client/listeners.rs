//! Listening to a client: [`Client::on`], [`Client::off`], [`Client::set_callback`], and the
//! one rule between listeners and the `recv` family, decided here for every binding.
//!
//! **The rule.** A client's events go either to the application's reads or to its
//! listeners, never to both. The first listener registered (`on`, or `set_callback`; in
//! Python also an `on_open=`/`on_message=`/`on_error=`/`on_close=` argument; in C
//! `tw_client_add_listener` or `tw_client_set_callback`) hands the event stream to the
//! callback thread for the rest of the client's life: from then on `recv`, `recv_timeout`,
//! `try_recv` and `recv_batch` fail at once with `Usage` (Python: `tradewire.Error`; C:
//! `TW_ERR_USAGE`), even after every listener is removed and after `close()`. The callback
//! thread takes every event; an event whose kind no listener asked for is passed over (it
//! is counted as delivered, as the application chose not to listen to it). A read already
//! waiting when the first listener is registered may still return one event.

use std::sync::atomic::Ordering;

use super::kinds::KindSet;
use super::registry::{Handler, ListenerId};
use super::{lock, Client};
use crate::error::{Error, Result};
use crate::event::Event;

impl Client {
    /// Calls `listener` for each event of the given kinds, on the client's callback thread
    /// (`tradewire-cb`), in event order; returns its id for [`Client::off`].
    ///
    /// Several listeners may coexist: each event goes to every listener that asked for its
    /// kind, one after the other in registration order. A listener that panics is logged
    /// (`log` crate, target `tradewire`) and the others still run. Listeners may be added
    /// before or after `start()`, from any thread, including from inside a listener (it is
    /// called from the next event on). After `close()` returns no listener is called again;
    /// `close()` waits for a call in progress (so a listener must not block forever).
    ///
    /// Registering the first listener hands the event stream to the listeners: the `recv`
    /// family then fails with `Usage` (the rule in full is in the README, "Listeners").
    /// `kinds` is a [`Kind`](crate::Kind), an array or slice of them, or a [`KindSet`]
    /// (`KindSet::ALL` for every kind); an empty set is a `Usage` error, and so is any
    /// registration after `close()` (`Closed`).
    ///
    /// ```no_run
    /// use tradewire::{Client, Config, Event, Kind, KindSet};
    ///
    /// let client = Client::new(Config::new("ws://localhost:8765"))?;
    /// let lifecycle = client.on([Kind::Connected, Kind::Disconnected], |e: &Event| {
    ///     log::info!("{}", e.kind())
    /// })?;
    /// client.on(Kind::Message, |e: &Event| {
    ///     if let Some(m) = e.as_message() {
    ///         log::info!("{:?}", m.msg_type());
    ///     }
    /// })?;
    /// client.start()?;
    /// // ...
    /// client.off(lifecycle);
    /// client.close();
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn on(
        &self,
        kinds: impl Into<KindSet>,
        listener: impl FnMut(&Event) + Send + 'static,
    ) -> Result<ListenerId> {
        self.listen(kinds.into(), Handler::Borrowed(Box::new(listener)))
    }

    /// Removes a listener registered by [`Client::on`]; returns false if there is none with
    /// this id (already removed, or removed by `close()`).
    ///
    /// Once it returns the listener is never called again, and no call of it is running;
    /// except when called from inside that very listener: then the call in progress (the
    /// caller) finishes, and nothing more. Waiting for a call in progress means a thread
    /// must not remove a listener while holding something that listener waits for.
    /// Removing the last listener does not give the stream back to the `recv` family.
    pub fn off(&self, id: ListenerId) -> bool {
        self.listeners.remove(id)
    }

    /// Stops calling listeners for `kinds` ([`KindSet::ALL`]: every listener), as document
    /// 004's `clearEventListeners(type?)` does: each listener loses those kinds, and one left
    /// with none is removed (as by [`Client::off`]: once this returns it is not called again,
    /// nor running, unless this runs inside it). Returns how many listeners were removed.
    /// The stream stays with the listeners (the `recv` family stays refused).
    pub fn clear_listeners(&self, kinds: impl Into<KindSet>) -> usize {
        self.listeners.clear_kinds(kinds.into())
    }

    /// Delivers every event to `callback` on the callback thread (`tradewire-cb`): a
    /// listener for every kind that takes each event by value, and may be set once, before
    /// or after `start()`. As for any listener ([`Client::on`]), the `recv` family then
    /// fails with `Usage` (the callback receives every event; a reader would take some of
    /// them from it). A callback that panics is logged and the stream goes on. After
    /// `close()` returns the callback is not called again; `close()` waits for a call in
    /// progress to return (so a callback must not block forever).
    ///
    /// ```no_run
    /// # let client = tradewire::Client::new(tradewire::Config::new("ws://localhost:8765")).unwrap();
    /// client.set_callback(|event| log::info!("{}", event.kind()))?;
    /// client.start()?;
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn set_callback(&self, callback: impl FnMut(Event) + Send + 'static) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        if self.callback_set.swap(true, Ordering::SeqCst) {
            return Err(Error::usage(
                "a callback is already set for this client (add more listeners with on())".into(),
            ));
        }
        self.listen(KindSet::ALL, Handler::Owned(Box::new(callback)))
            .map(|_| ())
            .inspect_err(|_| self.callback_set.store(false, Ordering::SeqCst))
    }

    /// Registers a listener, starting the callback thread with the first one.
    fn listen(&self, kinds: KindSet, handler: Handler) -> Result<ListenerId> {
        if kinds.is_empty() {
            return Err(Error::usage(
                "a listener needs at least one kind of event (\"*\" or KindSet::ALL: every kind)"
                    .into(),
            ));
        }
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        let mut thread = lock(&self.callback);
        if thread.is_none() {
            *thread = Some(self.spawn_callback_thread()?);
        }
        let id = self.listeners.add(kinds, handler);
        self.has_callback.store(true, Ordering::SeqCst);
        drop(thread);
        // A close() that ran meanwhile has cleared the listeners already: this one goes too.
        if self.closed.load(Ordering::SeqCst) {
            self.listeners.remove(id);
            super::join_unless_current(lock(&self.callback).take());
            return Err(Error::closed());
        }
        Ok(id)
    }

    /// The callback thread: takes each event of the current stream and hands it to the
    /// listeners; after `GaveUp` waits for `reconnect()` (or `close()`).
    fn spawn_callback_thread(&self) -> Result<std::thread::JoinHandle<()>> {
        let streams = self.streams.clone();
        let stopping = self.stopping.clone();
        let listeners = self.listeners.clone();
        let consumer = self.consumer.clone();
        std::thread::Builder::new()
            .name("tradewire-cb".into())
            .spawn(move || {
                listeners.set_thread();
                let mut snapshot = listeners.snapshot();
                let stop = || stopping.load(Ordering::SeqCst);
                loop {
                    for event in streams.current().iter() {
                        if stop() {
                            return;
                        }
                        listeners.dispatch(&mut snapshot, consumer.taken(event), &stop);
                        if let Some(held) = consumer.held() {
                            listeners.dispatch(&mut snapshot, held, &stop);
                        }
                    }
                    if stop() || !streams.wait_next() {
                        return;
                    }
                }
            })
            .map_err(|e| Error::io(format!("could not start the callback thread: {e}")))
    }

    /// The rule between listeners and the `recv` family (module documentation): once a
    /// listener was registered, reading is a usage error (it would take events from them).
    pub(super) fn check_no_callback(&self) -> Result<()> {
        if self.has_callback.load(Ordering::Acquire) {
            return Err(Error::usage(
                "this client has listeners (a callback, on(), or on_* arguments), which receive every event; do not also read events (recv, try_recv, recv_batch)".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Client, Config, ErrorCategory, Kind, KindSet};

    /// The message of a usage error (panics on anything else).
    fn usage_message<T: std::fmt::Debug>(r: crate::Result<T>) -> String {
        match r {
            Err(e) if e.kind() == ErrorCategory::Usage => e.to_string(),
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    fn idle_client() -> Client {
        Client::new(Config::new("ws://127.0.0.1:9")).expect("a valid configuration")
    }

    #[test]
    fn a_listener_for_no_kind_is_refused_and_changes_nothing() {
        let c = idle_client();
        let m = usage_message(c.on(KindSet::EMPTY, |_| {}));
        assert!(m.contains("at least one kind"), "{m}");
        assert!(c.try_recv().is_ok(), "reading is still allowed");
    }

    #[test]
    fn the_first_listener_takes_the_stream_for_good() {
        let c = idle_client();
        assert!(matches!(c.try_recv(), Ok(None)));
        let id = c.on(Kind::Message, |_| {}).unwrap();
        let m = usage_message(c.try_recv());
        assert!(m.contains("listeners") && m.contains("callback"), "{m}");
        assert!(c.off(id));
        assert!(!c.off(id));
        assert!(
            c.try_recv()
                .is_err_and(|e| e.kind() == ErrorCategory::Usage),
            "still refused once every listener is gone"
        );
    }

    #[test]
    fn set_callback_is_once_and_coexists_with_listeners() {
        let c = idle_client();
        c.on(Kind::Connected, |_| {}).unwrap();
        c.set_callback(|_| {}).unwrap();
        let m = usage_message(c.set_callback(|_| {}));
        assert!(m.contains("already set"), "{m}");
        c.on([Kind::Error, Kind::GaveUp], |_| {}).unwrap();
    }

    #[test]
    fn after_close_registration_is_closed_and_listeners_are_gone() {
        let c = idle_client();
        let id = c.on(KindSet::ALL, |_| {}).unwrap();
        c.close();
        assert!(!c.off(id), "close() removed it");
        assert!(c
            .on(Kind::Message, |_| {})
            .is_err_and(|e| e.kind() == ErrorCategory::Closed));
        assert!(c
            .set_callback(|_| {})
            .is_err_and(|e| e.kind() == ErrorCategory::Closed));
    }
}
