//! Command-line parsing: pure functions from `argv` to a [`Command`], no I/O.
//!
//! Every mistake becomes a [`UsageError`] that names the offending argument and the help page
//! to read; `main` prints it and exits with code 2.

use std::fmt;
use std::path::PathBuf;

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

/// One argument after the command: a flag with its value (if it takes one) or a positional.
#[derive(Debug, PartialEq)]
enum Arg<'a> {
    Flag(&'static str, Option<&'a str>),
    Positional(&'a str),
}

/// A flag a command accepts: its long name, an optional short alias, and whether it takes a
/// value.
struct FlagSpec {
    long: &'static str,
    short: Option<&'static str>,
    takes_value: bool,
}

const fn flag(long: &'static str, takes_value: bool) -> FlagSpec {
    FlagSpec {
        long,
        short: None,
        takes_value,
    }
}

const HELP_FLAG: FlagSpec = FlagSpec {
    long: "--help",
    short: Some("-h"),
    takes_value: false,
};

/// Splits arguments into flags (`--name value`, `--name=value`) and positionals; `--` ends
/// the flags.
fn tokenize<'a>(
    args: &[&'a str],
    specs: &[FlagSpec],
    topic: Topic,
) -> Result<Vec<Arg<'a>>, UsageError> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut only_positionals = false;
    while i < args.len() {
        let a = args[i];
        i += 1;
        if only_positionals || a == "-" || !a.starts_with('-') {
            out.push(Arg::Positional(a));
            continue;
        }
        if a == "--" {
            only_positionals = true;
            continue;
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (a, None),
        };
        let Some(spec) = specs
            .iter()
            .chain(std::iter::once(&HELP_FLAG))
            .find(|s| s.long == name || s.short == Some(name))
        else {
            let longs: Vec<&str> = specs.iter().map(|s| s.long).collect();
            let hint = suggest(name, &longs)
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            return Err(usage(
                topic,
                format!("unknown option '{name}' for '{}'{hint}", topic.invocation()),
            ));
        };
        if spec.takes_value {
            let value = match inline {
                Some(v) => v,
                None => match args.get(i) {
                    Some(v) => {
                        i += 1;
                        v
                    }
                    None => {
                        return Err(usage(
                            topic,
                            format!("option '{}' needs a value", spec.long),
                        ))
                    }
                },
            };
            out.push(Arg::Flag(spec.long, Some(value)));
        } else {
            if inline.is_some() {
                return Err(usage(
                    topic,
                    format!("option '{}' does not take a value", spec.long),
                ));
            }
            out.push(Arg::Flag(spec.long, None));
        }
    }
    Ok(out)
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

fn non_empty<'a>(t: Topic, name: &str, v: &'a str) -> Result<&'a str, UsageError> {
    if v.trim().is_empty() {
        Err(usage(t, format!("option '{name}' needs a non-empty value")))
    } else {
        Ok(v)
    }
}

/// `123` is a number, anything else non-empty is a text id.
pub fn parse_account(t: Topic, v: &str) -> Result<Account, UsageError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(usage(
            t,
            "option '--account' needs an account id, e.g. --account 123",
        ));
    }
    Ok(match v.parse::<i64>() {
        Ok(n) => Account::Number(n),
        Err(_) => Account::Text(v.to_string()),
    })
}

/// A comma-separated list; blanks are dropped, an empty list is an error.
fn parse_list(t: Topic, name: &str, v: &str) -> Result<Vec<String>, UsageError> {
    let items: Vec<String> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if items.is_empty() {
        return Err(usage(
            t,
            format!("option '{name}' needs a comma-separated list, e.g. {name} a,b"),
        ));
    }
    Ok(items)
}

fn parse_number<N: std::str::FromStr + PartialOrd + fmt::Display + Copy + From<u8>>(
    t: Topic,
    name: &str,
    v: &str,
    min: u8,
) -> Result<N, UsageError> {
    match v.trim().parse::<N>() {
        Ok(n) if n >= N::from(min) => Ok(n),
        _ => Err(usage(
            t,
            format!("bad {name} '{v}': expected a whole number of at least {min}"),
        )),
    }
}

