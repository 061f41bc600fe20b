//! For applications that run their own event loop (asyncio, a C program's `epoll`): the
//! readiness fd, which says that events may be queued, and the loop's own reads.
//!
//! With only the readiness fd, the I/O thread reads the socket and the loop takes what it
//! queued: every event crosses from one thread to the other (a wake-up, often a context
//! switch). With [`Client::read_batch_with`] and `inline_reads` (the default), the loop's
//! thread reads the socket itself while the I/O thread lends it the connection, as a thread
//! waiting in `recv` does (`engine::handoff`); the I/O thread keeps the timers. The rules of
//! both live here, once, for every binding.

use std::ops::ControlFlow;
use std::os::fd::RawFd;

use super::Client;
use crate::engine::Pumped;
use crate::error::{Error, Result};
use crate::event::Event;

/// What [`Client::read_batch_with`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopBatch {
    /// How many events were handed over.
    pub taken: usize,
    /// Whether the connection is lent to this thread. When nothing was taken, the loop
    /// waits on [`Client::ready_fd`] and, if `lent`, on [`Client::io_fd`] too; when not
    /// lent it must not watch `io_fd` (the I/O thread reads the socket; it was asked for
    /// the connection and writes the readiness fd when it lends it).
    pub lent: bool,
}

impl Client {
    /// A file descriptor that becomes readable when events may be waiting, for an application
    /// that runs its own event loop (`epoll`, asyncio's `add_reader`) and takes events without
    /// waiting: [`Client::try_recv`], or [`Client::recv_batch`] with a zero timeout. Made on
    /// the first call (an eventfd, non-blocking and close-on-exec, owned by the client: do
    /// not close it); every call returns the same one. Until the first call nothing of it
    /// costs anything.
    ///
    /// The rule: wait on the fd only after a take came back empty (`Ok(None)`, an empty
    /// batch). Such a take arms the fd; the I/O thread writes it when it queues the next
    /// event, or when the stream ends (the next take then returns `Err(Closed)`). A take
    /// empties the fd before it looks at the queue, so an event that arrives meanwhile is
    /// either taken by it or announced anew: no wake-up is lost, however the two race. A
    /// batch that came back full may have left events queued: take again before waiting. A
    /// wake-up may find nothing (the events were taken by an earlier take): take, and wait
    /// again. The fd starts readable. Linux only (elsewhere: `Err(Io)`).
    ///
    /// ```no_run
    /// use std::os::fd::BorrowedFd;
    /// use std::time::Duration;
    /// use rustix::event::{poll, PollFd, PollFlags};
    /// use tradewire::{Client, Config};
    ///
    /// let client = Client::connect(Config::new("ws://localhost:8765"))?;
    /// let fd = client.ready_fd()?;
    /// // SAFETY: the client owns the fd and outlives this borrow.
    /// let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    /// loop {
    ///     let batch = client.recv_batch(1024, Some(Duration::ZERO))?;
    ///     if batch.is_empty() {
    ///         // Nothing queued: the fd is armed. A real loop waits on its other fds too.
    ///         let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    ///         poll(&mut fds, None).map_err(std::io::Error::from)?;
    ///         continue;
    ///     }
    ///     for event in batch {
    ///         log::info!("{}", event.kind());
    ///     }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ready_fd(&self) -> Result<std::os::fd::RawFd> {
        self.streams.ready.enable().map_err(|e| {
            Error::io(format!("could not create the readiness fd: {e}")).with_source(e)
        })
    }

    /// The connection's poller (an epoll fd owned by the client: do not close it; the same
    /// for the client's whole life, across reconnects): readable when the live connection
    /// has something to read, or a command to run. Watch it only while
    /// [`Client::read_batch_with`] says the connection is lent to this thread. Linux only.
    pub fn io_fd(&self) -> Result<RawFd> {
        self.poller.raw_fd().map_err(|e| {
            Error::io(format!(
                "the connection's poller has no file descriptor here: {e}"
            ))
            .with_source(e)
        })
    }

    /// The event loop stops waiting on [`Client::io_fd`] (no task awaits events for now): the
    /// I/O thread takes the connection back within the lease and reads into the queue
    /// meanwhile (answering pings, applying the overflow policy). The next
    /// [`Client::read_batch_with`] asks for it again. A loop that waits after an empty
    /// [`Client::read_batch_with`] keeps the connection (the I/O thread still runs the
    /// timers), so a loop that stops awaiting must say so.
    pub fn stop_reading(&self) {
        if let Some(h) = &self.handoff {
            h.release();
        }
    }

    /// For an event loop that reads the socket on its own thread: hands the queued events to
    /// `each` (up to `max`); if none are queued, first runs the connection on this thread
    /// without waiting when the I/O thread has lent it (reads what has arrived, delivers it,
    /// runs due commands and timers), or asks the I/O thread for it. Never blocks.
    ///
    /// When it returns nothing taken, wait on [`Client::ready_fd`] (made by the first call)
    /// and, if [`LoopBatch::lent`], on [`Client::io_fd`]; when either is readable, call again.
    /// The readiness fd is armed as by an empty [`Client::try_recv`]. Without `inline_reads`
    /// this is [`Client::recv_batch_with`] with a zero timeout (`lent` is always false).
    /// Errors as [`Client::recv_batch`]: `Err(Closed)` once the stream ended and every event
    /// was taken.
    ///
    /// ```no_run
    /// use std::ops::ControlFlow;
    /// use std::os::fd::BorrowedFd;
    /// use rustix::event::{poll, PollFd, PollFlags};
    /// use tradewire::{Client, Config};
    ///
    /// let client = Client::connect(Config::new("ws://localhost:8765"))?;
    /// let (ready, io) = (client.ready_fd()?, client.io_fd()?);
    /// // SAFETY: the client owns both fds and outlives these borrows.
    /// let (ready, io) = unsafe { (BorrowedFd::borrow_raw(ready), BorrowedFd::borrow_raw(io)) };
    /// loop {
    ///     let batch = client.read_batch_with(1024, |event| {
    ///         log::info!("{}", event.kind());
    ///         ControlFlow::Continue(())
    ///     })?;
    ///     if batch.taken == 0 {
    ///         let mut fds = vec![PollFd::new(&ready, PollFlags::IN)];
    ///         if batch.lent {
    ///             fds.push(PollFd::new(&io, PollFlags::IN));
    ///         }
    ///         poll(&mut fds, None).map_err(std::io::Error::from)?;
    ///     }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_batch_with(
        &self,
        max: usize,
        mut each: impl FnMut(Event) -> ControlFlow<()>,
    ) -> Result<LoopBatch> {
        self.check_no_callback()?;
        let ready = &self.streams.ready;
        if !ready.is_enabled() {
            self.ready_fd()?;
        }
        if max == 0 {
            return Ok(LoopBatch {
                taken: 0,
                lent: false,
            });
        }
        // Events already queued are taken without reading; the fd is disarmed so that the
        // pass below does not write it for events this thread queues itself.
        ready.drain();
        ready.disarm();
        let mut first = self.take().map_err(|e| self.ended(e))?;
        let mut lent = false;
        if first.is_none() {
            if let Some(h) = &self.handoff {
                let rx = self.streams.current();
                lent = h.pump(&|| !rx.is_empty()) == Pumped::Ran;
            }
            // What the pass queued, or the I/O thread meanwhile; armed if nothing.
            first = self.take_or_arm().map_err(|e| self.ended(e))?;
        }
        let Some(first) = first else {
            self.check_started()?;
            return Ok(LoopBatch { taken: 0, lent });
        };
        let taken = self.hand_over(first, max, &mut each);
        Ok(LoopBatch { taken, lent })
    }
}
