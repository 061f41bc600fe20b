//! What the demo's daemon streams: mostly events for the client's account, a third for
//! another account (to be filtered out), and daemon-wide status now and then, counted.

use std::sync::atomic::{AtomicU64, Ordering};

use tradewire_testkit::events;

use super::{ACCOUNT, OTHER_ACCOUNT};

/// How many events of each kind the daemon generated.
#[derive(Default)]
pub(super) struct Sent {
    pub(super) account: AtomicU64,
    pub(super) other: AtomicU64,
    pub(super) daemon_wide: AtomicU64,
}

/// Event `seq` of the demo daemon: mostly account 123, a third for account 456 (to be
/// filtered out), and a daemon-wide `daemon_status` now and then.
pub(super) fn daemon_mix(seq: u64, sent: &Sent) -> String {
    if seq % 40 == 0 {
        sent.daemon_wide.fetch_add(1, Ordering::Relaxed);
        events::daemon_status("RUNNING")
    } else if seq % 3 == 0 {
        sent.other.fetch_add(1, Ordering::Relaxed);
        events::daemon_event(seq, OTHER_ACCOUNT)
    } else {
        sent.account.fetch_add(1, Ordering::Relaxed);
        events::daemon_event(seq, ACCOUNT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_has_every_kind_of_event() {
        let sent = Sent::default();
        let mut accounts = std::collections::BTreeSet::new();
        for seq in 1..=120 {
            let v: serde_json::Value = serde_json::from_str(&daemon_mix(seq, &sent)).unwrap();
            accounts.insert(v["account_id"].to_string());
        }
        assert_eq!(
            accounts.into_iter().collect::<Vec<_>>(),
            vec!["123", "456", "null"]
        );
        assert_eq!(sent.daemon_wide.load(Ordering::Relaxed), 3);
        assert_eq!(sent.other.load(Ordering::Relaxed), 39);
        assert_eq!(sent.account.load(Ordering::Relaxed), 78);
    }
}
