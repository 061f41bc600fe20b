//! The Tradovate WebSocket protocol logic: authorization, requests and
//! responses, heartbeats, per-connection state.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use serde_json::{json, Value};

use super::auth::Auth;
use super::delay::Job;
use super::tokens::TokenKind;
use super::wire::{self, Request};
use super::TradovateUser;
use crate::clock::{iso_now, unix_ms};
use crate::server::core::{Admission, Behavior, Cmd, ConnId, Core};
use crate::server::HandshakeInfo;
use crate::sync::lock;

/// Path of the trading socket.
pub(crate) const WS_PATH: &str = "/v1/websocket";
/// Path of the market-data socket.
pub(crate) const MD_PATH: &str = "/v1/md/websocket";

/// How many `md` events follow a `md/subscribequote` response.
const QUOTES_PER_SUBSCRIPTION: usize = 3;

struct Conn {
    kind: TokenKind,
    /// The authorized user, once `authorize` succeeded.
    user: Option<usize>,
}

/// One recorded request frame.
pub(crate) type Recorded = (String, u64, String);

/// The server's protocol state, shared by every connection thread.
pub(crate) struct Sessions {
    auth: Arc<Auth>,
    delayed: Sender<Job>,
    conns: Mutex<HashMap<ConnId, Conn>>,
    requests: Mutex<Vec<Recorded>>,
    client_heartbeats: AtomicUsize,
    authorizations: AtomicUsize,
    heartbeats: AtomicBool,
    response_delay: Mutex<Duration>,
    drop_responses: AtomicBool,
}

impl Sessions {
    pub(crate) fn new(auth: Arc<Auth>, delayed: Sender<Job>) -> Sessions {
        Sessions {
            auth,
            delayed,
            conns: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            client_heartbeats: AtomicUsize::new(0),
            authorizations: AtomicUsize::new(0),
            heartbeats: AtomicBool::new(true),
            response_delay: Mutex::new(Duration::ZERO),
            drop_responses: AtomicBool::new(false),
        }
    }

    pub(crate) fn set_heartbeats(&self, on: bool) {
        self.heartbeats.store(on, Ordering::SeqCst);
    }

    pub(crate) fn set_response_delay(&self, d: Duration) {
        *lock(&self.response_delay) = d;
    }

    pub(crate) fn set_drop_responses(&self, on: bool) {
        self.drop_responses.store(on, Ordering::SeqCst);
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        lock(&self.requests).clone()
    }

    pub(crate) fn find_request(&self, pred: &dyn Fn(&Recorded) -> bool) -> Option<Recorded> {
        lock(&self.requests).iter().find(|r| pred(r)).cloned()
    }

    pub(crate) fn client_heartbeats(&self) -> usize {
        self.client_heartbeats.load(Ordering::SeqCst)
    }

    pub(crate) fn authorizations(&self) -> usize {
        self.authorizations.load(Ordering::SeqCst)
    }

    /// Connections authorized on the given socket kind (all kinds if None).
    pub(crate) fn authorized(&self, kind: Option<TokenKind>) -> Vec<ConnId> {
        lock(&self.conns)
            .iter()
            .filter(|(_, c)| c.user.is_some() && kind.is_none_or(|k| c.kind == k))
            .map(|(id, _)| *id)
            .collect()
    }

    /// One heartbeat round: `h` to every authorized connection.
    pub(crate) fn heartbeat(&self, core: &Core) {
        if !self.heartbeats.load(Ordering::SeqCst) || core.is_silent() {
            return;
        }
        for id in self.authorized(None) {
            core.send_to(id, Cmd::Text(wire::HEARTBEAT.into()));
        }
    }

    fn authorize(&self, core: &Core, id: ConnId, request: &Request<'_>) {
        let kind = match lock(&self.conns).get(&id) {
            Some(conn) => conn.kind,
            None => return,
        };
        let user = self.auth.check(request.body.trim(), kind);
        let answer = match user {
            Some(user) => {
                if let Some(conn) = lock(&self.conns).get_mut(&id) {
                    conn.user = Some(user);
                }
                self.authorizations.fetch_add(1, Ordering::SeqCst);
                wire::response(request.id, 200, None)
            }
            None => wire::response(request.id, 401, Some(&json!("Access is denied"))),
        };
        core.send_to(id, Cmd::Text(wire::array_frame_raw(&[answer]).into()));
    }

