//! What the CLI tests share: running the binary, reading its output as it comes, and
//! files and ports for the cases.
#![allow(dead_code)] // each test binary uses a part

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod redis_server;

/// Generous: these only bound how long a broken build can hang a test, they are not
/// performance thresholds.
pub const LONG: Duration = Duration::from_secs(30);

pub fn tradewire() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tradewire"));
    c.stdin(Stdio::null()).env_remove("TRADEWIRE_LOG");
    c
}

/// Runs to completion (killed after [`LONG`]).
pub fn run(args: &[&str]) -> Output {
    let mut p = Proc::spawn(args);
    let status = p.wait(LONG);
    Output {
        status,
        stdout: p.all_stdout().into_bytes(),
        stderr: p.stderr().into_bytes(),
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A running `tradewire` whose stdout lines and stderr are collected by reader threads.
pub struct Proc {
    pub child: Child,
    pub lines: Receiver<String>,
    pub stdout_rest: Vec<String>,
    pub stderr: Arc<Mutex<String>>,
    pub stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Proc {
    pub fn spawn(args: &[&str]) -> Proc {
        Proc::spawn_env(args, &[])
    }

    pub fn spawn_env(args: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut cmd = tradewire();
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the tradewire binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut stderr_pipe = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf) {
                if n == 0 {
                    return;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Proc {
            child,
            lines,
            stdout_rest: Vec::new(),
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    /// The next stdout line; panics (showing stderr) after `timeout`.
    pub fn line(&mut self, timeout: Duration) -> String {
        match self.lines.recv_timeout(timeout) {
            Ok(l) => l,
            Err(e) => panic!("no stdout line ({e:?}); stderr so far:\n{}", self.stderr()),
        }
    }

    pub fn json_line(&mut self) -> Value {
        let line = self.line(LONG);
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the exit; kills the process and panics after `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Everything it wrote to stderr is read once the pipe reaches its end.
                if let Some(reader) = self.stderr_reader.take() {
                    let _ = reader.join();
                }
                return status;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "tradewire did not exit within {timeout:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every stdout line not read yet, after the process ended.
    pub fn all_stdout(&mut self) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(5)) {
                Ok(l) => self.stdout_rest.push(l),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => break,
            }
        }
        let mut s = self.stdout_rest.join("\n");
        if !s.is_empty() {
            s.push('\n');
        }
        s
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn assert_usage_error(args: &[&str], expected: &[&str]) {
    let out = run(args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    for e in expected {
        assert!(err.contains(e), "{args:?}: expected {e:?} in:\n{err}");
    }
    assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
}

pub fn temp_file(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tradewire-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A port on 127.0.0.1 where nothing listens.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
