//! `Client::ready_fd`: a consumer that never blocks in the library, woken by the readiness
//! fd in a `poll` loop of its own, gets every event once, in order, across a dropped
//! connection, and sees the end of the stream when another thread closes the client.

use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use tradewire::{Client, Config, ErrorCategory, Event};
use tradewire_testkit::events::sequenced;
use tradewire_testkit::{ServerOptions, WsServer};

use crate::support::{feed_across_a_drop, quick, seq_of, SOON};

/// Waits for the fd to be readable; false if it was not within `SOON` (a lost wake-up).
fn readable(fd: RawFd) -> bool {
    // SAFETY: the client owns the fd and outlives this call.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let t = Timespec {
        tv_sec: SOON.as_secs() as i64,
        tv_nsec: 0,
    };
    poll(&mut fds, Some(&t)).unwrap() == 1
}

/// Takes batches without waiting; waits on the fd only when a take came back empty. Stops
/// at the end of the stream. Returns the events and how many waits found nothing.
fn poll_loop(client: &Client, mut until: impl FnMut(&[Event]) -> bool) -> (Vec<Event>, usize) {
    let fd = client.ready_fd().unwrap();
    let mut got = Vec::new();
    let mut empty_wakeups = 0;
    let mut woken = false;
    loop {
        match client.recv_batch(64, Some(Duration::ZERO)) {
            Ok(batch) if batch.is_empty() => {
                if woken {
                    empty_wakeups += 1;
                }
                assert!(
                    readable(fd),
                    "a wake-up was lost after {} events",
                    got.len()
                );
                woken = true;
            }
            Ok(batch) => {
                woken = false;
                got.extend(batch);
                if until(&got) {
                    return (got, empty_wakeups);
                }
            }
            Err(e) if e.kind() == ErrorCategory::Closed => return (got, empty_wakeups),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_poll_loop_on_the_ready_fd_gets_every_event_across_a_drop_and_sees_the_end() {
    let server = Arc::new(WsServer::start(ServerOptions::default()).unwrap());
    let client = Arc::new(Client::new(quick(Config::new(server.url()))).unwrap());
    // Made before start: the fd starts readable, the first take finds nothing and arms it.
    let fd = client.ready_fd().unwrap();
    assert_eq!(client.ready_fd().unwrap(), fd, "one fd per client");
    client.start().unwrap();
    // How many numbered messages the loop has: the feeder drops the connection only once
    // the first 5,000 have arrived (dropping it with frames still in the server's queue
    // would lose them on the server's side, which is not what this test is about).
    let seen = Arc::new(AtomicUsize::new(0));
    let feeder = feed_across_a_drop(server.clone(), seen.clone());
    let (events, _) = poll_loop(&client, |got| {
        let numbered = got.iter().filter_map(seq_of).count();
        seen.store(numbered, Ordering::SeqCst);
        numbered == 10_000
    });
    feeder.join().unwrap();
    let seqs: Vec<u64> = events.iter().filter_map(seq_of).collect();
    assert_eq!(seqs, (0..10_000).collect::<Vec<_>>());
    let kinds: Vec<&str> = events.iter().map(|e| e.kind()).collect();
    assert!(kinds.contains(&"disconnected"), "{kinds:?}");

    // close() from another thread while the loop waits on the fd: it wakes and ends.
    let closer = {
        let client = client.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            client.close();
        })
    };
    let (rest, _) = poll_loop(&client, |_| false);
    closer.join().unwrap();
    assert!(rest.iter().all(|e| e.kind() != "message"), "{rest:?}");
    let e = client.recv_batch(64, Some(Duration::ZERO)).unwrap_err();
    assert_eq!(e.kind(), ErrorCategory::Closed);
}

#[test]
fn without_the_ready_fd_a_take_that_does_not_wait_is_unchanged() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::connect(quick(Config::new(server.url()))).unwrap();
    assert!(server.wait_for_connections(1, SOON));
    server.broadcast(&sequenced(1, None));
    let mut seen = Vec::new();
    while seen.is_empty() {
        seen.extend(
            client
                .recv_batch(8, Some(SOON))
                .unwrap()
                .iter()
                .filter_map(seq_of),
        );
    }
    assert_eq!(seen, [1]);
    assert!(client.try_recv().unwrap().is_none());
}
