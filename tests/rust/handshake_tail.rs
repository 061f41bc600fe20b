//! Frames a server writes in the same TCP segment as its `101 Switching Protocols` answer
//! (nothing forbids it, and a busy server's writes coalesce) reach the application, in
//! order, before the ones that follow.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use tradewire::{Client, Config, Event, Preset};
use tradewire_testkit::frames;

use crate::support::{expect_kind, quick, SOON};

/// An unmasked server text frame.
fn text_frame(text: &str) -> Vec<u8> {
    let mut f = vec![0x80 | frames::OP_TEXT];
    match text.len() {
        n if n < 126 => f.push(n as u8),
        n => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    f.extend_from_slice(text.as_bytes());
    f
}

fn event(i: usize) -> String {
    format!(r#"{{"type":"seq","account_id":null,"data":{{"i":{i}}}}}"#)
}

#[test]
fn frames_sent_with_the_handshake_answer_are_delivered_first_and_in_order() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut b = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let n = tcp.read(&mut b).unwrap();
            assert!(n > 0, "the client closed during the handshake");
            request.extend_from_slice(&b[..n]);
        }
        let request = String::from_utf8(request).unwrap();
        let key = request
            .lines()
            .find_map(|l| {
                l.strip_prefix("Sec-WebSocket-Key: ")
                    .or_else(|| l.strip_prefix("sec-websocket-key: "))
            })
            .expect("a Sec-WebSocket-Key header")
            .trim()
            .to_string();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        // The answer, the first three frames and half of the fourth in one write.
        let mut first = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        .into_bytes();
        for i in 0..3 {
            first.extend_from_slice(&text_frame(&event(i)));
        }
        let fourth = text_frame(&event(3));
        first.extend_from_slice(&fourth[..fourth.len() / 2]);
        tcp.write_all(&first).unwrap();
        thread::sleep(std::time::Duration::from_millis(50));
        tcp.write_all(&fourth[fourth.len() / 2..]).unwrap();
        tcp.write_all(&text_frame(&event(4))).unwrap();
        // Keep the connection open until the client is done.
        let _ = tcp.read(&mut b);
    });

    let client = Client::connect(quick(Config::new(url).preset(Preset::Daemon))).unwrap();
    expect_kind(&client, "connected", SOON);
    let mut got = Vec::new();
    while got.len() < 5 {
        match client.recv_timeout(SOON).unwrap() {
            Some(Event::Message(m)) => got.push(m.data_member("i").unwrap().to_string()),
            Some(other) => panic!("unexpected {other:?} after {got:?}"),
            None => panic!("only {got:?} arrived"),
        }
    }
    assert_eq!(got, ["0", "1", "2", "3", "4"]);
    client.close();
    server.join().unwrap();
}
