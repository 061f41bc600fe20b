//! `tradewire mock-server`'s arguments: which server to imitate, its port, rate and accounts.

use super::tokens::{flag, tokenize, Arg, FlagSpec};
use super::values::{parse_list, parse_number};
use super::{usage, Command, Topic, UsageError};

/// Which server `mock-server` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MockPreset {
    /// Risk daemon broadcaster (document 002).
    Daemon,
    /// Trading-agent server with JWT and ping (document 003).
    Agent,
    /// Breakout-bot engine with heartbeats (document 001).
    Breakout,
}

impl MockPreset {
    /// The preset name, as given to `--preset`.
    pub fn name(self) -> &'static str {
        match self {
            MockPreset::Daemon => "daemon",
            MockPreset::Agent => "agent",
            MockPreset::Breakout => "breakout",
        }
    }

    /// The port of the real server this one imitates.
    pub fn default_port(self) -> u16 {
        match self {
            MockPreset::Daemon => 8765,
            MockPreset::Agent => 4000,
            MockPreset::Breakout => 8000,
        }
    }
}

/// Arguments of `tradewire mock-server`.
#[derive(Debug, Clone, PartialEq)]
pub struct MockArgs {
    /// `--preset`
    pub preset: MockPreset,
    /// `--port` (0: any free port)
    pub port: u16,
    /// `--rate`: events per second
    pub rate: f64,
    /// `--accounts` (daemon)
    pub accounts: Vec<i64>,
}

/// `tradewire mock-server --replay FILE [--speed 1|10|max] [--port N]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayArgs {
    /// The recording.
    pub file: std::path::PathBuf,
    /// `--speed`: times the recorded pace (`None`: as fast as possible).
    pub speed: Option<f64>,
    /// `--port` (default 0: any free port).
    pub port: u16,
}

const MOCK_FLAGS: [FlagSpec; 6] = [
    flag("--replay", true),
    flag("--speed", true),
    flag("--preset", true),
    flag("--port", true),
    flag("--rate", true),
    flag("--accounts", true),
];

pub(super) fn parse_mock(args: &[&str]) -> Result<Command, UsageError> {
    let t = Topic::MockServer;
    let mut preset = None;
    let mut port = None;
    let mut rate = 5.0;
    let mut accounts = vec![123, 456];
    let mut replay = None;
    let mut speed = Some(1.0);
    for arg in tokenize(args, &MOCK_FLAGS, t)? {
        match arg {
            Arg::Flag("--help", _) => return Ok(Command::Help(t)),
            Arg::Positional(p) => {
                return Err(usage(
                    t,
                    format!("unexpected argument '{p}' (did you mean '--preset {p}'?)"),
                ))
            }
            Arg::Flag(name, value) => {
                let v = value.unwrap_or_default();
                match name {
                    "--replay" if !v.is_empty() => replay = Some(std::path::PathBuf::from(v)),
                    "--replay" => return Err(usage(t, "--replay needs a recording file")),
                    "--speed" => speed = parse_speed(t, v)?,
                    "--preset" => {
                        preset = Some(match v {
                            "daemon" => MockPreset::Daemon,
                            "agent" => MockPreset::Agent,
                            "breakout" => MockPreset::Breakout,
                            other => {
                                return Err(usage(
                                    t,
                                    format!("unknown preset '{other}' for mock-server; expected daemon, agent or breakout"),
                                ))
                            }
                        })
                    }
                    "--port" => port = Some(parse_number::<u16>(t, name, v, 0)?),
                    "--rate" => {
                        rate = match v.parse::<f64>() {
                            Ok(r) if r.is_finite() && r > 0.0 && r <= 100_000.0 => r,
                            _ => {
                                return Err(usage(
                                    t,
                                    format!("bad --rate '{v}': expected events per second, a number above 0 and at most 100000, e.g. --rate 20"),
                                ))
                            }
                        }
                    }
                    "--accounts" => {
                        accounts = parse_list(t, name, v)?
                            .iter()
                            .map(|a| {
                                a.parse::<i64>().map_err(|_| {
                                    usage(
                                        t,
                                        format!("bad account '{a}' in --accounts: expected integers such as --accounts 123,456"),
                                    )
                                })
                            })
                            .collect::<Result<_, _>>()?
                    }
                    _ => unreachable!("flag {name} is in MOCK_FLAGS"),
                }
            }
        }
    }
    if let Some(file) = replay {
        if preset.is_some() {
            return Err(usage(t, "give either --replay FILE or --preset, not both"));
        }
        let port = port.unwrap_or(0);
        return Ok(Command::Replay(ReplayArgs { file, speed, port }));
    }
    let Some(preset) = preset else {
        return Err(usage(
            t,
            "missing --preset: which server to run (daemon, agent or breakout), e.g. 'tradewire mock-server --preset daemon' (or --replay FILE to play a recording)",
        ));
    };
    Ok(Command::MockServer(MockArgs {
        preset,
        port: port.unwrap_or(preset.default_port()),
        rate,
        accounts,
    }))
}

/// `--speed`: a positive factor (`1`, `10`, `0.5`) or `max`.
fn parse_speed(t: Topic, v: &str) -> Result<Option<f64>, UsageError> {
    if v == "max" {
        return Ok(None);
    }
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(Some(s)),
        _ => Err(usage(
            t,
            format!("bad --speed '{v}': expected a factor above 0 (1 = the recorded pace, 10 = ten times faster) or max"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::tests::{parse_err, parse_ok};

    #[test]
    fn replay() {
        assert_eq!(
            parse_ok(&["mock-server", "--replay", "f.jsonl", "--speed", "max"]),
            Command::Replay(ReplayArgs {
                file: "f.jsonl".into(),
                speed: None,
                port: 0
            })
        );
        assert_eq!(
            parse_ok(&[
                "mock-server",
                "--replay=f.jsonl",
                "--speed",
                "10",
                "--port",
                "9"
            ]),
            Command::Replay(ReplayArgs {
                file: "f.jsonl".into(),
                speed: Some(10.0),
                port: 9
            })
        );
        assert!(parse_err(&["mock-server", "--replay", "f", "--speed", "0"])
            .message
            .contains("--speed"));
        assert!(
            parse_err(&["mock-server", "--replay", "f", "--preset", "daemon"])
                .message
                .contains("not both")
        );
    }

    #[test]
    fn mock_server() {
        assert_eq!(
            parse_ok(&["mock-server", "--preset", "daemon"]),
            Command::MockServer(MockArgs {
                preset: MockPreset::Daemon,
                port: 8765,
                rate: 5.0,
                accounts: vec![123, 456],
            })
        );
        assert_eq!(
            parse_ok(&[
                "mock-server",
                "--preset=agent",
                "--port",
                "0",
                "--rate",
                "2.5",
                "--accounts",
                "1,2"
            ]),
            Command::MockServer(MockArgs {
                preset: MockPreset::Agent,
                port: 0,
                rate: 2.5,
                accounts: vec![1, 2],
            })
        );
        assert!(parse_err(&["mock-server"])
            .message
            .contains("missing --preset"));
        assert!(parse_err(&["mock-server", "--preset", "tradovate"])
            .message
            .contains("daemon, agent or breakout"));
        assert!(
            parse_err(&["mock-server", "--preset", "daemon", "--port", "70000"])
                .message
                .contains("--port")
        );
        assert!(
            parse_err(&["mock-server", "--preset", "daemon", "--rate", "0"])
                .message
                .contains("--rate")
        );
        assert!(
            parse_err(&["mock-server", "--preset", "daemon", "--accounts", "a"])
                .message
                .contains("bad account 'a'")
        );
    }
}
