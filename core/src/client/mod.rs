//! `Client`: the handle an application holds. Every method works from any thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use crate::backoff::Jitter;
use crate::config::{Config, Settings};
use crate::delivery::Delivery;
use crate::engine::{Command, Engine, Handoff, Outgoing, Ran};
use crate::error::{Error, Result};
use crate::event::Message;
use crate::history::History;
use crate::status::{Counters, State, Status};
use crate::streams::Streams;
use crate::transport::connect::tls_connector;
use crate::transport::{Poller, Reactor};
use crate::url::Scheme;

mod consumer;
mod event_loop;
mod kinds;
mod lifecycle;
mod listeners;
mod receive;
mod registry;
mod requests;
mod subscribe;
mod wait_live;

pub use event_loop::LoopBatch;
pub use kinds::{Kind, KindSet};
pub use registry::ListenerId;

/// How long a caller waits for the I/O thread to take a command. The I/O thread never blocks,
/// so this only fires if something is badly wrong.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Under inline reads, how often a thread waiting for a reply looks whether it should run
/// the connection itself (the receiver that ran it went away).
const REPLY_SLICE: Duration = Duration::from_millis(5);

/// A connection to a trading event stream that stays up by itself.
///
/// `start()` spawns one I/O thread and returns at once; events arrive on [`Client::events`]
/// (or [`Client::recv_timeout`]). `close()` stops everything, joins the thread, and returns
/// promptly; it is also called on drop.
///
/// ```no_run
/// use std::time::Duration;
/// use tradewire::{Client, Config, Event, Preset};
///
/// let client = Client::new(Config::for_preset(Preset::Daemon).account_id(123))?;
/// client.start()?;
/// while let Some(event) = client.recv_timeout(Duration::from_secs(1))? {
///     match event {
///         Event::Message(m) => log::info!("{:?}: {}", m.msg_type(), m.data_json().unwrap_or("")),
///         other => log::warn!("{other:?}"),
///     }
/// }
/// client.close();
/// # Ok::<(), tradewire::Error>(())
/// ```
pub struct Client {
    settings: Arc<Settings>,
    counters: Arc<Counters>,
    history: Arc<History>,
    /// The event streams: the current one, and the next after `reconnect()` following `GaveUp`.
    streams: Arc<Streams>,
    commands: Sender<Command>,
    poller: Arc<Poller>,
    /// Inline reads: the live connection, lent to threads waiting in `recv`.
    handoff: Option<Arc<Handoff>>,
    engine: Mutex<Option<Engine>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The callback thread, started by the first listener.
    callback: Mutex<Option<JoinHandle<()>>>,
    /// The listeners (`on`, `set_callback`), called on the callback thread.
    listeners: Arc<registry::Listeners>,
    /// Set by the first listener: from then on the listeners own the event stream, so the
    /// `recv` family refuses to take any event (one atomic load on the hot path, not a lock).
    has_callback: AtomicBool,
    /// Set by `set_callback`, which may be called once.
    callback_set: AtomicBool,
    closed: AtomicBool,
    /// Set by `start()`: waiting for events on a client never started is a usage error.
    started: AtomicBool,
    /// Set when `close()` begins: the callback thread stops calling the callback.
    stopping: Arc<AtomicBool>,
    /// The subscriptions replayed on every connection (`subscribe`), shared with the engine.
    subscriptions: Arc<Mutex<crate::subscriptions::Subscriptions>>,
    /// Times the messages taken (`consumer_lag`) and puts lag events before them.
    consumer: Arc<consumer::Consumer>,
}

/// The error of waiting for events on a client that was never started.
pub(crate) const NOT_STARTED: &str = "the client was never started, so no event will come: \
call start() first (Client::connect in Rust, tw_client_start in C; in Python, or use the \
client in a `with` block)";

