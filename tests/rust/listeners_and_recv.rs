//! The one rule between listeners and reading: the first listener takes the event stream
//! for the client's life; the `recv` family is then a usage error, even after `off`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tradewire::{Client, Config, ErrorCategory, Event, Kind, Preset};
use tradewire_testkit::DaemonServer;

use crate::support::{eventually, expect_kind, quick, SOON};

fn refused(client: &Client) {
    let results = [
        client.recv_timeout(Duration::ZERO).map(|_| ()),
        client.try_recv().map(|_| ()),
        client.recv_batch(8, Some(Duration::ZERO)).map(|_| ()),
    ];
    for r in results {
        let m = match r {
            Err(e) if e.kind() == ErrorCategory::Usage => e.to_string(),
            other => panic!("expected a usage error, got {other:?}"),
        };
        assert!(m.contains("listeners"), "{m}");
    }
}

#[test]
fn a_listener_registered_after_reading_takes_the_rest_of_the_stream() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(quick(Config::new(server.url()).preset(Preset::Daemon))).unwrap();
    expect_kind(&client, "connected", SOON);
    let messages = Arc::new(AtomicUsize::new(0));
    let m = messages.clone();
    // Only messages: lifecycle events are passed over, not left for a reader.
    let id = client
        .on(Kind::Message, move |_: &Event| {
            m.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    refused(&client);
    server.trigger_event("seq", None, json!({"seq": 0}));
    assert!(eventually(SOON, || messages.load(Ordering::SeqCst) == 1));

    assert!(client.off(id));
    refused(&client);
    client.reconnect().unwrap();
    server.trigger_event("seq", None, json!({"seq": 1}));
    refused(&client);
    client.close();
    refused(&client);
}
