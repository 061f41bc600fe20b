//! Issued access tokens and their expiry.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use crate::clock::unix_ms;

/// Which socket a token opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// `accessToken`: the trading socket and the renewal endpoint.
    Access,
    /// `mdAccessToken`: the market-data socket.
    Md,
}

struct Issued {
    kind: TokenKind,
    user: usize,
    expires: Instant,
}

/// A freshly issued token pair.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub(crate) access: String,
    pub(crate) md: String,
    /// Wall-clock expiry in Unix milliseconds.
    pub(crate) expires_unix_ms: u64,
}

/// Every token issued and not yet forgotten (expired ones are dropped lazily).
#[derive(Default)]
pub(crate) struct Tokens {
    issued: HashMap<String, Issued>,
    counter: u64,
}

impl Tokens {
    /// Issues an access token and an md token for `user`, valid for `lifetime`.
    pub(crate) fn issue(&mut self, user: usize, lifetime: Duration) -> Grant {
        let now = Instant::now();
        self.issued.retain(|_, t| t.expires > now);
        self.counter += 1;
        let n = self.counter;
        let access = format!("tok-{n}-{}", random_hex(n));
        let md = format!("md-{n}-{}", random_hex(n));
        let expires = now + lifetime;
        for (token, kind) in [(&access, TokenKind::Access), (&md, TokenKind::Md)] {
            self.issued.insert(
                token.clone(),
                Issued {
                    kind,
                    user,
                    expires,
                },
            );
        }
        Grant {
            access,
            md,
            expires_unix_ms: unix_ms().saturating_add(lifetime.as_millis() as u64),
        }
    }

    /// The user of `token` if it is an unexpired token of `kind`.
    pub(crate) fn check(&self, token: &str, kind: TokenKind) -> Option<usize> {
        self.issued
            .get(token)
            .filter(|t| t.kind == kind && t.expires > Instant::now())
            .map(|t| t.user)
    }

    /// Unexpired access tokens.
    pub(crate) fn valid_access(&self) -> usize {
        let now = Instant::now();
        self.issued
            .values()
            .filter(|t| t.kind == TokenKind::Access && t.expires > now)
            .count()
    }
}

/// 16 hex digits that differ between calls and between runs.
pub(crate) fn random_hex(salt: u64) -> String {
    // Every RandomState gets fresh keys, so this hash is unpredictable enough for tests.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(salt);
    hasher.write_u64(unix_ms());
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_typed_and_expire() {
        let mut tokens = Tokens::default();
        let a = tokens.issue(0, Duration::from_secs(60));
        let b = tokens.issue(1, Duration::from_millis(30));
        assert_ne!(a.access, b.access);
        assert!(a.access.starts_with("tok-1-") && a.md.starts_with("md-1-"));
        assert_eq!(tokens.check(&a.access, TokenKind::Access), Some(0));
        assert_eq!(tokens.check(&a.access, TokenKind::Md), None);
        assert_eq!(tokens.check(&a.md, TokenKind::Md), Some(0));
        assert_eq!(tokens.check(&b.access, TokenKind::Access), Some(1));
        assert_eq!(tokens.check("tok-9-0", TokenKind::Access), None);
        assert_eq!(tokens.valid_access(), 2);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(tokens.check(&b.access, TokenKind::Access), None);
        assert_eq!(tokens.valid_access(), 1);
        assert!(a.expires_unix_ms > unix_ms() + 50_000);
    }
}