impl Client {
    /// Creates a client from a configuration. Checks the configuration (every problem at
    /// once) but does not connect: call [`Client::start`].
    pub fn new(config: Config) -> Result<Client> {
        let settings = Arc::new(config.resolve()?);
        let counters = Arc::new(Counters::default());
        let history = Arc::new(History::new(settings.history));
        let poller =
            Arc::new(Poller::new().map_err(|e| {
                Error::io(format!("could not create a poller: {e}")).with_source(e)
            })?);
        let tls = match settings.endpoint.scheme {
            Scheme::Wss => Some(tls_connector(settings.verify_tls)?),
            Scheme::Ws => None,
        };
        let (delivery, streams) =
            Delivery::new(settings.queue_capacity, settings.overflow, counters.clone());
        let (commands, cmd_rx) = crossbeam_channel::unbounded();
        let salt = Arc::as_ptr(&counters) as u64;
        let handoff = settings
            .inline_reads
            .then(|| Arc::new(Handoff::new(poller.clone())));
        let subscriptions = Arc::default();
        let engine = Engine {
            s: settings.clone(),
            reactor: Reactor::new(poller.clone()),
            cmds: cmd_rx,
            delivery,
            counters: counters.clone(),
            history: history.clone(),
            tls,
            jitter: Jitter::seeded(salt),
            dialect: crate::engine::dialect_for(&settings),
            epoch: 0,
            attempt: 0,
            next_id: 1,
            login: crate::engine::login_for(&settings, &counters, &poller),
            pending: std::collections::HashMap::new(),
            unanswered: std::collections::HashSet::new(),
            awaiting: std::collections::HashMap::new(),
            handoff: handoff.clone(),
            subscriptions: Arc::clone(&subscriptions),
            subscription_requests: std::collections::HashMap::new(),
            recorder: match &settings.record {
                Some((path, max)) => Some(crate::record::Recorder::start(
                    path.clone(),
                    *max,
                    settings.auth_message.clone(),
                )?),
                None => None,
            },
            sequencer: Default::default(),
        };
        let consumer = Arc::new(consumer::Consumer::new(
            counters.clone(),
            settings.lag_warning,
        ));
        Ok(Client {
            consumer,
            settings,
            counters,
            history,
            streams,
            commands,
            poller,
            handoff,
            engine: Mutex::new(Some(engine)),
            thread: Mutex::new(None),
            callback: Mutex::new(None),
            listeners: Arc::default(),
            has_callback: AtomicBool::new(false),
            callback_set: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            started: AtomicBool::new(false),
            stopping: Arc::new(AtomicBool::new(false)),
            subscriptions,
        })
    }

    /// Creates and starts a client.
    pub fn connect(config: Config) -> Result<Client> {
        let c = Client::new(config)?;
        c.start()?;
        Ok(c)
    }

    /// Starts the I/O thread; returns at once. Connection progress arrives as events.
    ///
    /// After [`Client::disconnect`] (or `GaveUp`), `start()` connects again: a new
    /// connection with the next epoch, the on-connect messages and the login, as the first
    /// time. While the client is connecting, live or waiting to reconnect it is a `Usage`
    /// error ([`Client::resume`] does nothing then instead).
    pub fn start(&self) -> Result<()> {
        self.start_or_connect(false)
    }

