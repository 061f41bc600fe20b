//! What the secret-canary suite (secrets.rs) captures and searches: the secrets it plants,
//! a logger that keeps every record an application could see, and the outputs of a client
//! (events, errors with their source chains, status, `Debug`), checked for any form of any
//! secret and for server text that arrives unescaped.

use std::sync::{Mutex, OnceLock};

use tradewire::{Client, Credentials, Event, Secret};
use tradewire_testkit::canary::assert_no_leak;

pub const PASSWORD: &str = "pw+Pass/wd=1%&!' x";
pub const SEC: &str = "sec+Sec/ret=2%&!' y";
pub const BEARER: &str = "tok+Bear/er=3%&!' z";
pub const QUERY_TOKEN: &str = "qry+Que/ry=4%&!' q";
/// As it stands in a URL's authority (a `/`, `%` or space would have to be percent-encoded).
pub const URL_PASSWORD: &str = "url+Pa$$=5!k";

/// Text a hostile server adds to try to forge a log line and clear a terminal.
pub const FORGERY: &str = "\r\nINFO tradewire: forged line\x1b[2J";

pub struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        // The client's records at every level; the test servers' are not the client's; other
        // crates' (tungstenite, ureq) from DEBUG up: their TRACE records dump raw requests and
        // frames, a documented caveat outside tradewire's control.
        let target = record.target();
        let ours = target.starts_with("tradewire") && !target.starts_with("tradewire_testkit");
        if target.starts_with("tradewire_testkit") || (!ours && record.level() == log::Level::Trace)
        {
            return;
        }
        if let Ok(mut lines) = self.0.lock() {
            lines.push(format!(
                "{} {} {}",
                record.level(),
                record.target(),
                record.args()
            ));
        }
    }
    fn flush(&self) {}
}

pub fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let c: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        let _ = log::set_logger(c);
        log::set_max_level(log::LevelFilter::Trace);
        c
    })
}

/// Everything an application could see or log.
#[derive(Default)]
pub struct Outputs(pub Vec<String>);

impl Outputs {
    pub fn event(&mut self, ev: &Event) {
        self.0.push(format!("{ev:?}"));
        match ev {
            Event::Disconnected { reason, error, .. } => {
                self.0.push(reason.clone());
                self.0.extend(error.clone());
            }
            Event::Reconnecting { reason, .. } | Event::GaveUp { reason } => {
                self.0.push(reason.clone())
            }
            Event::Error(e) => {
                self.0.push(e.to_string());
                self.0.push(e.message.clone());
                self.0.extend(e.raw.clone());
            }
            Event::Connected { url, .. } => self.0.push(url.clone()),
            _ => {}
        }
    }

    pub fn events(&mut self, evs: &[Event]) {
        evs.iter().for_each(|e| self.event(e));
    }

    /// An error's text, its `Debug`, and both of every link of its `source()` chain.
    pub fn error(&mut self, e: &tradewire::Error) {
        self.0.push(format!("{e} | {e:?}"));
        let mut link = std::error::Error::source(e);
        while let Some(l) = link {
            self.0.push(format!("{l} | {l:?}"));
            link = l.source();
        }
    }

    pub fn client(&mut self, c: &Client) {
        self.0.push(format!("{c:?}"));
        self.0.push(format!("{:?}", c.status()));
        self.0.push(c.status().to_json().to_string());
        self.0.push(c.url().to_string());
        self.0.push(format!("{:?}", c.history()));
    }

    /// Checks every output and every log line so far.
    pub fn check(&self, extra_secrets: &[String]) {
        let mut secrets: Vec<String> = [PASSWORD, SEC, BEARER, QUERY_TOKEN, URL_PASSWORD]
            .iter()
            .map(|s| s.to_string())
            .collect();
        secrets.extend(extra_secrets.iter().cloned());
        let logs = capture().0.lock().unwrap().clone();
        assert!(!logs.is_empty(), "no log line was captured");
        assert_no_leak(self.0.iter().chain(logs.iter()), &secrets);
        for text in self.0.iter().chain(logs.iter()) {
            assert!(
                !text.contains('\x1b') && !text.contains("\nINFO tradewire: forged"),
                "server text reached an output unescaped: {text:?}"
            );
        }
    }
}

pub fn credentials() -> Credentials {
    Credentials {
        name: "trader".into(),
        password: Secret::new(PASSWORD),
        app_id: "app".into(),
        app_version: "1.0".into(),
        sec: Secret::new(SEC),
        cid: serde_json::json!(1),
        device_id: None,
    }
}

/// A WebSocket URL with a token query parameter and a password in its authority.
pub fn url_with_secrets(base: &str) -> String {
    let host = base
        .trim_start_matches("ws://")
        .trim_start_matches("wss://");
    let scheme = if base.starts_with("wss://") {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://user:{URL_PASSWORD}@{host}/ws?session=abc")
}
