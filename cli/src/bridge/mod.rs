//! `tradewire bridge`: every event of one or more WebSocket connections appended to Redis
//! Streams (XADD), so that consumers on other machines read them with consumer groups.
//!
//! One client and one writer thread per connection (`--config` may list several); the main
//! thread watches Ctrl-C, prints the `--status-interval` line and collects the exit codes.

pub mod entry;
pub mod redis_link;
pub mod state;
pub mod stream_name;
pub mod target;
mod writer;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tradewire::Client;

use crate::args::BridgeArgs;
use crate::exit;
use crate::listen::{build_config, client_from, read_config_file, token, wait_live};
use state::{Shared, Snapshot};
use stream_name::StreamTemplate;
use writer::Writer;

/// How often the main thread looks at the Ctrl-C flag and the writers.
const TICK: Duration = Duration::from_millis(100);

/// One connection of the bridge, before it starts.
struct Planned {
    client: Client,
    template: StreamTemplate,
}

/// Runs `bridge` until Ctrl-C, `--count`, a feed giving up or Redis refusing; returns the
/// exit code.
pub fn run(args: &BridgeArgs, stop: &AtomicBool) -> i32 {
    args.to.register_secret(args.to_typed.expose());
    let planned = match plan(args) {
        Ok(p) => p,
        Err((code, message)) => {
            eprintln!("tradewire: error: {message}");
            return code;
        }
    };
    let instance = args.instance_id.clone().unwrap_or_else(random_id);
    let several = planned.len() > 1;
    // Set by Ctrl-C (passed on by the main thread) and by any writer that ends, so that one
    // connection ending ends the bridge.
    let all = Arc::new(AtomicBool::new(false));
    let mut running: Vec<Running> = Vec::new();
    let abort = |running: &mut Vec<Running>, code: i32| {
        all.store(true, Ordering::SeqCst);
        for r in running.iter_mut() {
            if let Some(t) = r.thread.take() {
                let _ = t.join();
            }
        }
        code
    };
    for (i, p) in planned.into_iter().enumerate() {
        let n = i + 1;
        let label = if several {
            format!("[{n}] ")
        } else {
            String::new()
        };
        let stream = p.template.fixed().unwrap_or("(per event)").to_string();
        if !args.listen.quiet {
            eprintln!(
                "tradewire: {label}bridging {} to {} stream {stream} (instance {instance})",
                p.client.url(),
                args.to.shown()
            );
        }
        for message in &args.listen.subscribe {
            if let Err(e) = p.client.subscribe(message.as_str()) {
                eprintln!("tradewire: error: --subscribe: {e}");
                return abort(&mut running, exit::USAGE);
            }
        }
        if let Err(e) = p.client.start() {
            eprintln!("tradewire: {label}error: {e}");
            return abort(&mut running, exit::FAILURE);
        }
        if let Some(seconds) = args.listen.wait {
            if let Err(code) = wait_live(&p.client, Duration::from_secs(u64::from(seconds)), stop) {
                p.client.close();
                return abort(&mut running, code);
            }
        }
        let shared = Arc::new(Shared::default());
        let client = Arc::new(p.client);
        let writer = Writer {
            client: client.clone(),
            template: p.template,
            maxlen: args.maxlen,
            instance: instance.clone(),
            connection: n,
            label: label.clone(),
            count: args.listen.count,
            quiet: args.listen.quiet,
            shared: shared.clone(),
            target: args.to.clone(),
        };
        running.push(Running {
            label,
            client,
            shared,
            thread: Some(std::thread::spawn({
                let all = all.clone();
                move || writer.run(&all)
            })),
            code: None,
            last_written: 0,
        });
    }
    supervise(&mut running, stop, &all, args.status_interval)
}

/// A started connection.
struct Running {
    label: String,
    client: Arc<Client>,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<i32>>,
    code: Option<i32>,
    last_written: u64,
}

