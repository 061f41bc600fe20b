//! Command-line parsing: pure functions from `argv` to a [`Command`], no I/O.
//!
//! Every mistake becomes a [`UsageError`] that names the offending argument and the help page
//! to read; `main` prints it and exits with code 2.

use std::fmt;

use crate::help::{BRIDGE_HELP, DEMO_HELP, LISTEN_HELP, MAIN_HELP, MOCK_HELP};

mod bridge;
mod listen;
mod mock;
mod tokens;
mod values;

use bridge::parse_bridge;
pub use bridge::BridgeArgs;
use listen::parse_listen;
pub use listen::{Account, ListenArgs, TokenSource};
use mock::parse_mock;
pub use mock::{MockArgs, MockPreset, ReplayArgs};
use tokens::{flag, tokenize, Arg};
use values::suggest;

/// What the user asked for.
// One value per run, parsed once: its size does not matter (boxing `ListenArgs` would only
// add noise to every match).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Print a help page.
    Help(Topic),
    /// Print the version.
    Version,
    /// `tradewire listen ...`
    Listen(ListenArgs),
    /// `tradewire bridge ...`
    Bridge(Box<BridgeArgs>),
    /// `tradewire demo ...`
    Demo(DemoArgs),
    /// `tradewire mock-server ...`
    MockServer(MockArgs),
    /// `mock-server --replay FILE`
    Replay(ReplayArgs),
}

/// A help page: the overview or one command's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// `tradewire --help`
    Main,
    /// `tradewire listen --help`
    Listen,
    /// `tradewire bridge --help`
    Bridge,
    /// `tradewire demo --help`
    Demo,
    /// `tradewire mock-server --help`
    MockServer,
}

impl Topic {
    /// The command as typed after `tradewire`, for "see `tradewire X --help`".
    pub fn invocation(self) -> &'static str {
        match self {
            Topic::Main => "tradewire",
            Topic::Listen => "tradewire listen",
            Topic::Bridge => "tradewire bridge",
            Topic::Demo => "tradewire demo",
            Topic::MockServer => "tradewire mock-server",
        }
    }

    /// The help text.
    pub fn help(self) -> &'static str {
        match self {
            Topic::Main => MAIN_HELP,
            Topic::Listen => LISTEN_HELP,
            Topic::Bridge => BRIDGE_HELP,
            Topic::Demo => DEMO_HELP,
            Topic::MockServer => MOCK_HELP,
        }
    }
}

/// Arguments of `tradewire demo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DemoArgs {
    /// `--quick`: shortened phases (for tests).
    pub quick: bool,
    /// `--record FILE`: record the demo's session (config `record`).
    pub record: Option<std::path::PathBuf>,
}

/// A mistake on the command line, with the help page that explains the right form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// What is wrong, in words.
    pub message: String,
    /// Which help page to point to.
    pub topic: Topic,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tradewire: error: {}\nRun '{} --help' for usage.",
            self.message,
            self.topic.invocation()
        )
    }
}

impl std::error::Error for UsageError {}

fn usage(topic: Topic, message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
        topic,
    }
}

const COMMANDS: [&str; 4] = ["listen", "bridge", "demo", "mock-server"];

/// Parses the arguments after the program name.
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Command, UsageError> {
    let args: Vec<&str> = args.iter().map(|s| s.as_ref()).collect();
    let Some((&first, rest)) = args.split_first() else {
        return Err(usage(
            Topic::Main,
            "no command given; use one of: listen, bridge, demo, mock-server",
        ));
    };
    match first {
        "-h" | "--help" => Ok(Command::Help(Topic::Main)),
        "-V" | "--version" => Ok(Command::Version),
        "help" => match rest.first() {
            None => Ok(Command::Help(Topic::Main)),
            Some(&cmd) => topic_of(cmd).map(Command::Help).ok_or_else(|| unknown_command(cmd)),
        },
        "listen" => parse_listen(rest),
        "bridge" => parse_bridge(rest),
        "demo" => parse_demo(rest),
        "mock-server" => parse_mock(rest),
        other if other.starts_with('-') => Err(usage(
            Topic::Main,
            format!("unknown option '{other}' (options go after the command, e.g. 'tradewire listen --help')"),
        )),
        other => Err(unknown_command(other)),
    }
}

fn topic_of(cmd: &str) -> Option<Topic> {
    match cmd {
        "listen" => Some(Topic::Listen),
        "bridge" => Some(Topic::Bridge),
        "demo" => Some(Topic::Demo),
        "mock-server" => Some(Topic::MockServer),
        _ => None,
    }
}

fn unknown_command(cmd: &str) -> UsageError {
    let hint = suggest(cmd, &COMMANDS)
        .map(|s| format!("; did you mean '{s}'?"))
        .unwrap_or_else(|| "; the commands are listen, bridge, demo and mock-server".into());
    usage(Topic::Main, format!("unknown command '{cmd}'{hint}"))
}

fn parse_demo(args: &[&str]) -> Result<Command, UsageError> {
    let t = Topic::Demo;
    let mut out = DemoArgs::default();
    for arg in tokenize(args, &[flag("--quick", false), flag("--record", true)], t)? {
        match arg {
            Arg::Flag("--help", _) => return Ok(Command::Help(t)),
            Arg::Flag("--quick", _) => out.quick = true,
            Arg::Flag("--record", Some(v)) if !v.is_empty() => out.record = Some(v.into()),
            Arg::Flag("--record", _) => return Err(usage(t, "--record needs a file")),
            Arg::Flag(..) => unreachable!("demo has only --quick and --record"),
            Arg::Positional(p) => {
                return Err(usage(
                    t,
                    format!("unexpected argument '{p}': demo takes no arguments"),
                ))
            }
        }
    }
    Ok(Command::Demo(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn parse_ok(args: &[&str]) -> Command {
        parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    pub(super) fn parse_err(args: &[&str]) -> UsageError {
        match parse(args) {
            Ok(c) => panic!("{args:?} parsed as {c:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn top_level() {
        assert_eq!(parse_ok(&["--help"]), Command::Help(Topic::Main));
        assert_eq!(parse_ok(&["-h"]), Command::Help(Topic::Main));
        assert_eq!(parse_ok(&["--version"]), Command::Version);
        assert_eq!(parse_ok(&["-V"]), Command::Version);
        assert_eq!(parse_ok(&["help", "listen"]), Command::Help(Topic::Listen));
        assert_eq!(
            parse_ok(&["listen", "--help"]),
            Command::Help(Topic::Listen)
        );
        assert_eq!(parse_ok(&["demo", "-h"]), Command::Help(Topic::Demo));
        assert_eq!(
            parse_ok(&["mock-server", "--help"]),
            Command::Help(Topic::MockServer)
        );
        assert!(parse_err(&[]).message.contains("no command"));
        let e = parse_err(&["lisen"]);
        assert!(e.message.contains("did you mean 'listen'"), "{e}");
        assert!(e.to_string().contains("tradewire --help"));
        assert!(parse_err(&["--verbose"]).message.contains("unknown option"));
    }

    #[test]
    fn demo() {
        assert_eq!(
            parse_ok(&["demo"]),
            Command::Demo(DemoArgs {
                quick: false,
                record: None
            })
        );
        assert_eq!(
            parse_ok(&["demo", "--quick"]),
            Command::Demo(DemoArgs {
                quick: true,
                record: None
            })
        );
        assert!(parse_err(&["demo", "--quik"])
            .message
            .contains("did you mean '--quick'"));
        assert!(parse_err(&["demo", "now"]).message.contains("no arguments"));
    }
}
