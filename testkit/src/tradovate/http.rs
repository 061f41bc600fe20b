//! A small HTTP/1.1 server on 127.0.0.1 for the token endpoints.
//!
//! One request per connection (every response carries `Connection: close`),
//! so that `stop` really cuts every client off and a client's connection pool
//! never reaches a server that is gone. An accept thread plus one thread per
//! connection, all joined on drop.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::sync::lock;

/// How often the non-blocking listener is polled when idle.
const ACCEPT_POLL: Duration = Duration::from_millis(5);
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Largest request body accepted.
const MAX_BODY: usize = 1024 * 1024;
/// How long a rebind retries while the port is still in use.
const REBIND_PATIENCE: Duration = Duration::from_secs(2);

/// One parsed request.
#[derive(Debug)]
pub(crate) struct HttpRequest {
    pub(crate) method: String,
    /// The target without the query string.
    pub(crate) path: String,
    /// Header names are lower-case.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl HttpRequest {
    /// The first header called `name` (lower-case), if any.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response with a JSON (or plain text) body.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl HttpResponse {
    pub(crate) fn json(status: u16, body: &serde_json::Value) -> HttpResponse {
        HttpResponse {
            status,
            body: body.to_string(),
        }
    }
}

/// Answers one request.
pub(crate) type Handler = dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync;

struct Shared {
    port: u16,
    handler: Arc<Handler>,
    listener: Mutex<Option<TcpListener>>,
    shutdown: AtomicBool,
    next_id: AtomicU64,
    /// A clone of every connection's socket, to cut it off on stop.
    conns: Mutex<HashMap<u64, TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// The running server; dropping it stops and joins every thread.
pub(crate) struct HttpServer {
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Binds 127.0.0.1:`port` (0 = ephemeral) and starts serving.
    pub(crate) fn start(port: u16, handler: Arc<Handler>) -> io::Result<HttpServer> {
        let listener = bind(port)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            port,
            handler,
            listener: Mutex::new(Some(listener)),
            shutdown: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            conns: Mutex::new(HashMap::new()),
            threads: Mutex::new(Vec::new()),
        });
        let thread_shared = shared.clone();
        let accept = std::thread::Builder::new()
            .name(format!("tw-http-accept-{port}"))
            .spawn(move || accept_loop(&thread_shared))?;
        log::debug!("HTTP server listening on port {port}");
        Ok(HttpServer {
            shared,
            accept: Some(accept),
        })
    }

    pub(crate) fn port(&self) -> u16 {
        self.shared.port
    }

    /// Closes the listener and cuts every connection off.
    pub(crate) fn stop(&self) {
        drop(lock(&self.shared.listener).take());
        for conn in lock(&self.shared.conns).values() {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }

    /// Listens on the same port again (no-op if listening).
    pub(crate) fn restart(&self) -> io::Result<()> {
        let mut slot = lock(&self.shared.listener);
        if slot.is_none() {
            *slot = Some(bind(self.shared.port)?);
        }
        Ok(())
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.stop();
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        loop {
            let batch: Vec<JoinHandle<()>> = lock(&self.shared.threads).drain(..).collect();
            if batch.is_empty() {
                break;
            }
            for thread in batch {
                let _ = thread.join();
            }
        }
        log::debug!("HTTP server on port {} stopped", self.shared.port);
    }
}