    fn serve_request(&self, core: &Core, id: ConnId, request: &Request<'_>) {
        lock(&self.requests).push((
            request.endpoint.to_string(),
            request.id,
            request.body.to_string(),
        ));
        let user = lock(&self.conns).get(&id).and_then(|c| c.user);
        let Some(user) = user.and_then(|u| self.auth.user(u)) else {
            let denied = wire::response(request.id, 401, Some(&json!("Not authorized")));
            core.send_to(id, Cmd::Text(wire::array_frame_raw(&[denied]).into()));
            return;
        };
        if self.drop_responses.load(Ordering::SeqCst) {
            log::debug!(
                "tradovate connection {id}: dropping the response to {}",
                request.id
            );
            return;
        }
        let texts = answer(user, request);
        let delay = *lock(&self.response_delay);
        if delay.is_zero() {
            for text in texts {
                core.send_to(id, Cmd::Text(text.into()));
            }
        } else {
            let job = Job {
                due: Instant::now() + delay,
                id,
                texts,
            };
            if self.delayed.send(job).is_err() {
                log::debug!("tradovate connection {id}: server stopping, response discarded");
            }
        }
    }
}

/// The frames answering an authorized request: the response, then any events.
fn answer(user: &TradovateUser, request: &Request<'_>) -> Vec<String> {
    let endpoint = request.endpoint.to_ascii_lowercase();
    let respond = |d: Value| wire::array_frame_raw(&[wire::response(request.id, 200, Some(&d))]);
    match endpoint.as_str() {
        "user/syncrequest" => vec![respond(sync_data(user))],
        "account/list" => vec![respond(Value::Array(accounts(user)))],
        "md/subscribequote" => {
            let contract_id = serde_json::from_str::<Value>(request.body)
                .ok()
                .and_then(|body| body.get("symbol").and_then(Value::as_i64))
                .unwrap_or(1);
            let mut frames = vec![respond(json!({"ok": true}))];
            let now = iso_now();
            for n in 0..QUOTES_PER_SUBSCRIPTION {
                let bid = 5000.25 + 0.25 * n as f64;
                frames.push(wire::array_frame(&[wire::quote_item(
                    contract_id,
                    bid,
                    &now,
                )]));
            }
            frames
        }
        _ => vec![respond(json!({"ok": true, "endpoint": request.endpoint}))],
    }
}

/// `d` of `user/syncrequest`.
fn sync_data(user: &TradovateUser) -> Value {
    json!({
        "users": [{
            "id": user.user_id,
            "name": user.name,
            "timestamp": iso_now(),
            "email": format!("{}@example.invalid", user.name),
            "status": "Active",
            "professional": false,
        }],
        "accounts": accounts(user),
        "positions": [],
        "orders": [],
        "cashBalances": [],
        "marginSnapshots": [],
    })
}

/// One account object per account id of `user`.
fn accounts(user: &TradovateUser) -> Vec<Value> {
    let created = crate::clock::iso_from_unix_ms(unix_ms().saturating_sub(86_400_000));
    user.accounts
        .iter()
        .map(|id| {
            json!({
                "id": id,
                "name": format!("ACC-{id}"),
                "userId": user.user_id,
                "accountType": "Customer",
                "active": true,
                "clearingHouseId": 2,
                "riskCategoryId": 2,
                "autoLiqProfileId": 2,
                "marginAccountType": "Speculator",
                "legalStatus": "Individual",
                "archived": false,
                "timestamp": created,
            })
        })
        .collect()
}

impl Behavior for Sessions {
    fn on_open(&self, _core: &Core, id: ConnId, info: &HandshakeInfo) -> Admission {
        let kind = match info.path.as_str() {
            WS_PATH => TokenKind::Access,
            MD_PATH => TokenKind::Md,
            other => {
                log::debug!("tradovate connection {id}: no socket at {other:?}");
                return Admission::Close(1008, "Not Found".into());
            }
        };
        lock(&self.conns).insert(id, Conn { kind, user: None });
        Admission::Accept(vec![wire::OPEN.into()])
    }

    fn on_text(&self, core: &Core, id: ConnId, text: &str) {
        if text == wire::CLIENT_HEARTBEAT {
            self.client_heartbeats.fetch_add(1, Ordering::SeqCst);
            return;
        }
        let Some(request) = wire::parse_request(text) else {
            log::debug!("tradovate connection {id}: ignoring a frame that is not a request");
            return;
        };
        if request.endpoint.eq_ignore_ascii_case("authorize") {
            self.authorize(core, id, &request);
        } else {
            self.serve_request(core, id, &request);
        }
    }

    fn on_close(&self, id: ConnId) {
        lock(&self.conns).remove(&id);
    }
}
