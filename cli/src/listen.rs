//! `tradewire listen`: connect, print every message as a JSON line on stdout, report
//! connection changes on stderr, close cleanly on Ctrl-C.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use serde_json::{Map, Value};
use tradewire::{Client, Config, ErrorKind, Event};

use crate::args::{ListenArgs, TokenSource};
use crate::exit;
use crate::output::{lifecycle_line, message_line};

/// How often the loop looks at the Ctrl-C flag while no event arrives.
const TICK: Duration = Duration::from_millis(100);
/// At most this many queued events are written before stdout is flushed.
const BATCH: usize = 4096;

/// Runs `listen` until Ctrl-C (`stop`), `--count`, a closed stdout, or the client giving up;
/// returns the exit code.
pub fn run(args: &ListenArgs, stop: &AtomicBool) -> i32 {
    let client = match prepare(args) {
        Ok(c) => c,
        Err((code, message)) => {
            eprintln!("tradewire: error: {message}");
            return code;
        }
    };
    if !args.quiet {
        eprintln!("tradewire: connecting to {}", client.url());
    }
    // Recorded before the first connection: sent on it and after every reconnect.
    for message in &args.subscribe {
        if let Err(e) = client.subscribe(message.as_str()) {
            eprintln!("tradewire: error: --subscribe: {e}");
            return exit::USAGE;
        }
    }
    if let Err(e) = client.start() {
        eprintln!("tradewire: error: {e}");
        return exit::FAILURE;
    }
    if let Some(seconds) = args.wait {
        if let Err(code) = wait_live(&client, Duration::from_secs(u64::from(seconds)), stop) {
            client.close();
            return code;
        }
    }
    let code = pump(&client, args, stop);
    client.close();
    code
}

/// `--wait`: waits until the connection is live, looking at the Ctrl-C flag every `TICK`.
/// `Err(exit code)`: the first attempt failed, or `limit` passed, or Ctrl-C (exit 0).
pub(crate) fn wait_live(client: &Client, limit: Duration, stop: &AtomicBool) -> Result<(), i32> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if stop.load(Ordering::SeqCst) {
            return Err(exit::OK);
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match client.wait_live(left.min(TICK)) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == tradewire::ErrorCategory::Timeout && !left.is_zero() => {}
            Err(e) => {
                let reason = e.reason().map_or("none", |r| r.as_str());
                eprintln!("tradewire: error: not live: {e} (reason: {reason})");
                return Err(if e.kind() == tradewire::ErrorCategory::Auth {
                    exit::AUTH
                } else {
                    exit::NOT_LIVE
                });
            }
        }
    }
}

/// Reads the config file and the token, builds and checks the configuration, creates the
/// client (no I/O on the network yet).
fn prepare(args: &ListenArgs) -> Result<Client, (i32, String)> {
    let usage = |m: String| (exit::USAGE, m);
    let file = match &args.config_file {
        Some(path) => Some(read_config_file(path).map_err(usage)?),
        None => None,
    };
    let token = token(args).map_err(usage)?;
    let value = build_config(file, args, token).map_err(usage)?;
    client_from(value, args)
}

/// The token of `--token` or `--token-env`, if any.
pub(crate) fn token(args: &ListenArgs) -> Result<Option<String>, String> {
    Ok(match &args.token {
        None => None,
        Some(TokenSource::Literal(t)) => Some(t.clone()),
        Some(TokenSource::Env(var)) => Some(token_from_env(var)?),
    })
}

/// A client for a configuration built by [`build_config`]; `Err((exit code, message))`.
pub(crate) fn client_from(value: Value, args: &ListenArgs) -> Result<Client, (i32, String)> {
    let usage = |m: String| (exit::USAGE, m);
    let config = Config::from_value(value).map_err(|e| usage(config_error(&e, args)))?;
    Client::new(config).map_err(|e| match e.kind() {
        tradewire::ErrorCategory::Config => usage(config_error(&e, args)),
        _ => (exit::FAILURE, e.to_string()),
    })
}

fn config_error(e: &tradewire::Error, args: &ListenArgs) -> String {
    match &args.config_file {
        Some(path) => format!(
            "{e}\n(settings come from {} and the command line; the command line wins)",
            path.display()
        ),
        None => e.to_string(),
    }
}

