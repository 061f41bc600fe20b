//! Command-line parsing: pure functions from `argv` to a [`Command`], no I/O.
//!
//! Every mistake becomes a [`UsageError`] that names the offending argument and the help page
//! to read; `main` prints it and exits with code 2.

use std::fmt;
use std::path::PathBuf;

use crate::help::{DEMO_HELP, LISTEN_HELP, MAIN_HELP, MOCK_HELP};

mod tokens;
mod values;

use tokens::{flag, tokenize, Arg, FlagSpec};
use values::{non_empty, parse_list, parse_number};
pub use values::{parse_account, parse_header, parse_query, suggest};

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Print a help page.
    Help(Topic),
    /// Print the version.
    Version,
    /// `tradewire listen ...`
    Listen(ListenArgs),
    /// `tradewire demo ...`
    Demo(DemoArgs),
    /// `tradewire mock-server ...`
    MockServer(MockArgs),
}

/// A help page: the overview or one command's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// `tradewire --help`
    Main,
    /// `tradewire listen --help`
    Listen,
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
            Topic::Demo => "tradewire demo",
            Topic::MockServer => "tradewire mock-server",
        }
    }

    /// The help text.
    pub fn help(self) -> &'static str {
        match self {
            Topic::Main => MAIN_HELP,
            Topic::Listen => LISTEN_HELP,
            Topic::Demo => DEMO_HELP,
            Topic::MockServer => MOCK_HELP,
        }
    }
}

/// Where the token comes from. The value itself is read by `listen`, never echoed.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `--token T`
    Literal(String),
    /// `--token-env VAR`
    Env(String),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Literal(_) => f.write_str("Literal(<redacted>)"),
            TokenSource::Env(var) => write!(f, "Env({var:?})"),
        }
    }
}

/// An account id as typed: a number when it looks like one (`123`), else text (`"ACC-1"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// An integer id.
    Number(i64),
    /// Any other id.
    Text(String),
}

impl Account {
    /// The id as JSON for the configuration.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Account::Number(n) => (*n).into(),
            Account::Text(s) => s.as_str().into(),
        }
    }
}

/// Arguments of `tradewire listen`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListenArgs {
    /// The server URL (may come from the preset or the config file instead).
    pub url: Option<String>,
    /// `--preset`
    pub preset: Option<String>,
    /// `--account`
    pub account: Option<Account>,
    /// `--types` (empty: all types)
    pub types: Vec<String>,
    /// `--token` or `--token-env`
    pub token: Option<TokenSource>,
    /// `--config`
    pub config_file: Option<PathBuf>,
    /// `--header NAME:VALUE`, in order
    pub headers: Vec<(String, String)>,
    /// `--query KEY=VALUE`, in order
    pub query: Vec<(String, String)>,
    /// `--count N`: exit 0 after N messages
    pub count: Option<u64>,
    /// `--max-reconnects N`
    pub max_reconnects: Option<u32>,
    /// `--quiet`: no lifecycle lines on stderr (errors and the final outcome still show)
    pub quiet: bool,
}

/// Arguments of `tradewire demo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DemoArgs {
    /// `--quick`: shortened phases (for tests).
    pub quick: bool,
}

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

const COMMANDS: [&str; 3] = ["listen", "demo", "mock-server"];

