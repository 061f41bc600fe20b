//! The demo's consumer thread: takes the client's events, counts them in a [`Tally`] for
//! the phases to read, and prints connection changes and the first event of each type.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use tradewire::{Client, Event};

use super::console::{terminal_width, Console};
use super::{lock, ACCOUNT};
use crate::output::{lifecycle_line, message_line, shorten};

/// What the consumer thread saw, read by the phase driver.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) delivered: u64,
    pub(super) for_account: u64,
    pub(super) daemon_wide: u64,
    pub(super) wrong_account: u64,
    pub(super) types: BTreeMap<String, u64>,
    pub(super) errors: BTreeMap<&'static str, u64>,
    pub(super) live: bool,
    pub(super) epoch: u64,
    pub(super) disconnects: Vec<Instant>,
    pub(super) gave_up: Option<String>,
    pub(super) lagged: u64,
}

/// Reads the client's events: counts them, prints connection changes and the first event of
/// each type.
pub(super) fn spawn_consumer(
    client: &Client,
    tally: &Arc<Mutex<Tally>>,
    console: &Arc<Console>,
) -> JoinHandle<()> {
    let events = client.events();
    let tally = tally.clone();
    let console = console.clone();
    std::thread::spawn(move || loop {
        let event = match events.recv_timeout(Duration::from_millis(100)) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let now = Instant::now();
        let mut sample = None;
        {
            let mut t = lock(&tally);
            match &event {
                Event::Message(m) => {
                    t.delivered += 1;
                    match m.account_id() {
                        None => t.daemon_wide += 1,
                        Some(a) if a == ACCOUNT.to_string() => t.for_account += 1,
                        Some(_) => t.wrong_account += 1,
                    }
                    let kind = m.msg_type().unwrap_or("(none)").to_string();
                    let seen = t.types.entry(kind).or_insert(0);
                    *seen += 1;
                    if *seen == 1 {
                        sample = Some(message_line(m));
                    }
                }
                Event::Connected { epoch, .. } => {
                    t.live = true;
                    t.epoch = *epoch;
                }
                Event::Disconnected { .. } => {
                    t.live = false;
                    t.disconnects.push(now);
                }
                Event::Error(e) => *t.errors.entry(e.kind.as_str()).or_insert(0) += 1,
                Event::GaveUp { reason } => t.gave_up = Some(reason.clone()),
                Event::Lagged { dropped } => t.lagged += dropped,
                _ => {}
            }
        }
        if let Some(line) = sample {
            let width = terminal_width().map_or(150, |w| w.saturating_sub(8).max(40));
            console.note(&format!("▸ {}", shorten(&line, width)));
        } else if let Some(line) = lifecycle_line(&event) {
            console.note(&format!("· {line}"));
        }
    })
}
