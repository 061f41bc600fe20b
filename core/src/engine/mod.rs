//! The I/O thread of one client: connect, stay live, notice death, back off, reconnect.
//!
//! One thread owns the socket and waits on it and on the waker at once (see `transport`).
//! Commands from other threads (`send`, `reconnect`, `close`) arrive on a channel and wake it.
//! Under inline reads it lends a live connection to the thread waiting in `recv` (`handoff`).
//!
//! Each decision has its file: `supervisor` (the thread's loop: log in, connect, live, back
//! off), `reconnect` (the policy: which ends are fatal, the backoff schedule, giving up),
//! `session` (one live connection: a turn of commands, reads, signals and timers), `liveness`
//! (heartbeats and the silence deadline), `commands` (what other threads ask, live or not),
//! `handoff` (the live connection lent to a thread waiting in `recv`). This file holds the
//! types they share.

mod commands;
mod handoff;
mod liveness;
mod reconnect;
mod resubscribe;
mod session;
mod supervisor;

pub(crate) use handoff::{Handoff, Pumped, Ran};

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Bytes, Message as WsMessage, WebSocket};

use crate::backoff::Jitter;
use crate::config::Settings;
use crate::delivery::Delivery;
use crate::dialect::{Ctx, Dialect, Login, Readiness, Signal};
use crate::error::{Error, Result};
use crate::event::{ErrorEvent, ErrorKind, Event};
use crate::history::History;
use crate::status::{Counters, State};
use crate::transport::connect::{connect, Failure, Interrupt};
use crate::transport::{Metered, Reactor};

/// Frames read in one go before timers and commands get a turn.
const READ_BUDGET: usize = 512;
/// How often delivery is retried while the application's channel is full.
const DELIVERY_RETRY: Duration = Duration::from_millis(2);
/// How long `close()` waits for the server to answer the close frame.
const CLOSE_GRACE: Duration = Duration::from_millis(250);

/// A frame the application sends.
pub(crate) enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
}

/// What other threads ask of the I/O thread.
pub(crate) enum Command {
    Send {
        frame: Outgoing,
        reply: Sender<Result<()>>,
    },
    Request {
        endpoint: String,
        body: Option<String>,
        timeout: Duration,
        reply: Sender<Result<String>>,
    },
    /// `request_json()`: a JSON object (its id member filled in when missing), answered by
    /// the message that carries the same id.
    RequestJson {
        message: String,
        timeout: Duration,
        reply: Sender<Result<String>>,
    },
    /// `send_request()`: sent now; `reply` gets its id (the answer comes as a `Response`
    /// event).
    SendRequest {
        endpoint: String,
        body: Option<String>,
        /// The caller's id (`send_request_with_id`), else the next one.
        id: Option<u64>,
        reply: Sender<Result<u64>>,
    },
    /// `reconnect()`; `done` is answered once the I/O thread has taken it.
    Reconnect {
        done: Sender<()>,
    },
    /// `disconnect()` (code and reason already checked); `done` is answered once the
    /// connection is closed and the `Disconnected` event delivered.
    Disconnect {
        code: u16,
        reason: String,
        done: Sender<()>,
    },
    Close,
    /// `subscribe()`/`unsubscribe()` changed the registry: send what it queued for the live
    /// connection (nothing when not live: the next replay carries it). `done` gets the
    /// outcome of the writes.
    Subscriptions {
        done: Sender<Result<()>>,
    },
}

/// A request waiting for its response.
pub(crate) struct Pending {
    endpoint: String,
    deadline: Instant,
    reply: Sender<Result<String>>,
}

/// How a live connection ended.
enum End {
    Close,
    Reconnect,
    /// `disconnect()`: closed with this code and reason; stay disconnected.
    Disconnect {
        code: u16,
        reason: String,
        done: Sender<()>,
    },
    ServerClose {
        code: u16,
        reason: String,
    },
    Dead {
        silence: Duration,
    },
    Broken(String),
    Violation {
        code: u16,
        message: String,
    },
    AuthRejected(String),
    Shutdown(String),
}

/// Longest piece of server-supplied text kept in an event, error or log line.
const SERVER_TEXT_LIMIT: usize = 512;

impl End {
    /// The same end with every text that came from the server (close reasons, refusals,
    /// shutdown notes) scrubbed of secrets, its control characters escaped, and cut.
    pub(super) fn sanitized(self) -> End {
        let clean = |t: String| crate::redact::untrusted(&t, SERVER_TEXT_LIMIT);
        match self {
            End::ServerClose { code, reason } => End::ServerClose {
                code,
                reason: clean(reason),
            },
            End::Broken(m) => End::Broken(clean(m)),
            End::AuthRejected(m) => End::AuthRejected(clean(m)),
            End::Shutdown(m) => End::Shutdown(clean(m)),
            other => other,
        }
    }
}

