//! The one declaration of every configuration field: its JSON name, its Rust type, its
//! builder method, how the JSON reader reads it, its default (per preset where the preset
//! decides) and its documentation. `declare.rs` turns it into the `Config` struct, the
//! builder, the JSON reader's dispatch (used by `Config::from_value`, so by Python's keyword
//! arguments, C's JSON string and the CLI's `--config` file alike), `FIELDS`, the effective
//! values `resolve.rs` starts from, and the README's field table (`docs.rs`).
//!
//! Checks that involve one field's value and others (heartbeat_timeout against
//! heartbeat_interval, ...) are in `resolve.rs`, in the order they are reported.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::backoff::BackoffKind;
use crate::deflate::Compression;
use crate::delivery::Overflow;
use crate::filter::AccountId;
use crate::preset::Preset;
use crate::sequence::{OnGap, SequenceScope};

use super::declare::Bytes;
use serde_json::Value;

use super::field_readers::{
    connect_timeout_ms, host, port, preset, protocol, reject_unauthorized, token_file,
};
use super::reader::{self, Reader};
use super::{Credentials, Secret};
use crate::error::FieldError;

config_fields! {
    /// The WebSocket URL (`ws://` or `wss://`). The `json` and `raw` presets have no
    /// default: without a URL (or the document 004 options), validation says so.
    "url" => url: String {
        set: into,
        read: get("a ws:// or wss:// URL string"),
        default: shown(p => p.defaults().url),
    }
    /// The preset: dialect and defaults.
    "preset" => preset: Preset {
        set: value,
        read: with(preset, "`json`, `daemon`, `agent`, `breakout`, `tradovate`, `raw` or `metis`"),
        default: text("`json`; `metis` when the document 004 options (`protocol`, `host`, `port`) are given"),
    }
    /// Keep only messages for this account (or with no account). `123` and `"123"` match alike.
    "account_id" => account_id: AccountId {
        set: {
            pub fn account_id(mut self, account: impl Into<AccountId>) -> Self {
                self.account_id = Some(account.into());
                self
            }
        },
        read: get("an integer or a non-empty string"),
        default: text("none: every account"),
    }
    /// Keep only these message types.
    "types" => types: Vec<String> {
        set: {
            pub fn types<I, T>(mut self, types: I) -> Self
            where
                I: IntoIterator<Item = T>,
                T: Into<String>,
            {
                self.types = Some(types.into_iter().map(Into::into).collect());
                self
            }
        },
        read: get("a list of message type strings"),
        default: text("none: every type"),
    }
    /// A static token, sent as `Authorization: Bearer` (or as `token_query_param`).
    "token" => token: Secret {
        set: {
            pub fn token(mut self, token: impl Into<String>) -> Self {
                self.token = Some(Secret::new(token));
                self
            }
        },
        read: get("a string"),
        default: text("none"),
    }
    /// Query parameter that carries the token instead of the `Authorization` header.
    "token_query_param" => token_query_param: String {
        set: into,
        read: get("a query parameter name"),
        default: maybe(p => p.defaults().token_query_param),
    }
    /// Agent preset (document 003): the agent to stream, sent as the `agentId` query
    /// parameter (percent-encoded). It wins over an `agentId` already in `url` or `query`
    /// (that one is removed); other presets take no agent id (use `query`).
    "agent_id" => agent_id: String {
        set: into,
        read: get("a string"),
        default: text("none"),
    }
    /// A first message sent after connecting; `{token}` in it is replaced by the token.
    "auth_message" => auth_message: String {
        set: into,
        read: get("a string"),
        default: text("none"),
    }
    /// Query parameters added to the URL (the builder adds one per call).
    "query" => query: BTreeMap<String, String> {
        set: {
            pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
                self.query
                    .get_or_insert_with(BTreeMap::new)
                    .insert(key.into(), value.into());
                self
            }
        },
        read: call(string_map, "an object of strings"),
        default: text("none"),
    }
    /// Headers of the WebSocket handshake (the builder adds one per call).
    "headers" => headers: BTreeMap<String, String> {
        set: {
            pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
                self.headers
                    .get_or_insert_with(BTreeMap::new)
                    .insert(name.into(), value.into());
                self
            }
        },
        read: call(string_map, "an object of strings"),
        default: text("none"),
    }
    /// Tradovate credentials; `appVersion` is `"1.0"` and `cid` is `0` when left out, as in
    /// reference document 000.
    "credentials" => credentials: Credentials {
        set: value,
        read: call(credentials, "`{name, password, appId, appVersion, sec, cid, deviceId}`"),
        default: text("tradovate: from `TRADOVATE_NAME`, `TRADOVATE_PASSWORD`, `TRADOVATE_APP_ID`, `TRADOVATE_APP_VERSION`, `TRADOVATE_SEC`, `TRADOVATE_CID` when the name and password are set"),
    }
    /// Tradovate: the named environment whose WebSocket and token request to use:
    /// `staging` (reference document 000's `live-api.staging.ninjatrader.dev`), `demo`
    /// (`demo.tradovateapi.com`) or `live` (`live.tradovateapi.com`); with `market_data`,
    /// `md-demo.tradovateapi.com` and `md.tradovateapi.com`. An explicit `url` or `auth_url`
    /// wins over it.
    "environment" => environment: String {
        set: into,
        read: get("`\"staging\"`, `\"demo\"` or `\"live\"`"),
        default: text("tradovate: `staging` (when `url` is not given)"),
    }
    /// Tradovate access-token URL.
    "auth_url" => auth_url: String {
        set: into,
        read: get("a URL string"),
        default: text("tradovate: the environment's; with an explicit `url` (and no `environment`), `/v1/auth/accesstokenrequest` on the host and port of `url` (http for ws, https for wss)"),
    }
    /// Tradovate: the file that keeps the access token between runs, in reference document
    /// 000's format (the token answer as received plus `retrievedAt` in Unix milliseconds),
    /// so the document's client can share it; written 0600 in a directory created 0700.
    /// `false`, `null` or `""` keeps no file.
    "token_file" => token_file: Option<String> {
        set: {
            pub fn token_file(mut self, path: impl Into<String>) -> Self {
                let path = path.into();
                self.token_file = Some((!path.is_empty()).then_some(path));
                self
            }

            /// Keeps the Tradovate token in no file (not even the default one).
            pub fn no_token_file(mut self) -> Self {
                self.token_file = Some(None);
                self
            }
        },
        read: or_null_with(token_file, "a file path, or false (or null) for none"),
        default: text("tradovate with credentials: `$XDG_STATE_HOME/tradewire/tradovate-<environment>-<user>.json` (`~/.local/state/tradewire/...` without `XDG_STATE_HOME`; `%LOCALAPPDATA%\\tradewire\\...` on Windows); `<environment>` is the auth URL's host when it is not a named environment's"),
    }
    /// How often the client sends its heartbeat (WebSocket ping by default).
    "heartbeat_interval" => heartbeat_interval: Duration {
        set: value,
        read: call(secs, "seconds"),
        default: value(p => p.defaults().heartbeat_interval),
    }
    /// Silence from the server after which the connection is dead.
    "heartbeat_timeout" => heartbeat_timeout: Duration {
        set: value,
        read: call(secs, "seconds"),
        default: value(p => p.defaults().heartbeat_timeout),
    }
    /// Bound on DNS + TCP + TLS + WebSocket handshake together.
    "connect_timeout" => connect_timeout: Duration {
        set: value,
        read: call(secs, "seconds"),
        default: value(p => Duration::from_secs(10)),
    }
    /// Whether to reconnect after a connection ends.
    "reconnect" => reconnect: bool {
        set: value,
        read: get("true or false"),
        default: value(p => true),
    }
    /// Exponential or fixed backoff.
    "backoff" => backoff: BackoffKind {
        set: value,
        read: get("\"exponential\" or \"fixed\""),
        default: value(p => p.defaults().backoff.kind),
    }
    /// First reconnect delay.
    "backoff_initial" => backoff_initial: Duration {
        set: value,
        read: call(secs, "seconds"),
        default: value(p => p.defaults().backoff.initial),
    }
    /// Largest reconnect delay before jitter: with `jitter` j the longest wait is
    /// `backoff_max × (1 + j)` (json: 30 s with up to 100 % jitter, so up to 60 s; tradovate:
    /// 60 s + 10 %, up to 66 s).
    "backoff_max" => backoff_max: Duration {
        set: value,
        read: call(secs, "seconds"),
        default: value(p => p.defaults().backoff.max),
    }
    /// Growth factor of the delay.
    "backoff_factor" => backoff_factor: f64 {
        set: value,
        read: get("a number >= 1"),
        default: value(p => p.defaults().backoff.factor),
    }
    /// Random extra delay, as a fraction of the delay (0.1 = 0–10 %).
    "jitter" => jitter: f64 {
        set: value,
        read: get("a fraction between 0 and 1"),
        default: value(p => p.defaults().backoff.jitter),
    }
    /// Gives up after this many failed attempts in a row (`None`: never gives up).
    "max_reconnect_attempts" => max_reconnect_attempts: Option<u32> {
        set: {
            pub fn max_reconnect_attempts(mut self, attempts: Option<u32>) -> Self {
                self.max_reconnect_attempts = Some(attempts);
                self
            }
        },
        read: or_null("a whole number, or null for no limit"),
        default: value(p => p.defaults().max_reconnect_attempts),
    }
    /// A connection must stay up this long before the attempt counter resets.
    "min_uptime" => min_uptime: Duration {
        set: value,
        read: call(secs, "seconds"),
        default: value(p => Duration::from_secs(10)),
    }
    /// Capacity of the event channel.
    "queue_capacity" => queue_capacity: usize {
        set: value,
        read: call(size, "a whole number"),
        default: value(p => 65_536usize),
    }
    /// What to do when the event channel is full.
    "overflow" => overflow: Overflow {
        set: value,
        read: get("\"block\", \"drop_oldest\" or \"drop_newest\""),
        default: value(p => p.defaults().overflow),
    }
    /// How many messages the history ring keeps.
    "history" => history: usize {
        set: value,
        read: call(size, "a whole number"),
        default: value(p => p.defaults().history),
    }
    /// Record every frame received and sent, with its time, and every connection's start and
    /// end to this file (JSON lines, secrets scrubbed; see "Recording and replay").
    "record" => record: String { set: into, read: get("a file path"), default: text("none"), }
    /// Size at which the recording rotates (`FILE` → `FILE.1` ... `FILE.9`, the oldest dropped).
    "record_max_bytes" => record_max_bytes: usize {
        set: value,
        read: call(size, "bytes"),
        default: value(p => Bytes(64 << 20)),
    }
    /// The proxy to connect through: `http://[user:password@]host:port` (HTTP CONNECT, Basic
    /// authentication), `socks5://[user:password@]host:port` (the name resolved here) or
    /// `socks5h://...` (resolved by the proxy); also used for Tradovate's token requests.
    /// `"direct"` connects directly whatever the environment says. Without it, the variables
    /// curl and Python requests read apply: `HTTPS_PROXY` (wss), `HTTP_PROXY` (ws),
    /// `ALL_PROXY`, and `NO_PROXY` (names, domain suffixes, addresses, CIDR ranges, `*`). The
    /// password is a secret: never shown.
    "proxy" => proxy: String {
        set: into,
        read: get("a proxy URL (http://, socks5:// or socks5h://) or \"direct\""),
        default: text("none: the environment variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`); none set: direct"),
    }
    /// Verify the server's TLS certificate and host name (default true).
    "verify_tls" => verify_tls: bool {
        set: value,
        read: get("true or false"),
        default: value(p => true),
    }
    /// Compress messages with permessage-deflate (RFC 7692) when the server accepts it:
    /// `"deflate"` (the default, offered as browsers and Python `websockets` offer it), or
    /// `None` (JSON `null`, CLI `--no-compression`) to send and accept only uncompressed
    /// messages.
    ///
    /// ```
    /// let config = tradewire::Config::new("ws://127.0.0.1:8765").compression(None);
    /// ```
    "compression" => compression: Option<Compression> {
        set: {
            pub fn compression(mut self, compression: Option<Compression>) -> Self {
                self.compression = Some(compression);
                self
            }
        },
        read: or_null("`\"deflate\"`, or null for none"),
        default: value(p => Some(Compression::Deflate)),
    }
    /// Messages sent after every (re)connect, before messages are delivered as live (the
    /// builder adds one per call).
    "on_connect" => on_connect: Vec<String> {
        set: {
            pub fn on_connect(mut self, message: impl Into<String>) -> Self {
                self.on_connect
                    .get_or_insert_with(Vec::new)
                    .push(message.into());
                self
            }
        },
        read: call(messages, "a string or a JSON object, or a list of them"),
        default: text("none"),
    }
    /// Largest accepted message, in bytes.
    "max_message_size" => max_message_size: usize {
        set: value,
        read: call(size, "bytes"),
        default: value(p => Bytes(16 << 20)),
    }
    /// Largest accepted frame, in bytes.
    "max_frame_size" => max_frame_size: usize {
        set: value,
        read: call(size, "bytes"),
        default: text("`max_message_size`"),
    }
    /// Largest amount of unsent data buffered before `send` fails, in bytes.
    "max_write_buffer" => max_write_buffer: usize {
        set: value,
        read: call(size, "bytes"),
        default: value(p => Bytes(8 << 20)),
    }
    /// Size of the socket read buffer, in bytes (default 16 KiB).
    "read_buffer_size" => read_buffer_size: usize {
        set: value,
        read: call(size, "bytes"),
        // 16 KiB: as fast as 64 KiB on a firehose and an idle connection costs about half
        // the memory (tungstenite fills the whole buffer with zeros on its first read), see
        // docs/BENCHMARKS.md.
        default: value(p => Bytes(16 << 10)),
    }
    /// The thread waiting in `recv`/`recv_timeout` reads the socket itself (default
    /// true): no switch between threads from the socket to the application, the lowest
    /// latency for a thread that consumes in a loop (docs/BENCHMARKS.md). The I/O thread
    /// still connects, logs in and reconnects, and takes the socket back when no thread
    /// has run it for 10 ms (so a busy application still answers server pings, and the
    /// overflow policy applies). `try_recv`, callbacks and `events()` never read: an
    /// application that only uses those is read for by the I/O thread.
    ///
    /// `false`: the I/O thread alone reads, and a `received_at` is the time the frame was
    /// read even while the application is busy (with inline reads, a frame that arrives
    /// while the application is away is read when it next waits, or after 10 ms).
    ///
    /// ```
    /// let config = tradewire::Config::new("ws://127.0.0.1:8765").inline_reads(false);
    /// ```
    "inline_reads" => inline_reads: bool {
        set: value,
        read: get("true or false"),
        default: value(p => true),
    }
    /// A thread waiting for events with inline reads (`recv`, `recv_timeout`, `recv_batch`,
    /// iteration; Python's blocking calls; C's `tw_client_next_event(s)`) polls the socket
    /// without sleeping while the server sent something within the last this many seconds,
    /// and sleeps after that much silence until bytes arrive. An event is then read within
    /// microseconds of its arrival instead of after the thread's wake-up (tens of
    /// microseconds on a quiet machine), at the price of a CPU kept busy while the feed is
    /// active: for a consumer on a core of its own. Answers to heartbeats count as something
    /// sent: at or above `heartbeat_interval`, the thread never sleeps. Commands, timers and
    /// Ctrl-C work as usual. No effect without `inline_reads`, nor on event loops
    /// (`tradewire.aio`, `tw_client_read_events`), which must not block.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = tradewire::Config::new("ws://127.0.0.1:8765").busy_poll(Duration::from_millis(50));
    /// ```
    "busy_poll" => busy_poll: Duration {
        set: value,
        read: call(secs, "seconds"),
        default: text("0: a waiting thread sleeps at once"),
    }
    /// Close codes from the server that stop reconnecting. `agent` stops on 1008 ("Agent
    /// not found", as its document says not to retry it); `daemon`, `breakout` and
    /// `tradovate` retry every close, as their documents do; the generic `json` and `raw`
    /// stop on 1008 (policy violation: usually a refused credential, which retrying cannot fix).
    "fatal_close_codes" => fatal_close_codes: Vec<u16> {
        set: value,
        read: get("a list of close codes"),
        default: value(p => match p {
            Preset::Daemon | Preset::Breakout | Preset::Tradovate => Vec::new(),
            _ => vec![1008u16],
        }),
    }
    /// Reconnect even when another connection superseded ours.
    "reconnect_when_superseded" => reconnect_when_superseded: bool {
        set: value,
        read: get("true or false"),
        default: value(p => false),
    }
    /// Messages of this type are answered with a JSON pong (`None` turns it off).
    "ping_type" => ping_type: Option<String> {
        set: {
            pub fn ping_type(mut self, t: Option<String>) -> Self {
                self.ping_type = Some(t);
                self
            }
        },
        read: or_null("a message type"),
        default: value(p => p.defaults().ping_type),
    }
    /// The member of a JSON request that carries its id (`request_json`; document 004 uses
    /// `requestId`, JSON-RPC `id`): filled with a fresh id when the request has none, and
    /// the message that carries the same id is its answer. Tradovate correlates its own way.
    "request_id_field" => request_id_field: String {
        set: into,
        read: get("a member name such as \"id\" or \"requestId\""),
        default: value(p => if p.defaults().whole_message { "requestId" } else { "id" }),
    }
    /// JSON pointer of the message type.
    "type_pointer" => type_pointer: String {
        set: into,
        read: get("a JSON pointer such as \"/type\""),
        default: value(p => if p == Preset::Tradovate { "/e" } else { "/type" }),
    }
    /// JSON pointer of the account id.
    "account_pointer" => account_pointer: String {
        set: into,
        read: get("a JSON pointer such as \"/account_id\""),
        default: value(p => if p == Preset::Tradovate { "/d/entity/accountId" } else { "/account_id" }),
    }
    /// JSON pointer of the payload (`""`: the whole message).
    "data_pointer" => data_pointer: String {
        set: into,
        read: get("a JSON pointer such as \"/data\""),
        default: value(p => match p {
            Preset::Tradovate => "/d",
            _ if p.defaults().whole_message => "",
            _ => "/data",
        }),
    }
    /// JSON pointer of the server's timestamp of a message, given as `Message::server_time`
    /// (Python `server_time`, C `tw_event_server_time`, `server_time` in the JSON form) and
    /// as `status().feed_latency`, the latest `received_at − server_time`. Epoch seconds,
    /// milliseconds, microseconds or nanoseconds (told apart by magnitude) and ISO-8601
    /// strings are read; anything else gives no server time, never an error. `null` turns
    /// it off.
    "time_pointer" => time_pointer: Option<String> {
        set: {
            pub fn time_pointer(mut self, pointer: Option<String>) -> Self {
                self.time_pointer = Some(pointer);
                self
            }
        },
        read: or_null("a JSON pointer such as \"/ts\", or null"),
        default: value(p => p.defaults().time_pointer),
    }
    /// Warn when the feed or the application falls this many seconds behind: one `lagging`
    /// event (which lag, how far) before the next message when `feed_lag` or `consumer_lag`
    /// crosses it, one `caught_up` event once it is below half of it again, a warning log
    /// line with each.
    "lag_warning" => lag_warning: Duration {
        set: value,
        read: call(secs, "seconds"),
        default: text("none: no warnings"),
    }
    /// JSON pointer of the feed's own message number (`"/seq"`, `"/u"`): each message's
    /// number is checked on the I/O thread before the message is delivered (filtered ones
    /// too: they are part of the feed). A number that skips ahead is preceded by a `gap`
    /// event (`key`, `expected`, `received`, `missing`, `epoch`); a number at or below one
    /// already seen is a duplicate. An integer, or a string holding one; messages without
    /// it pass unchecked (counted). `status()["sequence"]` has the counts.
    "sequence" => sequence: String {
        set: into,
        read: get("a JSON pointer such as \"/seq\""),
        default: text("none: no checking"),
    }
    /// JSON pointer of what separates independent counters (`"/channel"`, `"/symbol"`):
    /// each value has its own sequence. Messages without it share one counter.
    "sequence_key" => sequence_key: String {
        set: into,
        read: get("a JSON pointer such as \"/channel\""),
        default: text("none: one counter"),
    }
    /// `"connection"`: the counters start over with each connection; `"session"`: the
    /// feed's numbers continue across reconnects, so a gap across a reconnect is reported.
    "sequence_scope" => sequence_scope: SequenceScope {
        set: value,
        read: get("\"connection\" or \"session\""),
        default: value(p => SequenceScope::Connection),
    }
    /// `"mark"`: a gap is reported (event, counters, log line); `"reconnect"`: also
    /// reconnect to resynchronise (feeds that send a snapshot on connect), at most 3 times
    /// in a row until 1,000 messages arrive in order.
    "on_gap" => on_gap: OnGap {
        set: value,
        read: get("\"mark\" or \"reconnect\""),
        default: value(p => OnGap::Mark),
    }
    /// Do not deliver a message whose number is at or below one already seen (it is
    /// counted either way).
    "drop_duplicates" => drop_duplicates: bool {
        set: value,
        read: get("true or false"),
        default: value(p => false),
    }
    /// Tradovate: connect to the market-data endpoint (authorizes with `mdAccessToken`).
    "market_data" => market_data: bool {
        set: value,
        read: get("true or false"),
        default: value(p => false),
    }
    /// Tradovate: a token is used only while now < expiry − this margin (default 5 min).
    "token_expiry_margin" => token_expiry_margin: Duration {
        set: value,
        read: call(secs, "seconds"),
        default: value(p => Duration::from_secs(300)),
    }
    // The connection options of reference document 004 (JSON only: the Rust builder takes
    // the URL they make).
    /// Document 004: `ws` or `wss`; with `host` and `port`, builds the URL when `url` is not given.
    "protocol" {
        set: none,
        read: with(protocol, "`\"ws\"` or `\"wss\"`"),
        default: text("`ws` (when `host` or `port` is given)"),
    }
    /// Document 004: the host name, optionally with `:port`.
    "host" {
        set: none,
        read: with(host, "a host name"),
        default: text("`localhost` (when `protocol` or `port` is given)"),
    }
    /// Document 004: the port (1-65535).
    "port" {
        set: none,
        read: with(port, "a port number"),
        default: text("80 for ws, 443 for wss"),
    }
    /// Document 004: the other name of `verify_tls`.
    "rejectUnauthorized" {
        set: none,
        read: with(reject_unauthorized, "true or false"),
        default: text("true"),
    }
    /// Document 004: `connect_timeout` in milliseconds, clamped to 1000..=60000.
    "connectTimeout" {
        set: none,
        read: with(connect_timeout_ms, "milliseconds"),
        default: text("none: `connect_timeout` applies"),
    }
}

/// Reads every field of `map`; unknown fields and unreadable values are in the errors.
pub(super) fn read(map: serde_json::Map<String, Value>) -> (Config, Vec<FieldError>) {
    let mut r = Reader::default();
    let mut c = Config::default();
    for (key, v) in map {
        // `null` means "the default", so an unknown field set to null is passed over.
        let null = v.is_null();
        if !read_field(&mut r, &mut c, &key, v) && !null {
            let hint = reader::closest(&key)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            r.push(&key, format!("unknown field{hint}"));
        }
    }
    (c, r.errors)
}