/// Binds a non-blocking listener, retrying briefly while the port is in use.
fn bind(port: u16) -> io::Result<TcpListener> {
    let deadline = Instant::now() + REBIND_PATIENCE;
    loop {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(listener) => {
                listener.set_nonblocking(true)?;
                return Ok(listener);
            }
            Err(e)
                if e.kind() == ErrorKind::AddrInUse && port != 0 && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

fn accept_loop(shared: &Arc<Shared>) {
    while !shared.shutdown.load(Ordering::SeqCst) {
        let accepted = lock(&shared.listener).as_ref().map(|l| l.accept());
        match accepted {
            Some(Ok((tcp, _))) => {
                spawn_connection(shared, tcp);
                continue;
            }
            Some(Err(e)) if e.kind() == ErrorKind::WouldBlock => {}
            Some(Err(e)) => log::debug!("HTTP port {}: accept failed: {e}", shared.port),
            None => {}
        }
        std::thread::sleep(ACCEPT_POLL);
    }
}

fn spawn_connection(shared: &Arc<Shared>, tcp: TcpStream) {
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let setup = tcp
        .set_nonblocking(false)
        .and_then(|()| tcp.set_read_timeout(Some(READ_TIMEOUT)))
        .and_then(|()| tcp.set_write_timeout(Some(READ_TIMEOUT)))
        .and_then(|()| tcp.try_clone());
    match setup {
        Ok(clone) => {
            lock(&shared.conns).insert(id, clone);
        }
        Err(e) => {
            log::debug!("HTTP connection setup failed: {e}");
            return;
        }
    }
    let thread_shared = shared.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("tw-http-{id}"))
        .spawn(move || {
            serve(&thread_shared, tcp);
            lock(&thread_shared.conns).remove(&id);
        });
    match spawned {
        Ok(handle) => {
            let mut threads = lock(&shared.threads);
            threads.retain(|t| !t.is_finished());
            threads.push(handle);
        }
        Err(e) => {
            log::warn!("could not start an HTTP connection thread: {e}");
            lock(&shared.conns).remove(&id);
        }
    }
}

fn serve(shared: &Shared, mut tcp: TcpStream) {
    let response = match read_request(&mut tcp) {
        Ok(request) => (shared.handler)(&request),
        Err(ReadError::Io(e)) => {
            log::debug!("HTTP request not read: {e}");
            return;
        }
        Err(ReadError::Bad(status, why)) => HttpResponse {
            status,
            body: serde_json::json!({ "errorText": why }).to_string(),
        },
    };
    if let Err(e) = write_response(&mut tcp, &response) {
        log::debug!("HTTP response not written: {e}");
    }
    let _ = tcp.shutdown(Shutdown::Both);
}

enum ReadError {
    Io(io::Error),
    /// Answer with this status and message.
    Bad(u16, String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

fn read_request(tcp: &mut TcpStream) -> Result<HttpRequest, ReadError> {
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Bad(431, "request head too large".into()));
        }
        let mut chunk = [0u8; 4096];
        let n = tcp.read(&mut chunk)?;
        if n == 0 {
            return Err(ReadError::Io(ErrorKind::UnexpectedEof.into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut rest = buf[head_end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (method, target) = match (parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v)) if v.starts_with("HTTP/1.") => (m.to_string(), t),
        _ => return Err(ReadError::Bad(400, "bad request line".into())),
    };
    let path = target.split('?').next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Bad(400, "bad header line".into()));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let chunked =
        header("transfer-encoding").is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(tcp, &mut rest)?
    } else {
        let length = match header("content-length") {
            None => 0,
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| ReadError::Bad(400, "bad Content-Length".into()))?,
        };
        if length > MAX_BODY {
            return Err(ReadError::Bad(413, "request body too large".into()));
        }
        fill(tcp, &mut rest, length)?;
        rest.truncate(length);
        rest
    };
    Ok(HttpRequest {
        method,
        path,
        headers,
        body,
    })
}

/// Reads until `buf` holds at least `len` bytes.
fn fill(tcp: &mut TcpStream, buf: &mut Vec<u8>, len: usize) -> Result<(), ReadError> {
    while buf.len() < len {
        let mut chunk = [0u8; 4096];
        let n = tcp.read(&mut chunk)?;
        if n == 0 {
            return Err(ReadError::Io(ErrorKind::UnexpectedEof.into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

/// Decodes a chunked body; `buf` holds what was read after the head.
fn read_chunked(tcp: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let line_end = loop {
            if let Some(end) = find(&buf[pos..], b"\r\n") {
                break pos + end;
            }
            let want = buf.len() + 1;
            fill(tcp, buf, want)?;
        };
        let size_text = String::from_utf8_lossy(&buf[pos..line_end]).into_owned();
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| ReadError::Bad(400, "bad chunk size".into()))?;
        pos = line_end + 2;
        if size == 0 {
            // Trailers are not expected; the final CRLF may or may not be read yet.
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(ReadError::Bad(413, "request body too large".into()));
        }
        fill(tcp, buf, pos + size + 2)?;
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn write_response(tcp: &mut TcpStream, response: &HttpResponse) -> io::Result<()> {
    let reason = match response.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        _ => "Status",
    };
    let content_type = if response.body.starts_with(['{', '[']) {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.status,
        response.body.len()
    );
    tcp.write_all(head.as_bytes())?;
    tcp.write_all(response.body.as_bytes())?;
    tcp.flush()
}
