//! Unit tests of delivery: each overflow policy, the end of a stream and its restart, and a
//! proptest of the rules every policy keeps on random sequences.

use super::*;
use crate::event::Message;
use crossbeam_channel::Receiver;
use proptest::prelude::*;
use std::time::SystemTime;

fn msg(i: u64) -> Event {
    Event::Message(Message::text(
        &i.to_string(),
        None,
        None,
        None,
        SystemTime::now(),
        1,
    ))
}

/// A lifecycle event that says which one it is.
fn life(i: u64) -> Event {
    Event::Authenticated { epoch: i }
}

fn id(ev: &Event) -> String {
    match ev {
        Event::Message(m) => m.raw().unwrap().to_string(),
        Event::Lagged { dropped } => format!("L{dropped}"),
        Event::Authenticated { epoch } => format!("A{epoch}"),
        other => other.kind().to_string(),
    }
}

fn drain(rx: &Receiver<Event>) -> Vec<String> {
    rx.try_iter().map(|e| id(&e)).collect()
}

fn setup(capacity: usize, policy: Overflow) -> (Delivery, Arc<Streams>, Arc<Counters>) {
    let c = Arc::new(Counters::default());
    let (d, streams) = Delivery::new(capacity, policy, c.clone());
    (d, streams, c)
}

#[test]
fn block_keeps_everything_in_order() {
    let (mut d, streams, c) = setup(2, Overflow::Block);
    let rx = streams.current();
    for i in 0..5 {
        d.push(msg(i));
    }
    assert!(d.blocked());
    assert_eq!(drain(&rx), ["0", "1"]);
    d.flush();
    assert_eq!(drain(&rx), ["2", "3"]);
    d.flush();
    assert_eq!(drain(&rx), ["4"]);
    assert!(!d.blocked());
    assert_eq!(c.dropped.load(Ordering::Relaxed), 0);
}

#[test]
fn drop_newest_reports_drops_in_place_and_keeps_lifecycle() {
    let (mut d, streams, c) = setup(2, Overflow::DropNewest);
    let rx = streams.current();
    d.push(msg(0));
    d.push(msg(1));
    d.push(msg(2)); // dropped
    d.push(Event::GaveUp { reason: "x".into() }); // kept, after marker
    d.push(msg(3)); // dropped
    assert_eq!(drain(&rx), ["0", "1"]);
    d.flush();
    d.flush();
    assert_eq!(drain(&rx), ["L1", "gave_up"]);
    d.flush();
    assert_eq!(drain(&rx), ["L1"]);
    assert_eq!(c.dropped.load(Ordering::Relaxed), 2);
}

#[test]
fn drop_oldest_counts_add_up() {
    let (mut d, streams, c) = setup(4, Overflow::DropOldest);
    let rx = streams.current();
    for i in 0..100 {
        d.push(msg(i));
    }
    let mut got = drain(&rx);
    while d.has_pending() {
        d.flush();
        got.extend(drain(&rx));
    }
    let lagged: u64 = got
        .iter()
        .filter_map(|s| s.strip_prefix('L'))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    let messages = got.iter().filter(|s| !s.starts_with('L')).count() as u64;
    assert_eq!(lagged + messages, 100, "{got:?}");
    assert_eq!(lagged, c.dropped.load(Ordering::Relaxed));
    assert_eq!(got.last().unwrap(), "99");
    assert_eq!(got, ["0", "1", "L96", "98", "99"]);
}

#[test]
fn drop_oldest_never_discards_lifecycle_and_marks_each_gap_in_place() {
    // Capacity 4: two in the channel, up to two messages waiting behind them.
    let (mut d, streams, c) = setup(4, Overflow::DropOldest);
    let rx = streams.current();
    d.push(msg(0));
    d.push(msg(1));
    d.push(Event::Disconnected {
        epoch: 1,
        code: None,
        reason: "r".into(),
        error: None,
        by_client: false,
    });
    d.push(msg(2));
    d.push(msg(3));
    d.push(msg(4)); // discards 2
    d.push(Event::GaveUp { reason: "x".into() });
    d.push(msg(5)); // discards 3
    assert_eq!(drain(&rx), ["0", "1"]);
    d.flush();
    assert_eq!(drain(&rx), ["disconnected", "L2"]);
    d.flush();
    assert_eq!(drain(&rx), ["4", "gave_up"]);
    d.flush();
    assert_eq!(drain(&rx), ["5"]);
    assert!(!d.has_pending());
    assert_eq!(c.dropped.load(Ordering::Relaxed), 2);
}

#[test]
fn too_many_waiting_lifecycle_events_stop_the_reading_under_every_policy() {
    for policy in [Overflow::DropOldest, Overflow::DropNewest] {
        let (mut d, streams, _) = setup(4, policy);
        let rx = streams.current();
        let mut i = 0;
        while !d.blocked() {
            d.push(life(i));
            d.push(msg(i));
            i += 1;
            assert!(i < 100, "{policy:?} never stops reading");
        }
        // Once they are taken, reading goes on.
        while d.has_pending() {
            drain(&rx);
            d.flush();
        }
        assert!(!d.blocked(), "{policy:?}");
    }
}

