//! One live connection: commands, reads, signals, heartbeats, the silence deadline.

use super::*;
use crate::frames::{Incoming, ReadError, Reader};
use crate::record::format::Payload;

/// The state of one live connection between turns. Owned by the I/O thread; lent to a
/// thread waiting in `recv` under inline reads (see `handoff`).
pub(crate) struct Conn {
    pub(super) ws: WebSocket<Metered>,
    pub(super) reader: Reader,
    pub(super) want_write: bool,
    /// Logged in (always, for presets without a login).
    pub(super) live: bool,
    pub(super) needs_auth: bool,
    pub(super) token: Option<String>,
    pub(super) replies: Vec<String>,
    pub(super) signals: Vec<Signal>,
    /// `read_total` when the timers last looked.
    pub(super) seen: u64,
    pub(super) last_rx: Instant,
    pub(super) next_ping: Instant,
    /// The socket may have bytes to read (or frames wait in the reader's buffer).
    pub(super) readable: bool,
}

impl Conn {
    /// Makes the next turn read, whatever the last one concluded: bytes may have arrived
    /// while nobody watched the socket.
    pub(super) fn recheck(&mut self) {
        self.readable = true;
        self.ws.get_mut().recheck();
    }
}

/// A live connection with the engine that runs it. Under inline reads the I/O thread lends
/// it, by value, to a thread waiting in `recv` (see `handoff`), and gets it back.
pub(crate) struct Running {
    pub(super) engine: Engine,
    pub(super) conn: Conn,
}

/// Runs one connection until it ends; fails its waiting requests when it does. The engine
/// comes back with the end.
pub(super) fn live(engine: Engine, ws: WebSocket<Metered>) -> (Engine, End) {
    let (mut engine, end) = run_connection(engine, ws);
    engine.subscriptions_ended();
    let why = match &end {
        End::Close => "the client was closed",
        _ => "the connection dropped",
    };
    engine.fail_pending(why);
    (engine, end)
}

fn run_connection(mut engine: Engine, ws: WebSocket<Metered>) -> (Engine, End) {
    let conn = match engine.open(ws) {
        Ok(c) => c,
        Err(end) => return (engine, end),
    };
    let handoff = engine.handoff.clone();
    if let Some(h) = &handoff {
        h.set_live(true);
    }
    let mut running = Running { engine, conn };
    let end = loop {
        let Running { engine, conn } = &mut running;
        let (more, deadline) = match engine.turn(conn) {
            Ok(t) => t,
            Err(end) => break end,
        };
        if let Some(h) = handoff.as_ref().filter(|h| h.wanted()) {
            // A thread waits in recv: it runs the connection until it has events. The
            // session moves to it and back (boxed: only a pointer changes hands).
            // An event loop that asked learns of the lending through the readiness fd.
            let streams = running.engine.delivery.streams();
            let (back, end) = h.lend(Box::new(running), deadline, &|| streams.ready.wake());
            running = *back;
            match end {
                Some(end) => break end,
                None => {
                    running.conn.recheck();
                    continue;
                }
            }
        }
        if more {
            continue;
        }
        if let Err(end) = engine.wait(conn, deadline) {
            break end;
        }
    };
    if let Some(h) = &handoff {
        h.set_live(false);
    }
    (running.engine, end)
}

