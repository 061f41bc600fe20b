//! The json dialect (one JSON object per text frame) and the raw dialect (frames untouched).

use std::time::{Duration, UNIX_EPOCH};

use tungstenite::Bytes;

use super::{Ctx, Dialect, Signal};
use crate::config::Settings;
use crate::envelope::prefilter::AccountPrefilter;
use crate::envelope::{self, AccountField, EnvelopeError};
use crate::event::{ErrorKind, Message};
use crate::filter::{account_passes, type_passes};
use crate::time::iso8601;

pub(crate) struct Json {
    /// Pass frames through untouched (the raw preset).
    raw: bool,
    /// The account filter's shortcut, where it applies (see [`envelope::prefilter`]).
    prefilter: Option<AccountPrefilter>,
}

impl Json {
    /// The dialect of `s` (the raw preset's when `s.raw`).
    pub(crate) fn new(s: &Settings) -> Json {
        // Not with sequence checking (every message's number is read) nor under document
        // 004's lenient reading (text that is not JSON is delivered as it is).
        let shortcut = !s.raw && !s.whole_message && s.sequence.is_none();
        let prefilter = match &s.account {
            Some(ours) if shortcut => AccountPrefilter::new(&s.pointers, ours),
            _ => None,
        };
        Json {
            raw: s.raw,
            prefilter,
        }
    }
}

impl Dialect for Json {
    fn on_text(&mut self, text: &str, ctx: &mut Ctx<'_>) {
        if self.raw {
            if ctx.s.types.is_empty() {
                ctx.message(Message::text(text, None, None, None, ctx.now, ctx.epoch));
            } else {
                ctx.filtered();
            }
            return;
        }
        // A message for another account is dropped without being read whole. While a
        // request waits for its answer, every message is read whole first (the answer may
        // name any account).
        let shortcut = self.prefilter.as_ref().filter(|_| ctx.awaited.is_empty());
        read_json_text(text, ctx, shortcut);
    }

    fn on_binary(&mut self, bytes: &[u8], ctx: &mut Ctx<'_>) {
        if self.raw {
            if ctx.s.types.is_empty() {
                ctx.message(Message::binary(
                    Bytes::copy_from_slice(bytes),
                    ctx.now,
                    ctx.epoch,
                ));
            } else {
                ctx.filtered();
            }
            return;
        }
        if ctx.s.whole_message {
            return on_metis_binary(bytes, ctx);
        }
        ctx.bad_input(
            ErrorKind::UnexpectedBinary,
            format!(
                "a binary frame of {} bytes arrived where the {} preset expects JSON text frames; it was skipped (use the raw preset to receive binary frames)",
                bytes.len(),
                ctx.s.preset.name()
            ),
            None,
        );
    }
}

/// A binary frame under the metis preset (document 004 parses "string/buffer messages"
/// alike): UTF-8 JSON is read as if it had come in a text frame, anything else is delivered
/// as its bytes (no type, so a `types` filter passes it over).
fn on_metis_binary(bytes: &[u8], ctx: &mut Ctx<'_>) {
    match std::str::from_utf8(bytes) {
        Ok(text) if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() => {
            handle_json_text(text, ctx)
        }
        _ if ctx.s.types.is_empty() => ctx.message(Message::binary(
            Bytes::copy_from_slice(bytes),
            ctx.now,
            ctx.epoch,
        )),
        _ => ctx.filtered(),
    }
}

/// Reads one JSON message with the configured pointers, filters it and delivers it (or
/// reports it as bad input under strict presets).
pub(crate) fn handle_json_text(text: &str, ctx: &mut Ctx<'_>) {
    read_json_text(text, ctx, None);
}

