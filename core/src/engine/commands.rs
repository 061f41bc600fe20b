//! What other threads ask of the I/O thread (`send`, `request`, `reconnect`, `close`), with
//! a live connection or without one.

use super::session::{close_gracefully, write, Conn};
use super::*;

/// Runs whenever the thread wakes without a live connection: delivers what waits for room in
/// the event channel and handles commands. `send` fails at once: nothing is queued for
/// later, so nothing can be sent twice after a reconnect.
pub(super) fn offline_commands(
    cmds: &Receiver<Command>,
    delivery: &mut Delivery,
    state: &str,
) -> Option<Interrupt> {
    delivery.flush();
    loop {
        match cmds.try_recv() {
            Ok(Command::Send { reply, .. }) => {
                let _ = reply.send(Err(Error::not_connected(format!(
                    "the client is {state}; nothing was sent (messages are never queued while disconnected, so none is sent twice after a reconnect)"
                ))));
            }
            Ok(Command::Request {
                endpoint, reply, ..
            }) => {
                let _ = reply.send(Err(Error::not_connected(format!(
                    "the client is {state}; the request to {endpoint} was not sent"
                ))));
            }
            Ok(Command::SendRequest {
                endpoint, reply, ..
            }) => {
                let _ = reply.send(Err(Error::not_connected(format!(
                    "the client is {state}; the request to {endpoint} was not sent"
                ))));
            }
            Ok(Command::RequestJson { reply, .. }) => {
                let _ = reply.send(Err(Error::not_connected(format!(
                    "the client is {state}; the request was not sent"
                ))));
            }
            Ok(Command::Close) | Err(TryRecvError::Disconnected) => return Some(Interrupt::Close),
            Ok(Command::Reconnect { done }) => {
                // After `GaveUp` the next stream starts now, before `reconnect()` returns.
                delivery.restart();
                let _ = done.send(());
                return Some(Interrupt::Reconnect);
            }
            Ok(Command::Disconnect { done, .. }) => return Some(Interrupt::Disconnect { done }),
            // Not live: the next connection's replay carries the change.
            Ok(Command::Subscriptions { done }) => {
                let _ = done.send(Ok(()));
            }
            Err(TryRecvError::Empty) => return None,
        }
    }
}

const SEND_WHILE_LOGGING_IN: &str =
    "the client is logging in; nothing was sent (wait for the authenticated event)";
const REQUEST_WHILE_LOGGING_IN: &str = "the client is not logged in yet; the request was not sent";

/// While logging in nothing is sent: the reply says so. True when it was refused.
fn refused_while_logging_in<T>(live: bool, reply: &Sender<Result<T>>, why: &str) -> bool {
    if !live {
        let _ = reply.send(Err(Error::not_connected(why.into())));
    }
    !live
}

/// Answers a command with the outcome of its write; `Err` when the connection broke.
fn answer<T>(
    outcome: std::result::Result<T, (Error, bool)>,
    reply: &Sender<Result<T>>,
) -> std::result::Result<(), End> {
    let broken = match &outcome {
        Err((e, true)) => Some(e.to_string()),
        _ => None,
    };
    let _ = reply.send(outcome.map_err(|(e, _)| e));
    match broken {
        Some(e) => Err(End::Broken(e)),
        None => Ok(()),
    }
}