/// Waits for the writers, passing Ctrl-C on and printing status lines; the first non-zero
/// exit code wins.
fn supervise(
    running: &mut [Running],
    stop: &AtomicBool,
    all: &AtomicBool,
    interval: Option<u32>,
) -> i32 {
    let every = interval.map(|s| Duration::from_secs(u64::from(s)));
    let mut last_status = Instant::now();
    loop {
        if stop.load(Ordering::SeqCst) {
            all.store(true, Ordering::SeqCst);
        }
        for r in running.iter_mut() {
            if r.thread.as_ref().is_some_and(|t| t.is_finished()) {
                let code = r.thread.take().map(|t| t.join().unwrap_or(exit::FAILURE));
                r.code = code;
            }
        }
        if running.iter().all(|r| r.thread.is_none()) {
            break;
        }
        if let Some(every) = every {
            let elapsed = last_status.elapsed();
            if elapsed >= every {
                last_status = Instant::now();
                for r in running.iter_mut() {
                    print_status(r, elapsed);
                }
            }
        }
        std::thread::sleep(TICK);
    }
    for r in running.iter() {
        r.client.close();
    }
    running
        .iter()
        .filter_map(|r| r.code)
        .find(|c| *c != exit::OK)
        .unwrap_or(exit::OK)
}

fn print_status(r: &mut Running, elapsed: Duration) {
    let status = r.client.status();
    let written = r.shared.written.load(Ordering::Relaxed);
    let unacked = r.shared.unacked.load(Ordering::Relaxed);
    let line = state::status_line(&Snapshot {
        label: &r.label,
        feed: status.state.name(),
        redis_up: r.shared.redis_up.load(Ordering::Relaxed),
        written,
        written_since: written.saturating_sub(r.last_written),
        seconds: elapsed.as_secs_f64(),
        unacked,
        // Delivered to the channel and not taken by the writer.
        queued: status
            .events_delivered
            .saturating_sub(written.saturating_add(unacked)),
        redis_reconnects: r.shared.redis_reconnects(),
        dropped: status.dropped,
    });
    r.last_written = written;
    eprintln!("tradewire: {line}");
}

/// The connections to run: one, or each entry of a `--config` file that holds a list
/// (`[{...}, {...}]` or `{"connections": [...]}`), each with its own stream.
fn plan(args: &BridgeArgs) -> Result<Vec<Planned>, (i32, String)> {
    let usage = |m: String| (exit::USAGE, m);
    let file = match &args.listen.config_file {
        Some(path) => Some(read_config_file(path).map_err(usage)?),
        None => None,
    };
    let entries = match file {
        Some(Value::Array(list)) => Some(list),
        Some(Value::Object(mut m)) if m.get("connections").is_some_and(Value::is_array) => {
            match m.remove("connections") {
                Some(Value::Array(list)) => Some(with_shared(list, &m)),
                _ => None,
            }
        }
        other => {
            let (value, stream) = split_stream(other).map_err(usage)?;
            let template = template_for(args, stream, 1, false).map_err(usage)?;
            let client = client_for(value, args)?;
            return Ok(vec![Planned { client, template }]);
        }
    };
    let entries = entries.unwrap_or_default();
    if entries.is_empty() {
        return Err(usage("the config file lists no connection".into()));
    }
    if args.listen.url.is_some() {
        return Err(usage(
            "the config file lists several connections: give each its \"url\" there, not on the command line".into(),
        ));
    }
    let mut planned: Vec<Planned> = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let n = i + 1;
        let (value, stream) = split_stream(Some(entry))
            .map_err(|e| usage(format!("connection {n} of the config file: {e}")))?;
        let template = template_for(args, stream, n, true)
            .map_err(|e| usage(format!("connection {n} of the config file: {e}")))?;
        if let Some(name) = template.fixed() {
            if let Some(j) = planned
                .iter()
                .position(|p| p.template.fixed() == Some(name))
            {
                return Err(usage(format!(
                    "connections {} and {n} of the config file would write the same stream '{name}'; give each its own \"stream\" (or use {{connection}} in --stream)",
                    j + 1
                )));
            }
        }
        let client = client_for(value, args)
            .map_err(|(c, m)| (c, format!("connection {n} of the config file: {m}")))?;
        planned.push(Planned { client, template });
    }
    Ok(planned)
}

