//! Subscriptions that survive reconnects: the client's keyed, ordered registry of what to
//! send after every (re)connect and login, and which of its frames are still to be sent on
//! the current connection.
//!
//! The registry belongs to the client, not to one connection. The application changes it
//! (`subscribe`, `unsubscribe`) from any thread; the thread that runs the connection sends
//! what it says, at two moments only:
//!
//! - **replay**: on a new connection, right after the on-connect messages (and the
//!   Tradovate login and sync request), every entry in the order it was made
//!   ([`Subscriptions::replay`]); the connection is reported live only after that;
//! - **changes**: while live, what `subscribe`/`unsubscribe` queued for *this* connection,
//!   in the order they were made ([`Subscriptions::changes`]).
//!
//! A change made while no connection is live queues nothing: the next replay carries the
//! registry as it is then. A change queued for a connection that ends before it is sent is
//! dropped with that connection ([`Subscriptions::ended`]), and a replay drops whatever was
//! queued before it (the replay already carries it). So each subscription reaches each
//! connection exactly once, whatever the timing, and an unsubscribe message only ever goes
//! to a connection that had the subscription.
//!
//! Pure logic: no I/O, no clock; the engine turns each [`Wire`] into a frame.

/// What a subscription sends: a text message, or (Tradovate) a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire {
    /// A text frame, sent as it is (on the tradovate preset an `{"endpoint", "body"}` object
    /// becomes a request, as in `on_connect`).
    Message(String),
    /// A request `endpoint\n<id>\n\n<body>` with a fresh id each time it is sent (tradovate).
    Request {
        /// The endpoint, e.g. `md/subscribeQuote`.
        endpoint: String,
        /// The body (JSON text), if any.
        body: Option<String>,
    },
}

impl Wire {
    /// The text that names this frame when no key is given: the message itself, or the
    /// endpoint followed by the body.
    fn default_key(&self) -> String {
        match self {
            Wire::Message(m) => m.clone(),
            Wire::Request {
                endpoint,
                body: None,
            } => endpoint.clone(),
            Wire::Request {
                endpoint,
                body: Some(b),
            } => format!("{endpoint} {b}"),
        }
    }
}

/// A subscription to make: what to send after every (re)connect, under which key, and what
/// to send when it is undone.
///
/// ```
/// use tradewire::Subscription;
///
/// let quotes = Subscription::message(r#"{"type":"subscribe","symbol":"ESZ5"}"#)
///     .key("ESZ5")
///     .unsubscribe(r#"{"type":"unsubscribe","symbol":"ESZ5"}"#);
/// let tradovate = Subscription::request("md/subscribeQuote", Some(r#"{"symbol":"ESZ5"}"#))
///     .unsubscribe_endpoint("md/unsubscribeQuote");
/// let plain: Subscription = "subscribe:positions".into(); // key: the message itself
/// # let _ = (quotes, tradovate, plain);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    key: Option<String>,
    subscribe: Wire,
    unsubscribe: Option<Wire>,
}

impl Subscription {
    /// A subscription sent as this text frame (its key, unless [`Subscription::key`] says
    /// otherwise: the text itself).
    pub fn message(text: impl Into<String>) -> Subscription {
        Subscription {
            key: None,
            subscribe: Wire::Message(text.into()),
            unsubscribe: None,
        }
    }

    /// A Tradovate subscription: a request to `endpoint` with `body`, sent with a fresh id
    /// each time; a refusal is reported as an `Error` event of kind `subscription_failed`.
    /// Its default key is the endpoint, followed by a space and the body when there is one.
    pub fn request(endpoint: impl Into<String>, body: Option<&str>) -> Subscription {
        Subscription {
            key: None,
            subscribe: Wire::Request {
                endpoint: endpoint.into(),
                body: body.map(String::from),
            },
            unsubscribe: None,
        }
    }

    /// The key the subscription is recorded under (one entry per key).
    pub fn key(mut self, key: impl Into<String>) -> Subscription {
        self.key = Some(key.into());
        self
    }

    /// The text frame sent by `unsubscribe(key)` while the connection is live.
    pub fn unsubscribe(mut self, text: impl Into<String>) -> Subscription {
        self.unsubscribe = Some(Wire::Message(text.into()));
        self
    }

