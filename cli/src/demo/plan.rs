//! The demo's plan: how long each phase lasts and the settings of the client under test.

use std::time::Duration;

use tradewire::Config;

use super::ACCOUNT;

/// Phase lengths and client settings; `--quick` shortens everything.
pub(super) struct Plan {
    pub(super) quick: bool,
    /// Events per second the daemon streams.
    pub(super) rate: f64,
    pub(super) warm_up: Duration,
    pub(super) server_down: Duration,
    pub(super) settle: Duration,
    pub(super) half_open_rounds: u32,
    pub(super) steady: Duration,
    pub(super) heartbeat_interval: f64,
    pub(super) heartbeat_timeout: f64,
    pub(super) backoff_initial: f64,
    pub(super) backoff_max: f64,
    /// The longest a fault may take to be noticed and repaired before the demo fails.
    pub(super) recover_timeout: Duration,
}

impl Plan {
    pub(super) fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                rate: 300.0,
                warm_up: Duration::from_millis(1500),
                server_down: Duration::from_millis(700),
                settle: Duration::from_millis(500),
                half_open_rounds: 1,
                steady: Duration::from_millis(800),
                heartbeat_interval: 0.5,
                heartbeat_timeout: 1.5,
                backoff_initial: 0.25,
                backoff_max: 1.0,
                recover_timeout: Duration::from_secs(15),
            }
        } else {
            Plan {
                quick,
                rate: 400.0,
                warm_up: Duration::from_secs(6),
                server_down: Duration::from_millis(2500),
                settle: Duration::from_secs(2),
                half_open_rounds: 2,
                steady: Duration::from_secs(3),
                heartbeat_interval: 0.5,
                heartbeat_timeout: 2.0,
                backoff_initial: 1.0,
                backoff_max: 10.0,
                recover_timeout: Duration::from_secs(20),
            }
        }
    }

    pub(super) fn config(&self, url: &str) -> Result<Config, tradewire::Error> {
        Config::from_value(serde_json::json!({
            "url": url,
            "preset": "daemon",
            "account_id": ACCOUNT,
            "heartbeat_interval": self.heartbeat_interval,
            "heartbeat_timeout": self.heartbeat_timeout,
            "connect_timeout": 2.0,
            "backoff_initial": self.backoff_initial,
            "backoff_max": self.backoff_max,
            "min_uptime": 0.5,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_valid_configurations() {
        for quick in [false, true] {
            let plan = Plan::new(quick);
            plan.config("ws://127.0.0.1:1").unwrap().validate().unwrap();
        }
    }
}
