//! Sequence checking of one message on the I/O thread (config `sequence`): the verdict of
//! [`crate::sequence::Sequencer`] turned into a `gap` event, counters, a log line, and for
//! `on_gap = "reconnect"` a reconnect.

use std::sync::atomic::Ordering;

use super::{Ctx, Signal};
use crate::envelope::Envelope;
use crate::event::Event;
use crate::sequence::{key_of, number_of, OnGap, Verdict, MAX_RESYNCS, RESYNC_RESET};

/// Checks the message's number before it is filtered or delivered; `false`: do not deliver
/// it (a duplicate under `drop_duplicates`). A gap's event goes out first, so it comes just
/// before the message that skipped ahead.
pub(crate) fn check(env: &Envelope<'_>, ctx: &mut Ctx<'_>) -> bool {
    let Some(check) = ctx.s.sequence else {
        return true;
    };
    let Some(n) = env.sequence.and_then(number_of) else {
        ctx.counters
            .sequence_unchecked
            .fetch_add(1, Ordering::Relaxed);
        return true;
    };
    let key = env.sequence_key.map(key_of);
    let verdict = ctx.sequencer.observe(key.as_deref(), n);
    match verdict {
        Verdict::InOrder => return true,
        Verdict::Untracked => {
            ctx.counters
                .sequence_unchecked
                .fetch_add(1, Ordering::Relaxed);
            return true;
        }
        Verdict::Gap { .. } | Verdict::Duplicate => {}
    }
    ctx.counters
        .sequence
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .count(key.as_deref().unwrap_or(""), verdict);
    let Verdict::Gap { expected, received } = verdict else {
        return !check.drop_duplicates;
    };
    let missing = received - expected;
    let stream = match &key {
        Some(k) => format!(" of stream {}", crate::redact::untrusted(k, 80)),
        None => String::new(),
    };
    tw_warn!(
        "tradewire: sequence gap{stream}: expected {expected}, received {received} ({missing} missing, connection {})",
        ctx.epoch
    );
    ctx.delivery.push(Event::Gap {
        key: key.map(|k| k.into_owned()),
        expected,
        received,
        missing,
        epoch: ctx.epoch,
    });
    if check.on_gap == OnGap::Reconnect {
        if ctx.sequencer.resync() {
            ctx.signals.push(Signal::Resync(format!(
                "sequence gap{stream} ({missing} missing): reconnecting to resynchronise"
            )));
        } else {
            tw_warn!(
                "tradewire: on_gap = reconnect: {MAX_RESYNCS} reconnects in a row did not resynchronise the feed; gaps are only marked until {RESYNC_RESET} messages arrive in order"
            );
        }
    }
    true
}