pub(crate) struct Engine {
    pub s: Arc<Settings>,
    pub reactor: Reactor,
    pub cmds: Receiver<Command>,
    pub delivery: Delivery,
    pub counters: Arc<Counters>,
    pub history: Arc<History>,
    pub tls: Option<native_tls::TlsConnector>,
    pub jitter: Jitter,
    pub dialect: Box<dyn Dialect>,
    pub epoch: u64,
    pub attempt: u32,
    /// Request ids, from 1, never reused by this client (0 is the login).
    pub next_id: u64,
    /// How the dialect gets the credential it logs in with (tradovate: its access token).
    pub login: Option<Box<dyn Login>>,
    pub pending: HashMap<u64, Pending>,
    /// Ids of `send_request` requests sent on this connection and not answered yet: a
    /// caller's id among them (or in `pending`) is refused.
    pub unanswered: std::collections::HashSet<u64>,
    /// JSON requests waiting for their answer, by their id's JSON text (`42`, `"abc"`).
    pub awaiting: HashMap<String, Pending>,
    /// Inline reads: lends live connections to threads waiting in `recv`.
    pub handoff: Option<Arc<Handoff>>,
    /// The client's subscriptions, replayed on every connection (see `resubscribe`).
    pub subscriptions: Arc<std::sync::Mutex<crate::subscriptions::Subscriptions>>,
    /// Tradovate subscription requests waiting for their answer on this connection: id ->
    /// endpoint.
    pub subscription_requests: HashMap<u64, String>,
    /// `record`: the recording's writer (joined when the engine is dropped).
    pub recorder: Option<crate::record::Recorder>,
    /// The feed's sequence numbers seen (config `sequence`).
    pub sequencer: crate::sequence::Sequencer,
}

/// What the run loop does after one attempt.
enum Next {
    /// `close()`: stop.
    Stop,
    /// Try again now (after `reconnect()`).
    Again,
    /// The attempt failed or the connection ended: back off, then try again.
    Retry(String),
}

/// How getting the login credential ended.
enum LoginOutcome {
    Ready,
    Interrupted(Interrupt),
    Fatal(String),
    /// Worth retrying; the reason when the failure has one (`wait_live`).
    Retry(String, Option<crate::error::ConnectReason>),
}

impl Engine {
    /// Delivers a lifecycle event, its texts scrubbed of every known secret.
    pub(super) fn emit(&mut self, ev: Event) {
        self.delivery.push(scrub_event(ev));
    }

    pub(super) fn emit_error(&mut self, kind: ErrorKind, message: &str) {
        self.emit(Event::Error(ErrorEvent::new(
            kind, message, None, self.epoch,
        )));
    }

    /// Fails every waiting request: its outcome is unknown.
    pub(super) fn fail_pending(&mut self, why: &str) {
        // Nothing sent on an ended connection is answered any more.
        self.unanswered.clear();
        let tradovate = self.pending.drain().map(|(id, p)| (id.to_string(), p));
        for (id, p) in tradovate.chain(self.awaiting.drain()) {
            let _ = p.reply.send(Err(Error::request(format!(
                "{why} before the response to {} (request {id}) arrived: the outcome is unknown; check the state on the server before retrying",
                p.endpoint
            ))));
        }
    }
}

impl crate::dialect::Awaited for HashMap<String, Pending> {
    fn is_empty(&self) -> bool {
        HashMap::is_empty(self)
    }
    fn contains(&self, id: &str) -> bool {
        self.contains_key(id)
    }
}

/// The dialect of a configuration: each preset's wire format.
pub(crate) fn dialect_for(s: &Settings) -> Box<dyn Dialect> {
    match s.preset {
        crate::preset::Preset::Tradovate => {
            Box::new(crate::tradovate::dialect::Tradovate::default())
        }
        _ => Box::new(crate::dialect::json::Json::new(s)),
    }
}

/// The login of a configuration, for dialects that log in with an obtained credential.
pub(crate) fn login_for(
    s: &Arc<Settings>,
    counters: &Arc<Counters>,
    poller: &Arc<crate::transport::Poller>,
) -> Option<Box<dyn Login>> {
    match s.preset {
        crate::preset::Preset::Tradovate => Some(Box::new(crate::tradovate::renew::Tokens::new(
            s.clone(),
            counters.clone(),
            poller.clone(),
        ))),
        _ => None,
    }
}

/// A lifecycle event with its texts (reasons, errors, URL) scrubbed. Messages and responses
/// pass unchanged: what the server sent reaches the application as it was.
fn scrub_event(ev: Event) -> Event {
    let clean = |t: String| match crate::redact::scrub(&t) {
        std::borrow::Cow::Borrowed(_) => t,
        std::borrow::Cow::Owned(o) => o,
    };
    match ev {
        Event::Connected { epoch, url } => Event::Connected {
            epoch,
            url: clean(url),
        },
        Event::Disconnected {
            epoch,
            code,
            reason,
            error,
            by_client,
        } => Event::Disconnected {
            epoch,
            code,
            reason: clean(reason),
            error: error.map(clean),
            by_client,
        },
        Event::Reconnecting {
            attempt,
            delay,
            reason,
        } => Event::Reconnecting {
            attempt,
            delay,
            reason: clean(reason),
        },
        Event::GaveUp { reason } => Event::GaveUp {
            reason: clean(reason),
        },
        other => other,
    }
}
