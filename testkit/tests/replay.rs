//! ReplayServer: one recorded connection per client connection, the recorded pace, the
//! recorded end, and no connection past the recording.

use std::time::{Duration, Instant};

use tradewire::record::reader::parse;
use tradewire_testkit::ReplayServer;
use tungstenite::Message;

const RECORDING: &str = r#"{"kind":"open","at_us":1000000,"epoch":1,"url":"ws://h/"}
{"kind":"recv","at_us":1000000,"epoch":1,"text":"first"}
{"kind":"sent","at_us":1100000,"epoch":1,"text":"from the client: not replayed"}
{"kind":"recv","at_us":1400000,"epoch":1,"binary":"AP8="}
{"kind":"end","at_us":1400000,"epoch":1,"how":"close","code":4002,"reason":"recorded end"}
{"kind":"open","at_us":2000000,"epoch":2,"url":"ws://h/"}
{"kind":"recv","at_us":2000000,"epoch":2,"text":"second connection"}
{"kind":"end","at_us":2000000,"epoch":2,"how":"dropped","code":1006,"reason":""}
"#;

#[test]
fn connections_are_served_in_order_at_the_recorded_pace_and_end_as_recorded() {
    let server = ReplayServer::start(parse(RECORDING).unwrap(), Some(1.0)).unwrap();
    assert_eq!(server.total(), 2);
    let (mut ws, _) = tungstenite::connect(server.url()).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("first"));
    let t0 = Instant::now();
    ws.send(Message::text("hello")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::binary(vec![0u8, 255]));
    // Recorded 400 ms apart: never sooner (a lower bound only).
    assert!(
        t0.elapsed() >= Duration::from_millis(350),
        "{:?}",
        t0.elapsed()
    );
    match ws.read().unwrap() {
        Message::Close(Some(f)) => {
            assert_eq!(u16::from(f.code), 4002);
            assert_eq!(f.reason.as_str(), "recorded end");
        }
        other => panic!("expected the recorded close, got {other:?}"),
    }
    let _ = ws.flush();
    drop(ws);

    let (mut ws, _) = tungstenite::connect(server.url()).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("second connection"));
    // Dropped: the socket ends without a close frame.
    assert!(matches!(
        ws.read(),
        Err(tungstenite::Error::Protocol(_)) | Err(tungstenite::Error::Io(_))
    ));
    assert!(server.wait_finished(Duration::from_secs(10)));
    assert!(server.received().contains(&"hello".to_string()));

    // Past the recording: refused.
    assert!(tungstenite::connect(server.url()).is_err());
}
