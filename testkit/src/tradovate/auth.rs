//! The REST token endpoints: `accesstokenrequest` and `renewaccesstoken`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::http::{HttpRequest, HttpResponse};
use super::tokens::{random_hex, Grant, TokenKind, Tokens};
use super::TradovateUser;
use crate::clock::iso_from_unix_ms;
use crate::sync::lock;

/// Path of the token request.
pub(crate) const TOKEN_PATH: &str = "/v1/auth/accesstokenrequest";
/// Path of the renewal.
pub(crate) const RENEW_PATH: &str = "/v1/auth/renewaccesstoken";
/// `errorText` of a rejected token request.
pub(crate) const BAD_CREDENTIALS: &str = "Incorrect username or password. Please try again.";

/// A penalty the next token requests get until one retries with the ticket.
struct Penalty {
    secs: f64,
    captcha: bool,
    /// The ticket handed out and when (None until the first penalized request).
    ticket: Option<(String, Instant)>,
}

/// Users, issued tokens and the faults of the token endpoints.
pub(crate) struct Auth {
    users: Vec<TradovateUser>,
    tokens: Mutex<Tokens>,
    lifetime: Mutex<Duration>,
    reject_credentials: AtomicBool,
    reject_401: AtomicBool,
    penalty: Mutex<Option<Penalty>>,
    token_requests: AtomicUsize,
    renewals: AtomicUsize,
    /// The body of the latest token request, `password` and `sec` left out.
    last_request: Mutex<Option<Value>>,
}

impl Auth {
    pub(crate) fn new(users: Vec<TradovateUser>, lifetime: Duration) -> Auth {
        Auth {
            users,
            tokens: Mutex::new(Tokens::default()),
            lifetime: Mutex::new(lifetime),
            reject_credentials: AtomicBool::new(false),
            reject_401: AtomicBool::new(false),
            penalty: Mutex::new(None),
            token_requests: AtomicUsize::new(0),
            renewals: AtomicUsize::new(0),
            last_request: Mutex::new(None),
        }
    }

    pub(crate) fn user(&self, index: usize) -> Option<&TradovateUser> {
        self.users.get(index)
    }

    pub(crate) fn check(&self, token: &str, kind: TokenKind) -> Option<usize> {
        lock(&self.tokens).check(token, kind)
    }

    pub(crate) fn valid_tokens(&self) -> usize {
        lock(&self.tokens).valid_access()
    }

    pub(crate) fn set_lifetime(&self, d: Duration) {
        *lock(&self.lifetime) = d;
    }

    pub(crate) fn set_reject_credentials(&self, on: bool) {
        self.reject_credentials.store(on, Ordering::SeqCst);
    }

    pub(crate) fn set_reject_401(&self, on: bool) {
        self.reject_401.store(on, Ordering::SeqCst);
    }

    pub(crate) fn set_penalty(&self, p: Option<(f64, bool)>) {
        *lock(&self.penalty) = p.map(|(secs, captcha)| Penalty {
            secs: secs.max(0.0),
            captcha,
            ticket: None,
        });
    }

    pub(crate) fn token_requests(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }

    pub(crate) fn last_request(&self) -> Option<Value> {
        lock(&self.last_request).clone()
    }

    pub(crate) fn renewals(&self) -> usize {
        self.renewals.load(Ordering::SeqCst)
    }

