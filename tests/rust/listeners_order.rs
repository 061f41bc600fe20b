//! Listeners: several coexist, each called for the kinds it asked for, in registration
//! order for each event and in event order across events, on the callback thread.

use std::sync::{Arc, Mutex};

use serde_json::json;
use tradewire::{Client, Config, Event, Kind, KindSet, Preset};
use tradewire_testkit::DaemonServer;

use crate::support::{eventually, quick, SOON};

type Log = Arc<Mutex<Vec<(&'static str, String)>>>;

/// A listener that records its tag, the event's kind and (for messages) its `seq`.
fn recorder(log: &Log, tag: &'static str) -> impl FnMut(&Event) + Send + 'static {
    let log = log.clone();
    move |e: &Event| {
        let what = match crate::support::seq_of(e) {
            Some(seq) => format!("message {seq}"),
            None => e.kind().to_string(),
        };
        log.lock().unwrap().push((tag, what));
    }
}

fn of(log: &Log, tag: &str) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| *t == tag)
        .map(|(_, w)| w.clone())
        .collect()
}

#[test]
fn listeners_are_called_in_registration_order_for_their_kinds() {
    let server = DaemonServer::start().unwrap();
    let client = Client::new(quick(Config::new(server.url()).preset(Preset::Daemon))).unwrap();
    let log: Log = Arc::default();
    let threads = Arc::new(Mutex::new(Vec::new()));
    let t = threads.clone();
    client
        .on(Kind::Message, move |_: &Event| {
            t.lock()
                .unwrap()
                .push(std::thread::current().name().map(String::from))
        })
        .unwrap();
    client
        .on(Kind::Message, recorder(&log, "messages"))
        .unwrap();
    client.on(KindSet::ALL, recorder(&log, "all")).unwrap();
    client
        .on(
            [Kind::Connected, Kind::Disconnected],
            recorder(&log, "lifecycle"),
        )
        .unwrap();
    client.start().unwrap();
    assert!(server.wait_for_connections(1, SOON));
    for seq in 0..50 {
        server.trigger_event("seq", None, json!({"seq": seq}));
    }
    assert!(eventually(SOON, || of(&log, "all").len() == 51));
    client.close();

    let want: Vec<String> = (0..50).map(|s| format!("message {s}")).collect();
    assert_eq!(of(&log, "messages"), want, "event order");
    assert_eq!(of(&log, "lifecycle"), ["connected"], "kinds asked for only");
    let all = of(&log, "all");
    assert_eq!(all[0], "connected");
    assert_eq!(all[1..], want[..]);
    // For each message: `messages` before `all` (registration order), and both before the
    // next message.
    let messages: Vec<_> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, w)| w.starts_with("message"))
        .cloned()
        .collect();
    let expected: Vec<_> = want
        .iter()
        .flat_map(|w| [("messages", w.clone()), ("all", w.clone())])
        .collect();
    assert_eq!(messages, expected);
    let names = threads.lock().unwrap();
    assert_eq!(names.len(), 50);
    assert!(
        names.iter().all(|n| n.as_deref() == Some("tradewire-cb")),
        "{names:?}"
    );
}