    /// Tradovate: the endpoint of the request sent by `unsubscribe(key)` while live, with
    /// the same body as the subscription request (e.g. `md/unsubscribeQuote`).
    pub fn unsubscribe_endpoint(mut self, endpoint: impl Into<String>) -> Subscription {
        let body = match &self.subscribe {
            Wire::Request { body, .. } => body.clone(),
            Wire::Message(_) => None,
        };
        self.unsubscribe = Some(Wire::Request {
            endpoint: endpoint.into(),
            body,
        });
        self
    }

    /// The key it will be recorded under: the one given, or the default.
    pub fn effective_key(&self) -> String {
        self.key
            .clone()
            .unwrap_or_else(|| self.subscribe.default_key())
    }

    /// What it sends on every (re)connect.
    pub fn wire(&self) -> &Wire {
        &self.subscribe
    }

    /// What `unsubscribe` sends, if anything.
    pub fn unsubscribe_wire(&self) -> Option<&Wire> {
        self.unsubscribe.as_ref()
    }

    /// Whether any of its frames is a request (tradovate only).
    pub(crate) fn has_request(&self) -> bool {
        matches!(self.subscribe, Wire::Request { .. })
            || matches!(self.unsubscribe, Some(Wire::Request { .. }))
    }
}

impl From<&str> for Subscription {
    fn from(text: &str) -> Subscription {
        Subscription::message(text)
    }
}

impl From<String> for Subscription {
    fn from(text: String) -> Subscription {
        Subscription::message(text)
    }
}

/// One entry of the live set, as [`Client::subscriptions`](crate::Client::subscriptions)
/// lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed {
    /// The key it is recorded under.
    pub key: String,
    /// What is sent after every (re)connect.
    pub subscribe: Wire,
    /// What `unsubscribe` sends while live, if anything.
    pub unsubscribe: Option<Wire>,
}

impl Subscribed {
    /// The entry as a JSON object, the form the Python and C bindings give:
    /// `{"key", "message", "unsubscribe"}` for a message, `{"key", "endpoint", "body",
    /// "unsubscribe_endpoint"}` for a request (absent parts are `null`).
    pub fn to_json(&self) -> serde_json::Value {
        let mut o = serde_json::Map::new();
        o.insert("key".into(), self.key.clone().into());
        match &self.subscribe {
            Wire::Message(m) => {
                o.insert("message".into(), m.clone().into());
            }
            Wire::Request { endpoint, body } => {
                o.insert("endpoint".into(), endpoint.clone().into());
                o.insert("body".into(), body.clone().into());
            }
        }
        match &self.unsubscribe {
            None if matches!(self.subscribe, Wire::Request { .. }) => {
                o.insert("unsubscribe_endpoint".into(), serde_json::Value::Null);
            }
            None => {
                o.insert("unsubscribe".into(), serde_json::Value::Null);
            }
            Some(Wire::Message(m)) => {
                o.insert("unsubscribe".into(), m.clone().into());
            }
            Some(Wire::Request { endpoint, .. }) => {
                o.insert("unsubscribe_endpoint".into(), endpoint.clone().into());
            }
        }
        serde_json::Value::Object(o)
    }
}

/// One recorded subscription.
#[derive(Debug)]
struct Entry {
    key: String,
    subscribe: Wire,
    unsubscribe: Option<Wire>,
    /// The connection (epoch) its subscribe frame went (or is queued) to.
    sent_on: Option<u64>,
}

/// The registry: entries in the order they were made, and the frames queued for the live
/// connection. Shared (behind a mutex) by the client handle and the engine; no lock is ever
/// held while writing to the socket.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    entries: Vec<Entry>,
    /// The connection the set was last replayed on, while it is live.
    live: Option<u64>,
    /// Frames queued for `live` by changes made since its replay, in order.
    queued: Vec<Wire>,
}

impl Subscriptions {
    /// Records a subscription (replacing the entry with the same key, in its place) and
    /// queues its frame for the live connection unless that connection already has the same
    /// frame. Returns the key.
    pub fn add(&mut self, s: Subscription) -> String {
        let key = s.effective_key();
        let live = self.live;
        match self.entries.iter_mut().find(|e| e.key == key) {
            Some(e) => {
                e.unsubscribe = s.unsubscribe;
                if e.subscribe == s.subscribe && e.sent_on.is_some() && e.sent_on == live {
                    return key;
                }
                e.subscribe = s.subscribe;
                e.sent_on = live;
                if live.is_some() {
                    self.queued.push(e.subscribe.clone());
                }
            }
            None => {
                if live.is_some() {
                    self.queued.push(s.subscribe.clone());
                }
                self.entries.push(Entry {
                    key: key.clone(),
                    subscribe: s.subscribe,
                    unsubscribe: s.unsubscribe,
                    sent_on: live,
                });
            }
        }
        key
    }

