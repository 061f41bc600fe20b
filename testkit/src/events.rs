//! Realistic risk-daemon events (reference document 002) as JSON strings.
//!
//! Every message has the shape `{"type":..,"account_id":..,"data":{..}}`.
//! The generators are deterministic: the same `seq` always yields the same
//! bytes, and timestamps advance 250 ms per `seq` from 2025-01-17T14:30:00Z.
//!
//! ```
//! use tradewire_testkit::events;
//!
//! let event: serde_json::Value = serde_json::from_str(&events::daemon_event(1, 123)).unwrap();
//! assert_eq!(event["type"], "MarketQuote");
//! assert_eq!(event["account_id"], 123);
//! assert_eq!(event["data"]["seq"], 1);
//! ```

use crate::clock::{iso_from_unix_ms, iso_now};

/// 2025-01-17T14:30:00Z in Unix milliseconds.
const BASE_MS: u64 = 1_737_124_200_000;
/// Simulated time between consecutive events.
const STEP_MS: u64 = 250;

const CONTRACTS: [&str; 4] = [
    "CON.F.US.MNQ.U25",
    "CON.F.US.ENQ.U25",
    "CON.F.US.MES.U25",
    "CON.F.US.EP.U25",
];

/// The event types of document 002, in the order [`daemon_event`] cycles
/// through them (a cycle of 16 of which 9 are `MarketQuote`).
pub const EVENT_TYPES: [&str; 8] = [
    "GatewayUserTrade",
    "GatewayUserPosition",
    "GatewayUserOrder",
    "MarketQuote",
    "lockout_set",
    "lockout_cleared",
    "enforcement_action",
    "daily_reset",
];

