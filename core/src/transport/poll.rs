//! The readiness poller of one connection: waits on its socket and on a waker at once.
//!
//! On Linux it is epoll with an eventfd waker, both level-triggered and registered once, so a
//! wait is one `epoll_wait` (plus one `read` of the eventfd when it was woken). The `polling`
//! crate, used elsewhere, arms a timerfd and re-registers its notifier around every wait:
//! five system calls per wakeup, on the path of every event at low rates
//! (docs/BENCHMARKS.md, latency).

use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

thread_local! {
    /// A signal interrupted a wait of this thread (`EINTR`) since [`take_interrupted`] last
    /// looked: a binding that runs signal handlers (Python's Ctrl-C) returns to run them.
    static INTERRUPTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a signal interrupted a wait of this thread since the last call; clears it.
pub(crate) fn take_interrupted() -> bool {
    INTERRUPTED.with(|i| i.replace(false))
}

/// Whether a signal interrupted a wait of this thread (without clearing it).
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.with(|i| i.get())
}

fn note_interrupted() {
    INTERRUPTED.with(|i| i.set(true));
}

/// What the socket is watched for: (readable, writable).
pub(crate) type Interest = (bool, bool);

#[cfg(target_os = "linux")]
pub(crate) use linux::Poller;
#[cfg(not(target_os = "linux"))]
pub(crate) use portable::Poller;

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
    use rustix::event::{eventfd, EventfdFlags, Timespec};
    use std::mem::MaybeUninit;
    use std::os::fd::OwnedFd;

    const WAKER: u64 = 0;
    const SOCKET: u64 = 1;

    /// epoll plus an eventfd that `notify` makes readable.
    #[derive(Debug)]
    pub(crate) struct Poller {
        epoll: OwnedFd,
        waker: OwnedFd,
    }

    fn flags((read, write): Interest) -> EventFlags {
        let mut f = EventFlags::empty();
        if read {
            f |= EventFlags::IN | EventFlags::RDHUP;
        }
        if write {
            f |= EventFlags::OUT;
        }
        if f.is_empty() {
            // epoll reports a hang-up or an error whatever the interest; level-triggered, a
            // socket the loop is not reading (the application is behind) would then wake
            // every wait until the queue drains. Edge-triggered, it wakes once.
            f = EventFlags::ET;
        }
        f
    }

    impl Poller {
        pub fn new() -> io::Result<Poller> {
            let epoll = epoll::create(CreateFlags::CLOEXEC)?;
            let waker = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
            epoll::add(&epoll, &waker, EventData::new_u64(WAKER), EventFlags::IN)?;
            Ok(Poller { epoll, waker })
        }

        /// Wakes the thread in `wait` (or makes its next wait return at once).
        pub fn notify(&self) -> io::Result<()> {
            match rustix::io::write(&self.waker, &1u64.to_ne_bytes()) {
                // The counter is full: a wakeup is pending anyway.
                Ok(_) | Err(rustix::io::Errno::AGAIN) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }

        /// The epoll fd: readable when a `wait` would return at once (for an event loop
        /// that runs the lent connection, `Client::io_fd`).
        pub fn raw_fd(&self) -> io::Result<std::os::fd::RawFd> {
            use std::os::fd::AsRawFd;
            Ok(self.epoll.as_raw_fd())
        }

        /// Registers the connection's socket (one per poller).
        pub fn add(&self, fd: impl AsFd, interest: Interest) -> io::Result<()> {
            Ok(epoll::add(
                &self.epoll,
                fd,
                EventData::new_u64(SOCKET),
                flags(interest),
            )?)
        }

        pub fn modify(&self, fd: impl AsFd, interest: Interest) -> io::Result<()> {
            Ok(epoll::modify(
                &self.epoll,
                fd,
                EventData::new_u64(SOCKET),
                flags(interest),
            )?)
        }

        pub fn delete(&self, fd: impl AsFd) -> io::Result<()> {
            Ok(epoll::delete(&self.epoll, fd)?)
        }

        /// Waits until the socket is ready, `notify` is called, or `timeout` passes.
        /// Returns whether the socket reported readiness.
        pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
            let ts = timeout.map(|d| {
                Timespec::try_from(d).unwrap_or(Timespec {
                    tv_sec: i64::from(i32::MAX),
                    tv_nsec: 0,
                })
            });
            let mut buf = [MaybeUninit::<Event>::uninit(); 4];
            let (events, _) = match epoll::wait(&self.epoll, &mut buf, ts.as_ref()) {
                Ok(r) => r,
                Err(rustix::io::Errno::INTR) => {
                    note_interrupted();
                    return Ok(false);
                }
                Err(e) => return Err(e.into()),
            };
            let mut socket = false;
            for ev in events.iter() {
                if ev.data.u64() == WAKER {
                    // Level-triggered: clear it, or every wait would return at once.
                    let mut b = [0u8; 8];
                    let _ = rustix::io::read(&self.waker, &mut b);
                } else {
                    socket = true;
                }
            }
            Ok(socket)
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod portable {
    use super::*;
    use polling::{Event, Events, PollMode};
    use std::sync::Mutex;

    const SOCKET: usize = 1;

    /// The `polling` crate (kqueue, event ports, ...).
    #[derive(Debug)]
    pub(crate) struct Poller {
        inner: polling::Poller,
        events: Mutex<Events>,
    }

    fn event((read, write): Interest) -> Event {
        match (read, write) {
            (true, true) => Event::all(SOCKET),
            (true, false) => Event::readable(SOCKET),
            (false, true) => Event::writable(SOCKET),
            (false, false) => Event::none(SOCKET),
        }
    }

    impl Poller {
        pub fn new() -> io::Result<Poller> {
            Ok(Poller {
                inner: polling::Poller::new()?,
                events: Mutex::new(Events::new()),
            })
        }

        pub fn notify(&self) -> io::Result<()> {
            self.inner.notify()
        }

        /// No event loop can watch this poller (`Client::io_fd` is Linux only).
        pub fn raw_fd(&self) -> io::Result<std::os::fd::RawFd> {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "only Linux's poller (epoll) can be watched by an event loop",
            ))
        }

        pub fn add(&self, fd: impl AsFd, interest: Interest) -> io::Result<()> {
            // SAFETY: the socket is deleted from the poller before it is closed (`Socket`'s Drop).
            unsafe {
                self.inner
                    .add_with_mode(&fd.as_fd(), event(interest), PollMode::Level)
            }
        }

        pub fn modify(&self, fd: impl AsFd, interest: Interest) -> io::Result<()> {
            self.inner
                .modify_with_mode(fd.as_fd(), event(interest), PollMode::Level)
        }

        pub fn delete(&self, fd: impl AsFd) -> io::Result<()> {
            self.inner.delete(fd.as_fd())
        }

        pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
            let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
            events.clear();
            match self.inner.wait(&mut events, timeout) {
                Ok(_) => Ok(events.iter().any(|e| e.key == SOCKET)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    note_interrupted();
                    Ok(false)
                }
                Err(e) => Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::time::Instant;

    #[test]
    fn socket_readiness_waker_and_timeout() {
        let p = Poller::new().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        p.add(&client, (true, false)).unwrap();

        // Nothing to read: the timeout passes.
        let t = Instant::now();
        assert!(!p.wait(Some(Duration::from_millis(30))).unwrap());
        assert!(t.elapsed() >= Duration::from_millis(25));

        // notify wakes a wait, once (the waker is cleared).
        p.notify().unwrap();
        p.notify().unwrap();
        assert!(!p.wait(Some(Duration::from_secs(5))).unwrap());
        let t = Instant::now();
        assert!(!p.wait(Some(Duration::from_millis(20))).unwrap());
        assert!(t.elapsed() >= Duration::from_millis(15));

        // Level-triggered: readable until read.
        server.write_all(b"x").unwrap();
        assert!(p.wait(Some(Duration::from_secs(5))).unwrap());
        assert!(p.wait(Some(Duration::from_secs(5))).unwrap());
        p.modify(&client, (false, false)).unwrap();
        assert!(!p.wait(Some(Duration::from_millis(10))).unwrap());
        p.modify(&client, (false, true)).unwrap();
        assert!(p.wait(Some(Duration::from_secs(5))).unwrap());
        p.delete(&client).unwrap();
        assert!(!p.wait(Some(Duration::ZERO)).unwrap());
    }

    #[test]
    fn a_hang_up_on_a_socket_nobody_reads_wakes_once() {
        let p = Poller::new().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        p.add(&client, (false, false)).unwrap();
        drop(server);
        let _ = client.shutdown(std::net::Shutdown::Write);
        let mut woken = 0;
        for _ in 0..5 {
            woken += usize::from(p.wait(Some(Duration::from_millis(20))).unwrap());
        }
        assert!(woken <= 1, "woken {woken} times by one hang-up");
        // Asking to read again reports it (the loop then reads the end of the stream).
        p.modify(&client, (true, false)).unwrap();
        assert!(p.wait(Some(Duration::from_secs(5))).unwrap());
    }
}