pub(crate) fn read_config_file(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("the config file {} is not valid JSON: {e}", path.display()))
}

fn token_from_env(var: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        Ok(_) => Err(format!(
            "environment variable {var} (from --token-env) is empty"
        )),
        Err(std::env::VarError::NotPresent) => Err(format!(
            "environment variable {var} (from --token-env) is not set; export it or use --token"
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "environment variable {var} (from --token-env) is not valid UTF-8"
        )),
    }
}

/// The configuration as a JSON object: the config file's object (if any) with the
/// command-line settings on top. The result goes through `Config::from_value`, so every
/// validation message names the field.
pub fn build_config(
    file: Option<Value>,
    args: &ListenArgs,
    token: Option<String>,
) -> Result<Value, String> {
    let mut map = match file {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(format!(
                "the config file must hold a JSON object ({{\"url\": ..., ...}}), not {}",
                match other {
                    Value::Array(_) => "an array",
                    Value::String(_) => "a string",
                    Value::Number(_) => "a number",
                    Value::Bool(_) => "a boolean",
                    _ => "null",
                }
            ))
        }
    };
    if let Some(url) = &args.url {
        // A URL on the command line replaces the document-004 form of the file too.
        for key in ["protocol", "host", "port"] {
            map.remove(key);
        }
        map.insert("url".into(), url.clone().into());
    }
    if let Some(p) = &args.preset {
        map.insert("preset".into(), p.clone().into());
    }
    if let Some(a) = &args.account {
        map.insert("account_id".into(), a.to_json());
    }
    if !args.types.is_empty() {
        map.insert("types".into(), args.types.clone().into());
    }
    if let Some(t) = token {
        map.insert("token".into(), t.into());
    }
    merge_pairs(&mut map, "headers", &args.headers);
    merge_pairs(&mut map, "query", &args.query);
    if let Some(n) = args.max_reconnects {
        map.insert("max_reconnect_attempts".into(), n.into());
    }
    if args.no_compression {
        map.insert("compression".into(), Value::Null);
    }
    if let Some(p) = &args.proxy {
        map.insert("proxy".into(), p.expose().into());
    }
    if let Some(r) = &args.record {
        map.insert("record".into(), r.to_string_lossy().into_owned().into());
    }
    Ok(Value::Object(map))
}

/// Adds `pairs` to the object `map[key]` (created if absent or not an object).
fn merge_pairs(map: &mut Map<String, Value>, key: &str, pairs: &[(String, String)]) {
    if pairs.is_empty() {
        return;
    }
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(m) = entry {
        for (k, v) in pairs {
            m.insert(k.clone(), v.clone().into());
        }
    }
}

/// What the loop does after an event.
enum Flow {
    Go,
    Exit(i32),
}

/// The event loop; returns the exit code (the caller closes the client).
fn pump(client: &Client, args: &ListenArgs, stop: &AtomicBool) -> i32 {
    let events = client.events();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut state = LoopState {
        printed: 0,
        auth_rejected: false,
    };
    loop {
        if stop.load(Ordering::SeqCst) {
            let _ = out.flush();
            if !args.quiet {
                eprintln!("tradewire: interrupted; closing the connection");
            }
            return exit::OK;
        }
        let first = match events.recv_timeout(TICK) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => {
                let _ = out.flush();
                eprintln!("tradewire: error: the connection thread stopped unexpectedly");
                return exit::FAILURE;
            }
        };
        let mut next = Some(first);
        let mut n = 0;
        while let Some(event) = next.take() {
            if let Flow::Exit(code) = state.handle(event, args, &mut out) {
                let _ = out.flush();
                return code;
            }
            n += 1;
            if n < BATCH {
                next = events.try_recv().ok();
            }
        }
        if let Err(e) = out.flush() {
            return stdout_failed(&e);
        }
    }
}

struct LoopState {
    printed: u64,
    /// The server rejected our credentials since the last message (401/403 or close 1008).
    auth_rejected: bool,
}