impl Engine {
    /// Sends the on-connect messages and sets up the state of a new connection.
    fn open(&mut self, mut ws: WebSocket<Metered>) -> std::result::Result<Conn, End> {
        let s = self.s.clone();
        let pending = ws.get_mut().take_pending();
        let deflate = ws.get_ref().deflate;
        ws.get_mut().deflater = deflate.as_ref().map(crate::deflate::Deflater::new);
        let reader = Reader::new(
            s.read_buffer_size,
            s.max_frame_size,
            s.max_message_size,
            pending,
        )
        .with_deflate(deflate);
        let mut want_write = false;
        for text in self.dialect.on_open(&s) {
            if let Err((e, _)) = write(&mut ws, Outgoing::Text(text), &mut want_write) {
                return Err(End::Broken(format!(
                    "could not send the on-connect messages: {e}"
                )));
            }
        }
        if !self.dialect.needs_auth() {
            self.replay_subscriptions(&mut ws, &mut want_write)?;
        }
        let needs_auth = self.dialect.needs_auth();
        let live = !needs_auth;
        self.counters.authenticated.store(live, Ordering::Relaxed);
        self.counters.set_state(if live {
            State::Live
        } else {
            State::Authenticating
        });
        let token = self.login.as_ref().and_then(|l| l.token());
        let seen = ws.get_ref().read_total;
        let last_rx = Instant::now();
        self.counters.mark_rx(last_rx);
        Ok(Conn {
            ws,
            reader,
            want_write,
            live,
            needs_auth,
            token,
            replies: Vec::new(),
            signals: Vec::new(),
            seen,
            last_rx,
            next_ping: last_rx + s.heartbeat_interval,
            readable: true,
        })
    }

    /// Sets what the poller watches the socket for: readable unless the queue is full
    /// (`block`), writable while a write waits.
    pub(super) fn watch(&self, c: &Conn) -> std::result::Result<(), End> {
        c.ws.get_ref()
            .socket()
            .want(!self.delivery.blocked(), c.want_write)
            .map_err(|e| End::Broken(format!("poll setup failed: {e}")))
    }

    /// Waits until the socket or the waker is ready, or `deadline`.
    pub(super) fn wait(&mut self, c: &mut Conn, deadline: Instant) -> std::result::Result<(), End> {
        self.watch(c)?;
        match self.reactor.wait(Some(deadline)) {
            Ok(ready) => {
                c.readable |= ready;
                Ok(())
            }
            Err(e) => Err(End::Broken(format!("poll failed: {e}"))),
        }
    }

    /// One turn of a live connection: commands, reads, signals, timers. Returns whether more
    /// may be read at once, and when the next timer is due (wait for the socket until then).
    // Inlined into its two callers, with the parts it calls: as a call of its own it took the
    // I/O thread's stack one page deeper, 4 KiB more resident memory per idle connection
    // (1,000 connections: 47.5 → 43.5 KiB each, scripts/bench.sh's idle part).
    #[inline(always)]
    pub(super) fn turn(&mut self, c: &mut Conn) -> std::result::Result<(bool, Instant), End> {
        // Commands first: a send goes out at once.
        self.take_commands(c)?;
        if c.readable && !self.delivery.blocked() {
            c.readable = self.read_batch(
                &mut c.ws,
                &mut c.reader,
                &mut c.replies,
                &mut c.signals,
                c.token.as_deref(),
            )?;
            self.act(c)?;
        }
        if self.delivery.has_pending() {
            let was_blocked = self.delivery.blocked();
            self.delivery.flush();
            if was_blocked && !self.delivery.blocked() {
                c.readable = true;
            }
        }
        // Timers keep their time whatever the consumer does.
        self.keep_time(c)
    }

