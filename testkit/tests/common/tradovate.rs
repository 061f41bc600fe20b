//! Helpers for the TradovateServer tests: HTTP token calls and SockJS sockets.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{connect, read_text, set_timeout, SOON};
use tradewire_testkit::{TradovateOptions, TradovateServer};
use tungstenite::{Message, WebSocket};

pub type Ws = WebSocket<TcpStream>;

pub fn start() -> TradovateServer {
    start_with(Duration::from_secs(30))
}

pub fn start_with(heartbeat_interval: Duration) -> TradovateServer {
    TradovateServer::start(TradovateOptions {
        heartbeat_interval,
        ..TradovateOptions::default()
    })
    .unwrap()
}

// ---- a hand-written HTTP/1.1 client -------------------------------------------------

/// Sends one request and returns (status, body).
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut tcp = TcpStream::connect(host).unwrap();
    tcp.set_read_timeout(Some(SOON)).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    tcp.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("\r\nConnection: close"), "{head}");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

pub fn post_json(url: &str, body: &Value) -> (u16, Value) {
    let (status, text) = http(
        "POST",
        url,
        &[("Content-Type", "application/json")],
        &body.to_string(),
    );
    (status, serde_json::from_str(&text).unwrap())
}

pub fn credentials(name: &str, password: &str) -> Value {
    json!({"name": name, "password": password, "appId": "tradewire", "appVersion": "1.0",
           "sec": "s3c", "cid": 0})
}

/// A successful token response.
pub fn token(server: &TradovateServer) -> Value {
    let (status, body) = post_json(&server.auth_url(), &credentials("trader", "secret"));
    assert_eq!(status, 200, "{body}");
    assert!(body["accessToken"].is_string(), "{body}");
    body
}

pub fn renew(server: &TradovateServer, access_token: &str) -> (u16, Value) {
    let bearer = format!("Bearer {access_token}");
    let (status, text) = http(
        "GET",
        &server.renew_url(),
        &[("Authorization", &bearer)],
        "",
    );
    (status, serde_json::from_str(&text).unwrap())
}

// ---- a plain WebSocket client speaking the frames --------------------------------------

/// Connects and checks the `o` frame.
pub fn open(url: &str) -> Ws {
    let mut ws = connect(url).unwrap();
    assert_eq!(read_text(&mut ws).as_deref(), Some("o"));
    ws
}

pub fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).unwrap();
}

/// Next frame that is not a server heartbeat.
pub fn next_frame(ws: &mut Ws) -> String {
    loop {
        let text = read_text(ws).expect("a frame");
        if text != "h" {
            return text;
        }
    }
}

/// The items of the next `a[...]` frame (skipping heartbeats).
pub fn next_items(ws: &mut Ws) -> Vec<Value> {
    let frame = next_frame(ws);
    let array = frame.strip_prefix('a').unwrap_or_else(|| panic!("{frame}"));
    serde_json::from_str::<Vec<Value>>(array).unwrap()
}

pub fn authorize(ws: &mut Ws, token: &str) -> String {
    send(ws, &format!("authorize\n0\n\n{token}"));
    next_frame(ws)
}

/// An authorized connection to the trading socket.
pub fn authorized(server: &TradovateServer) -> Ws {
    let access = token(server)["accessToken"].as_str().unwrap().to_string();
    let mut ws = open(&server.ws_url());
    assert_eq!(authorize(&mut ws, &access), r#"a[{"s":200,"i":0}]"#);
    ws
}

/// Reads frames for `d`; returns them (the socket's read timeout is restored to SOON).
pub fn frames_for(ws: &mut Ws, d: Duration) -> Vec<String> {
    let deadline = Instant::now() + d;
    let mut frames = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        set_timeout(ws, left);
        match ws.read() {
            Ok(Message::Text(t)) => frames.push(t.as_str().to_string()),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    set_timeout(ws, SOON);
    frames
}

// ---- token endpoints ------------------------------------------------------------------
