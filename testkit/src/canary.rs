//! Secret canaries: distinctive secrets, every form they can take in a text, a check that
//! finds any 8-character run of any of those forms in an output, and a scripted HTTP server
//! that echoes what it was sent (the hostile server of a leak test).
//!
//! The forms are computed here independently of tradewire's own scrubber, so a test that
//! uses them checks the scrubber against a second implementation.
//!
//! ```
//! use tradewire_testkit::canary;
//! let secrets = vec!["pw+Can/ary=1%&!' x".to_string()];
//! assert!(canary::find_leak("all clear", &secrets).is_none());
//! assert!(canary::find_leak("password=pw%2BCan%2Fary%3D1", &secrets).is_some());
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How many characters of a secret in a row count as a leak.
pub const RUN: usize = 8;

/// `secret` with every byte but ASCII letters and digits percent-encoded (`%XX`, upper
/// case): the form that puts any password into a URL's `user:password@` part.
pub fn percent_encode_all(secret: &str) -> String {
    secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Every form of a secret a leak could take: raw, percent-encoded (upper and lower case
/// hex, with `%20` or `+` for a space, with and without the characters JavaScript's
/// `encodeURIComponent` and Python's `quote` leave alone), JSON-escaped (plain, `\/`,
/// `\u00XX`), and Rust/Python `repr` escapes.
pub fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    for keep in ["", "!'()*", "/"] {
        for plus in [false, true] {
            for upper in [false, true] {
                let mut s = String::new();
                for b in secret.bytes() {
                    if b.is_ascii_alphanumeric()
                        || b"-._~".contains(&b)
                        || keep.as_bytes().contains(&b)
                    {
                        s.push(b as char);
                    } else if b == b' ' && plus {
                        s.push('+');
                    } else if upper {
                        s.push_str(&format!("%{b:02X}"));
                    } else {
                        s.push_str(&format!("%{b:02x}"));
                    }
                }
                out.push(s);
            }
        }
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    out.push(json.replace('/', "\\/"));
    let mut unicode = String::new();
    for c in secret.chars() {
        if c.is_ascii_alphanumeric() {
            unicode.push(c);
        } else {
            unicode.push_str(&format!("\\u{:04x}", c as u32));
        }
    }
    out.push(unicode);
    out.push(format!("{secret:?}").trim_matches('"').to_string());
    out.push(json);
    out.sort();
    out.dedup();
    out
}

/// The first run of [`RUN`] characters of any form of any secret found in `text`, described
/// for an assertion message (`None`: no leak).
pub fn find_leak(text: &str, secrets: &[String]) -> Option<String> {
    for secret in secrets {
        for form in forms(secret) {
            let chars: Vec<char> = form.chars().collect();
            if chars.len() < RUN {
                if text.contains(&form) {
                    return Some(format!("the secret {secret:?} (as {form:?}) in: {text}"));
                }
                continue;
            }
            for w in chars.windows(RUN) {
                let run: String = w.iter().collect();
                if text.contains(&run) {
                    return Some(format!(
                        "{run:?}, a run of the secret {secret:?} (as {form:?}), in: {text}"
                    ));
                }
            }
        }
    }
    None
}

/// Panics with the leak if any text holds any form of any secret.
pub fn assert_no_leak<'a>(texts: impl IntoIterator<Item = &'a String>, secrets: &[String]) {
    let mut checked = 0;
    for t in texts {
        checked += 1;
        if let Some(leak) = find_leak(t, secrets) {
            panic!("a secret leaked: {leak}");
        }
    }
    assert!(checked > 0, "no output was checked");
}

/// What the scripted server answers: a status and a body, given the request (head and body)
/// and the number of the request (from 0).
pub type Answer = Box<dyn Fn(&str, usize) -> (u16, String) + Send + Sync>;

/// A tiny HTTP/1.1 server on 127.0.0.1 that answers every request with what a script says
/// (one request per connection). As the WebSocket URL it refuses every handshake; as a token
/// URL it plays any answer a test needs (an echo of the password, a p-ticket, a huge body).
pub struct HttpScript {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpScript {
    /// Starts the server on a free port.
    pub fn start(
        answer: impl Fn(&str, usize) -> (u16, String) + Send + Sync + 'static,
    ) -> io::Result<HttpScript> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answer: Answer = Box::new(answer);
        let (s, r, v) = (stop.clone(), requests.clone(), seen.clone());
        let thread = std::thread::Builder::new()
            .name("testkit-http-script".into())
            .spawn(move || {
                while !s.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let _ = serve(stream, &answer, &r, &v);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5))
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })?;
        Ok(HttpScript {
            port,
            stop,
            requests,
            seen,
            thread: Some(thread),
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The requests received (head and body), in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Drop for HttpScript {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request, records it, then answers it (recorded first: a test that saw the
/// answer's effect finds the request recorded).
fn serve(
    stream: TcpStream,
    answer: &Answer,
    count: &AtomicUsize,
    seen: &Mutex<Vec<String>>,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        head.push_str(&line);
        if line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    let request = format!("{head}{}", String::from_utf8_lossy(&body));
    let n = count.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut v) = seen.lock() {
        v.push(request.clone());
    }
    let (status, text) = answer(&request, n);
    let mut out = stream;
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Error",
    };
    // Head and body in one write, so that a client reading the head gets the body with it.
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    out.write_all(answer.as_bytes())?;
    out.flush()
}
