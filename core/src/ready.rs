//! The readiness file descriptor: an opt-in eventfd that becomes readable when events may be
//! waiting, for applications that run their own event loop (asyncio's `add_reader`, a C
//! program's `epoll`) and take events without blocking.
//!
//! The protocol keeps system calls off the hot path and loses no wake-up:
//! - the consumer takes events without waiting ([`crate::Client::try_recv`],
//!   [`crate::Client::recv_batch`] with a zero timeout); a take that finds the queue empty
//!   *arms* the fd and looks at the queue once more (an event queued between the two looks
//!   is then taken, not waited for);
//! - the I/O thread, after queueing an event (or ending the stream), writes the fd only if it
//!   is armed, and disarms it: one write per wake-up however many events follow;
//! - a take that follows a write, or an arming, drains the fd *before* it looks at the queue
//!   (after an arming it reads the fd even if the I/O thread has not yet said it wrote it:
//!   a consumer woken by the write may run before the writer sets its flag), so an event
//!   queued between the drain and the take is taken by it (and one queued after it re-arms
//!   the fd through the next empty take): the fd is never left readable with nothing to take
//!   for more than one spurious wake-up, and never left quiet with an event queued.
//!
//! The ordering is Dekker's: the consumer stores `armed` then reads the queue, the I/O thread
//! writes the queue then reads `armed`, both sequentially consistent, so at least one of them
//! sees the other.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::OnceLock;

/// The readiness state of one client, shared by the I/O thread and the consumer.
#[derive(Debug, Default)]
pub(crate) struct Ready {
    /// The eventfd, made by the first [`Ready::enable`].
    fd: OnceLock<OwnedFd>,
    /// Set once the fd exists: until then the I/O thread skips the check (one relaxed load).
    enabled: AtomicBool,
    /// A take found the queue empty and the consumer may now wait on the fd.
    armed: AtomicBool,
    /// The I/O thread wrote the fd since the last drain.
    signalled: AtomicBool,
    /// A take armed the fd since the last drain, so the I/O thread may have written it
    /// without having set `signalled` yet: if it took the arming back (it disarms before it
    /// writes), the next drain reads the fd anyway. Without this,
    /// a consumer woken by the write while the I/O thread is preempted between the write and
    /// the flag (likely when both share one CPU: the wake-up preempts the writer) would find
    /// the fd readable, not drain it, and wake again at once, spinning until the I/O thread
    /// ran again (milliseconds of latency, docs/BENCHMARKS.md). One read per wait: the wait
    /// itself costs a system call already, and only a wait that was woken pays it.
    waited: AtomicBool,
}

impl Ready {
    /// The fd, made on the first call (non-blocking, close-on-exec). It starts readable, so
    /// that a consumer that enables it after events were queued looks at the queue at once.
    pub fn enable(&self) -> io::Result<RawFd> {
        if let Some(fd) = self.fd.get() {
            return Ok(fd.as_raw_fd());
        }
        let made = make_fd()?;
        let fd = self.fd.get_or_init(|| made);
        if !self.enabled.swap(true, Ordering::SeqCst) {
            write_fd(fd);
            self.signalled.store(true, Ordering::SeqCst);
        }
        Ok(fd.as_raw_fd())
    }

    /// True once [`Ready::enable`] made the fd.
    #[inline]
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// I/O thread: an event was queued, or the stream ended. Writes the fd if a consumer
    /// armed it. Costs a relaxed load while readiness is off.
    #[inline]
    pub fn notify(&self) {
        if !self.enabled.load(Ordering::Relaxed) {
            return;
        }
        fence(Ordering::SeqCst);
        if self.armed.load(Ordering::Relaxed) && self.armed.swap(false, Ordering::SeqCst) {
            self.wake();
        }
    }

    /// Writes the fd whether armed or not (the end of the client: whoever waits must look).
    pub fn wake(&self) {
        if let Some(fd) = self.fd.get() {
            write_fd(fd);
            self.signalled.store(true, Ordering::SeqCst);
        }
    }

    /// Consumer, before taking: empties the fd if the I/O thread wrote it, or may have (a
    /// take armed it since the last drain).
    #[inline]
    pub fn drain(&self) {
        let wrote =
            self.signalled.load(Ordering::Relaxed) && self.signalled.swap(false, Ordering::SeqCst);
        // An arming the I/O thread has not taken back (still armed) was not written for.
        let waited = self.waited.load(Ordering::Relaxed)
            && self.waited.swap(false, Ordering::SeqCst)
            && !self.armed.load(Ordering::SeqCst);
        if wrote || waited {
            if let Some(fd) = self.fd.get() {
                let mut b = [0u8; 8];
                // EAGAIN: written and drained already (the flag is set after the write).
                let _ = rustix::io::read(fd, &mut b);
            }
        }
    }

    /// Consumer that reads the connection itself (`Client::read_batch_with`): not waiting on
    /// the fd now, so the events it queues itself need no write. It arms again before it
    /// waits.
    #[inline]
    pub fn disarm(&self) {
        if self.armed.load(Ordering::Relaxed) {
            self.armed.store(false, Ordering::SeqCst);
        }
    }

    /// Consumer, after a take found nothing: arms the fd. The caller then looks at the queue
    /// once more before it waits on the fd.
    #[inline]
    pub fn arm(&self) {
        self.waited.store(true, Ordering::Relaxed);
        self.armed.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }
}

#[cfg(target_os = "linux")]
fn make_fd() -> io::Result<OwnedFd> {
    use rustix::event::{eventfd, EventfdFlags};
    Ok(eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?)
}

