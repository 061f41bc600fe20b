//! `tradewire bridge`'s arguments: every `listen` option (parsed by the same code), plus
//! where and how to write to Redis.

use super::listen::{apply_flag, check_url, set_url, ListenArgs, LISTEN_FLAGS};
use super::tokens::{flag, tokenize, Arg, FlagSpec};
use super::values::{non_empty, parse_number};
use super::{usage, Command, Topic, UsageError};
use crate::bridge::stream_name::StreamTemplate;
use crate::bridge::target::{self, RedisTarget};

/// Arguments of `tradewire bridge`.
#[derive(Debug, Clone, PartialEq)]
pub struct BridgeArgs {
    /// The options `listen` has (URL, preset, account, token, `--config`, ...).
    pub listen: ListenArgs,
    /// `--to`: the Redis server (its password never shown).
    pub to: RedisTarget,
    /// `--to` as typed: its password is registered for scrubbing in every form (never printed).
    pub to_typed: tradewire::Secret,
    /// `--stream`: the stream name template (default `tradewire`, or
    /// `tradewire:{connection}` with several connections).
    pub stream: Option<String>,
    /// `--maxlen N`: approximate trimming (`MAXLEN ~ N`).
    pub maxlen: Option<u64>,
    /// `--instance-id`: the first part of every entry's key (default: random).
    pub instance_id: Option<String>,
    /// `--status-interval S`: a status line on stderr every S seconds.
    pub status_interval: Option<u32>,
}

const BRIDGE_FLAGS: [FlagSpec; 5] = [
    flag("--to", true),
    flag("--stream", true),
    flag("--maxlen", true),
    flag("--instance-id", true),
    flag("--status-interval", true),
];

pub(super) fn parse_bridge(args: &[&str]) -> Result<Command, UsageError> {
    let t = Topic::Bridge;
    let specs: Vec<FlagSpec> = LISTEN_FLAGS.into_iter().chain(BRIDGE_FLAGS).collect();
    let mut listen = ListenArgs::default();
    let mut to: Option<(RedisTarget, String)> = None;
    let mut stream = None;
    let mut maxlen = None;
    let mut instance_id = None;
    let mut status_interval = None;
    for arg in tokenize(args, &specs, t)? {
        match arg {
            Arg::Flag("--help", _) => return Ok(Command::Help(t)),
            Arg::Positional(p) => set_url(&mut listen, p, t)?,
            Arg::Flag(name, value) => {
                let v = value.unwrap_or_default();
                match name {
                    "--to" => {
                        let parsed = target::parse(v).map_err(|why| {
                            usage(
                                t,
                                format!(
                                    "--to: {why}\nThe accepted form is {}, e.g. --to redis://localhost:6379/0",
                                    target::FORM
                                ),
                            )
                        })?;
                        to = Some((parsed, v.to_string()));
                    }
                    "--stream" => {
                        // Checked here so that a typo is a usage error (exit 2).
                        StreamTemplate::parse(v, 1)
                            .map_err(|why| usage(t, format!("--stream: {why}")))?;
                        stream = Some(v.to_string());
                    }
                    "--maxlen" => maxlen = Some(parse_number::<u64>(t, name, v, 1)?),
                    "--instance-id" => {
                        let id = non_empty(t, name, v)?;
                        if id.contains([':', ' ']) {
                            return Err(usage(
                                t,
                                "--instance-id may not hold ':' or spaces (it is the first part of the key <instance>:<connection>:<epoch>:<seq>)",
                            ));
                        }
                        instance_id = Some(id.to_string());
                    }
                    "--status-interval" => {
                        status_interval = Some(parse_number::<u32>(t, name, v, 1)?)
                    }
                    _ => apply_flag(&mut listen, name, value, t)?,
                }
            }
        }
    }
    check_url(&listen, t)?;
    let Some((to, typed)) = to else {
        return Err(usage(
            t,
            format!(
                "missing --to: give the Redis server, e.g. --to redis://localhost:6379/0 (the form: {})",
                target::FORM
            ),
        ));
    };
    Ok(Command::Bridge(Box::new(BridgeArgs {
        listen,
        to,
        to_typed: tradewire::Secret::new(typed),
        stream,
        maxlen,
        instance_id,
        status_interval,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::tests::{parse_err, parse_ok};

    #[test]
    fn bridge_takes_every_listen_option() {
        let c = parse_ok(&[
            "bridge",
            "ws://h:1",
            "--preset",
            "daemon",
            "--account",
            "123",
            "--to",
            "redis://:pw-secret@127.0.0.1:6390/2",
            "--stream",
            "tw:{account_id}",
            "--maxlen=1000",
            "--instance-id",
            "desk1",
            "--status-interval",
            "5",
            "--count",
            "10",
            "-q",
        ]);
        let Command::Bridge(b) = c else {
            panic!("{c:?}")
        };
        assert_eq!(b.listen.url.as_deref(), Some("ws://h:1"));
        assert_eq!(b.listen.preset.as_deref(), Some("daemon"));
        assert_eq!(b.listen.count, Some(10));
        assert!(b.listen.quiet);
        assert_eq!((b.to.port, b.to.db), (6390, 2));
        assert_eq!(b.stream.as_deref(), Some("tw:{account_id}"));
        assert_eq!(b.maxlen, Some(1000));
        assert_eq!(b.instance_id.as_deref(), Some("desk1"));
        assert_eq!(b.status_interval, Some(5));
        assert!(!format!("{b:?}").contains("pw-secret"));
    }

    #[test]
    fn bridge_errors() {
        assert!(parse_err(&["bridge", "ws://h"])
            .message
            .contains("missing --to"));
        let e = parse_err(&["bridge", "ws://h", "--to", "localhost:6379"]);
        assert!(e.message.contains("redis://[[user]:password@]host"), "{e}");
        let e = parse_err(&["bridge", "ws://h", "--to", "redis://:topsecret@h:x"]);
        assert!(!e.to_string().contains("topsecret"), "{e}");
        assert!(e.to_string().contains("tradewire bridge --help"), "{e}");
        let e = parse_err(&["bridge", "ws://h", "--to", "redis://h", "--stream", "a:{x}"]);
        assert!(e.message.contains("unknown placeholder"), "{e}");
        let e = parse_err(&["bridge", "--to", "redis://h"]);
        assert!(e.message.contains("missing URL"), "{e}");
        assert!(
            parse_err(&["bridge", "ws://h", "--to", "redis://h", "--maxlen", "0"])
                .message
                .contains("at least 1")
        );
    }
}