    /// Answers one HTTP request.
    pub(crate) fn handle(&self, request: &HttpRequest) -> HttpResponse {
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", TOKEN_PATH) => self.token_request(&request.body),
            ("GET" | "POST", RENEW_PATH) => self.renew(request.header("authorization")),
            (_, TOKEN_PATH | RENEW_PATH) => error(405, "Method Not Allowed"),
            _ => error(404, "Not Found"),
        }
    }

    fn token_request(&self, body: &[u8]) -> HttpResponse {
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        if self.reject_401.load(Ordering::SeqCst) {
            return error(401, "Unauthorized");
        }
        let request: Value = match serde_json::from_slice(body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return error(400, "Request body must be a JSON object"),
        };
        let mut shown = request.clone();
        if let Some(m) = shown.as_object_mut() {
            m.remove("password");
            m.remove("sec");
        }
        *lock(&self.last_request) = Some(shown);
        if self.reject_credentials.load(Ordering::SeqCst) {
            return error(200, BAD_CREDENTIALS);
        }
        if let Some(answer) = self.penalize(request.get("p-ticket").and_then(Value::as_str)) {
            return HttpResponse::json(200, &answer);
        }
        let name = request.get("name").and_then(Value::as_str);
        let password = request.get("password").and_then(Value::as_str);
        let user = self
            .users
            .iter()
            .position(|u| Some(u.name.as_str()) == name && Some(u.password.as_str()) == password);
        match user {
            Some(user) => self.grant(user),
            None => error(200, BAD_CREDENTIALS),
        }
    }

    /// The penalty answer for this request, if one is due; a retry that
    /// carries the ticket at least `p-time` after it was handed out lifts it.
    fn penalize(&self, ticket: Option<&str>) -> Option<Value> {
        let mut slot = lock(&self.penalty);
        let penalty = slot.as_mut()?;
        let now = Instant::now();
        let wait = Duration::from_secs_f64(penalty.secs);
        let remaining = match &penalty.ticket {
            Some((issued, at)) if ticket == Some(issued.as_str()) => {
                let due = *at + wait;
                if now >= due {
                    *slot = None;
                    return None;
                }
                due - now
            }
            Some(_) => wait,
            None => {
                penalty.ticket = Some((format!("ticket-{}", random_hex(0)), now));
                wait
            }
        };
        let ticket = penalty.ticket.as_ref().map(|(t, _)| t.clone());
        Some(json!({
            "p-ticket": ticket,
            "p-time": seconds_json(remaining),
            "p-captcha": penalty.captcha,
        }))
    }

    fn renew(&self, authorization: Option<&str>) -> HttpResponse {
        self.renewals.fetch_add(1, Ordering::SeqCst);
        let token = authorization.and_then(|value| {
            let (scheme, rest) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
        match token.and_then(|t| self.check(t, TokenKind::Access)) {
            Some(user) => self.grant(user),
            None => error(401, "Access is denied"),
        }
    }

    fn grant(&self, user: usize) -> HttpResponse {
        let lifetime = *lock(&self.lifetime);
        let grant = lock(&self.tokens).issue(user, lifetime);
        match self.users.get(user) {
            Some(u) => HttpResponse::json(200, &token_json(&grant, u)),
            None => error(500, "unknown user"),
        }
    }
}

/// `{"errorText": text}` with `status`.
fn error(status: u16, text: &str) -> HttpResponse {
    HttpResponse::json(status, &json!({ "errorText": text }))
}

/// Whole seconds as an integer, anything else as a float.
fn seconds_json(d: Duration) -> Value {
    let secs = d.as_secs_f64();
    if d.subsec_nanos() == 0 {
        json!(d.as_secs())
    } else {
        json!(secs)
    }
}

/// The access token response of document 000.
fn token_json(grant: &Grant, user: &TradovateUser) -> Value {
    json!({
        "accessToken": grant.access,
        "mdAccessToken": grant.md,
        "expirationTime": iso_from_unix_ms(grant.expires_unix_ms),
        "userStatus": "Active",
        "userId": user.user_id,
        "name": user.name,
        "hasLive": false,
        "hasSimPlus": false,
        "hasFunded": false,
        "hasMarketData": true,
        "outdatedLiquidationPolicy": false,
        "outdatedSentimentPolicy": false,
        "experience": "Intermediate",
        "orgName": "tradewire-test",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_are_integers() {
        assert_eq!(seconds_json(Duration::from_secs(3)), json!(3));
        assert_eq!(seconds_json(Duration::from_millis(1500)), json!(1.5));
    }
}