#[cfg(not(target_os = "linux"))]
fn make_fd() -> io::Result<OwnedFd> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "the readiness fd is an eventfd, which this system does not have",
    ))
}

/// Adds one to the eventfd; a full counter (never in practice) is readable already.
fn write_fd(fd: &OwnedFd) {
    let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::event::{poll, PollFd, PollFlags, Timespec};

    fn readable(fd: RawFd) -> bool {
        // SAFETY: the fd is owned by the `Ready` the test holds for the whole call.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        poll(&mut fds, Some(&Timespec::default())).unwrap() == 1
    }

    #[test]
    fn the_fd_is_written_once_per_arming_and_quiet_after_a_drain() {
        let r = Ready::default();
        r.notify(); // not enabled: nothing to write, nothing fails
        let fd = r.enable().unwrap();
        assert_eq!(r.enable().unwrap(), fd, "one fd per client");
        assert!(readable(fd), "starts readable: look at the queue once");
        r.drain();
        assert!(!readable(fd));
        r.notify();
        assert!(!readable(fd), "not armed: no write");
        r.arm();
        r.notify();
        assert!(readable(fd), "armed: written");
        r.notify();
        r.drain();
        assert!(!readable(fd), "one write per arming, emptied by one drain");
    }

    /// The consumer's take as `Client` does it: drain, look, arm, look again.
    fn take(r: &Ready, rx: &crossbeam_channel::Receiver<u64>) -> Option<u64> {
        r.drain();
        if let Ok(v) = rx.try_recv() {
            return Some(v);
        }
        r.arm();
        rx.try_recv().ok()
    }

    #[test]
    fn an_event_queued_between_the_drain_and_the_take_is_taken_and_the_fd_stays_quiet() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let r = Ready::default();
        let fd = r.enable().unwrap();
        assert_eq!(take(&r, &rx), None);
        tx.send(1).unwrap();
        r.notify();
        assert!(readable(fd));
        // The take drains, then the event arrives, then it looks: it takes it.
        r.drain();
        tx.send(2).unwrap();
        r.notify(); // disarmed by the first write: no second write
        assert_eq!(rx.try_recv().ok(), Some(1));
        assert_eq!(rx.try_recv().ok(), Some(2));
        assert!(!readable(fd), "drained, and nothing announced twice");
        // The next take finds nothing and arms; the next event is announced.
        assert_eq!(take(&r, &rx), None);
        assert!(!readable(fd));
        tx.send(3).unwrap();
        r.notify();
        assert!(readable(fd));
        assert_eq!(take(&r, &rx), Some(3));
        assert!(!readable(fd));
    }

    #[test]
    fn a_wake_up_that_comes_before_the_flag_is_drained_not_spun_on() {
        // The I/O thread disarms and writes the fd, then is preempted before it sets
        // `signalled` (the consumer it woke runs first).
        let (tx, rx) = crossbeam_channel::unbounded();
        let r = Ready::default();
        let fd = r.enable().unwrap();
        assert_eq!(take(&r, &rx), None, "arms");
        tx.send(1).unwrap();
        assert!(r.armed.swap(false, Ordering::SeqCst));
        write_fd(r.fd.get().unwrap());
        assert!(readable(fd));
        assert_eq!(take(&r, &rx), Some(1));
        assert!(
            !readable(fd),
            "drained although `signalled` was not set yet"
        );
        r.signalled.store(true, Ordering::SeqCst); // the I/O thread runs again
        assert_eq!(take(&r, &rx), None);
        assert!(!readable(fd), "the late flag costs one read, not a wake-up");
    }

    #[test]
    fn an_event_queued_between_arming_and_the_second_look_is_taken_not_lost() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let r = Ready::default();
        let fd = r.enable().unwrap();
        r.drain();
        assert!(rx.try_recv().is_err());
        r.arm();
        tx.send(7).unwrap();
        r.notify(); // armed: written (a spurious wake-up later, never a lost one)
        assert_eq!(rx.try_recv().ok(), Some(7));
        assert!(readable(fd));
        assert_eq!(take(&r, &rx), None, "the spurious wake-up finds nothing");
        assert!(!readable(fd), "and leaves the fd quiet");
    }

    #[test]
    fn a_consumer_that_waits_only_on_the_fd_gets_every_event_of_a_racing_producer() {
        use std::os::fd::BorrowedFd;
        const N: u64 = 200_000;
        let (tx, rx) = crossbeam_channel::unbounded();
        let r = std::sync::Arc::new(Ready::default());
        let fd = r.enable().unwrap();
        let producer = {
            let r = r.clone();
            std::thread::spawn(move || {
                for i in 0..N {
                    tx.send(i).unwrap();
                    r.notify();
                    if i % 1000 == 0 {
                        std::thread::yield_now();
                    }
                }
            })
        };
        let mut next = 0;
        let mut waits = 0u64;
        while next < N {
            match take(&r, &rx) {
                Some(v) => {
                    assert_eq!(v, next);
                    next += 1;
                }
                None => {
                    waits += 1;
                    // SAFETY: `r` owns the fd for the whole test.
                    let b = unsafe { BorrowedFd::borrow_raw(fd) };
                    let mut fds = [PollFd::new(&b, PollFlags::IN)];
                    // A lost wake-up would wait here for ever: a minute means lost.
                    let t = Timespec {
                        tv_sec: 60,
                        tv_nsec: 0,
                    };
                    assert_eq!(
                        poll(&mut fds, Some(&t)).unwrap(),
                        1,
                        "a wake-up was lost at {next}"
                    );
                }
            }
        }
        producer.join().unwrap();
        assert!(waits > 0 || next == N);
    }
}
