//! An access token and the rules that say when it is usable and when to renew it. Pure.

use std::fmt;
use std::time::{Duration, SystemTime};

pub use crate::token_details::TokenDetails;
use crate::time::{iso8601, parse_iso8601};

/// A Tradovate access token with what came with it. `Debug` never shows the tokens.
#[derive(Clone, PartialEq)]
pub struct TokenInfo {
    /// The access token for the trading WebSocket and REST calls.
    pub access_token: String,
    /// The token for the market-data WebSocket.
    pub md_access_token: Option<String>,
    /// When the token expires.
    pub expires_at: SystemTime,
    /// The user id (needed by `user/syncrequest`).
    pub user_id: Option<i64>,
    /// The user name.
    pub name: Option<String>,
    /// When the token was obtained.
    pub issued_at: SystemTime,
    /// The answer's every member as the server sent it (the tokens included): what the
    /// token file keeps, and what [`TokenDetails`] shows without the tokens.
    pub answer: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for TokenInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenInfo")
            .field("access_token", &"<redacted>")
            .field("expires_at", &iso8601(self.expires_at))
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .finish()
    }
}

impl TokenInfo {
    /// Reads the JSON answer of `auth/accesstokenrequest` or `auth/renewaccesstoken`.
    pub fn from_response(v: &serde_json::Value, now: SystemTime) -> Result<TokenInfo, String> {
        let access_token = v
            .get("accessToken")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or("the answer has no accessToken")?
            .to_string();
        let expiry = v
            .get("expirationTime")
            .and_then(|t| t.as_str())
            .ok_or("the answer has no expirationTime")?;
        let expires_at = parse_iso8601(expiry)
            .ok_or_else(|| format!("expirationTime {expiry:?} is not an ISO-8601 time"))?;
        Ok(TokenInfo {
            access_token,
            md_access_token: v
                .get("mdAccessToken")
                .and_then(|t| t.as_str())
                .map(String::from),
            expires_at,
            user_id: v.get("userId").and_then(|t| t.as_i64()),
            name: v.get("name").and_then(|t| t.as_str()).map(String::from),
            issued_at: now,
            answer: v.as_object().cloned().unwrap_or_default(),
        })
    }

    /// What the answer says about the user and the session, the tokens left out.
    pub fn details(&self) -> TokenDetails {
        TokenDetails {
            user_id: self.user_id,
            name: self.name.clone(),
            expires_at: self.expires_at,
            retrieved_at: self.issued_at,
            fields: self
                .answer
                .iter()
                .filter(|(k, _)| !is_secret_member(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// Usable while `now < expiry − margin` (the reference uses a 5-minute margin).
    pub fn is_valid(&self, now: SystemTime, margin: Duration) -> bool {
        match self.expires_at.checked_sub(margin) {
            Some(limit) => now < limit,
            None => false,
        }
    }

    /// When to renew: 90 % of the way from issue to `expiry − margin`, so that a failed
    /// renewal still leaves time to retry before the token stops being usable.
    pub fn renew_at(&self, margin: Duration) -> SystemTime {
        let usable_until = self
            .expires_at
            .checked_sub(margin)
            .unwrap_or(self.issued_at);
        let span = usable_until
            .duration_since(self.issued_at)
            .unwrap_or_default();
        self.issued_at + span.mul_f64(0.9)
    }
}

/// Whether a member of the token answer is a token (`accessToken`, `mdAccessToken`): never
/// shown to the application, never logged.
fn is_secret_member(key: &str) -> bool {
    key.to_ascii_lowercase().ends_with("token")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::UNIX_EPOCH;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn reads_an_access_token_answer() {
        let v = json!({"accessToken": "abc", "mdAccessToken": "md", "expirationTime": "1970-01-01T01:30:00.000Z", "userId": 7, "name": "trader"});
        let t = TokenInfo::from_response(&v, at(0)).unwrap();
        assert_eq!(t.expires_at, at(5400));
        assert_eq!(
            (t.user_id, t.name.as_deref(), t.md_access_token.as_deref()),
            (Some(7), Some("trader"), Some("md"))
        );
        assert!(!format!("{t:?}").contains("abc"));
        let d = t.details();
        assert_eq!((d.user_id, d.name.as_deref()), (Some(7), Some("trader")));
        let shown = d.to_json();
        assert_eq!(shown["userId"], 7);
        assert_eq!(shown["retrievedAt"], 0);
        assert!(shown.get("accessToken").is_none() && shown.get("mdAccessToken").is_none());
        assert!(!shown.to_string().contains("abc") && !shown.to_string().contains("\"md\""));
        assert!(TokenInfo::from_response(&json!({"errorText": "no"}), at(0)).is_err());
        assert!(TokenInfo::from_response(
            &json!({"accessToken": "a", "expirationTime": "soon"}),
            at(0)
        )
        .is_err());
    }

    #[test]
    fn validity_keeps_a_margin_and_renewal_comes_before_it() {
        let v = json!({"accessToken": "abc", "expirationTime": "1970-01-01T01:30:00Z"});
        let t = TokenInfo::from_response(&v, at(0)).unwrap();
        let margin = Duration::from_secs(300);
        assert!(t.is_valid(at(5099), margin));
        assert!(!t.is_valid(at(5100), margin));
        assert_eq!(t.renew_at(margin), at(4590));
        assert!(!t.is_valid(at(0), Duration::from_secs(10_000)));
    }
}