impl LoopState {
    fn handle(&mut self, event: Event, args: &ListenArgs, out: &mut impl Write) -> Flow {
        let note = |line: String| eprintln!("tradewire: {line}");
        match &event {
            Event::Message(m) => {
                let line = message_line(m);
                if let Err(e) = writeln!(out, "{line}") {
                    return Flow::Exit(stdout_failed(&e));
                }
                self.printed += 1;
                self.auth_rejected = false;
                if args.count.is_some_and(|c| self.printed >= c) {
                    if let Err(e) = out.flush() {
                        return Flow::Exit(stdout_failed(&e));
                    }
                    if !args.quiet {
                        note(format!(
                            "received {} (--count); closing",
                            crate::output::plural(self.printed, "message")
                        ));
                    }
                    return Flow::Exit(exit::OK);
                }
                return Flow::Go;
            }
            Event::Error(e) if e.kind == ErrorKind::Auth => self.auth_rejected = true,
            Event::Disconnected {
                code: Some(1008), ..
            } => self.auth_rejected = true,
            _ => {}
        }
        let always = matches!(
            event,
            Event::Error(_) | Event::GaveUp { .. } | Event::Lagged { .. } | Event::Lagging { .. }
        );
        if let Some(line) = lifecycle_line(&event) {
            if always || !args.quiet {
                note(line);
            }
        }
        if let Event::GaveUp { .. } = event {
            return Flow::Exit(if self.auth_rejected {
                exit::AUTH
            } else {
                exit::GAVE_UP
            });
        }
        Flow::Go
    }
}

/// A closed stdout (`| head`) is a normal way to stop; anything else is a failure.
fn stdout_failed(e: &io::Error) -> i32 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        exit::OK
    } else {
        eprintln!("tradewire: error: cannot write to stdout: {e}");
        exit::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Account;
    use serde_json::json;

    #[test]
    fn flags_override_the_file() {
        let file = json!({
            "url": "ws://from-file",
            "preset": "json",
            "account_id": 1,
            "heartbeat_timeout": 20,
            "headers": {"X-A": "file", "X-B": "file"},
        });
        let args = ListenArgs {
            url: Some("ws://from-flag".into()),
            preset: Some("daemon".into()),
            account: Some(Account::Text("ACC".into())),
            types: vec!["a".into(), "b".into()],
            headers: vec![("X-B".into(), "flag".into())],
            query: vec![("agentId".into(), "a1".into())],
            max_reconnects: Some(3),
            no_compression: true,
            proxy: Some(tradewire::Secret::new("socks5h://p:1080")),
            ..ListenArgs::default()
        };
        let v = build_config(Some(file), &args, Some("tok".into())).unwrap();
        assert_eq!(
            v,
            json!({
                "url": "ws://from-flag",
                "preset": "daemon",
                "account_id": "ACC",
                "types": ["a", "b"],
                "token": "tok",
                "heartbeat_timeout": 20,
                "headers": {"X-A": "file", "X-B": "flag"},
                "query": {"agentId": "a1"},
                "max_reconnect_attempts": 3,
                "compression": null,
                "proxy": "socks5h://p:1080",
            })
        );
        assert!(Config::from_value(v).unwrap().validate().is_ok());
    }

    #[test]
    fn file_only_and_doc_004_form() {
        let file = json!({"protocol": "ws", "host": "127.0.0.1", "port": 9000});
        let v = build_config(Some(file.clone()), &ListenArgs::default(), None).unwrap();
        assert_eq!(v, file);
        let args = ListenArgs {
            url: Some("ws://h:1".into()),
            ..ListenArgs::default()
        };
        let v = build_config(Some(file), &args, None).unwrap();
        assert_eq!(v, json!({"url": "ws://h:1"}));
    }

    #[test]
    fn the_file_must_be_an_object() {
        let e = build_config(Some(json!([1])), &ListenArgs::default(), None).unwrap_err();
        assert!(e.contains("JSON object") && e.contains("an array"), "{e}");
    }

    #[test]
    fn validation_names_the_field() {
        let v = build_config(
            Some(json!({"url": "ws://h", "heartbeat_timeout": "soon"})),
            &ListenArgs::default(),
            None,
        )
        .unwrap();
        let e = Config::from_value(v).unwrap_err().to_string();
        assert!(e.contains("heartbeat_timeout"), "{e}");
    }
}