/// Builds (event type, data JSON) for a `seq`.
type Builder = fn(u64) -> (&'static str, String);

/// Which builder produces event number `seq` (cycle of 16, quotes most often).
const CYCLE: [Builder; 16] = [
    quote,
    trade,
    quote,
    position,
    quote,
    order,
    quote,
    quote,
    lockout_set,
    quote,
    lockout_cleared,
    quote,
    enforcement,
    quote,
    quote,
    daily_reset,
];

/// One realistic daemon event for `account_id`, 150–250 bytes (for account
/// ids up to 9 digits and `seq` below 10 000), whose `data`
/// carries `"seq": seq`. Cycles through trade, position, order, quote (the
/// most frequent), lockout set/cleared, enforcement action and daily reset.
pub fn daemon_event(seq: u64, account_id: i64) -> String {
    let (event_type, data) = CYCLE[(seq.wrapping_sub(1) % 16) as usize](seq);
    envelope(event_type, &account_id.to_string(), &data)
}

/// A small sequenced event: `{"type":"seq","account_id":..,"data":{"seq":N}}`
/// (`account_id` is `null` when `None`).
pub fn sequenced(seq: u64, account_id: Option<i64>) -> String {
    envelope(
        "seq",
        &account_field(account_id),
        &format!(r#"{{"seq":{seq}}}"#),
    )
}

/// A `daemon_status` event (account_id `null`) with `status` such as
/// `RUNNING`, `STOPPING` or `ERROR`, a message and the current time.
pub fn daemon_status(status: &str) -> String {
    let message = match status {
        "RUNNING" => "Daemon started successfully".to_string(),
        "STOPPING" => "Daemon shutting down".to_string(),
        "ERROR" => "Daemon encountered an error".to_string(),
        other => format!("Daemon status changed to {other}"),
    };
    let data = serde_json::json!({
        "status": status,
        "message": message,
        "timestamp": iso_now(),
    });
    envelope("daemon_status", "null", &data.to_string())
}

/// `account_id` as JSON: the number, or `null`.
pub(crate) fn account_field(account_id: Option<i64>) -> String {
    account_id.map_or_else(|| "null".to_string(), |id| id.to_string())
}

/// `{"type":<event_type>,"account_id":<account>,"data":<data>}` with the
/// type JSON-escaped and `account` / `data` already JSON.
pub(crate) fn envelope(event_type: &str, account: &str, data: &str) -> String {
    let event_type = serde_json::Value::from(event_type);
    format!(r#"{{"type":{event_type},"account_id":{account},"data":{data}}}"#)
}

fn time_of(seq: u64) -> String {
    iso_from_unix_ms(BASE_MS + seq.saturating_mul(STEP_MS))
}

/// Like [`time_of`] without milliseconds, e.g. `2025-01-17T14:30:03Z`.
fn time_of_secs(seq: u64) -> String {
    let full = time_of(seq);
    format!("{}Z", &full[..19])
}

fn contract(seq: u64) -> &'static str {
    CONTRACTS[(seq % 4) as usize]
}

/// A price as `whole.cc`, moving in quarter ticks around 21000.
fn price(seq: u64, offset_ticks: u64) -> String {
    let ticks = 84_000 + (seq.wrapping_mul(37) % 160) + offset_ticks;
    format!("{}.{:02}", ticks / 4, (ticks % 4) * 25)
}

fn quote(seq: u64) -> (&'static str, String) {
    let data = format!(
        r#"{{"contractId":"{}","bid":{},"ask":{},"last":{},"volume":{},"timestamp":"{}","seq":{seq}}}"#,
        contract(seq),
        price(seq, 0),
        price(seq, 1),
        price(seq, 1),
        1_000 + seq % 9_000,
        time_of(seq),
    );
    ("MarketQuote", data)
}

fn trade(seq: u64) -> (&'static str, String) {
    let loss = seq % 2 == 0;
    let cents = 500 + (seq * 7_919) % 20_000;
    let data = format!(
        r#"{{"id":{},"contractId":"{}","profitAndLoss":{}{}.{:02},"quantity":{},"executionTime":"{}","timestamp":"{}","seq":{seq}}}"#,
        100_000 + seq,
        contract(seq),
        if loss { "-" } else { "" },
        cents / 100,
        cents % 100,
        1 + seq % 3,
        time_of(seq),
        time_of(seq),
    );
    ("GatewayUserTrade", data)
}

fn position(seq: u64) -> (&'static str, String) {
    let data = format!(
        r#"{{"id":{},"contractId":"{}","type":{},"size":{},"averagePrice":{},"createdAt":"{}","updatedAt":"{}","seq":{seq}}}"#,
        400 + seq % 100,
        contract(seq),
        1 + seq % 2,
        seq % 5,
        price(seq, 2),
        time_of(seq.saturating_sub(40)),
        time_of(seq),
    );
    ("GatewayUserPosition", data)
}

fn order(seq: u64) -> (&'static str, String) {
    let data = format!(
        r#"{{"id":{},"contractId":"{}","type":2,"side":{},"size":{},"limitPrice":{},"state":{},"createdAt":"{}","updatedAt":"{}","seq":{seq}}}"#,
        700 + seq % 1_000,
        contract(seq),
        1 + seq % 2,
        1 + seq % 4,
        price(seq, 0),
        1 + seq % 3,
        time_of(seq.saturating_sub(8)),
        time_of(seq),
    );
    ("GatewayUserOrder", data)
}

fn lockout_set(seq: u64) -> (&'static str, String) {
    let data = format!(
        r#"{{"reason":"Daily loss limit hit: -${}","locked_until":"2025-01-17T22:00:00.000Z","rule_id":"RULE-003","locked_at":"{}","seq":{seq}}}"#,
        500 + seq % 100,
        time_of(seq),
    );
    ("lockout_set", data)
}

fn lockout_cleared(seq: u64) -> (&'static str, String) {
    let data = format!(
        r#"{{"cleared_at":"{}","cleared_by":"TIMER_EXPIRY","rule_id":"RULE-003","was_locked_since":"{}","seq":{seq}}}"#,
        time_of(seq),
        time_of(seq.saturating_sub(120)),
    );
    ("lockout_cleared", data)
}

fn enforcement(seq: u64) -> (&'static str, String) {
    let data = format!(
        r#"{{"action":"CLOSE_ALL_POSITIONS","reason":"MaxContracts breach: 6 > 5","rule_id":"RULE-001","success":true,"timestamp":"{}","details":{{"positions_closed":{}}},"seq":{seq}}}"#,
        time_of_secs(seq),
        1 + seq % 3,
    );
    ("enforcement_action", data)
}

fn daily_reset(seq: u64) -> (&'static str, String) {
    let cents = (seq * 3_571) % 50_000;
    let data = format!(
        r#"{{"reset_time":"{}","previous_pnl":-{}.{:02},"previous_trade_count":{},"lockouts_cleared":true,"seq":{seq}}}"#,
        time_of(seq),
        cents / 100,
        cents % 100,
        seq % 40,
    );
    ("daily_reset", data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn events_are_valid_sized_and_sequenced() {
        for account in [1_i64, 123, 987_654_321] {
            for seq in 1..=2_000 {
                let text = daemon_event(seq, account);
                assert!(
                    (150..=250).contains(&text.len()),
                    "{} bytes: {text}",
                    text.len()
                );
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["account_id"], account);
                assert_eq!(v["data"]["seq"], seq);
                assert!(EVENT_TYPES.contains(&v["type"].as_str().unwrap()));
            }
        }
        assert_eq!(daemon_event(17, 5), daemon_event(17, 5));
    }

    #[test]
    fn quotes_are_most_frequent_and_all_types_appear() {
        let types: Vec<String> = (1..=16)
            .map(|seq| {
                let v: Value = serde_json::from_str(&daemon_event(seq, 1)).unwrap();
                v["type"].as_str().unwrap().to_string()
            })
            .collect();
        for t in EVENT_TYPES {
            assert!(types.iter().any(|x| x == t), "{t} missing");
        }
        let quotes = types.iter().filter(|t| *t == "MarketQuote").count();
        assert!(quotes > 16 / 2);
    }

    #[test]
    fn small_events() {
        assert_eq!(
            sequenced(7, None),
            r#"{"type":"seq","account_id":null,"data":{"seq":7}}"#
        );
        assert_eq!(
            sequenced(8, Some(-3)),
            r#"{"type":"seq","account_id":-3,"data":{"seq":8}}"#
        );
        let v: Value = serde_json::from_str(&daemon_status("RUNNING")).unwrap();
        assert_eq!(v["type"], "daemon_status");
        assert!(v["account_id"].is_null());
        assert_eq!(v["data"]["status"], "RUNNING");
    }
}