#[test]
fn a_stream_ends_after_gave_up_once_everything_is_taken() {
    let (mut d, streams, _) = setup(2, Overflow::Block);
    let rx = streams.current();
    for i in 0..3 {
        d.push(msg(i));
    }
    d.push(Event::GaveUp { reason: "x".into() });
    d.end_stream();
    assert_eq!(drain(&rx), ["0", "1"]);
    assert_eq!(streams.try_recv().unwrap().map(|e| id(&e)), None);
    d.flush();
    assert_eq!(drain(&rx), ["2", "gave_up"]);
    assert!(matches!(
        rx.try_recv(),
        Err(crossbeam_channel::TryRecvError::Disconnected)
    ));
    assert!(matches!(streams.try_recv(), Err(e) if e.kind() == crate::ErrorCategory::Closed));
    // reconnect(): a new stream.
    d.restart();
    assert!(streams.try_recv().unwrap().is_none());
    d.push(life(2));
    assert_eq!(drain(&streams.current()), ["A2"]);
}

#[test]
fn reconnect_before_the_end_is_reached_continues_the_stream() {
    let (mut d, streams, _) = setup(1, Overflow::Block);
    let rx = streams.current();
    d.push(msg(0));
    d.push(Event::GaveUp { reason: "x".into() });
    d.end_stream();
    d.restart();
    d.push(life(2));
    let mut got = drain(&rx);
    while d.has_pending() {
        d.flush();
        got.extend(drain(&rx));
    }
    assert_eq!(got, ["0", "gave_up", "A2"]);
    assert!(streams.try_recv().unwrap().is_none(), "the stream goes on");
}

#[test]
fn events_of_the_old_stream_come_before_the_new_one() {
    let (mut d, streams, _) = setup(4, Overflow::DropOldest);
    let old = streams.current();
    d.push(msg(0));
    d.push(Event::GaveUp { reason: "x".into() });
    d.end_stream();
    d.restart();
    d.push(life(2));
    let mut got = Vec::new();
    while let Some(e) = streams.try_recv().unwrap() {
        got.push(id(&e));
    }
    assert_eq!(got, ["0", "gave_up", "A2"]);
    assert!(old.try_recv().is_err());
}

#[derive(Debug, Clone)]
enum Op {
    Message,
    Lifecycle,
    Take(usize),
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Message),
        1 => Just(Op::Lifecycle),
        2 => (1usize..8).prop_map(Op::Take),
        1 => Just(Op::Flush),
    ]
}

fn policy() -> impl Strategy<Value = Overflow> {
    prop_oneof![
        Just(Overflow::Block),
        Just(Overflow::DropOldest),
        Just(Overflow::DropNewest)
    ]
}

proptest! {
    /// Whatever the pushes and takes: the channel never holds more than the capacity;
    /// every lifecycle event arrives, in order; the messages that arrive are in order;
    /// each `Lagged{n}` stands exactly where n consecutive messages were discarded; and
    /// delivered + dropped = sent, with `status().dropped` the Lagged total.
    #[test]
    fn delivery_keeps_order_lifecycle_and_exact_accounting(
        capacity in 1usize..7,
        policy in policy(),
        ops in proptest::collection::vec(op(), 0..200),
    ) {
        let (mut d, streams, c) = setup(capacity, policy);
        let rx = streams.current();
        let mut sent: Vec<String> = Vec::new();
        let mut got: Vec<String> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let i = i as u64;
            match op {
                Op::Message => { d.push(msg(i)); sent.push(i.to_string()); }
                Op::Lifecycle => { d.push(life(i)); sent.push(format!("A{i}")); }
                Op::Take(n) => got.extend(rx.try_iter().take(*n).map(|e| id(&e))),
                Op::Flush => d.flush(),
            }
            prop_assert!(rx.len() <= capacity);
        }
        while d.has_pending() {
            d.flush();
            got.extend(drain(&rx));
        }
        got.extend(drain(&rx));
        // Walk what was sent along what arrived.
        let mut s = sent.iter().peekable();
        let mut lagged = 0u64;
        for g in &got {
            if let Some(n) = g.strip_prefix('L') {
                let n: u64 = n.parse().unwrap();
                prop_assert!(n > 0);
                lagged += n;
                for _ in 0..n {
                    let skipped = s.next();
                    prop_assert!(
                        skipped.is_some_and(|x| !x.starts_with('A')),
                        "{g} covers {skipped:?}: sent {sent:?}, got {got:?}"
                    );
                }
            } else {
                prop_assert_eq!(s.next(), Some(g), "sent {:?}, got {:?}", sent, got);
            }
        }
        prop_assert_eq!(s.next(), None, "sent {:?}, got {:?}", sent, got);
        prop_assert_eq!(lagged, c.dropped.load(Ordering::Relaxed));
        if policy == Overflow::Block {
            prop_assert_eq!(lagged, 0);
        }
    }
}
