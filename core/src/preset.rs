//! Presets: a wire dialect plus defaults taken from one reference document each.

use std::time::Duration;

use crate::backoff::{Backoff, BackoffKind};
use crate::delivery::Overflow;

/// A named bundle of wire format and default values. Every default can be overridden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Generic JSON stream: the payload at `/data` (the whole message when it has none),
    /// non-JSON text delivered raw with no data.
    #[default]
    Json,
    /// Risk daemon broadcast (reference 002): `ws://localhost:8765`, backoff 1, 2, 4, 8, 10 s.
    Daemon,
    /// Trading-agent dashboard (reference 003): JWT in `token` query, JSON ping answered with pong,
    /// close 1008 is fatal, 1000 "New connection established" means superseded.
    Agent,
    /// Breakout-bot engine (reference 001): `ws://localhost:8000/ws/`, server HEARTBEAT every
    /// 30 s, fixed 5 s reconnect, history of 100 messages.
    Breakout,
    /// Tradovate (reference 000): SockJS framing, access tokens, requests.
    Tradovate,
    /// Frames passed through untouched.
    Raw,
    /// Document 004's `WebSocketApi` (METIS, on Node `ws`): a message's data is the whole
    /// parsed message (`const { type, payload } = event.data`), the text itself when it is not
    /// JSON; a binary frame holding UTF-8 JSON is read as that JSON, any other binary frame is
    /// delivered as its bytes; requests correlate by `requestId`; with no URL, 004's
    /// `ws://localhost:80`. The `{protocol, host, port, ...}` form selects it when no preset
    /// is given.
    Metis,
}

impl Preset {
    /// The preset's name as written in configurations.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Json => "json",
            Preset::Daemon => "daemon",
            Preset::Agent => "agent",
            Preset::Breakout => "breakout",
            Preset::Tradovate => "tradovate",
            Preset::Raw => "raw",
            Preset::Metis => "metis",
        }
    }

    /// Every preset, the default (`json`) first.
    pub const ALL: [Preset; 7] = [
        Preset::Json,
        Preset::Daemon,
        Preset::Agent,
        Preset::Breakout,
        Preset::Tradovate,
        Preset::Raw,
        Preset::Metis,
    ];

    /// Parses a preset name.
    pub fn from_name(s: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == s)
    }

    /// The defaults this preset brings.
    pub fn defaults(self) -> Defaults {
        let base = Defaults::base();
        match self {
            Preset::Json | Preset::Raw => base,
            Preset::Metis => Defaults {
                // 004's URL building: `{}` is ws://localhost:80.
                url: Some("ws://localhost:80"),
                whole_message: true,
                ..base
            },
            Preset::Daemon => Defaults {
                url: Some("ws://localhost:8765"),
                strict_json: true,
                // 002: "1, 2, 4, 8 seconds, then 10 s (max)"; +0–10 % (issue 20).
                backoff: Backoff {
                    max: Duration::from_secs(10),
                    jitter: DOCUMENTED_JITTER,
                    ..base.backoff
                },
                first_connect_retry: Some(Duration::from_secs(5)),
                ..base
            },
            Preset::Agent => Defaults {
                url: Some("ws://localhost:4000/ws"),
                strict_json: true,
                token_query_param: Some("token"),
                ping_type: Some("ping"),
                heartbeat_interval: Duration::from_secs(30),
                heartbeat_timeout: Duration::from_secs(60),
                superseded_reason: Some("New connection established"),
                ..base
            },
            Preset::Breakout => Defaults {
                url: Some("ws://localhost:8000/ws/"),
                strict_json: true,
                // Document 001's store keeps every parsed message; routing by type just
                // does not match one without a type.
                type_required: false,
                server_heartbeat_type: Some("HEARTBEAT"),
                // 001: every message is `{type, ts, data}`, `ts` in milliseconds.
                time_pointer: Some("/ts"),
                heartbeat_interval: Duration::from_secs(30),
                heartbeat_timeout: Duration::from_secs(70),
                // 001: "reconnect after 5 seconds", every time; +0–10 %.
                backoff: Backoff {
                    kind: BackoffKind::Fixed,
                    initial: Duration::from_secs(5),
                    jitter: DOCUMENTED_JITTER,
                    ..base.backoff
                },
                history: 100,
                ..base
            },
            Preset::Tradovate => Defaults {
                // 000's WS_URL: its staging host (`environment` picks demo or live).
                url: Some("wss://live-api.staging.ninjatrader.dev/v1/websocket"),
                strict_json: true,
                ws_ping: false,
                heartbeat_interval: Duration::from_millis(2500),
                heartbeat_timeout: Duration::from_secs(10),
                // 000: 1 s doubling to 60 s with 0–10 % jitter, 10 attempts.
                backoff: Backoff {
                    max: Duration::from_secs(60),
                    jitter: DOCUMENTED_JITTER,
                    ..base.backoff
                },
                max_reconnect_attempts: Some(10),
                ..base
            },
        }
    }
}

/// The jitter of the presets whose document gives a reconnect schedule (daemon, breakout,
/// tradovate): at most 10 % is added, so an announced delay stays within `[d, 1.1·d]` of the
/// document's `d` (document 000 states 0–10 %; 001 and 002 state exact delays, which a
/// small jitter keeps recognisable while still spreading clients dropped together).
pub(crate) const DOCUMENTED_JITTER: f64 = 0.1;

