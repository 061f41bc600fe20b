//! A listener that panics is logged; the listeners after it still run and the stream goes on.

use std::sync::{Arc, Mutex};

use serde_json::json;
use tradewire::{Client, Config, Event, Kind, Preset};
use tradewire_testkit::DaemonServer;

use crate::support::{eventually, quick, seq_of, SOON};

#[test]
fn a_panicking_listener_does_not_stop_the_others_nor_the_stream() {
    let server = DaemonServer::start().unwrap();
    let client = Client::new(quick(Config::new(server.url()).preset(Preset::Daemon))).unwrap();
    client
        .on(Kind::Message, |e: &Event| {
            if seq_of(e).is_some_and(|s| s % 2 == 0) {
                panic!("listener bug");
            }
        })
        .unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    client
        .on(Kind::Message, move |e: &Event| {
            g.lock().unwrap().extend(seq_of(e))
        })
        .unwrap();
    client.start().unwrap();
    assert!(server.wait_for_connections(1, SOON));
    for seq in 0..6 {
        server.trigger_event("seq", None, json!({"seq": seq}));
    }
    assert!(eventually(SOON, || got.lock().unwrap().len() == 6));
    assert_eq!(*got.lock().unwrap(), [0, 1, 2, 3, 4, 5]);
    assert_eq!(client.status().state, tradewire::State::Live);
    client.close();
}