    /// Forgets the entry with this key; queues its unsubscribe frame when the live
    /// connection had the subscription. `false` when no entry had the key.
    pub fn remove(&mut self, key: &str) -> bool {
        let Some(i) = self.entries.iter().position(|e| e.key == key) else {
            return false;
        };
        let e = self.entries.remove(i);
        if let (Some(live), Some(unsub)) = (self.live, e.unsubscribe) {
            if e.sent_on == Some(live) {
                self.queued.push(unsub);
            }
        }
        true
    }

    /// Forgets everything (`close()`).
    pub fn clear(&mut self) {
        *self = Subscriptions::default();
    }

    /// The live set, in order.
    pub fn list(&self) -> Vec<Subscribed> {
        self.entries
            .iter()
            .map(|e| Subscribed {
                key: e.key.clone(),
                subscribe: e.subscribe.clone(),
                unsubscribe: e.unsubscribe.clone(),
            })
            .collect()
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Connection `epoch` is ready for its subscriptions: every entry's frame, in order.
    /// From now on changes are queued for it; what was queued before is dropped (this
    /// replay carries it).
    pub fn replay(&mut self, epoch: u64) -> Vec<Wire> {
        self.live = Some(epoch);
        self.queued.clear();
        self.entries
            .iter_mut()
            .map(|e| {
                e.sent_on = Some(epoch);
                e.subscribe.clone()
            })
            .collect()
    }

    /// The frames queued for connection `epoch` since its replay, in order (none when the
    /// set has not been replayed on it).
    pub fn changes(&mut self, epoch: u64) -> Vec<Wire> {
        if self.live != Some(epoch) {
            return Vec::new();
        }
        std::mem::take(&mut self.queued)
    }

    /// The live connection ended: nothing is queued until the next replay.
    pub fn ended(&mut self) {
        self.live = None;
        self.queued.clear();
    }
}

/// A subscription as the dialect writes it: the frame, and for a request the id and
/// endpoint its answer will be checked against.
pub(crate) struct Framed {
    pub text: String,
    pub request: Option<(u64, String)>,
}

/// Whether the answer to a subscription request (`status`, `data`) refuses it, and why:
/// a status outside 2xx, or (as Tradovate answers some refusals) a 2xx answer whose data
/// carries an `errorText`. Pure.
pub(crate) fn refusal(status: u16, data: Option<&str>) -> Option<String> {
    if !(200..300).contains(&status) {
        return Some(format!("status {status}: {}", data.unwrap_or("no details")));
    }
    #[derive(serde::Deserialize)]
    struct Refused {
        #[serde(rename = "errorText")]
        error_text: Option<String>,
    }
    let text = serde_json::from_str::<Refused>(data?).ok()?.error_text?;
    Some(format!("status {status}, errorText: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str) -> Wire {
        Wire::Message(t.into())
    }

    fn keys(s: &Subscriptions) -> Vec<String> {
        s.list().into_iter().map(|e| e.key).collect()
    }

    #[test]
    fn replay_sends_every_entry_in_the_order_made_minus_the_removed() {
        let mut s = Subscriptions::default();
        s.add("A".into());
        s.add(Subscription::message("B").unsubscribe("-B"));
        s.add("C".into());
        assert!(s.remove("B"));
        assert!(!s.remove("B"), "already gone");
        assert_eq!(s.replay(1), [m("A"), m("C")]);
        assert_eq!(s.changes(1), [], "nothing was queued: not live before");
        assert_eq!(s.replay(2), [m("A"), m("C")], "every connection gets them");
    }

    #[test]
    fn changes_while_live_are_queued_in_order_and_an_unsubscribe_only_if_sent_here() {
        let mut s = Subscriptions::default();
        s.add(Subscription::message("A").unsubscribe("-A"));
        assert_eq!(s.replay(1), [m("A")]);
        s.add(Subscription::message("B").unsubscribe("-B"));
        s.add("C".into());
        assert!(s.remove("B"));
        assert!(s.remove("A"));
        assert_eq!(s.changes(1), [m("B"), m("C"), m("-B"), m("-A")]);
        assert_eq!(s.changes(1), [], "taken once");
        assert_eq!(keys(&s), ["C"]);
    }

    #[test]
    fn a_change_during_a_reconnect_reaches_the_new_connection_once() {
        let mut s = Subscriptions::default();
        s.add(Subscription::message("A").unsubscribe("-A"));
        s.replay(1);
        // Queued for connection 1, which ends before it is sent.
        s.add("B".into());
        s.ended();
        // Made while no connection is live (backoff): nothing queued.
        s.add("C".into());
        assert!(
            s.remove("A"),
            "A had gone to connection 1 only: no unsubscribe now"
        );
        assert_eq!(s.changes(1), []);
        assert_eq!(s.changes(2), [], "not replayed on 2 yet");
        assert_eq!(s.replay(2), [m("B"), m("C")]);
        assert_eq!(s.changes(2), [], "the replay carried them: not again");
    }

    #[test]
    fn a_change_queued_before_the_replay_is_carried_by_it_not_sent_twice() {
        let mut s = Subscriptions::default();
        s.replay(1);
        s.add("A".into()); // queued for 1; the engine has not taken it yet
        s.ended();
        assert_eq!(s.replay(2), [m("A")]);
        assert_eq!(s.changes(2), []);
        assert_eq!(s.changes(1), [], "a stale connection gets nothing");
    }

    #[test]
    fn the_same_key_twice_replaces_in_place_and_is_not_sent_twice_while_live() {
        let mut s = Subscriptions::default();
        s.add("A".into());
        s.add(Subscription::message("x").key("k"));
        s.add("Z".into());
        s.replay(1);
        assert_eq!(s.add("A".into()), "A");
        assert_eq!(s.changes(1), [], "same key, same message: nothing sent");
        // Same key, another message: the new one is sent, in the entry's place.
        assert_eq!(s.add(Subscription::message("y").key("k")), "k");
        assert_eq!(s.changes(1), [m("y")]);
        assert_eq!(keys(&s), ["A", "k", "Z"]);
        assert_eq!(s.replay(2), [m("A"), m("y"), m("Z")]);
        assert_eq!(s.len(), 3);
        // Replacing changes the unsubscribe frame without sending anything.
        s.add(Subscription::message("A").unsubscribe("-A"));
        assert_eq!(s.changes(2), []);
        s.remove("A");
        assert_eq!(s.changes(2), [m("-A")]);
    }

    #[test]
    fn requests_have_a_default_key_and_an_unsubscribe_with_the_same_body() {
        let sub = Subscription::request("md/subscribeQuote", Some(r#"{"symbol":"ESZ5"}"#))
            .unsubscribe_endpoint("md/unsubscribeQuote");
        assert_eq!(
            sub.effective_key(),
            r#"md/subscribeQuote {"symbol":"ESZ5"}"#
        );
        assert!(sub.has_request());
        assert_eq!(
            sub.unsubscribe_wire(),
            Some(&Wire::Request {
                endpoint: "md/unsubscribeQuote".into(),
                body: Some(r#"{"symbol":"ESZ5"}"#.into())
            })
        );
        assert_eq!(
            Subscription::request("user/list", None).effective_key(),
            "user/list"
        );
        assert!(!Subscription::message("x").has_request());
        let mut s = Subscriptions::default();
        s.add(sub);
        assert_eq!(
            s.list()[0].to_json(),
            serde_json::json!({"key": r#"md/subscribeQuote {"symbol":"ESZ5"}"#,
                "endpoint": "md/subscribeQuote", "body": r#"{"symbol":"ESZ5"}"#,
                "unsubscribe_endpoint": "md/unsubscribeQuote"})
        );
        s.add("plain".into());
        assert_eq!(
            s.list()[1].to_json(),
            serde_json::json!({"key": "plain", "message": "plain", "unsubscribe": null})
        );
    }

    #[test]
    fn clear_forgets_everything() {
        let mut s = Subscriptions::default();
        s.add("A".into());
        s.replay(1);
        s.add("B".into());
        s.clear();
        assert_eq!(s.len(), 0);
        assert_eq!(s.changes(1), []);
    }

    #[test]
    fn refusals() {
        assert_eq!(refusal(200, Some(r#"{"ok":true}"#)), None);
        assert_eq!(refusal(200, None), None);
        assert_eq!(refusal(204, Some("not json")), None);
        assert_eq!(
            refusal(404, Some(r#""no such symbol""#)).as_deref(),
            Some(r#"status 404: "no such symbol""#)
        );
        assert_eq!(refusal(0, None).as_deref(), Some("status 0: no details"));
        assert_eq!(
            refusal(200, Some(r#"{"errorText":"Symbol is not found"}"#)).as_deref(),
            Some("status 200, errorText: Symbol is not found")
        );
    }
}