    /// Sends the dialect's replies and acts on the signals found in what was just read
    /// (logged in, refused, shutdown, closed, responses).
    #[inline(always)]
    fn act(&mut self, c: &mut Conn) -> std::result::Result<(), End> {
        let Conn {
            ws,
            reader,
            want_write,
            live,
            replies,
            signals,
            next_ping,
            ..
        } = c;
        for text in replies.drain(..) {
            if let Err((e, true)) = write(ws, Outgoing::Text(text), want_write) {
                return Err(End::Broken(e.to_string()));
            }
        }
        for signal in std::mem::take(signals) {
            match signal {
                Signal::Authenticated => {
                    *live = true;
                    tw_info!("tradewire: logged in (connection {})", self.epoch);
                    let user_id = self.login.as_ref().and_then(|l| l.user_id());
                    for frame in self.dialect.after_auth(&self.s, user_id, &mut self.next_id) {
                        if let Err((e, true)) = write(ws, Outgoing::Text(frame), want_write) {
                            return Err(End::Broken(e.to_string()));
                        }
                    }
                    self.replay_subscriptions(ws, want_write)?;
                    self.counters.authenticated.store(true, Ordering::Relaxed);
                    self.counters.set_state(State::Live);
                    self.delivery
                        .push(Event::Authenticated { epoch: self.epoch });
                    *next_ping = Instant::now() + self.s.heartbeat_interval;
                }
                Signal::AuthRejected(why) => {
                    let _ = ws.close(Some(CloseFrame {
                        code: CloseCode::Normal,
                        reason: "login refused".into(),
                    }));
                    let _ = ws.flush();
                    return Err(End::AuthRejected(why));
                }
                Signal::Shutdown(why) => {
                    self.counters.set_state(State::Closing);
                    close_gracefully(ws, reader, &mut self.reactor, 1000, "server shutdown");
                    return Err(End::Shutdown(why));
                }
                Signal::Resync(why) => {
                    self.counters.set_state(State::Closing);
                    close_gracefully(ws, reader, &mut self.reactor, 1000, "sequence gap");
                    return Err(End::Shutdown(why));
                }
                Signal::ServerClose { code, reason } => {
                    self.counters.set_state(State::Closing);
                    close_gracefully(ws, reader, &mut self.reactor, 1000, "closed by the server");
                    return Err(End::ServerClose { code, reason });
                }
                Signal::Response { id, status, data } => self.response(id, status, data),
                Signal::Reply { id, text } => self.reply(id, text),
            }
        }
        Ok(())
    }

    /// A Tradovate response: to the request that waits for it, or an event (nobody waits).
    #[cold]
    fn response(&mut self, id: u64, status: u16, data: Option<String>) {
        self.unanswered.remove(&id);
        if self.subscription_answer(id, status, data.as_deref()) {
            return;
        }
        let Some(p) = self.pending.remove(&id) else {
            return self.delivery.push(Event::Response { id, status, data });
        };
        let r = if (200..300).contains(&status) {
            Ok(data.unwrap_or_else(|| "null".into()))
        } else {
            Err(Error::request(format!(
                "{} (request {id}) was answered with status {status}: {}",
                p.endpoint,
                crate::redact::untrusted(
                    data.as_deref().unwrap_or("no details"),
                    SERVER_TEXT_LIMIT
                )
            )))
        };
        let _ = p.reply.send(r);
    }

    /// The answer to a JSON request: to its caller, or (a second answer with the same id in
    /// one read) a message.
    #[cold]
    fn reply(&mut self, id: String, text: String) {
        if let Some(p) = self.awaiting.remove(&id) {
            let _ = p.reply.send(Ok(text));
            return;
        }
        let m =
            crate::dialect::json::unclaimed_reply(&text, &self.s, SystemTime::now(), self.epoch);
        self.history.record(&m);
        self.delivery.push(Event::Message(m));
    }

