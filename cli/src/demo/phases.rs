//! The demo's phases: a live stream, a daemon restart, half-open connections, malformed
//! messages, a steady end, and the final checks; each fault must be noticed and repaired.

use std::time::{Duration, Instant};

use tradewire::{State, Status};
use tradewire_testkit::{events, frames};

use super::{Demo, Interrupted, ACCOUNT, OTHER_ACCOUNT};
use crate::output::{latency, seconds};

impl Demo<'_> {
    pub(super) fn phases(&mut self) -> Result<(), Interrupted> {
        let total = 5;
        self.console.heading(&format!(
            "[1/{total}] Live stream: trades, positions, orders, quotes and lockouts for accounts {ACCOUNT} and {OTHER_ACCOUNT}, plus daemon-wide status, at {} events/s",
            self.plan.rate
        ));
        self.console.note(&format!(
            "the client keeps account {ACCOUNT} and daemon-wide events and filters out account {OTHER_ACCOUNT}; first event of each type:"
        ));
        let live = self.wait_for(self.plan.recover_timeout, |t| t.live)?;
        self.check(
            "connects to the daemon",
            live.is_some(),
            live.map(|d| format!("live after {}", seconds(d)))
                .unwrap_or_else(|| "never became live".into()),
        );
        self.pause(self.plan.warm_up)?;
        let delivered = self.tally().delivered;
        self.check(
            "streams events",
            delivered > 0,
            format!("{delivered} events delivered"),
        );

        self.console.heading(&format!(
            "[2/{total}] Daemon restart: the server drops every connection and is down for {}",
            seconds(self.plan.server_down)
        ));
        self.restart()?;

        self.console.heading(&format!(
            "[3/{total}] Half-open connection: the server goes silent but keeps the socket open (no close, no reset); only the {} s heartbeat timeout can tell",
            self.plan.heartbeat_timeout
        ));
        for round in 1..=self.plan.half_open_rounds {
            self.half_open(round)?;
        }

        self.console.heading(&format!(
            "[4/{total}] Malformed messages: invalid JSON, a non-object, a message without a type, a binary frame, then invalid UTF-8"
        ));
        self.malformed()?;

        self.console
            .heading(&format!("[5/{total}] Steady again: the stream goes on"));
        let before = self.tally().delivered;
        self.pause(self.plan.steady)?;
        let after = self.tally();
        let (delivered, live) = (after.delivered - before, after.live);
        drop(after);
        self.check(
            "still live and delivering at the end",
            live && delivered > 0,
            format!("{delivered} events in the last phase"),
        );
        Ok(())
    }

    fn restart(&mut self) -> Result<(), Interrupted> {
        let (epoch, drops) = {
            let t = self.tally();
            (t.epoch, t.disconnects.len())
        };
        self.server.broadcast(&events::daemon_status("STOPPING"));
        let down = Instant::now();
        self.server.stop();
        self.console
            .note("daemon stopped: connections dropped, port closed (connection refused)");
        let noticed = self.wait_for(self.plan.recover_timeout, |t| t.disconnects.len() > drops)?;
        self.check(
            "notices the restart",
            noticed.is_some(),
            noticed
                .map(|d| format!("disconnect seen after {}", seconds(d)))
                .unwrap_or_else(|| "no disconnect seen".into()),
        );
        self.pause(self.plan.server_down.saturating_sub(down.elapsed()))?;
        if let Err(e) = self.server.restart() {
            self.check("daemon restarts", false, e.to_string());
            return Ok(());
        }
        self.console.note("daemon is back on the same port");
        let back = self.wait_for(self.plan.recover_timeout, |t| t.live && t.epoch > epoch)?;
        let total = back.map(|_| down.elapsed());
        self.m.restart_recovery = total;
        self.check(
            "reconnects after the restart",
            back.is_some(),
            total
                .map(|d| format!("live again {} after the daemon went down", seconds(d)))
                .unwrap_or_else(|| "did not reconnect".into()),
        );
        self.server.broadcast(&events::daemon_status("RUNNING"));
        self.pause(self.plan.settle)
    }

    fn half_open(&mut self, round: u32) -> Result<(), Interrupted> {
        let (epoch, drops) = {
            let t = self.tally();
            (t.epoch, t.disconnects.len())
        };
        let silent = Instant::now();
        self.server.set_silent(true);
        self.console.note(&format!(
            "round {round}: the server stopped reading and writing; the TCP connection stays open"
        ));
        let limit =
            Duration::from_secs_f64(self.plan.heartbeat_timeout) + self.plan.recover_timeout;
        let noticed = self.wait_for(limit, |t| t.disconnects.len() > drops)?;
        let detected = noticed.and_then(|_| {
            self.tally()
                .disconnects
                .get(drops)
                .map(|at| at.saturating_duration_since(silent))
        });
        self.server.set_silent(false);
        if let Some(d) = detected {
            self.m.half_open_detect.push(d);
        }
        self.check(
            &format!("detects the half-open connection (round {round})"),
            detected.is_some(),
            detected
                .map(|d| {
                    format!(
                        "declared dead after {} (heartbeat_timeout {} s)",
                        seconds(d),
                        self.plan.heartbeat_timeout
                    )
                })
                .unwrap_or_else(|| "never noticed".into()),
        );
        let back = self.wait_for(self.plan.recover_timeout, |t| t.live && t.epoch > epoch)?;
        let total = back.map(|_| silent.elapsed());
        if let Some(d) = total {
            self.m.half_open_recovery.push(d);
        }
        self.check(
            &format!("reconnects after the half-open connection (round {round})"),
            back.is_some(),
            total
                .map(|d| format!("live again {} after the server went silent", seconds(d)))
                .unwrap_or_else(|| "did not reconnect".into()),
        );
        self.pause(self.plan.settle)
    }

    fn malformed(&mut self) -> Result<(), Interrupted> {
        let (epoch, errors_before, delivered) = {
            let t = self.tally();
            (t.epoch, t.errors.clone(), t.delivered)
        };
        let errors: u64 = errors_before.values().sum();
        let bad: [&str; 3] = [
            r#"{"type":"GatewayUserTrade","account_id":123,"data":{"id":101112,"profitAndLoss":-45.5"#,
            r#"[1,2,3]"#,
            r#"{"account_id":123,"data":{"note":"this message has no type field"}}"#,
        ];
        for text in bad {
            self.server.broadcast(text);
        }
        self.server.broadcast_binary(&[0xde, 0xad, 0xbe, 0xef]);
        let expected = 4;
        let reported = self.wait_for(self.plan.recover_timeout, |t| {
            t.errors.values().sum::<u64>() >= errors + expected
        })?;
        self.pause(self.plan.settle)?;
        let (epoch_now, delivered_now, kinds) = {
            let t = self.tally();
            let kinds: Vec<String> = t
                .errors
                .iter()
                .filter_map(|(k, n)| {
                    let new = n - errors_before.get(k).copied().unwrap_or(0);
                    (new > 0).then(|| format!("{k} ×{new}"))
                })
                .collect();
            (t.epoch, t.delivered, kinds.join(", "))
        };
        self.check(
            "reports each bad message as an error event",
            reported.is_some(),
            if kinds.is_empty() {
                "no error events".into()
            } else {
                kinds
            },
        );
        self.check(
            "keeps the connection and the stream after bad messages",
            epoch_now == epoch && delivered_now > delivered,
            format!(
                "same connection ({epoch_now}), {} more events delivered",
                delivered_now.saturating_sub(delivered)
            ),
        );

        // Invalid UTF-8 in a text frame is a protocol violation: the client closes with 1007
        // and must come back.
        self.server
            .send_raw(&frames::text_frame(&[b'{', 0xff, 0xfe, b'}']));
        self.console
            .note("sent a text frame that is not UTF-8: a protocol error that ends the connection");
        let sent = Instant::now();
        let back = self.wait_for(self.plan.recover_timeout, |t| t.live && t.epoch > epoch)?;
        self.check(
            "reconnects after a protocol error",
            back.is_some(),
            back.map(|_| format!("live again after {}", seconds(sent.elapsed())))
                .unwrap_or_else(|| "did not reconnect".into()),
        );
        self.pause(self.plan.settle)
    }

    pub(super) fn final_checks(&mut self, s: &Status) {
        let (wrong, gave_up, lagged) = {
            let t = self.tally();
            (t.wrong_account, t.gave_up.clone(), t.lagged)
        };
        self.check(
            &format!("delivers nothing for account {OTHER_ACCOUNT}"),
            wrong == 0 && s.filtered > 0,
            format!("{} filtered out, {wrong} delivered by mistake", s.filtered),
        );
        self.check(
            "never gives up",
            gave_up.is_none(),
            gave_up.unwrap_or_else(|| "kept reconnecting".into()),
        );
        self.check(
            "loses nothing silently",
            s.dropped == 0 && lagged == 0,
            format!("{} dropped by the overflow policy", s.dropped),
        );
        let closed = self.m.close_took.unwrap_or_default();
        self.check(
            "closes promptly",
            s.state == State::Closed,
            format!("close() returned in {}", latency(closed)),
        );
    }
}
