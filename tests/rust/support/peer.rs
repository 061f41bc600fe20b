//! Third-party peer servers for interoperability tests.
//!
//! `PeerServer` spawns one of the scripts in `tests/peers/` — `daemon_server.py` (Python
//! `websockets`, document 002) or `agent_server.js` (Node `ws`, document 003) — and drives it
//! through its line protocol on stdin/stdout (see the scripts' headers). The WebSocket side of
//! these servers is code nobody on this team wrote, so a test against them checks the client
//! against the world rather than against our own mock.
//!
//! The interpreters come from `./scripts/setup.sh`: `<repo>/.venv/bin/python` and `node` with
//! `tests/peers/node_modules`. When they are missing the constructors print
//! "peer skipped: … run ./scripts/setup.sh" and return `None`, so a test can
//! `let Some(peer) = PeerServer::python("daemon_server.py", &[]) else { return };`.
//! With `TRADEWIRE_REQUIRE_PEERS=1` (CI) a missing peer is a panic instead.
//!
//! Every reply is awaited for at most 10 s; a peer that does not answer, answers something
//! unexpected, or dies is a panic whose message includes the tail of the peer's stderr.
//! Dropping a `PeerServer` kills the process and reaps it. If the test process itself dies, the
//! peer sees EOF on stdin and exits.
//!
//! Standalone module: std + serde_json only, compiled inside the test crate.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a command may wait for its reply line.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a peer may take to print `READY <port>` (interpreter start-up on a loaded CI box).
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Set to `1` to turn "peer skipped" into a panic.
pub const REQUIRE_ENV: &str = "TRADEWIRE_REQUIRE_PEERS";

const STDERR_TAIL: usize = 4000;

/// A running peer server process and its control channel.
pub struct PeerServer {
    name: String,
    port: u16,
    child: Child,
    io: Mutex<Io>,
    stderr: Arc<Mutex<String>>,
}

struct Io {
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl PeerServer {
    /// Starts `tests/peers/<script_name>` with `<repo>/.venv/bin/python`.
    /// `None` (after a "peer skipped" message) when the venv is missing.
    pub fn python(script_name: &str, args: &[&str]) -> Option<PeerServer> {
        let root = repo_root();
        let peers = root.join("tests").join("peers");
        let python = root.join(".venv").join("bin").join("python");
        if !python.exists() {
            return skip(&format!("{} not found", python.display()));
        }
        let script = peers.join(script_name);
        assert!(
            script.exists(),
            "peer script {} does not exist",
            script.display()
        );
        let mut cmd = Command::new(&python);
        cmd.arg("-u").arg(&script).args(args).current_dir(&peers);
        Self::spawn(script_name, cmd)
    }

    /// Starts `tests/peers/<script_name>` with `node` (or `$TRADEWIRE_NODE`), resolving packages
    /// from `tests/peers/node_modules`. `None` (after a "peer skipped" message) when node or the
    /// node modules are missing.
    pub fn node(script_name: &str, args: &[&str]) -> Option<PeerServer> {
        let root = repo_root();
        let peers = root.join("tests").join("peers");
        let modules = peers.join("node_modules");
        if !modules.join("ws").exists() {
            return skip(&format!("{} not found", modules.join("ws").display()));
        }
        let node = std::env::var_os("TRADEWIRE_NODE").unwrap_or_else(|| "node".into());
        let script = peers.join(script_name);
        assert!(
            script.exists(),
            "peer script {} does not exist",
            script.display()
        );
        let mut cmd = Command::new(&node);
        cmd.arg(&script)
            .args(args)
            .current_dir(&peers)
            .env("NODE_PATH", &modules);
        Self::spawn(script_name, cmd)
    }

    fn spawn(name: &str, mut cmd: Command) -> Option<PeerServer> {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return skip(&format!(
                    "cannot run {:?} for {name}: {e}",
                    cmd.get_program()
                ));
            }
            Err(e) => panic!("peer {name}: cannot spawn {:?}: {e}", cmd.get_program()),
        };

        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr_pipe = child.stderr.take().expect("piped stderr");

