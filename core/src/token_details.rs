//! What a Tradovate access token came with, its tokens left out: what the application reads
//! with `Client::token_info`. Its own module so that the status counters (which carry it)
//! and the Tradovate code (which fills it) both stand on it. Pure.

use std::time::SystemTime;

/// The access-token answer without its tokens: who is logged in (`userId`, which requests
/// such as `user/syncrequest` need; `name`), the session's terms (`expirationTime`,
/// `userStatus`, `hasLive`, `hasMarketData`, ...) and the organisation (`orgName`). What
/// [`Client::token_info`](crate::Client::token_info) returns (Python `token_info()`, C
/// `tw_client_token_info`).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenDetails {
    /// `userId`.
    pub user_id: Option<i64>,
    /// `name`: the user name.
    pub name: Option<String>,
    /// `expirationTime`.
    pub expires_at: SystemTime,
    /// When the token was obtained (`retrievedAt` in the token file).
    pub retrieved_at: SystemTime,
    /// Every member of the answer as received (`userId`, `name`, `orgName`, `hasLive`,
    /// `expirationTime`, ...), but `accessToken` and `mdAccessToken`.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl TokenDetails {
    /// The answer's members (tokens left out) and `retrievedAt` in Unix milliseconds: the
    /// token file's form without its secrets, as Python's dict and C's JSON text.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = self.fields.clone();
        m.insert(
            "retrievedAt".into(),
            crate::time::unix_millis(self.retrieved_at).into(),
        );
        serde_json::Value::Object(m)
    }
}