/// `NAME:VALUE` (spaces around the value are trimmed). The value is never echoed in errors:
/// headers often carry secrets.
pub fn parse_header(v: &str) -> Result<(String, String), UsageError> {
    let bad = |why: &str| {
        usage(
            Topic::Listen,
            format!("bad --header: {why}; expected NAME:VALUE, e.g. --header 'X-Api-Key: abc'"),
        )
    };
    let (name, value) = v.split_once(':').ok_or_else(|| bad("there is no ':'"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("the header name is empty"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err(bad(&format!(
            "'{name}' is not a valid header name (letters, digits and - only)"
        )));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// `KEY=VALUE`; the value may be empty. The value is never echoed in errors.
pub fn parse_query(v: &str) -> Result<(String, String), UsageError> {
    let bad = |why: &str| {
        usage(
            Topic::Listen,
            format!("bad --query: {why}; expected KEY=VALUE, e.g. --query agentId=a1"),
        )
    };
    let (key, value) = v.split_once('=').ok_or_else(|| bad("there is no '='"))?;
    if key.trim().is_empty() {
        return Err(bad("the key is empty"));
    }
    Ok((key.trim().to_string(), value.to_string()))
}

/// The candidate closest to `input` by edit distance, if it is close enough to be a typo.
pub fn suggest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let input = input.trim_start_matches('-');
    candidates
        .iter()
        .map(|c| (edit_distance(input, c.trim_start_matches('-')), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

const MAIN_HELP: &str = "\
tradewire — a client for real-time trading event streams over WebSocket

Usage:
  tradewire <command> [options]

Commands:
  listen URL      Print every event from a stream as one JSON line on stdout
  demo            Run a self-contained demo with fault injection (no network needed)
  mock-server     Run a local mock server (daemon, agent or breakout) to develop against

Options:
  -h, --help      Show this help (or 'tradewire <command> --help' for a command)
  -V, --version   Show the version

Examples:
  tradewire demo
  tradewire listen ws://localhost:8765 --preset daemon --account 123
  tradewire mock-server --preset daemon --port 8765 --rate 20

Exit codes:
  0  success (including a Ctrl-C stop)
  1  runtime failure (e.g. the demo's client did not recover)
  2  bad arguments or configuration
  3  authentication failed (listen)
  4  gave up reconnecting (listen)

Environment:
  TRADEWIRE_LOG=info|debug   also print the library's log on stderr
";

const LISTEN_HELP: &str = "\
tradewire listen — print a stream's events as JSON lines

Usage:
  tradewire listen URL [options]
  tradewire listen --preset P [options]          (URL from the preset, e.g. daemon)
  tradewire listen --config FILE.json [options]  (URL and settings from a file)

Each message is one JSON line on stdout:
  {\"kind\":\"message\",\"type\":..,\"account_id\":..,\"data\":<payload JSON or null>,
   \"raw\":<text when not JSON, else null>,\"binary\":<base64 of a binary frame, else null>,
   \"received_at\":\"2025-01-17T14:45:15.123456Z\",\"epoch\":1}
(the event's JSON form, the same as C's tw_event_to_json and Python's Event.to_json()).
Connection changes (connecting, live, reconnecting, gave up) and bad messages are
reported on stderr in words.
The client reconnects by itself; Ctrl-C closes the connection and exits 0.

Options:
  --preset P          json (default), daemon, agent, breakout, raw
  --account ID        keep only events for this account (plus events with no account)
  --types T1,T2       keep only these message types
  --token T           authentication token (sent as the preset says; never printed)
  --token-env VAR     read the token from environment variable VAR (safer than --token)
  --config FILE       a JSON configuration (the tradewire Config schema); flags override it
  --header K:V        extra handshake header (repeatable)
  --query K=V         extra query parameter (repeatable)
  --count N           exit 0 after N messages
  --max-reconnects N  give up (exit 4) after N failed reconnect attempts in a row
  -q, --quiet         no connection messages on stderr (errors and the outcome still show)
  -h, --help          show this help

Examples:
  tradewire listen ws://localhost:8765 --preset daemon --account 123
  tradewire listen ws://localhost:8765 --preset daemon --types GatewayUserTrade,lockout_set | jq .data
  tradewire listen ws://localhost:4000/ws --preset agent --token-env AGENT_JWT --query agentId=agent-1
  tradewire listen --config feed.json --header 'X-Client: desk-3'

The config file holds any Config field, for example:
  {\"url\": \"wss://feed.example.com/ws\", \"heartbeat_timeout\": 20, \"backoff_max\": 30}

Exit codes:
  0  stopped by Ctrl-C (or --count reached, or stdout closed)
  1  unexpected failure
  2  bad arguments or configuration (the message names the field)
  3  authentication failed (HTTP 401/403 or close 1008 from the server)
  4  gave up reconnecting
";

const DEMO_HELP: &str = "\
tradewire demo — watch the client survive a misbehaving server

Usage:
  tradewire demo [--quick]

Starts a mock risk daemon (document 002) on 127.0.0.1, connects a client for account 123,
streams realistic events (trades, positions, orders, quotes, lockouts) for accounts 123 and
456 and daemon-wide ones, then injects faults: a server restart, a half-open connection
(the server goes silent with the socket open), and a burst of malformed messages. A live
status line shows the client recovering; a summary table ends the run. No network, no setup;
takes about 30 seconds.

Options:
  --quick      shorter phases (about 8 seconds), for tests
  -h, --help   show this help

Exit codes:
  0  the client recovered from every fault
  1  a check failed (the summary says which)
  130  interrupted by Ctrl-C

Example:
  cargo run --release -p tradewire-cli -- demo
";

const MOCK_HELP: &str = "\
tradewire mock-server — run a local server to develop against

Usage:
  tradewire mock-server --preset P [--port N] [--rate R] [--accounts 123,456]

Runs in the foreground until Ctrl-C. The first line on stdout is the URL to connect to.
  daemon    risk daemon (document 002): broadcasts realistic events for --accounts at
            --rate per second, plus a daemon-wide daemon_status now and then
  agent     trading-agent server (document 003): JWT in the query, JSON ping/pong; prints a
            valid token and sends price updates to agent-1 at --rate per second
  breakout  breakout-bot engine (document 001): HEARTBEAT every 30 s, engine/signal/order/
            position events at --rate per second

Options:
  --preset P       daemon, agent or breakout (required)
  --port N         port on 127.0.0.1 (default: the real server's: 8765, 4000, 8000; 0 = any)
  --rate R         events per second (default 5)
  --accounts LIST  accounts of the daemon's events (default 123,456)
  -h, --help       show this help

Examples:
  tradewire mock-server --preset daemon
  tradewire mock-server --preset daemon --port 0 --rate 100 --accounts 1,2,3
  tradewire mock-server --preset agent --port 4000

Exit codes (Ctrl-C is a normal stop, as for listen):
  0  stopped by Ctrl-C (or SIGTERM)
  1  the server could not start (for example, the port is in use)
  2  bad arguments
";

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
    fn accounts() {
        let t = Topic::Listen;
        assert_eq!(parse_account(t, "123").unwrap(), Account::Number(123));
        assert_eq!(parse_account(t, " -7 ").unwrap(), Account::Number(-7));
        assert_eq!(
            parse_account(t, "ACC-1").unwrap(),
            Account::Text("ACC-1".into())
        );
        assert!(parse_account(t, " ").is_err());
        assert_eq!(Account::Number(5).to_json(), serde_json::json!(5));
        assert_eq!(Account::Text("x".into()).to_json(), serde_json::json!("x"));
    }

    #[test]
    fn headers_and_queries() {
        assert_eq!(
            parse_header("Authorization: Bearer xyz").unwrap(),
            ("Authorization".into(), "Bearer xyz".into())
        );
        let e = parse_header("Authorization=Bearer secret-value").unwrap_err();
        assert!(e.message.contains("no ':'"), "{e}");
        assert!(!e.to_string().contains("secret-value"));
        assert!(parse_header(": v")
            .unwrap_err()
            .message
            .contains("name is empty"));
        assert!(parse_header("Bad Name: v")
            .unwrap_err()
            .message
            .contains("not a valid header name"));
        assert_eq!(parse_query("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_query("novalue")
            .unwrap_err()
            .message
            .contains("no '='"));
        assert!(parse_query("=v")
            .unwrap_err()
            .message
            .contains("key is empty"));
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

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("--acount", &["--account", "--types"]),
            Some("--account")
        );
        assert_eq!(suggest("mock", &COMMANDS), None);
        assert_eq!(suggest("mockserver", &COMMANDS), Some("mock-server"));
        assert_eq!(suggest("--zzzzzz", &["--account"]), None);
    }
}