    /// Starts the I/O thread, or (once started) connects again if stopped; `quiet`: a
    /// client that runs is left alone instead of being a usage error.
    fn start_or_connect(&self, quiet: bool) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        let Some(engine) = lock(&self.engine).take() else {
            return self.start_again(quiet);
        };
        self.started.store(true, Ordering::SeqCst);
        let counters = self.counters.clone();
        let spawned = std::thread::Builder::new().name("tradewire-io".into()).spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.run()));
            if let Err(panic) = result {
                let what = crate::error::panic_message(&*panic);
                tw_error!("tradewire: internal error on the I/O thread: {what}; the client is closed (please report this)");
                counters.set_state(State::Closed);
            }
        });
        match spawned {
            Ok(handle) => {
                *lock(&self.thread) = Some(handle);
                Ok(())
            }
            Err(e) => Err(Error::io(format!("could not start the I/O thread: {e}")).with_source(e)),
        }
    }

    /// Waiting for events on a client never started (nor closed) would wait for ever: that is
    /// `Err(Usage)` saying to start it.
    pub(super) fn check_started(&self) -> Result<()> {
        if !self.started.load(Ordering::Acquire) && !self.closed.load(Ordering::SeqCst) {
            return Err(Error::usage(NOT_STARTED.into()));
        }
        Ok(())
    }

    /// Waits for the answer to a command. Under inline reads, runs the connection if it is
    /// lent and nobody runs it (the response must be read by someone).
    fn await_reply<T>(
        &self,
        answer: &Receiver<T>,
        deadline: Instant,
    ) -> std::result::Result<T, RecvTimeoutError> {
        let Some(h) = &self.handoff else {
            return answer.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        };
        loop {
            match answer.try_recv() {
                Ok(r) => return Ok(r),
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(RecvTimeoutError::Timeout);
            }
            let slice = deadline.min(now + REPLY_SLICE);
            if h.run(Some(slice), false, &|| !answer.is_empty()) == Ran::Elsewhere {
                match answer.recv_timeout(slice.saturating_duration_since(Instant::now())) {
                    Err(RecvTimeoutError::Timeout) => {}
                    other => return other,
                }
            }
        }
    }

    /// Sends a text frame now. Fails with `NotConnected` when the connection is not live:
    /// nothing is queued for later, so an order is never sent twice after a reconnect.
    pub fn send_text(&self, text: impl Into<String>) -> Result<()> {
        self.send_frame(Outgoing::Text(text.into()))
    }

    /// Sends a binary frame now (see [`Client::send_text`]).
    pub fn send_binary(&self, bytes: impl Into<Vec<u8>>) -> Result<()> {
        self.send_frame(Outgoing::Binary(bytes.into()))
    }

    /// Serializes a value to JSON and sends it as a text frame.
    pub fn send_json<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let text = serde_json::to_string(value).map_err(|e| {
            Error::usage(format!("could not serialize the message: {e}")).with_source(e)
        })?;
        self.send_text(text)
    }

    fn send_frame(&self, frame: Outgoing) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        if lock(&self.thread).is_none() {
            return Err(Error::not_connected(
                "the client is not started; call start() first".into(),
            ));
        }
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.command(Command::Send { frame, reply })?;
        match self.await_reply(&answer, Instant::now() + COMMAND_TIMEOUT) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => Err(Error::timeout(
                "the I/O thread did not take the message".into(),
            )),
            Err(RecvTimeoutError::Disconnected) => Err(Error::closed()),
        }
    }

    fn command(&self, c: Command) -> Result<()> {
        self.commands.send(c).map_err(|_| Error::closed())?;
        let _ = self.poller.notify();
        if let Some(h) = &self.handoff {
            // Lent while the receiver is away: this thread runs the command's turn.
            h.run_once();
        }
        Ok(())
    }

    /// A snapshot of the state and counters.
    pub fn status(&self) -> Status {
        self.counters.snapshot()
    }

    /// Tradovate: what the access token in use came with, its tokens left out: `userId`
    /// (which requests such as `user/syncrequest` need), `name`, `orgName`, `hasLive`,
    /// `expirationTime`, ... `None` before a token is obtained (or loaded from the token
    /// file), after the server refused it, with a static `token`, and on other presets.
    ///
    /// ```no_run
    /// # let client = tradewire::Client::connect(tradewire::Config::for_preset(tradewire::Preset::Tradovate))?;
    /// if let Some(info) = client.token_info() {
    ///     let body = format!(r#"{{"users":[{}]}}"#, info.user_id.unwrap_or_default());
    ///     client.send_request("user/syncrequest", Some(&body))?;
    /// }
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn token_info(&self) -> Option<crate::TokenDetails> {
        match self.counters.token_details.lock() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The last messages kept by the history ring (`history` in the configuration), oldest first.
    pub fn history(&self) -> Vec<Message> {
        self.history.snapshot()
    }

    /// Drops the current connection (if any) and connects again now, resetting the attempt
    /// counter. After `GaveUp`, starts trying again on a new event stream (see
    /// [`Client::events`]); events of the old stream not taken yet come first.
    pub fn reconnect(&self) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        if lock(&self.thread).is_none() {
            return Err(Error::not_connected(
                "the client is not started; call start() first".into(),
            ));
        }
        // Failures before this are old news for `wait_live`.
        self.counters.forget_failure();
        let (done, answer) = crossbeam_channel::bounded(1);
        self.command(Command::Reconnect { done })?;
        // Waits for the I/O thread to take it, so that after `GaveUp` the new stream is the
        // current one when this returns (a `recv` right after it waits for its events).
        match self.await_reply(&answer, Instant::now() + COMMAND_TIMEOUT) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => Ok(()),
            Err(RecvTimeoutError::Timeout) => Err(Error::timeout(
                "the I/O thread did not take the reconnect request".into(),
            )),
        }
    }

    /// Closes the connection, stops reconnecting and joins the I/O thread. Idempotent; returns
    /// promptly in every state (connecting, handshaking, backing off, live, consumer stalled).
    /// No event is queued after it returns; events queued before remain readable, and then
    /// the event stream ends.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.stopping.store(true, Ordering::SeqCst);
        lock(&self.engine).take();
        let _ = self.command(Command::Close);
        let io = lock(&self.thread).take();
        join_unless_current(io);
        self.streams.close();
        self.streams.ready.wake();
        let cb = lock(&self.callback).take();
        join_unless_current(cb);
        // The functions go now (a listener running this `close()` goes when it returns).
        self.listeners.clear();
        self.forget_subscriptions();
        self.counters.set_state(State::Closed);
    }

    /// The configuration this client runs on, read-only: every default applied, secrets
    /// left out (the URL redacted; no token, credentials or headers). See [`ConfigView`].
    ///
    /// [`ConfigView`]: crate::ConfigView
    pub fn config(&self) -> crate::config::ConfigView {
        crate::config::ConfigView::of(&self.settings)
    }

    /// The URL this client connects to, with secrets redacted.
    #[allow(clippy::misnamed_getters)] // deliberately the redacted form, never the real URL
    pub fn url(&self) -> &str {
        &self.settings.redacted_url
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.settings.redacted_url)
            .field("preset", &self.settings.preset)
            .field("state", &self.counters.state())
            .finish()
    }
}

/// Joins a thread, unless it is the calling one (a callback may call `close()`).
fn join_unless_current(handle: Option<JoinHandle<()>>) {
    if let Some(h) = handle {
        if h.thread().id() != std::thread::current().id() {
            let _ = h.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Diagnostics for tests and monitoring.
pub mod diagnostics {
    /// DNS lookup threads still running in this process (a stalled system resolver cannot be
    /// interrupted; such a thread ends when the resolver gives up).
    pub fn dns_threads_in_flight() -> usize {
        crate::transport::connect::DNS_THREADS.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Token request threads still running in this process (an HTTP request in flight cannot
    /// be interrupted; it ends within its timeout, and a cancelled one makes no further request).
    pub fn auth_threads_in_flight() -> usize {
        crate::tradovate::renew::AUTH_THREADS.load(std::sync::atomic::Ordering::SeqCst)
    }
}
