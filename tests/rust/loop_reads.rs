//! `Client::read_batch_with`: an event loop that reads the socket on its own thread (it
//! watches the readiness fd, and the connection's poller fd while the I/O thread lends it
//! the connection) gets every event once, in order, across a dropped connection; timers go
//! on while it holds the connection (a quiet server stays, a silent one is left); a command
//! from another thread goes out and does not leave the loop spinning; the end of the
//! stream wakes it.

use std::ops::ControlFlow;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use tradewire::{Client, Config, ErrorCategory, Event};
use tradewire_testkit::events::sequenced;
use tradewire_testkit::{DaemonServer, ServerOptions, WsServer};

use crate::support::{feed_across_a_drop, quick, seq_of, SOON};

/// What a loop saw.
#[derive(Default)]
struct Seen {
    events: Vec<Event>,
    /// Takes that ran the connection on the loop's thread (it was lent).
    lent: usize,
    /// Wake-ups (a fd readable) that gave no event.
    empty_wakeups: usize,
    ended: bool,
}

/// Waits until `ready` or (when `lent`) `io` is readable, at most `limit`; false if neither.
fn wait_fds(ready: RawFd, io: RawFd, lent: bool, limit: Duration) -> bool {
    // SAFETY: the client owns both fds and outlives this call.
    let (ready, io) = unsafe { (BorrowedFd::borrow_raw(ready), BorrowedFd::borrow_raw(io)) };
    let mut fds = vec![PollFd::new(&ready, PollFlags::IN)];
    if lent {
        fds.push(PollFd::new(&io, PollFlags::IN));
    }
    let t = Timespec {
        tv_sec: limit.as_secs() as i64,
        tv_nsec: limit.subsec_nanos() as i64,
    };
    poll(&mut fds, Some(&t)).unwrap() > 0
}

/// The loop of an application with its own event loop: takes without blocking, waits on the
/// fds only after an empty take. Runs until `until(events)`, the end of the stream, or
/// `limit` (then returns what it has).
fn event_loop(client: &Client, limit: Duration, mut until: impl FnMut(&[Event]) -> bool) -> Seen {
    let (ready, io) = (client.ready_fd().unwrap(), client.io_fd().unwrap());
    let end = Instant::now() + limit;
    let mut seen = Seen::default();
    let mut woken = false;
    loop {
        let mut batch = Vec::new();
        let taken = client.read_batch_with(64, |e| {
            batch.push(e);
            ControlFlow::Continue(())
        });
        match taken {
            Ok(b) if b.taken == 0 => {
                seen.lent += usize::from(b.lent);
                if woken {
                    seen.empty_wakeups += 1;
                }
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() || !wait_fds(ready, io, b.lent, left) {
                    return seen;
                }
                woken = true;
            }
            Ok(b) => {
                seen.lent += usize::from(b.lent);
                assert_eq!(b.taken, batch.len());
                woken = false;
                seen.events.extend(batch);
                if until(&seen.events) {
                    return seen;
                }
            }
            Err(e) if e.kind() == ErrorCategory::Closed => {
                seen.ended = true;
                return seen;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn inline_reads_on() -> bool {
    std::env::var_os("TRADEWIRE_TEST_INLINE_READS").is_none_or(|v| v != "0")
}

#[test]
fn a_loop_reading_on_its_own_thread_gets_every_event_across_a_drop_and_sees_the_end() {
    let server = Arc::new(WsServer::start(ServerOptions::default()).unwrap());
    let client = Arc::new(Client::new(quick(Config::new(server.url()))).unwrap());
    client.start().unwrap();
    let seen_n = Arc::new(AtomicUsize::new(0));
    let feeder = feed_across_a_drop(server.clone(), seen_n.clone());
    let seen = event_loop(&client, SOON * 3, |got| {
        let numbered = got.iter().filter_map(seq_of).count();
        seen_n.store(numbered, Ordering::SeqCst);
        numbered == 10_000
    });
    feeder.join().unwrap();
    let seqs: Vec<u64> = seen.events.iter().filter_map(seq_of).collect();
    assert_eq!(seqs, (0..10_000).collect::<Vec<_>>());
    assert!(
        seen.events.iter().any(|e| e.kind() == "disconnected"),
        "the drop is an event"
    );
    if inline_reads_on() {
        assert!(seen.lent > 0, "the loop never held the connection");
    } else {
        assert_eq!(seen.lent, 0, "without inline reads nothing is lent");
    }

    // close() from another thread while the loop waits: it wakes and sees the end.
    let closer = {
        let client = client.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            client.close();
        })
    };
    let rest = event_loop(&client, SOON, |_| false);
    closer.join().unwrap();
    assert!(rest.ended, "the end of the stream woke the loop");
    assert!(rest.events.iter().all(|e| e.kind() != "message"));
}

#[test]
fn timers_go_on_while_the_loop_holds_the_connection() {
    // A quiet server that answers pings: three seconds of waiting, no disconnect.
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(crate::half_open::config(server.url())).unwrap();
    let connected = event_loop(&client, SOON, |got| {
        got.iter().any(|e| e.kind() == "connected")
    });
    assert!(connected.events.iter().any(|e| e.kind() == "connected"));
    let quiet = event_loop(&client, Duration::from_secs(3), |_| true);
    assert!(
        quiet.events.is_empty(),
        "no event in 3 quiet seconds: {:?}",
        quiet.events
    );
    assert!(client.status().connected);
    assert!(
        client.status().last_heartbeat_latency.is_some(),
        "pings went out and their pongs were read"
    );

    // Silent (no pong): the I/O thread's deadline finds it within 3 x heartbeat_timeout,
    // while the loop holds the connection.
    let t0 = Instant::now();
    server.set_silent(true);
    let dropped = event_loop(&client, SOON, |got| {
        got.iter().any(|e| e.kind() == "disconnected")
    });
    let took = t0.elapsed();
    assert!(
        dropped.events.iter().any(|e| e.kind() == "disconnected"),
        "{:?}",
        dropped.events
    );
    assert!(took < Duration::from_secs(3), "detected after {took:?}");
    server.set_silent(false);
    client.close();
}

#[test]
fn a_command_from_another_thread_goes_out_and_leaves_no_fd_readable() {
    let server = Arc::new(WsServer::start(ServerOptions::default()).unwrap());
    let client = Arc::new(Client::connect(quick(Config::new(server.url()))).unwrap());
    assert!(server.wait_for_connections(1, SOON));
    server.broadcast(&sequenced(1, None));
    let first = event_loop(&client, SOON, |got| {
        got.iter().any(|e| seq_of(e) == Some(1))
    });
    assert!(first.events.iter().any(|e| seq_of(e) == Some(1)));
    // The loop now waits with the connection (when lent); another thread sends.
    let sender = {
        let client = client.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            for i in 0..20 {
                client
                    .send_text(format!("from another thread {i}"))
                    .unwrap();
            }
        })
    };
    let idle = event_loop(&client, Duration::from_secs(1), |_| false);
    sender.join().unwrap();
    let got = server.received();
    assert_eq!(
        got.iter()
            .filter(|t| t.starts_with("from another thread"))
            .count(),
        20,
        "{got:?}"
    );
    assert!(idle.events.is_empty(), "{:?}", idle.events);
    // Each command may wake the loop once or twice (its wake-up of the poller, cleared by
    // the next pass); a wake-up left set would wake it thousands of times in this second.
    assert!(
        idle.empty_wakeups <= 60,
        "{} wake-ups without an event for 20 commands",
        idle.empty_wakeups
    );
    client.close();
}