/// [`handle_json_text`], with the account filter's shortcut where it applies (a message for
/// another account is counted as filtered without its rest being read).
fn read_json_text(text: &str, ctx: &mut Ctx<'_>, shortcut: Option<&AccountPrefilter>) {
    {
        let s = ctx.s;
        // The answer to a request that waits is returned to it, not delivered.
        if !ctx.awaited.is_empty() && claimed_as_reply(text, ctx) {
            return;
        }
        let parsed = envelope::parse_unless(text, &s.pointers, shortcut);
        let env = match parsed {
            Ok(Some(env)) => env,
            Ok(None) => return ctx.filtered(),
            Err(EnvelopeError::InvalidJson(e)) if s.strict_json => {
                return ctx.bad_input(
                    ErrorKind::InvalidJson,
                    format!("invalid JSON: {e}"),
                    Some(text),
                );
            }
            Err(EnvelopeError::NotAnObject) if s.strict_json => {
                return ctx.bad_input(
                    ErrorKind::NotAnObject,
                    "the message is JSON but not an object".into(),
                    Some(text),
                );
            }
            Err(e) => {
                // Lenient presets deliver what is not an envelope as it is (reference 004).
                if !type_passes(&s.types, None) {
                    return ctx.filtered();
                }
                if s.whole_message && matches!(e, EnvelopeError::InvalidJson(_)) {
                    // Document 004: "falls back to raw string if JSON parsing fails".
                    return ctx.message(Message::text_as_data(text, ctx.now, ctx.epoch));
                }
                let data = matches!(e, EnvelopeError::NotAnObject).then(|| 0..text.len());
                return ctx.message(Message::text(text, None, None, data, ctx.now, ctx.epoch));
            }
        };
        if s.sequence.is_some() && !super::gaps::check(&env, ctx) {
            return ctx.filtered();
        }
        if !account_passes(s.account.as_ref(), env.account.as_filter()) {
            return ctx.filtered();
        }
        if !type_passes(&s.types, env.msg_type.as_deref()) {
            return ctx.filtered();
        }
        if env.msg_type.is_none() && s.strict_json && s.type_required {
            let why = if env.has_type_field {
                "its type field is not a string"
            } else {
                "it has no type field"
            };
            return ctx.bad_input(
                ErrorKind::MissingType,
                format!("the message was skipped because {why}"),
                Some(text),
            );
        }
        let msg_type = env.msg_type.as_deref();
        if let (Some(t), Some(ping)) = (msg_type, s.ping_type.as_deref()) {
            if t == ping {
                ctx.replies.push(format!(
                    r#"{{"type":"pong","timestamp":"{}"}}"#,
                    iso8601(ctx.now)
                ));
            }
        }
        if let (Some(t), Some(hb)) = (msg_type, s.server_heartbeat_type.as_deref()) {
            if t == hb {
                ctx.latency = heartbeat_age(text, ctx.now);
            }
        }
        let account = match &env.account {
            AccountField::Id(a) => Some(a.as_ref()),
            _ => None,
        };
        let data = Some(env.data);
        let message = Message::text(text, msg_type, account, data, ctx.now, ctx.epoch);
        // Read only when a time_pointer is configured and the message has the field.
        let server_time = env.time.and_then(crate::time::server_time);
        if let Some(sent) = server_time {
            let lag = ctx.counters.set_feed_latency(ctx.now, sent);
            if let Some(threshold) = s.lag_warning {
                if let Some(lagging) = ctx.counters.feed_alarm.observe(lag, threshold) {
                    let event = crate::event::Event::lag_change(
                        crate::lag::Lag::Feed,
                        lagging,
                        lag,
                        threshold,
                    );
                    ctx.delivery.push(event);
                }
            }
        }
        ctx.message(message.with_server_time(server_time));
    }
}

/// A message that carries the id of a request nobody waits for any more (its answer came
/// twice in one read), delivered as a message: it passed no filter, being addressed to us.
#[cold]
pub(crate) fn unclaimed_reply(
    text: &str,
    s: &crate::config::Settings,
    now: std::time::SystemTime,
    epoch: u64,
) -> Message {
    match envelope::parse(text, &s.pointers) {
        Ok(env) => {
            let account = match &env.account {
                AccountField::Id(a) => Some(a.as_ref()),
                _ => None,
            };
            let t = env.msg_type.as_deref();
            Message::text(text, t, account, Some(env.data), now, epoch)
        }
        Err(_) => Message::text(text, None, None, None, now, epoch),
    }
}

/// Whether `text` answers a waiting JSON request (its `request_id_field` member's JSON text
/// is a waiting id): then it is signalled to the engine as that request's reply.
#[cold]
fn claimed_as_reply(text: &str, ctx: &mut Ctx<'_>) -> bool {
    let field = &ctx.s.request_id_field;
    let Some(id) = crate::envelope::member(text, field).filter(|id| ctx.awaited.contains(id))
    else {
        return false;
    };
    let (id, text) = (id.to_string(), text.to_string());
    ctx.signals.push(Signal::Reply { id, text });
    true
}

/// The age of a server heartbeat from its `ts` field (Unix milliseconds), as its latency.
fn heartbeat_age(text: &str, now: std::time::SystemTime) -> Option<Duration> {
    #[derive(serde::Deserialize)]
    struct Ts {
        ts: Option<f64>,
    }
    let ts = serde_json::from_str::<Ts>(text).ok()?.ts?;
    let now_ms = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64() * 1000.0;
    let age = (now_ms - ts).max(0.0);
    age.is_finite()
        .then(|| Duration::from_secs_f64(age / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn heartbeat_latency_from_ts() {
        let now = UNIX_EPOCH + Duration::from_millis(10_000);
        let d = heartbeat_age(r#"{"type":"HEARTBEAT","ts":9990,"data":{}}"#, now).unwrap();
        assert_eq!(d, Duration::from_millis(10));
        assert!(heartbeat_age(r#"{"type":"HEARTBEAT"}"#, SystemTime::now()).is_none());
    }
}