impl Engine {
    /// Carries out what other threads asked while the connection is live: a send goes out
    /// at once (refused while logging in); `close()` and `reconnect()` end the connection.
    #[inline(always)]
    pub(super) fn take_commands(&mut self, c: &mut Conn) -> std::result::Result<(), End> {
        let Conn {
            ws,
            reader,
            want_write,
            live,
            ..
        } = c;
        loop {
            match self.cmds.try_recv() {
                Ok(Command::Send { frame, reply }) => {
                    if refused_while_logging_in(*live, &reply, SEND_WHILE_LOGGING_IN) {
                        continue;
                    }
                    answer(write(ws, frame, want_write), &reply)?;
                }
                Ok(Command::Request {
                    endpoint,
                    body,
                    timeout,
                    reply,
                }) => {
                    if refused_while_logging_in(*live, &reply, REQUEST_WHILE_LOGGING_IN) {
                        continue;
                    }
                    let body = body.as_deref();
                    self.start_request(ws, want_write, endpoint, body, timeout, reply)?;
                }
                Ok(Command::RequestJson {
                    message,
                    timeout,
                    reply,
                }) => {
                    if refused_while_logging_in(*live, &reply, REQUEST_WHILE_LOGGING_IN) {
                        continue;
                    }
                    self.start_json_request(ws, want_write, &message, timeout, reply)?;
                }
                Ok(Command::SendRequest {
                    endpoint,
                    body,
                    id,
                    reply,
                }) => {
                    if refused_while_logging_in(*live, &reply, REQUEST_WHILE_LOGGING_IN) {
                        continue;
                    }
                    let sent = self.write_request(ws, want_write, &endpoint, body.as_deref(), id);
                    if let Ok(id) = sent {
                        self.unanswered.insert(id);
                    }
                    answer(sent, &reply)?;
                }
                Ok(Command::Close) | Err(TryRecvError::Disconnected) => {
                    self.counters.set_state(State::Closing);
                    close_gracefully(ws, reader, &mut self.reactor, 1000, "closed by the client");
                    return Err(End::Close);
                }
                Ok(Command::Reconnect { done }) => {
                    let _ = done.send(());
                    self.counters.set_state(State::Closing);
                    close_gracefully(ws, reader, &mut self.reactor, 1000, "reconnecting");
                    return Err(End::Reconnect);
                }
                Ok(Command::Disconnect { code, reason, done }) => {
                    self.counters.set_state(State::Closing);
                    close_gracefully(ws, reader, &mut self.reactor, code, &reason);
                    return Err(End::Disconnect { code, reason, done });
                }
                Ok(Command::Subscriptions { done }) => {
                    // A broken connection is no failure of the subscription: the next
                    // connection's replay carries it.
                    match self.subscription_changes(ws, want_write, *live) {
                        Err((e, true)) => {
                            let _ = done.send(Ok(()));
                            return Err(End::Broken(e.to_string()));
                        }
                        sent => {
                            let _ = done.send(sent.map_err(|(e, _)| e));
                        }
                    }
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        Ok(())
    }

    /// Sends a request and records it as pending; the reply gets the send's error, if any.
    /// `Err` when the connection broke while sending.
    fn start_request(
        &mut self,
        ws: &mut WebSocket<Metered>,
        want_write: &mut bool,
        endpoint: String,
        body: Option<&str>,
        timeout: Duration,
        reply: Sender<Result<String>>,
    ) -> std::result::Result<(), End> {
        match self.write_request(ws, want_write, &endpoint, body, None) {
            Ok(id) => {
                let deadline = Instant::now() + timeout;
                self.pending.insert(
                    id,
                    Pending {
                        endpoint,
                        deadline,
                        reply,
                    },
                );
                Ok(())
            }
            Err(failed) => answer(Err(failed), &reply),
        }
    }

    /// Writes a request frame with the caller's id (refused when 0 or still unanswered) or
    /// the next one; its id. Generated ids stay above every id used, so they never meet a
    /// caller's. The error's flag says whether the connection is broken.
    fn write_request(
        &mut self,
        ws: &mut WebSocket<Metered>,
        want_write: &mut bool,
        endpoint: &str,
        body: Option<&str>,
        chosen: Option<u64>,
    ) -> std::result::Result<u64, (Error, bool)> {
        let id = match chosen {
            Some(id) => {
                let in_use = self.pending.contains_key(&id) || self.unanswered.contains(&id);
                if let Some(why) = crate::request_id::refuse_chosen(id, in_use) {
                    return Err((Error::usage(why), false));
                }
                id
            }
            None => self.next_id,
        };
        let Some(frame) = self.dialect.request_frame(endpoint, id, body) else {
            return Err((
                Error::usage(format!(
                    "request() needs a preset with request/response correlation (tradovate); this client uses the {} preset: use send_text() instead",
                    self.s.preset.name()
                )),
                false,
            ));
        };
        self.next_id = self.next_id.max(id.saturating_add(1));
        write(ws, Outgoing::Text(frame), want_write).map(|()| id)
    }

    /// Sends a JSON request with its id (the caller's, or the next one filled in) and records
    /// it as waiting for the message that carries the same id. `Err` when the connection
    /// broke while sending.
    fn start_json_request(
        &mut self,
        ws: &mut WebSocket<Metered>,
        want_write: &mut bool,
        message: &str,
        timeout: Duration,
        reply: Sender<Result<String>>,
    ) -> std::result::Result<(), End> {
        // A fresh id never taken by a request that still waits (the caller may choose ids).
        while self.awaiting.contains_key(&self.next_id.to_string()) {
            self.next_id += 1;
        }
        let field = &self.s.request_id_field;
        let request = match crate::request_id::identify(message, field, self.next_id) {
            Ok(r) => r,
            Err(why) => {
                let _ = reply.send(Err(Error::usage(why)));
                return Ok(());
            }
        };
        if self.awaiting.contains_key(&request.id) {
            let _ = reply.send(Err(Error::usage(format!(
                "a request with {field} {} already waits for its answer; use another id",
                request.id
            ))));
            return Ok(());
        }
        if request.id == self.next_id.to_string() {
            self.next_id += 1;
        }
        match write(ws, Outgoing::Text(request.text), want_write) {
            Ok(()) => {
                let endpoint = format!("the request with {field} {}", request.id);
                let deadline = Instant::now() + timeout;
                let pending = Pending {
                    endpoint,
                    deadline,
                    reply,
                };
                self.awaiting.insert(request.id, pending);
                Ok(())
            }
            Err(failed) => answer(Err(failed), &reply),
        }
    }
}
