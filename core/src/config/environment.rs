//! Tradovate's named environments (the `environment` field) and the default token file, one
//! per environment and user. Pure, but for [`default_token_file`], which reads the
//! environment variables that locate the user's state directory.

use std::path::PathBuf;

/// A named Tradovate environment: where its WebSocket and its token request are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Environment {
    /// The name written in configurations.
    pub name: &'static str,
    /// The trading WebSocket.
    pub ws_url: &'static str,
    /// The market-data WebSocket, where one is known.
    pub md_url: Option<&'static str>,
    /// The access-token request.
    pub auth_url: &'static str,
}

/// Reference document 000's endpoints: its staging host, for development.
pub(crate) const STAGING: Environment = Environment {
    name: "staging",
    ws_url: "wss://live-api.staging.ninjatrader.dev/v1/websocket",
    md_url: None,
    auth_url: "https://live-api.staging.ninjatrader.dev/v1/auth/accesstokenrequest",
};

/// Every named environment, the default (the document's staging host) first.
pub(crate) const ENVIRONMENTS: [Environment; 3] = [
    STAGING,
    Environment {
        name: "demo",
        ws_url: "wss://demo.tradovateapi.com/v1/websocket",
        md_url: Some("wss://md-demo.tradovateapi.com/v1/websocket"),
        auth_url: "https://demo.tradovateapi.com/v1/auth/accesstokenrequest",
    },
    Environment {
        name: "live",
        ws_url: "wss://live.tradovateapi.com/v1/websocket",
        md_url: Some("wss://md.tradovateapi.com/v1/websocket"),
        auth_url: "https://live.tradovateapi.com/v1/auth/accesstokenrequest",
    },
];

/// The environment called `name`; `Err` names the choices (and the likely one for a typo).
pub(crate) fn environment(name: &str) -> Result<Environment, String> {
    if let Some(e) = ENVIRONMENTS.iter().find(|e| e.name == name) {
        return Ok(*e);
    }
    let names = ENVIRONMENTS.map(|e| e.name);
    let hint = crate::suggest::suggest(name, names)
        .map(|s| format!("; did you mean {s:?}?"))
        .unwrap_or_default();
    Err(format!(
        "unknown environment {name:?}: expected \"staging\", \"demo\" or \"live\" (or give `url` and `auth_url`){hint}"
    ))
}

/// The part of the default token file's name that says whose tokens it holds: the
/// environment's name when `auth_url` is a named environment's, else its host (and port),
/// so that tokens of different servers never share a file.
pub(crate) fn token_scope(auth_url: &str) -> String {
    if let Some(e) = ENVIRONMENTS.iter().find(|e| e.auth_url == auth_url) {
        return e.name.to_string();
    }
    let rest = auth_url.split_once("://").map_or(auth_url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    file_safe(host)
}

/// `text` with every character but ASCII letters, digits, `.`, `-` and `@` replaced by `_`
/// (a name never leaves the directory, and never starts with a dot).
fn file_safe(text: &str) -> String {
    let safe: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match safe.strip_prefix('.') {
        Some(rest) => format!("_{rest}"),
        None => safe,
    }
}

/// The default token file's name for `scope` (see [`token_scope`]) and the Tradovate user.
pub(crate) fn token_file_name(scope: &str, user: &str) -> String {
    format!("tradovate-{}-{}.json", file_safe(scope), file_safe(user))
}

/// The per-user directory of tradewire's state, from the variables given by `var`:
/// `$XDG_STATE_HOME/tradewire`, else `$HOME/.local/state/tradewire` (on Windows
/// `%LOCALAPPDATA%\tradewire`). `None` when none is set (to an absolute path).
pub(crate) fn state_dir(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let absolute = |k: &str| {
        var(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if cfg!(windows) {
        return absolute("LOCALAPPDATA").map(|d| d.join("tradewire"));
    }
    absolute("XDG_STATE_HOME")
        .or_else(|| absolute("HOME").map(|h| h.join(".local").join("state")))
        .map(|d| d.join("tradewire"))
}

/// The default token file of `user` at `auth_url`, in the process's state directory.
pub(crate) fn default_token_file(auth_url: &str, user: &str) -> Option<PathBuf> {
    let dir = state_dir(|k| std::env::var(k).ok())?;
    Some(dir.join(token_file_name(&token_scope(auth_url), user)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_documents_staging_host() {
        assert_eq!(ENVIRONMENTS[0], STAGING);
        assert_eq!(
            crate::preset::Preset::Tradovate.defaults().url,
            Some(STAGING.ws_url)
        );
        assert_eq!(
            STAGING.ws_url,
            "wss://live-api.staging.ninjatrader.dev/v1/websocket"
        );
        assert_eq!(
            STAGING.auth_url,
            "https://live-api.staging.ninjatrader.dev/v1/auth/accesstokenrequest"
        );
        assert_eq!(environment("live").unwrap().name, "live");
        assert_eq!(
            environment("demo").unwrap().ws_url,
            "wss://demo.tradovateapi.com/v1/websocket"
        );
    }

    #[test]
    fn an_unknown_environment_names_the_choices_and_the_likely_one() {
        let e = environment("demoo").unwrap_err();
        assert!(e.contains("\"staging\", \"demo\" or \"live\""), "{e}");
        assert!(e.contains("did you mean \"demo\""), "{e}");
        assert!(!environment("production").unwrap_err().contains("did you"));
    }

    #[test]
    fn token_files_are_per_environment_and_user_and_stay_in_their_directory() {
        assert_eq!(token_scope(STAGING.auth_url), "staging");
        assert_eq!(
            token_scope("http://127.0.0.1:8080/v1/auth/accesstokenrequest"),
            "127.0.0.1_8080"
        );
        assert_eq!(
            token_file_name("demo", "trader"),
            "tradovate-demo-trader.json"
        );
        assert_eq!(
            token_file_name("demo", "../a/b"),
            "tradovate-demo-_._a_b.json"
        );
        assert_eq!(file_safe(".hidden"), "_hidden");
    }

    #[test]
    fn the_state_directory_is_xdg_then_home() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        if cfg!(windows) {
            return;
        }
        assert_eq!(
            state_dir(vars(&[("XDG_STATE_HOME", "/x/state"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/state/tradewire"))
        );
        assert_eq!(
            state_dir(vars(&[("XDG_STATE_HOME", "relative"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.local/state/tradewire"))
        );
        assert_eq!(state_dir(vars(&[])), None);
    }
}
