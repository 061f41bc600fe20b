//! `tradewire listen`'s arguments: the URL, the account, the token's source, and the options
//! that make up the client's configuration.

use std::fmt;
use std::path::PathBuf;

use super::tokens::{flag, tokenize, Arg, FlagSpec};
use super::values::{
    non_empty, parse_account, parse_header, parse_json, parse_list, parse_number, parse_query,
};
use super::{usage, Command, Topic, UsageError};

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
    /// `--wait N`: exit 5 unless the connection is live within N seconds
    pub wait: Option<u32>,
    /// `--quiet`: no lifecycle lines on stderr (errors and the final outcome still show)
    pub quiet: bool,
    /// `--subscribe JSON`, in order: subscriptions sent after every (re)connect
    pub subscribe: Vec<String>,
    /// `--no-compression`: do not offer permessage-deflate (`compression: null`)
    pub no_compression: bool,
    /// `--proxy URL` (or `direct`): its password is a secret, so `Debug` hides the whole URL
    pub proxy: Option<tradewire::Secret>,
    /// `--record FILE`: record the session (config `record`)
    pub record: Option<PathBuf>,
}

/// `listen`'s options; `bridge` accepts every one of them too.
pub(super) const LISTEN_FLAGS: [FlagSpec; 16] = [
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
    flag("--subscribe", true),
    flag("--wait", true),
    flag("--no-compression", false),
    flag("--proxy", true),
    flag("--record", true),
    FlagSpec {
        long: "--quiet",
        short: Some("-q"),
        takes_value: false,
    },
];

pub(super) fn parse_listen(args: &[&str]) -> Result<Command, UsageError> {
    let t = Topic::Listen;
    let mut out = ListenArgs::default();
    for arg in tokenize(args, &LISTEN_FLAGS, t)? {
        match arg {
            Arg::Flag("--help", _) => return Ok(Command::Help(t)),
            Arg::Positional(p) => set_url(&mut out, p, t)?,
            Arg::Flag(name, value) => apply_flag(&mut out, name, value, t)?,
        }
    }
    check_url(&out, t)?;
    Ok(Command::Listen(out))
}

/// The positional URL (one at most).
pub(super) fn set_url(out: &mut ListenArgs, p: &str, t: Topic) -> Result<(), UsageError> {
    if out.url.is_some() {
        return Err(usage(
            t,
            format!("unexpected argument '{p}': one server URL only"),
        ));
    }
    if p.trim().is_empty() {
        return Err(usage(t, "the URL is empty"));
    }
    out.url = Some(p.to_string());
    Ok(())
}

/// A URL, a preset with a default URL, or a config file must say where to connect.
pub(super) fn check_url(out: &ListenArgs, t: Topic) -> Result<(), UsageError> {
    if out.url.is_none() && out.preset.is_none() && out.config_file.is_none() {
        let cmd = t.invocation();
        return Err(usage(
            t,
            format!(
                "missing URL: give the server's address, e.g. '{cmd} ws://localhost:8765 --preset daemon' \
                 (or a --preset with a default URL, or a --config file with \"url\")"
            ),
        ));
    }
    Ok(())
}

/// Applies one of [`LISTEN_FLAGS`] (`listen`'s options, which `bridge` shares) to `out`.
pub(super) fn apply_flag(
    out: &mut ListenArgs,
    name: &str,
    value: Option<&str>,
    t: Topic,
) -> Result<(), UsageError> {
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
        "--max-reconnects" => out.max_reconnects = Some(parse_number::<u32>(t, name, v, 0)?),
        "--wait" => out.wait = Some(parse_number::<u32>(t, name, v, 1)?),
        "--quiet" => out.quiet = true,
        "--no-compression" => out.no_compression = true,
        "--subscribe" => out.subscribe.push(parse_json(t, name, v)?),
        "--proxy" => out.proxy = Some(tradewire::Secret::new(non_empty(t, name, v)?)),
        "--record" => out.record = Some(PathBuf::from(non_empty(t, name, v)?)),
        _ => unreachable!("flag {name} is in LISTEN_FLAGS"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::tests::{parse_err, parse_ok};

    #[test]
    fn listen_proxy_is_kept_out_of_debug() {
        let c = parse_ok(&["listen", "ws://h", "--proxy", "http://u:prx-pw@p:3128"]);
        let Command::Listen(l) = c else {
            panic!("{c:?}")
        };
        assert_eq!(
            l.proxy.as_ref().map(|p| p.expose()),
            Some("http://u:prx-pw@p:3128")
        );
        assert!(!format!("{l:?}").contains("prx-pw"));
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
            "--no-compression",
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
        assert!(l.no_compression);
        let Command::Listen(r) = parse_ok(&["listen", "ws://h", "--record", "feed.jsonl"]) else {
            panic!()
        };
        assert_eq!(
            r.record.as_deref(),
            Some(std::path::Path::new("feed.jsonl"))
        );
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
    fn subscribe_is_repeatable_json() {
        let Command::Listen(l) = parse_ok(&[
            "listen",
            "ws://h",
            "--subscribe",
            r#"{"type":"subscribe","symbol":"ES"}"#,
            "--subscribe={\"endpoint\":\"md/subscribeQuote\",\"body\":{\"symbol\":\"NQ\"}}",
        ]) else {
            panic!()
        };
        assert_eq!(l.subscribe.len(), 2);
        assert!(l.subscribe[1].contains("md/subscribeQuote"));
        let e = parse_err(&["listen", "ws://h", "--subscribe", "{not json"]);
        assert!(
            e.message.contains("--subscribe") && e.message.contains("JSON"),
            "{e}"
        );
    }

    #[test]
    fn token_is_not_in_debug_output() {
        let c = parse_ok(&["listen", "ws://h", "--token", "s3cr3t-token"]);
        assert!(!format!("{c:?}").contains("s3cr3t-token"));
    }
}
