//! A real `redis-server` (Debian's package, installed by scripts/setup.sh) on a free port of
//! 127.0.0.1, for the bridge's tests: started, killed and restarted on the same port.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::LONG;

/// A redis-server child process; killed when dropped.
pub struct RedisServer {
    pub port: u16,
    password: Option<String>,
    /// With `durable`, an AOF written with `appendfsync always` in this directory, so that
    /// what Redis acknowledged survives a kill.
    dir: Option<PathBuf>,
    child: Option<Child>,
}

impl RedisServer {
    /// No persistence (`--save '' --appendonly no`).
    pub fn start(password: Option<&str>) -> RedisServer {
        Self::launch(password, false)
    }

    /// Every acknowledged write on disk before the reply (AOF, fsync always): a kill loses
    /// nothing that Redis acknowledged, so a restart shows what the bridge had written.
    pub fn start_durable() -> RedisServer {
        Self::launch(None, true)
    }

    fn launch(password: Option<&str>, durable: bool) -> RedisServer {
        let port = super::closed_port();
        let dir = durable.then(|| {
            let d =
                std::env::temp_dir().join(format!("tradewire-redis-{}-{port}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            d
        });
        let mut s = RedisServer {
            port,
            password: password.map(str::to_string),
            dir,
            child: None,
        };
        s.restart();
        s
    }

    /// `redis://[:password@]127.0.0.1:port/0`
    pub fn url(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}/0", self.port),
            None => format!("redis://127.0.0.1:{}/0", self.port),
        }
    }

    /// Starts it (again) on the same port and waits until it answers.
    pub fn restart(&mut self) {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match &self.dir {
            Some(d) => cmd.args(["--dir", &d.to_string_lossy()]).args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ]),
            None => cmd.args(["--appendonly", "no"]),
        };
        if let Some(p) = &self.password {
            cmd.args(["--requirepass", p]);
        }
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot run redis-server ({e}): install it (scripts/setup.sh, Debian package redis-server)")
        });
        self.child = Some(child);
        let deadline = Instant::now() + LONG;
        while Instant::now() < deadline {
            if let Ok(mut c) = self.try_connect() {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} did not answer", self.port);
    }

    /// SIGKILL: no goodbye to its clients.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn try_connect(&self) -> redis::RedisResult<redis::Connection> {
        let mut info = redis::RedisConnectionInfo::default();
        if let Some(p) = &self.password {
            info = info.set_password(p);
        }
        let addr = redis::ConnectionAddr::Tcp("127.0.0.1".into(), self.port);
        let info = redis::IntoConnectionInfo::into_connection_info(addr)?.set_redis_settings(info);
        redis::Client::open(info)?.get_connection_with_timeout(Duration::from_secs(2))
    }

    /// A connection for the test's own reads.
    pub fn conn(&self) -> redis::Connection {
        self.try_connect()
            .expect("the test connects to its redis-server")
    }

    /// Every entry of `stream`, oldest first, as (id, fields).
    pub fn entries(&self, stream: &str) -> Vec<Entry> {
        let reply: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
            .arg(stream)
            .arg("-")
            .arg("+")
            .query(&mut self.conn())
            .unwrap_or_default();
        reply.into_iter().map(Entry::from).collect()
    }

    /// Waits until `stream` holds an entry for which `done` is true; returns all entries.
    pub fn wait_for(
        &self,
        stream: &str,
        what: &str,
        done: impl Fn(&[Entry]) -> bool,
    ) -> Vec<Entry> {
        let deadline = Instant::now() + LONG;
        loop {
            let e = self.entries(stream);
            if done(&e) {
                return e;
            }
            if Instant::now() > deadline {
                panic!("{stream}: no {what} within {LONG:?}; entries: {:#?}", e);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// One stream entry: its id and its fields as text.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub fields: std::collections::HashMap<String, String>,
}

impl Entry {
    /// A field's text ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// The `data` field (the event's JSON projection) parsed.
    pub fn event(&self) -> serde_json::Value {
        serde_json::from_str(self.get("data")).expect("the data field is JSON")
    }
}

impl From<(String, Vec<String>)> for Entry {
    fn from((id, flat): (String, Vec<String>)) -> Entry {
        let fields = flat
            .chunks(2)
            .filter_map(|kv| Some((kv.first()?.clone(), kv.get(1)?.clone())))
            .collect();
        Entry { id, fields }
    }
}
