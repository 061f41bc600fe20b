//! Removing listeners: once `off` returns the listener is not running and never called
//! again; `off` and `on` from inside a listener do not deadlock; `close()` removes them all.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tradewire::{Client, Config, Event, Kind, ListenerId, Preset};
use tradewire_testkit::DaemonServer;

use crate::support::{eventually, quick, SOON};

fn daemon_client(server: &DaemonServer) -> Arc<Client> {
    Arc::new(Client::new(quick(Config::new(server.url()).preset(Preset::Daemon))).unwrap())
}

#[test]
fn off_from_another_thread_waits_for_the_call_in_progress_then_it_is_never_called() {
    let server = DaemonServer::start().unwrap();
    let client = daemon_client(&server);
    let (entered_tx, entered) = mpsc::channel();
    let release = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let (r, f, c) = (release.clone(), finished.clone(), calls.clone());
    let slow = client
        .on(Kind::Message, move |_: &Event| {
            c.fetch_add(1, Ordering::SeqCst);
            let _ = entered_tx.send(());
            while !r.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
            f.store(true, Ordering::SeqCst);
        })
        .unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    client
        .on(Kind::Message, move |_: &Event| {
            s.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    client.start().unwrap();
    assert!(server.wait_for_connections(1, SOON));
    server.trigger_event("seq", None, json!({"seq": 0}));
    entered.recv_timeout(SOON).expect("the listener was called");

    let remover = {
        let (client, finished) = (client.clone(), finished.clone());
        std::thread::spawn(move || {
            let removed = client.off(slow);
            (removed, finished.load(Ordering::SeqCst))
        })
    };
    // The remover blocks on the call in progress (it passes either way: a remover that
    // starts late finds the call over too).
    std::thread::sleep(Duration::from_millis(50));
    release.store(true, Ordering::SeqCst);
    let (removed, call_over) = remover.join().unwrap();
    assert!(removed);
    assert!(
        call_over,
        "off() returned while the listener was still running"
    );

    for seq in 1..10 {
        server.trigger_event("seq", None, json!({"seq": seq}));
    }
    assert!(eventually(SOON, || seen.load(Ordering::SeqCst) == 10));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "called again after off()");
    assert!(!client.off(slow), "a second off() finds nothing");
    client.close();
}

#[test]
fn on_and_off_from_inside_a_listener_do_not_deadlock() {
    let server = DaemonServer::start().unwrap();
    let client = daemon_client(&server);
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let me: Arc<Mutex<Option<ListenerId>>> = Arc::default();
    let added: Arc<Mutex<Option<ListenerId>>> = Arc::default();
    let id = {
        let (c, log, me, added) = (
            Arc::downgrade(&client),
            log.clone(),
            me.clone(),
            added.clone(),
        );
        client
            .on(Kind::Message, move |e: &Event| {
                log.lock()
                    .unwrap()
                    .push(format!("once {:?}", crate::support::seq_of(e)));
                let Some(client) = c.upgrade() else { return };
                if let Some(id) = me.lock().unwrap().take() {
                    assert!(client.off(id), "removes itself");
                    let log = log.clone();
                    let new = client
                        .on(Kind::Message, move |e: &Event| {
                            log.lock()
                                .unwrap()
                                .push(format!("added {:?}", crate::support::seq_of(e)))
                        })
                        .unwrap();
                    *added.lock().unwrap() = Some(new);
                }
            })
            .unwrap()
    };
    *me.lock().unwrap() = Some(id);
    client.start().unwrap();
    assert!(server.wait_for_connections(1, SOON));
    for seq in 0..3 {
        server.trigger_event("seq", None, json!({"seq": seq}));
    }
    assert!(eventually(SOON, || log.lock().unwrap().len() == 3));
    assert_eq!(
        *log.lock().unwrap(),
        ["once Some(0)", "added Some(1)", "added Some(2)"],
        "removed from inside: not called again; added from inside: called from the next event"
    );
    let added = added.lock().unwrap().take().expect("a listener was added");
    client.close();
    assert!(!client.off(added), "close() removed every listener");
}

#[test]
fn close_from_inside_a_listener_returns_and_nothing_is_called_after() {
    let server = DaemonServer::start().unwrap();
    let client = daemon_client(&server);
    let calls = Arc::new(AtomicUsize::new(0));
    let (c, weak) = (calls.clone(), Arc::downgrade(&client));
    client
        .on(Kind::Message, move |_: &Event| {
            c.fetch_add(1, Ordering::SeqCst);
            if let Some(client) = weak.upgrade() {
                client.close();
            }
        })
        .unwrap();
    client.start().unwrap();
    assert!(server.wait_for_connections(1, SOON));
    server.trigger_event("seq", None, json!({"seq": 0}));
    server.trigger_event("seq", None, json!({"seq": 1}));
    assert!(eventually(SOON, || client.status().state == tradewire::State::Closed));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
