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
            Ok(Command::Close) | Err(TryRecvError::Disconnected) => return Some(Interrupt::Close),
            Ok(Command::Reconnect { done }) => {
                // After `GaveUp` the next stream starts now, before `reconnect()` returns.
                delivery.restart();
                let _ = done.send(());
                return Some(Interrupt::Reconnect);
            }
            Err(TryRecvError::Empty) => return None,
        }
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
                    if !*live {
                        let _ = reply.send(Err(Error::not_connected(
                            "the client is logging in; nothing was sent (wait for the authenticated event)".into(),
                        )));
                        continue;
                    }
                    let r = write(ws, frame, want_write);
                    let broken = match &r {
                        Err((e, true)) => Some(e.to_string()),
                        _ => None,
                    };
                    let _ = reply.send(r.map_err(|(e, _)| e));
                    if let Some(e) = broken {
                        return Err(End::Broken(e));
                    }
                }
                Ok(Command::Request {
                    endpoint,
                    body,
                    timeout,
                    reply,
                }) => {
                    if !*live {
                        let _ = reply.send(Err(Error::not_connected(
                            "the client is not logged in yet; the request was not sent".into(),
                        )));
                        continue;
                    }
                    let id = self.next_id;
                    let Some(frame) = self.dialect.request_frame(&endpoint, id, body.as_deref())
                    else {
                        let _ = reply.send(Err(Error::usage(format!(
                            "request() needs a preset with request/response correlation (tradovate); this client uses the {} preset: use send_text() instead",
                            self.s.preset.name()
                        ))));
                        continue;
                    };
                    self.next_id += 1;
                    match write(ws, Outgoing::Text(frame), want_write) {
                        Ok(()) => {
                            let deadline = Instant::now() + timeout;
                            self.pending.insert(
                                id,
                                Pending {
                                    endpoint,
                                    deadline,
                                    reply,
                                },
                            );
                        }
                        Err((e, broken)) => {
                            let msg = e.to_string();
                            let _ = reply.send(Err(e));
                            if broken {
                                return Err(End::Broken(msg));
                            }
                        }
                    }
                }
                Ok(Command::Close) | Err(TryRecvError::Disconnected) => {
                    close_gracefully(ws, reader, &mut self.reactor, 1000, "closed by the client");
                    return Err(End::Close);
                }
                Ok(Command::Reconnect { done }) => {
                    let _ = done.send(());
                    close_gracefully(ws, reader, &mut self.reactor, 1000, "reconnecting");
                    return Err(End::Reconnect);
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        Ok(())
    }
}
