//! A helper thread per connection that waits until the socket is readable.
//!
//! The connection thread sleeps on its command queue so that broadcasts go out
//! at once; this thread blocks in `peek` on a clone of the TCP socket and wakes
//! the connection thread when bytes (or EOF) arrive, then waits until the
//! connection thread has consumed them before peeking again.

use std::io::ErrorKind;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::core::{Cmd, ConnId};

/// How long one `peek` blocks before re-checking whether to stop.
const PEEK_TIMEOUT: Duration = Duration::from_millis(100);

/// Owner side of the readiness thread; dropping it stops and joins the thread
/// (shut the socket down first so that `peek` returns at once).
pub(crate) struct Readiness {
    readable: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    ack: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Readiness {
    /// Starts watching `socket` (a clone is kept); wake-ups go to `wake`.
    pub(crate) fn spawn(
        socket: &TcpStream,
        wake: Sender<Cmd>,
        id: ConnId,
    ) -> std::io::Result<Readiness> {
        let socket = socket.try_clone()?;
        socket.set_read_timeout(Some(PEEK_TIMEOUT))?;
        let readable = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let (ack, acked) = crossbeam_channel::bounded::<()>(1);
        let thread = {
            let readable = readable.clone();
            let done = done.clone();
            std::thread::Builder::new()
                .name(format!("tw-ready-{id}"))
                .spawn(move || watch(socket, readable, done, wake, acked))?
        };
        Ok(Readiness {
            readable,
            done,
            ack: Some(ack),
            thread: Some(thread),
        })
    }

    /// True when the socket has bytes (or EOF) the connection has not read yet.
    pub(crate) fn is_readable(&self) -> bool {
        self.readable.load(Ordering::SeqCst)
    }

    /// The connection read everything available: resume watching.
    pub(crate) fn consumed(&self) {
        self.readable.store(false, Ordering::SeqCst);
        if let Some(ack) = &self.ack {
            let _ = ack.try_send(());
        }
    }
}

fn watch(
    socket: TcpStream,
    readable: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    wake: Sender<Cmd>,
    acked: Receiver<()>,
) {
    let mut probe = [0u8; 1];
    while !done.load(Ordering::SeqCst) {
        match socket.peek(&mut probe) {
            Ok(_) => {
                readable.store(true, Ordering::SeqCst);
                if wake.send(Cmd::Wake).is_err() || acked.recv().is_err() {
                    return;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => {
                // Let the connection thread discover the error by reading.
                readable.store(true, Ordering::SeqCst);
                let _ = wake.send(Cmd::Wake);
                return;
            }
        }
    }
}

impl Drop for Readiness {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        drop(self.ack.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