    /// Reads frames until none is waiting, the budget is spent, or delivery blocks.
    /// `Ok(true)` means there may be more to read right away.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn read_batch(
        &mut self,
        ws: &mut WebSocket<Metered>,
        reader: &mut Reader,
        replies: &mut Vec<String>,
        signals: &mut Vec<Signal>,
        token: Option<&str>,
    ) -> std::result::Result<bool, End> {
        let s = self.s.clone();
        let mut messages = 0u64;
        let result = loop {
            if messages >= READ_BUDGET as u64 || self.delivery.blocked() {
                break Ok(true);
            }
            let incoming = match reader.next(ws.get_mut()) {
                Ok(Some(i)) => i,
                Ok(None) => break Ok(false),
                Err(e) => break Err(self.read_error(ws, e)),
            };
            // The time of the socket read that completed the frame.
            let now = ws.get_ref().read_at;
            let mut ctx = Ctx {
                s: &s,
                counters: &self.counters,
                history: &self.history,
                delivery: &mut self.delivery,
                replies,
                latency: None,
                now,
                epoch: self.epoch,
                signals,
                token,
                bad: Default::default(),
                awaited: &self.awaiting,
                sequencer: &mut self.sequencer,
            };
            match incoming {
                Incoming::Text(t) => {
                    messages += 1;
                    if let Some(tap) = &ws.get_ref().tap {
                        tap.received(now, Payload::Text(t.to_owned()));
                    }
                    self.dialect.on_text(t, &mut ctx);
                    ctx.end_frame();
                }
                Incoming::Binary(b) => {
                    messages += 1;
                    if let Some(tap) = &ws.get_ref().tap {
                        tap.received(now, Payload::Binary(b.to_vec()));
                    }
                    self.dialect.on_binary(b, &mut ctx);
                }
                Incoming::Pong(p) => {
                    let now = Instant::now().saturating_duration_since(self.counters.origin);
                    ctx.latency = super::liveness::round_trip(p, now);
                }
                Incoming::Ping(p) => {
                    // Queued by tungstenite and written at once (or with the next flush).
                    let _ = ws.write(WsMessage::Pong(Bytes::copy_from_slice(p)));
                    let _ = ws.flush();
                }
                Incoming::Close(frame) => {
                    let frame = frame.map(|(code, reason)| (code, reason.to_string()));
                    break Err(answer_close(ws, frame));
                }
            }
            if let Some(l) = ctx.latency {
                self.counters.set_latency(l);
            }
            if !signals.is_empty() {
                break Ok(true);
            }
        };
        self.counters
            .messages
            .fetch_add(messages, Ordering::Relaxed);
        result
    }

    pub(super) fn read_error(&mut self, ws: &mut WebSocket<Metered>, e: ReadError) -> End {
        let (kind, code, message) = match e {
            ReadError::Eof | ReadError::Io(_) => return End::Broken(e.to_string()),
            ReadError::TooLarge { size, max } => (
                ErrorKind::MessageTooLarge,
                1009,
                format!(
                    "the server sent a message of {size} bytes, over the limit of {max} bytes (max_message_size / max_frame_size); the connection was closed with 1009 (raise the limit if such messages are expected)"
                ),
            ),
            ReadError::Utf8(what) => (
                ErrorKind::InvalidUtf8,
                1007,
                format!("the server sent {what} that is not valid UTF-8; the connection was closed with 1007"),
            ),
            ReadError::Protocol(p) => (
                ErrorKind::Protocol,
                1002,
                format!("the server violated the WebSocket protocol ({p}); the connection was closed with 1002"),
            ),
        };
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        tw_warn!("tradewire: {message}");
        self.delivery.push(Event::Error(ErrorEvent::new(
            kind,
            message.clone(),
            None,
            self.epoch,
        )));
        let reason = match code {
            1009 => "message too big",
            1007 => "invalid UTF-8",
            _ => "protocol error",
        };
        let _ = ws.close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        }));
        let _ = ws.flush();
        End::Violation { code, message }
    }
}

/// Answers the server's close frame with the same code (none when it gave none); how the
/// connection ended.
#[cold]
fn answer_close(ws: &mut WebSocket<Metered>, frame: Option<(u16, String)>) -> End {
    let answer = frame.as_ref().map(|(c, _)| CloseFrame {
        code: CloseCode::from(*c),
        reason: "".into(),
    });
    let _ = ws.close(answer);
    let _ = ws.flush();
    let (code, reason) = frame.unwrap_or((1005, String::new()));
    End::ServerClose { code, reason }
}

/// The largest WebSocket frame header a client writes (2 + 8 length bytes + 4 mask bytes).
const FRAME_HEADER_MAX: usize = 14;

