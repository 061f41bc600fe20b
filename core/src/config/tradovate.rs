//! Tradovate's part of resolving a configuration: the named environment and the URLs it
//! gives, and the token file (given, else one per environment and user in the user's state
//! directory). The credentials and the token URL's checks are in `resolve.rs`.

use std::path::PathBuf;

use super::fields::Config;
use super::resolve::Problems;
use super::Credentials;
use super::environment::{default_token_file, environment, Environment, STAGING};

impl Config {
    /// The named environment: the given one, else the document's staging host. An unknown
    /// name is reported (once, by [`Config::tradovate_auth_url`]) and stands for staging.
    fn tradovate_environment(&self) -> Result<Environment, String> {
        match &self.environment {
            None => Ok(STAGING),
            Some(name) => environment(name),
        }
    }

    /// The WebSocket URL of a tradovate configuration without `url`: the environment's
    /// trading WebSocket, or its market-data one under `market_data`.
    pub(super) fn tradovate_url(&self, err: &mut Problems) -> String {
        let env = self.tradovate_environment().unwrap_or(STAGING);
        if self.market_data != Some(true) {
            return env.ws_url.to_string();
        }
        match env.md_url {
            Some(u) => u.to_string(),
            None => {
                err.add(
                    "url",
                    format!(
                        "missing: the `{}` environment has no known market-data URL; give the market-data `url` (or `environment` \"demo\" or \"live\")",
                        env.name
                    ),
                );
                String::new()
            }
        }
    }

    /// The token URL when `auth_url` is not given: the environment's, unless `url` (or
    /// document 004's options) names the server and no `environment` is given, in which
    /// case `None` (the token URL is then on the WebSocket's host). Reports an unknown
    /// environment, and an environment given to another preset.
    pub(super) fn tradovate_auth_url(&self, tradovate: bool, err: &mut Problems) -> Option<String> {
        if !tradovate {
            if self.environment.is_some() {
                err.add(
                    "environment",
                    "is used only by the tradovate preset".into(),
                );
            }
            return None;
        }
        let env = match self.tradovate_environment() {
            Ok(e) => e,
            Err(why) => {
                err.add("environment", why);
                STAGING
            }
        };
        let explicit_server = self.url.is_some() || self.metis.any;
        (self.environment.is_some() || !explicit_server).then(|| env.auth_url.to_string())
    }

    /// The token file: the given one (`None` when turned off), else, for a client that
    /// requests its own tokens, the per-user default for this token URL and user.
    pub(super) fn tradovate_token_file(
        &self,
        credentials: Option<&Credentials>,
        auth_url: Option<&str>,
    ) -> Option<PathBuf> {
        match &self.token_file {
            Some(given) => given.as_ref().map(PathBuf::from),
            None if self.token.is_some() => None,
            None => default_token_file(auth_url?, &credentials?.name),
        }
    }

