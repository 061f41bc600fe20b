//! The SockJS frame decoder against a real SockJS server nobody here wrote (the npm
//! `sockjs` package): its `o`, `h`, `a` and `c` frames.

use tradewire::tradovate::sockjs::{decode, Frame, Item};

use crate::support::peer::PeerServer;

#[test]
fn decodes_o_h_a_and_c_frames_from_npm_sockjs() {
    let Some(peer) = PeerServer::node(
        "sockjs_server.js",
        &["--port", "0", "--heartbeat-ms", "200"],
    ) else {
        return;
    };
    let url = peer.url("/sockjs/000/abcdefgh/websocket");
    let (mut ws, _) = tungstenite::connect(url.as_str()).expect("connect to the sockjs server");
    let mut read = || -> String {
        loop {
            match ws.read().expect("read a frame") {
                tungstenite::Message::Text(t) => return t.to_string(),
                _ => continue,
            }
        }
    };
    assert_eq!(decode(&read()).unwrap(), Frame::Open);
    // Over WebSocket, sockjs heartbeats with ping frames; its own `h` frame on request.
    peer.command(r#"{"cmd":"heartbeat"}"#);
    assert_eq!(decode(&read()).unwrap(), Frame::Heartbeat);
    peer.command(
        r#"{"cmd":"write","text":"{\"e\":\"props\",\"d\":{\"entity\":{\"accountId\":5}}}"}"#,
    );
    let text = loop {
        let t = read();
        if t != "h" {
            break t;
        }
    };
    assert_eq!(
        decode(&text).unwrap(),
        Frame::Messages(vec![Item::Text(
            r#"{"e":"props","d":{"entity":{"accountId":5}}}"#.into()
        )])
    );
    peer.command(r#"{"cmd":"close","code":3000,"reason":"Go away!"}"#);
    let text = loop {
        let t = read();
        if t != "h" {
            break t;
        }
    };
    assert_eq!(
        decode(&text).unwrap(),
        Frame::Close {
            code: 3000,
            reason: "Go away!".into()
        }
    );
}