/// Writes one frame and flushes what the socket takes. The error's flag says whether the
/// connection is broken.
pub(super) fn write(
    ws: &mut WebSocket<Metered>,
    frame: Outgoing,
    want_write: &mut bool,
) -> std::result::Result<(), (Error, bool)> {
    // `record`: a copy of the frame, recorded once tungstenite has taken it.
    let copy = ws.get_ref().tap.as_ref().map(|_| match &frame {
        Outgoing::Text(t) => Payload::Text(t.clone()),
        Outgoing::Binary(b) => Payload::Binary(b.clone()),
    });
    let msg = match (frame, ws.get_mut().deflater.as_mut()) {
        (Outgoing::Text(t), None) => WsMessage::Text(t.into()),
        (Outgoing::Binary(b), None) => WsMessage::Binary(b.into()),
        (Outgoing::Text(t), Some(d)) => WsMessage::Frame(
            d.frame(t.as_bytes(), true)
                .map_err(|e| (Error::usage(e), false))?,
        ),
        (Outgoing::Binary(b), Some(d)) => {
            WsMessage::Frame(d.frame(&b, false).map_err(|e| (Error::usage(e), false))?)
        }
    };
    let would_block = |e: &tungstenite::Error| matches!(e, tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock);
    let written = ws.write(msg);
    if let Some(p) = copy.filter(|_| written.as_ref().map_or_else(would_block, |_| true)) {
        if let Some(tap) = &ws.get_ref().tap {
            tap.sent(p);
        }
    }
    match written {
        Ok(()) => {}
        Err(e) if would_block(&e) => {
            *want_write = true;
            return Ok(());
        }
        Err(tungstenite::Error::WriteBufferFull(msg)) => {
            if let Some(d) = ws.get_mut().deflater.as_mut() {
                d.forget();
            }
            let limit = ws.get_config().max_write_buffer_size;
            // A frame bigger than the whole buffer can never go out, whatever the server does.
            let err = if msg.len() + FRAME_HEADER_MAX >= limit {
                Error::usage(format!(
                    "the message is {} bytes, larger than max_write_buffer ({limit} bytes); raise max_write_buffer to send messages this large",
                    msg.len()
                ))
            } else {
                Error::io(
                    "the send buffer is full (max_write_buffer): the server is not reading; the message was not sent".into(),
                )
            };
            return Err((err, false));
        }
        Err(tungstenite::Error::Capacity(c)) => {
            if let Some(d) = ws.get_mut().deflater.as_mut() {
                d.forget();
            }
            return Err((
                Error::usage(format!("the message is too large to send: {c}")),
                false,
            ));
        }
        Err(e) => {
            return Err((
                Error::not_connected(format!(
                    "the connection broke while sending ({e}); the message was not sent"
                )),
                true,
            ))
        }
    }
    match ws.flush() {
        Ok(()) => {
            *want_write = false;
            Ok(())
        }
        Err(e) if would_block(&e) => {
            *want_write = true;
            Ok(())
        }
        Err(e) => Err((
            Error::not_connected(format!(
                "the connection broke while sending ({e}); the message may or may not have reached the server"
            )),
            true,
        )),
    }
}

/// Sends a close frame and waits briefly for the server's answer (its close frame, or the
/// end of the connection).
pub(super) fn close_gracefully(
    ws: &mut WebSocket<Metered>,
    reader: &mut Reader,
    reactor: &mut Reactor,
    code: u16,
    reason: &str,
) {
    if ws
        .close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_string().into(),
        }))
        .is_err()
    {
        return;
    }
    let deadline = Instant::now() + CLOSE_GRACE;
    loop {
        match ws.flush() {
            Ok(()) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
        loop {
            match reader.next(ws.get_mut()) {
                Ok(Some(Incoming::Close(_))) | Err(_) => return,
                Ok(Some(_)) => continue,
                Ok(None) => break,
            }
        }
        if Instant::now() >= deadline {
            return;
        }
        let _ = ws.get_ref().socket().want(true, false);
        if reactor.wait(Some(deadline)).is_err() {
            return;
        }
    }
}