/// `{"connections": [...], <shared fields>}`: each connection's object gets the shared
/// fields it does not set itself. Pure.
fn with_shared(list: Vec<Value>, shared: &serde_json::Map<String, Value>) -> Vec<Value> {
    list.into_iter()
        .map(|entry| match entry {
            Value::Object(mut m) => {
                for (k, v) in shared {
                    m.entry(k.clone()).or_insert_with(|| v.clone());
                }
                Value::Object(m)
            }
            other => other,
        })
        .collect()
}

/// Takes the bridge's own `"stream"` out of a connection's object (the rest is a Config).
fn split_stream(entry: Option<Value>) -> Result<(Option<Value>, Option<String>), String> {
    match entry {
        Some(Value::Object(mut m)) => {
            let stream = match m.remove("stream") {
                None => None,
                Some(Value::String(s)) => Some(s),
                Some(_) => return Err("\"stream\" must be a string".into()),
            };
            Ok((Some(Value::Object(m)), stream))
        }
        other => Ok((other, None)),
    }
}

/// The stream template: the entry's `"stream"`, else `--stream`, else `tradewire` (one
/// connection) or `tradewire:{connection}` (a list).
fn template_for(
    args: &BridgeArgs,
    stream: Option<String>,
    n: usize,
    listed: bool,
) -> Result<StreamTemplate, String> {
    let default = if listed {
        "tradewire:{connection}"
    } else {
        "tradewire"
    };
    let text = stream
        .or_else(|| args.stream.clone())
        .unwrap_or_else(|| default.to_string());
    StreamTemplate::parse(&text, n).map_err(|e| format!("stream: {e}"))
}

/// The client of one connection: its object with the command line on top. The I/O thread
/// reads the socket unless the configuration says otherwise (`inline_reads`): the writer
/// then packs and talks to Redis while the next frames are read and parsed.
fn client_for(value: Option<Value>, args: &BridgeArgs) -> Result<Client, (i32, String)> {
    let usage = |m: String| (exit::USAGE, m);
    let token = token(&args.listen).map_err(usage)?;
    let mut value = build_config(value, &args.listen, token).map_err(usage)?;
    if let Value::Object(m) = &mut value {
        m.entry("inline_reads").or_insert(Value::Bool(false));
    }
    client_from(value, &args.listen)
}

/// 16 hex digits from the standard library's randomly seeded hasher.
fn random_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shared_fields_apply_to_every_connection_unless_it_sets_them() {
        let shared = json!({"preset": "daemon", "heartbeat_timeout": 20});
        let Value::Object(shared) = shared else {
            unreachable!()
        };
        let list = vec![
            json!({"url": "ws://a"}),
            json!({"url": "ws://b", "heartbeat_timeout": 5, "stream": "b"}),
        ];
        assert_eq!(
            with_shared(list, &shared),
            [
                json!({"url": "ws://a", "preset": "daemon", "heartbeat_timeout": 20}),
                json!({"url": "ws://b", "preset": "daemon", "heartbeat_timeout": 5, "stream": "b"}),
            ]
        );
    }

    #[test]
    fn the_stream_is_taken_out_of_the_config() {
        let (rest, stream) = split_stream(Some(json!({"url": "ws://a", "stream": "s"}))).unwrap();
        assert_eq!(
            (rest, stream.as_deref()),
            (Some(json!({"url": "ws://a"})), Some("s"))
        );
        assert!(split_stream(Some(json!({"stream": 1})))
            .unwrap_err()
            .contains("string"));
    }
}