/// Parses the arguments after the program name.
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Command, UsageError> {
    let args: Vec<&str> = args.iter().map(|s| s.as_ref()).collect();
    let Some((&first, rest)) = args.split_first() else {
        return Err(usage(
            Topic::Main,
            "no command given; use one of: listen, demo, mock-server",
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
        "demo" => Some(Topic::Demo),
        "mock-server" => Some(Topic::MockServer),
        _ => None,
    }
}

fn unknown_command(cmd: &str) -> UsageError {
    let hint = suggest(cmd, &COMMANDS)
        .map(|s| format!("; did you mean '{s}'?"))
        .unwrap_or_else(|| "; the commands are listen, demo and mock-server".into());
    usage(Topic::Main, format!("unknown command '{cmd}'{hint}"))
}

const LISTEN_FLAGS: [FlagSpec; 11] = [
    flag("--preset", true),
    flag("--account", true),
    flag("--types", true),
    flag("--token", true),
    flag("--token-env", true),
    flag("--config", true),
    flag("--header", true),
    flag("--query", true),
    flag("--count", true),
    flag("--max-reconnects", true),
    FlagSpec {
        long: "--quiet",
        short: Some("-q"),
        takes_value: false,
    },
];

fn parse_listen(args: &[&str]) -> Result<Command, UsageError> {
    let t = Topic::Listen;
    let mut out = ListenArgs::default();
    for arg in tokenize(args, &LISTEN_FLAGS, t)? {
        match arg {
            Arg::Flag("--help", _) => return Ok(Command::Help(t)),
            Arg::Positional(p) => {
                if out.url.is_some() {
                    return Err(usage(
                        t,
                        format!("unexpected argument '{p}': listen takes one URL"),
                    ));
                }
                if p.trim().is_empty() {
                    return Err(usage(t, "the URL is empty"));
                }
                out.url = Some(p.to_string());
            }
            Arg::Flag(name, value) => {
                let v = value.unwrap_or_default();
                match name {
                    "--preset" => out.preset = Some(non_empty(t, name, v)?.to_string()),
                    "--account" => out.account = Some(parse_account(t, v)?),
                    "--types" => out.types = parse_list(t, name, v)?,
                    "--token" | "--token-env" => {
                        if out.token.is_some() {
                            return Err(usage(
                                t,
                                "give the token once: either --token or --token-env",
                            ));
                        }
                        let v = non_empty(t, name, v)?.to_string();
                        out.token = Some(if name == "--token" {
                            TokenSource::Literal(v)
                        } else {
                            TokenSource::Env(v)
                        });
                    }
                    "--config" => out.config_file = Some(PathBuf::from(non_empty(t, name, v)?)),
                    "--header" => out.headers.push(parse_header(v)?),
                    "--query" => out.query.push(parse_query(v)?),
                    "--count" => out.count = Some(parse_number::<u64>(t, name, v, 1)?),
                    "--max-reconnects" => {
                        out.max_reconnects = Some(parse_number::<u32>(t, name, v, 0)?)
                    }
                    "--quiet" => out.quiet = true,
                    _ => unreachable!("flag {name} is in LISTEN_FLAGS"),
                }
            }
        }
    }
    if out.url.is_none() && out.preset.is_none() && out.config_file.is_none() {
        return Err(usage(
            t,
            "missing URL: give the server's address, e.g. 'tradewire listen ws://localhost:8765 --preset daemon' \
             (or a --preset with a default URL, or a --config file with \"url\")",
        ));
    }
    Ok(Command::Listen(out))
}

fn parse_demo(args: &[&str]) -> Result<Command, UsageError> {
    let t = Topic::Demo;
    let mut out = DemoArgs::default();
    for arg in tokenize(args, &[flag("--quick", false)], t)? {
        match arg {
            Arg::Flag("--help", _) => return Ok(Command::Help(t)),
            Arg::Flag("--quick", _) => out.quick = true,
            Arg::Flag(..) => unreachable!("demo has only --quick"),
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

const MOCK_FLAGS: [FlagSpec; 4] = [
    flag("--preset", true),
    flag("--port", true),
    flag("--rate", true),
    flag("--accounts", true),
];

fn parse_mock(args: &[&str]) -> Result<Command, UsageError> {
    let t = Topic::MockServer;
    let mut preset = None;
    let mut port = None;
    let mut rate = 5.0;
    let mut accounts = vec![123, 456];
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
    let Some(preset) = preset else {
        return Err(usage(
            t,
            "missing --preset: which server to run (daemon, agent or breakout), e.g. 'tradewire mock-server --preset daemon'",
        ));
    };
    Ok(Command::MockServer(MockArgs {
        preset,
        port: port.unwrap_or(preset.default_port()),
        rate,
        accounts,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(args: &[&str]) -> Command {
        parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    fn parse_err(args: &[&str]) -> UsageError {
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
    fn listen_full() {
        let c = parse_ok(&[
            "listen",
            "ws://localhost:8765",
            "--preset",
            "daemon",
            "--account=123",
            "--types",
            "GatewayUserTrade, MarketQuote,",
            "--token-env",
            "MY_TOKEN",
            "--header",
            "X-Api-Key: abc:def",
            "--query",
            "agentId=a1",
            "--query=empty=",
            "--count",
            "5",
            "--max-reconnects",
            "0",
            "-q",
        ]);
        let Command::Listen(l) = c else {
            panic!("{c:?}")
        };
        assert_eq!(l.url.as_deref(), Some("ws://localhost:8765"));
        assert_eq!(l.preset.as_deref(), Some("daemon"));
        assert_eq!(l.account, Some(Account::Number(123)));
        assert_eq!(l.types, vec!["GatewayUserTrade", "MarketQuote"]);
        assert_eq!(l.token, Some(TokenSource::Env("MY_TOKEN".into())));
        assert_eq!(l.headers, vec![("X-Api-Key".into(), "abc:def".into())]);
        assert_eq!(
            l.query,
            vec![("agentId".into(), "a1".into()), ("empty".into(), "".into())]
        );
        assert_eq!(l.count, Some(5));
        assert_eq!(l.max_reconnects, Some(0));
        assert!(l.quiet);
    }

    #[test]
    fn listen_errors_say_what_is_wrong() {
        assert!(parse_err(&["listen"]).message.contains("missing URL"));
        let e = parse_err(&["listen", "ws://h", "--acount", "1"]);
        assert!(e.message.contains("unknown option '--acount'"), "{e}");
        assert!(e.message.contains("did you mean '--account'"), "{e}");
        assert!(e.to_string().contains("tradewire listen --help"));
        assert!(parse_err(&["listen", "ws://h", "--account"])
            .message
            .contains("needs a value"));
        assert!(parse_err(&["listen", "ws://h", "ws://g"])
            .message
            .contains("unexpected argument 'ws://g'"));
        assert!(
            parse_err(&["listen", "ws://h", "--token", "a", "--token-env", "B"])
                .message
                .contains("either --token or --token-env")
        );
        assert!(parse_err(&["listen", "ws://h", "--types", " , "])
            .message
            .contains("comma-separated"));
        assert!(parse_err(&["listen", "ws://h", "--count", "0"])
            .message
            .contains("at least 1"));
        assert!(parse_err(&["listen", "ws://h", "--quiet=yes"])
            .message
            .contains("does not take a value"));
    }

    #[test]
    fn listen_url_may_come_from_preset_or_config() {
        assert!(matches!(
            parse_ok(&["listen", "--preset", "daemon"]),
            Command::Listen(ListenArgs { url: None, .. })
        ));
        assert!(matches!(
            parse_ok(&["listen", "--config", "f.json"]),
            Command::Listen(ListenArgs { url: None, .. })
        ));
        // `--` lets a URL-like positional start with a dash (and ends the options).
        let Command::Listen(l) = parse_ok(&["listen", "--", "-weird"]) else {
            panic!()
        };
        assert_eq!(l.url.as_deref(), Some("-weird"));
    }

    #[test]
    fn token_is_not_in_debug_output() {
        let c = parse_ok(&["listen", "ws://h", "--token", "s3cr3t-token"]);
        assert!(!format!("{c:?}").contains("s3cr3t-token"));
    }

    #[test]
    fn demo() {
        assert_eq!(
            parse_ok(&["demo"]),
            Command::Demo(DemoArgs { quick: false })
        );
        assert_eq!(
            parse_ok(&["demo", "--quick"]),
            Command::Demo(DemoArgs { quick: true })
        );
        assert!(parse_err(&["demo", "--quik"])
            .message
            .contains("did you mean '--quick'"));
        assert!(parse_err(&["demo", "now"]).message.contains("no arguments"));
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