    /// Whether a token file is named (given, not turned off).
    pub(super) fn names_a_token_file(&self) -> bool {
        matches!(&self.token_file, Some(Some(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::Preset;

    fn credentials() -> Credentials {
        Credentials {
            name: "trader".into(),
            password: super::super::Secret::new("pw"),
            ..Credentials::default()
        }
    }

    #[test]
    fn the_default_environment_is_the_documents_staging_host() {
        let s = Config::for_preset(Preset::Tradovate)
            .credentials(credentials())
            .no_token_file()
            .resolve()
            .unwrap();
        assert_eq!(s.url, "wss://live-api.staging.ninjatrader.dev/v1/websocket");
        assert_eq!(
            s.auth_url.as_deref(),
            Some("https://live-api.staging.ninjatrader.dev/v1/auth/accesstokenrequest")
        );
        assert_eq!(
            s.renew_url.as_deref(),
            Some("https://live-api.staging.ninjatrader.dev/v1/auth/renewaccesstoken")
        );
        assert_eq!(s.token_file, None);
    }

    #[test]
    fn a_named_environment_gives_both_urls_and_explicit_ones_win() {
        let base = || {
            Config::for_preset(Preset::Tradovate)
                .credentials(credentials())
                .no_token_file()
        };
        let s = base().environment("live").resolve().unwrap();
        assert_eq!(s.url, "wss://live.tradovateapi.com/v1/websocket");
        assert_eq!(
            s.auth_url.as_deref(),
            Some("https://live.tradovateapi.com/v1/auth/accesstokenrequest")
        );
        let s = base().environment("demo").market_data(true).resolve().unwrap();
        assert_eq!(s.url, "wss://md-demo.tradovateapi.com/v1/websocket");
        assert_eq!(
            s.auth_url.as_deref(),
            Some("https://demo.tradovateapi.com/v1/auth/accesstokenrequest")
        );
        // An explicit url wins; without an environment the token URL is on its host.
        let s = base().url("ws://127.0.0.1:9/v1/websocket").resolve().unwrap();
        assert_eq!(
            s.auth_url.as_deref(),
            Some("http://127.0.0.1:9/v1/auth/accesstokenrequest")
        );
        // ... with one, the environment's; an explicit auth_url wins over both.
        let s = base()
            .url("ws://127.0.0.1:9/v1/websocket")
            .environment("demo")
            .resolve()
            .unwrap();
        assert_eq!(s.url, "ws://127.0.0.1:9/v1/websocket");
        assert_eq!(
            s.auth_url.as_deref(),
            Some("https://demo.tradovateapi.com/v1/auth/accesstokenrequest")
        );
        let s = base()
            .environment("live")
            .auth_url("http://127.0.0.1:9/auth/accesstokenrequest")
            .resolve()
            .unwrap();
        assert_eq!(s.url, "wss://live.tradovateapi.com/v1/websocket");
        assert_eq!(
            s.auth_url.as_deref(),
            Some("http://127.0.0.1:9/auth/accesstokenrequest")
        );
    }

    #[test]
    fn a_bad_environment_is_a_config_error_that_names_the_choices() {
        let err = Config::from_json(
            r#"{"preset": "tradovate", "environment": "stagign", "credentials": {"name": "a", "password": "b"}}"#,
        )
        .unwrap()
        .validate()
        .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorCategory::Config);
        let p = &err.problems()[0];
        assert_eq!(p.field, "environment");
        assert!(p.message.contains("\"staging\", \"demo\" or \"live\""), "{}", p.message);
        assert!(p.message.contains("did you mean \"staging\""), "{}", p.message);
        let err = Config::new("ws://h").environment("live").validate().unwrap_err();
        assert_eq!(err.problems().len(), 1);
        assert_eq!(err.problems()[0].field, "environment");
        assert!(err.problems()[0].message.contains("only by the tradovate preset"));
        let err = Config::for_preset(Preset::Tradovate)
            .credentials(credentials())
            .market_data(true)
            .validate()
            .unwrap_err();
        assert!(err.problems()[0].message.contains("market-data"), "{err}");
    }

    #[test]
    fn the_token_file_is_given_turned_off_or_the_per_user_default() {
        let read = |json: &str| Config::from_json(json).unwrap().token_file;
        assert_eq!(read(r#"{"token_file": "t.json"}"#), Some(Some("t.json".into())));
        for off in ["false", "null", "\"\""] {
            assert_eq!(read(&format!(r#"{{"token_file": {off}}}"#)), Some(None), "{off}");
        }
        assert_eq!(read("{}"), None);
        assert!(Config::from_json(r#"{"token_file": 3}"#).is_err());
        assert!(Config::from_json(r#"{"token_file": true}"#).is_err());
        let c = Config::for_preset(Preset::Tradovate).credentials(credentials());
        // Without a token file named, the default (when the process has a home).
        let auth = Some(STAGING.auth_url);
        let default = c.tradovate_token_file(Some(&credentials()), auth);
        if let Some(path) = default {
            assert!(path.ends_with("tradewire/tradovate-staging-trader.json"), "{path:?}");
        }
        assert_eq!(c.clone().no_token_file().tradovate_token_file(Some(&credentials()), auth), None);
        assert_eq!(
            c.clone().token_file("x.json").tradovate_token_file(Some(&credentials()), auth),
            Some(PathBuf::from("x.json"))
        );
        // A static token keeps no file; neither does a client without credentials.
        assert_eq!(c.clone().token("t").tradovate_token_file(Some(&credentials()), auth), None);
        assert_eq!(c.tradovate_token_file(None, auth), None);
    }
}