        // stdout: one reply per line, handed to `command` through a channel (for timeouts).
        let (tx, lines) = mpsc::channel();
        thread::Builder::new()
            .name(format!("peer-{name}-stdout"))
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })
            .expect("spawn peer stdout reader");

        // stderr: echoed (captured by the test harness like any test output) and kept for
        // panic messages.
        let stderr = Arc::new(Mutex::new(String::new()));
        let keep = Arc::clone(&stderr);
        let tag = name.to_string();
        thread::Builder::new()
            .name(format!("peer-{name}-stderr"))
            .spawn(move || {
                let mut reader = BufReader::new(stderr_pipe);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    match reader.by_ref().take(64 * 1024).read_until(b'\n', &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let line = String::from_utf8_lossy(&buf);
                            eprint!("[peer {tag}] {line}");
                            let mut kept = keep.lock().unwrap_or_else(|p| p.into_inner());
                            kept.push_str(&line);
                            if kept.len() > 4 * STDERR_TAIL {
                                let cut = kept.len() - STDERR_TAIL;
                                let cut = (cut..kept.len())
                                    .find(|&i| kept.is_char_boundary(i))
                                    .unwrap_or(kept.len());
                                kept.drain(..cut);
                            }
                        }
                    }
                }
            })
            .expect("spawn peer stderr reader");

        let mut peer = PeerServer {
            name: name.to_string(),
            port: 0,
            child,
            io: Mutex::new(Io { stdin, lines }),
            stderr,
        };
        let first = peer
            .io
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .lines
            .recv_timeout(READY_TIMEOUT);
        let ready = peer.reply_or_fail(first, READY_TIMEOUT, "start-up (READY <port>)");
        peer.port = ready
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| peer.fail(&format!("expected `READY <port>`, got {ready:?}")));
        Some(peer)
    }

    /// The TCP port the peer listens on (the same after `stop` + `start`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ws://127.0.0.1:<port><path>`; `path` is appended as is (`""`, `"/ws?token=..."`).
    pub fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{}", self.port, path)
    }

    /// Sends one JSON command line and returns the peer's one-line reply.
    /// Panics after `REPLY_TIMEOUT` without a reply, or if the peer died.
    pub fn command(&self, json: &str) -> String {
        assert!(
            !json.contains('\n'),
            "peer command must be one line: {json:?}"
        );
        // One lock for the write and its reply, so that commands from several threads cannot
        // take each other's replies.
        let mut io = self.io.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = writeln!(io.stdin, "{json}").and_then(|()| io.stdin.flush()) {
            drop(io);
            self.fail(&format!("cannot write {json}: {e} (peer exited?)"));
        }
        let reply = io.lines.recv_timeout(REPLY_TIMEOUT);
        drop(io);
        self.reply_or_fail(reply, REPLY_TIMEOUT, json)
    }

    fn reply_or_fail(
        &self,
        reply: Result<String, RecvTimeoutError>,
        timeout: Duration,
        what: &str,
    ) -> String {
        match reply {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                self.fail(&format!("no reply to {what} within {timeout:?}"))
            }
            Err(RecvTimeoutError::Disconnected) => {
                // Give the stderr reader a moment to collect the last words.
                thread::sleep(Duration::from_millis(100));
                self.fail(&format!("exited before answering {what}"))
            }
        }
    }

    fn fail(&self, msg: &str) -> ! {
        let stderr = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        let tail = &stderr[stderr.len().saturating_sub(STDERR_TAIL)..];
        let tail = tail.trim_end();
        panic!(
            "peer {}: {msg}\n(if the peers are not installed: run ./scripts/setup.sh)\n--- peer stderr ---\n{}",
            self.name,
            if tail.is_empty() { "(empty)" } else { tail }
        );
    }

    fn expect_n(&self, json: &str, prefix: &str) -> usize {
        let reply = self.command(json);
        reply
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| {
                self.fail(&format!(
                    "expected `{prefix} <n>` for {json}, got {reply:?}"
                ))
            })
    }

    /// Sends `text` as one text frame to every open connection; returns how many.
    pub fn broadcast(&self, text: &str) -> usize {
        let cmd = serde_json::json!({"cmd": "broadcast", "text": text});
        self.expect_n(&cmd.to_string(), "OK")
    }

    /// Agent peer only: sends `text` to the connection of one agent; returns 0 or 1.
    pub fn broadcast_to_agent(&self, agent: &str, text: &str) -> usize {
        let cmd = serde_json::json!({"cmd": "broadcast", "text": text, "agent": agent});
        self.expect_n(&cmd.to_string(), "OK")
    }

    /// Broadcasts an event. Daemon peer: `{"type","account_id","data"}` (`account_id` left out
    /// when `None`). Agent peer: `{"type","data"}` (the account is ignored).
    /// `data_json` must be valid JSON. Returns how many connections it was sent to.
    pub fn event(&self, event_type: &str, account: Option<i64>, data_json: &str) -> usize {
        let data: serde_json::Value = serde_json::from_str(data_json)
            .unwrap_or_else(|e| panic!("PeerServer::event: data is not JSON ({e}): {data_json}"));
        let mut cmd = serde_json::json!({"cmd": "event", "type": event_type, "data": data});
        if let Some(account) = account {
            cmd["account_id"] = account.into();
        }
        self.expect_n(&cmd.to_string(), "OK")
    }

    /// Number of open WebSocket connections.
    pub fn count(&self) -> usize {
        self.expect_n(r#"{"cmd":"count"}"#, "COUNT")
    }

    /// Polls `count()` until it equals `n`; false if it still does not after `timeout`.
    pub fn wait_count(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.count() == n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Closes every connection with a close frame (1001) and stops listening: new connects are
    /// refused until `start`.
    pub fn stop(&self) {
        self.expect_n(r#"{"cmd":"stop"}"#, "OK");
    }

    /// Like `stop`, with the given close code and reason.
    pub fn stop_with(&self, code: u16, reason: &str) {
        let cmd = serde_json::json!({"cmd": "stop", "code": code, "reason": reason});
        self.expect_n(&cmd.to_string(), "OK");
    }

    /// Listens again on the same port.
    pub fn start(&self) {
        self.expect_n(r#"{"cmd":"start"}"#, "OK");
    }

    /// Aborts every connection's TCP stream with no close frame (FIN); returns how many.
    pub fn drop_connections(&self) -> usize {
        self.expect_n(r#"{"cmd":"drop"}"#, "OK")
    }

    /// Like `drop_connections`, but resets the TCP streams (RST).
    pub fn reset_connections(&self) -> usize {
        self.expect_n(r#"{"cmd":"drop","rst":true}"#, "OK")
    }

    /// Sends a close frame with `code`/`reason` to every open connection (keeps listening).
    pub fn close_all(&self, code: u16, reason: &str) -> usize {
        let cmd = serde_json::json!({"cmd": "close", "code": code, "reason": reason});
        self.expect_n(&cmd.to_string(), "OK")
    }

    /// Stops reading from (and writing to) every current connection: a half-open peer that
    /// answers no ping and sends nothing. New connections are not affected.
    pub fn freeze(&self) -> usize {
        self.expect_n(r#"{"cmd":"freeze"}"#, "OK")
    }

    /// Every text message received from clients so far, in order.
    pub fn received(&self) -> Vec<String> {
        let reply = self.command(r#"{"cmd":"received"}"#);
        let Some(array) = reply.strip_prefix("RECEIVED ") else {
            self.fail(&format!("expected `RECEIVED [...]`, got {reply:?}"));
        };
        serde_json::from_str(array)
            .unwrap_or_else(|e| self.fail(&format!("bad RECEIVED array ({e}): {array}")))
    }

    /// Daemon peer only: the close frames clients sent, `(code, reason)` as the `websockets`
    /// library parsed them.
    pub fn closes(&self) -> Vec<(u16, String)> {
        let reply = self.command(r#"{"cmd":"closes"}"#);
        let Some(array) = reply.strip_prefix("CLOSES ") else {
            self.fail(&format!("expected `CLOSES [...]`, got {reply:?}"));
        };
        serde_json::from_str(array)
            .unwrap_or_else(|e| self.fail(&format!("bad CLOSES array ({e}): {array}")))
    }

    /// The negotiated WebSocket extensions of each open connection, as the peer library
    /// reports them (`websockets`: extension names; `ws`: its extensions object).
    pub fn extensions(&self) -> serde_json::Value {
        let reply = self.command(r#"{"cmd":"extensions"}"#);
        let Some(array) = reply.strip_prefix("EXTENSIONS ") else {
            self.fail(&format!("expected `EXTENSIONS [...]`, got {reply:?}"));
        };
        serde_json::from_str(array)
            .unwrap_or_else(|e| self.fail(&format!("bad EXTENSIONS array ({e}): {array}")))
    }

    /// Agent peer only: number of JSON `{"type":"pong"}` messages received.
    pub fn pongs(&self) -> usize {
        self.expect_n(r#"{"cmd":"pongs"}"#, "PONGS")
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn skip(reason: &str) -> Option<PeerServer> {
    let msg = format!("peer skipped: {reason}: run ./scripts/setup.sh");
    if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
        panic!("{msg} ({REQUIRE_ENV}=1)");
    }
    eprintln!("{msg}");
    None
}

/// The repository root: the nearest ancestor of the test crate's manifest directory that holds
/// `tests/peers` (the test crate lives in `<root>/tests`).
fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("tests").join("peers").is_dir())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.parent().unwrap_or(manifest).to_path_buf())
}