/// The values a preset fills in when the configuration leaves them out.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// Default URL, if the preset has one.
    pub url: Option<&'static str>,
    /// Invalid JSON, non-objects and missing types are `Error` events (true) or raw messages (false).
    pub strict_json: bool,
    /// Under `strict_json`, a message without a type is an `Error` event (true) or delivered
    /// and kept in the history like any other (false: breakout).
    pub type_required: bool,
    /// Query parameter that carries the static token (header `Authorization: Bearer` when `None`).
    pub token_query_param: Option<&'static str>,
    /// Messages of this type are answered with `{"type":"pong","timestamp":...}`.
    pub ping_type: Option<&'static str>,
    /// Messages of this type are the server's heartbeat; their `ts` gives the latency.
    pub server_heartbeat_type: Option<&'static str>,
    /// JSON pointer of a message's server timestamp (`Message::server_time`).
    pub time_pointer: Option<&'static str>,
    /// Send WebSocket pings every `heartbeat_interval`.
    pub ws_ping: bool,
    /// How often the client sends its heartbeat.
    pub heartbeat_interval: Duration,
    /// Silence after which the connection is considered dead.
    pub heartbeat_timeout: Duration,
    /// Reconnect delay policy.
    pub backoff: Backoff,
    /// Attempts before giving up (`None`: forever).
    pub max_reconnect_attempts: Option<u32>,
    /// Before the first connection, retry every this long instead of the backoff schedule
    /// (document 002: a daemon that is not running is retried every 5 s).
    pub first_connect_retry: Option<Duration>,
    /// Close reason (with code 1000) that means another connection took our place.
    pub superseded_reason: Option<&'static str>,
    /// Messages kept in the history ring.
    pub history: usize,
    /// Document 004's messages: the data is the whole message (`data_pointer` ""), the text
    /// itself when it is not JSON; binary frames holding UTF-8 JSON are read as JSON, other
    /// binary frames delivered as bytes; requests correlate by `requestId`.
    pub whole_message: bool,
    /// What happens when the event queue is full.
    pub overflow: Overflow,
}

impl Defaults {
    fn base() -> Defaults {
        Defaults {
            url: None,
            strict_json: false,
            type_required: true,
            token_query_param: None,
            ping_type: None,
            server_heartbeat_type: None,
            time_pointer: None,
            ws_ping: true,
            heartbeat_interval: Duration::from_secs(10),
            heartbeat_timeout: Duration::from_secs(30),
            backoff: Backoff {
                kind: BackoffKind::Exponential,
                initial: Duration::from_secs(1),
                max: Duration::from_secs(30),
                factor: 2.0,
                // 0–100 %: clients dropped together by one server restart come back spread
                // over a whole base delay, not in lockstep (200 clients: at most about 35 in
                // any 100 ms window). Presets with a documented schedule use
                // DOCUMENTED_JITTER instead.
                jitter: 1.0,
            },
            max_reconnect_attempts: None,
            first_connect_retry: None,
            superseded_reason: None,
            history: 0,
            overflow: Overflow::Block,
            whole_message: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_backoff_is_the_002_schedule() {
        let b = Preset::Daemon.defaults().backoff;
        let secs: Vec<u64> = (0..6).map(|n| b.delay(n, 0.0).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn documented_schedules_get_at_most_ten_percent_jitter_the_others_spread_a_herd() {
        for p in [Preset::Daemon, Preset::Breakout, Preset::Tradovate] {
            assert_eq!(p.defaults().backoff.jitter, 0.1, "{}", p.name());
        }
        for p in [Preset::Json, Preset::Agent, Preset::Raw, Preset::Metis] {
            assert_eq!(p.defaults().backoff.jitter, 1.0, "{}", p.name());
        }
    }

    #[test]
    fn announced_delays_stay_within_ten_percent_of_the_documents() {
        // (preset, the document's delays for attempts 1, 2, ... in seconds)
        let schedules: [(Preset, &[f64]); 3] = [
            (Preset::Daemon, &[1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]),
            (Preset::Breakout, &[5.0, 5.0, 5.0, 5.0]),
            (Preset::Tradovate, &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]),
        ];
        for (p, secs) in schedules {
            let b = p.defaults().backoff;
            for (n, d) in secs.iter().enumerate() {
                for random in [0.0, 0.5, 0.999_999] {
                    let got = b.delay(n as u32, random).as_secs_f64();
                    assert!(
                        got >= *d && got <= d * 1.1 + 1e-9,
                        "{} attempt {}: {got} not in [{d}, {}]",
                        p.name(),
                        n + 1,
                        d * 1.1
                    );
                }
                let exact = Backoff { jitter: 0.0, ..b };
                assert_eq!(exact.delay(n as u32, 0.7).as_secs_f64(), *d);
            }
        }
    }

    #[test]
    fn breakout_backoff_is_the_001_schedule() {
        let b = Preset::Breakout.defaults().backoff;
        assert_eq!(b.kind, BackoffKind::Fixed);
        assert!((0..20).all(|n| b.delay(n, 0.0) == Duration::from_secs(5)));
    }

    #[test]
    fn tradovate_backoff_is_the_000_schedule() {
        let d = Preset::Tradovate.defaults();
        let secs: Vec<u64> = (0..8).map(|n| d.backoff.delay(n, 0.0).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(d.max_reconnect_attempts, Some(10));
    }

    #[test]
    fn names_round_trip() {
        for p in Preset::ALL {
            assert_eq!(Preset::from_name(p.name()), Some(p));
        }
        assert_eq!(Preset::from_name("nope"), None);
    }
}
