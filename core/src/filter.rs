//! Which messages reach the application: the account filter and the type filter.
//!
//! Both run on the I/O thread before an event is built, so filtered messages cost little.

/// An account identifier as configured: an integer or a string. `123` and `"123"` are the
/// same account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    /// The canonical text form (`"123"` for both `123` and `"123"`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<i64> for AccountId {
    fn from(v: i64) -> Self {
        AccountId(v.to_string())
    }
}
impl From<u64> for AccountId {
    fn from(v: u64) -> Self {
        AccountId(v.to_string())
    }
}
impl From<i32> for AccountId {
    fn from(v: i32) -> Self {
        AccountId(v.to_string())
    }
}
impl From<&str> for AccountId {
    fn from(v: &str) -> Self {
        AccountId(v.to_string())
    }
}
impl From<String> for AccountId {
    fn from(v: String) -> Self {
        AccountId(v)
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.parse::<i64>() {
            Ok(n) if n.to_string() == self.0 => s.serialize_i64(n),
            _ => s.serialize_str(&self.0),
        }
    }
}

impl<'de> serde::Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) if !s.is_empty() => Ok(AccountId(s)),
            serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => {
                Ok(AccountId(n.to_string()))
            }
            other => Err(serde::de::Error::custom(format!(
                "expected an integer or a non-empty string, got {other}"
            ))),
        }
    }
}

/// The account a message carries, as found in its JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAccount<'a> {
    /// No account field, or `null`: a message for everyone (daemon-wide events of 002).
    Missing,
    /// The account's canonical text: a JSON string's content or a JSON integer's digits.
    Id(&'a str),
    /// An account field of another JSON kind (object, float, bool): it matches nothing.
    Other,
}

/// Decides whether a message passes the account filter. With no account configured every
/// message passes; otherwise a message passes when its account equals ours or is missing/null.
pub fn account_passes(ours: Option<&AccountId>, theirs: MessageAccount<'_>) -> bool {
    match (ours, theirs) {
        (None, _) => true,
        (Some(_), MessageAccount::Missing) => true,
        (Some(a), MessageAccount::Id(t)) => a.0 == t,
        (Some(_), MessageAccount::Other) => false,
    }
}

/// Decides whether a message type passes the type filter (empty filter: everything passes).
/// A message without a type passes only when no type filter is set.
pub fn type_passes(types: &[String], msg_type: Option<&str>) -> bool {
    if types.is_empty() {
        return true;
    }
    match msg_type {
        Some(t) => types.iter().any(|x| x == t),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_filter_passes_ours_and_null() {
        let ours = AccountId::from(123);
        assert!(account_passes(Some(&ours), MessageAccount::Id("123")));
        assert!(account_passes(Some(&ours), MessageAccount::Missing));
        assert!(!account_passes(Some(&ours), MessageAccount::Id("456")));
        assert!(!account_passes(Some(&ours), MessageAccount::Other));
        assert!(account_passes(None, MessageAccount::Id("456")));
    }

    #[test]
    fn int_and_string_accounts_are_the_same() {
        let from_int: AccountId = serde_json::from_str("123").unwrap();
        let from_str: AccountId = serde_json::from_str("\"123\"").unwrap();
        assert_eq!(from_int, from_str);
        assert_eq!(serde_json::to_string(&from_int).unwrap(), "123");
        assert_eq!(
            serde_json::to_string(&AccountId::from("ACC-1")).unwrap(),
            "\"ACC-1\""
        );
        assert!(serde_json::from_str::<AccountId>("1.5").is_err());
        assert!(serde_json::from_str::<AccountId>("\"\"").is_err());
    }

    #[test]
    fn type_filter() {
        let types = vec!["MarketQuote".to_string(), "lockout_set".to_string()];
        assert!(type_passes(&types, Some("MarketQuote")));
        assert!(!type_passes(&types, Some("GatewayUserTrade")));
        assert!(!type_passes(&types, None));
        assert!(type_passes(&[], None));
    }
}
