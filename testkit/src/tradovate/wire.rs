//! The Tradovate WebSocket wire format (reference document 000): SockJS-style
//! frames from the server, `endpoint\nid\nquery\nbody` requests from the client.

use serde_json::{json, Map, Value};

/// The server's open frame.
pub(crate) const OPEN: &str = "o";
/// The server's heartbeat frame.
pub(crate) const HEARTBEAT: &str = "h";
/// A client heartbeat: an empty array.
pub(crate) const CLIENT_HEARTBEAT: &str = "[]";

/// One request frame sent by a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Request<'a> {
    pub(crate) endpoint: &'a str,
    pub(crate) id: u64,
    pub(crate) query: &'a str,
    pub(crate) body: &'a str,
}

/// Parses `endpoint\nid\nquery\nbody` (the body may contain newlines, the
/// query and body may be missing); None if there is no endpoint or the id is
/// not a non-negative integer.
pub(crate) fn parse_request(text: &str) -> Option<Request<'_>> {
    let mut parts = text.splitn(4, '\n');
    let endpoint = parts.next()?.trim_end_matches('\r');
    let id = parts.next()?.trim().parse().ok()?;
    let query = parts.next().unwrap_or("").trim_end_matches('\r');
    let body = parts.next().unwrap_or("");
    if endpoint.is_empty() || endpoint.contains(char::is_whitespace) {
        return None;
    }
    Some(Request {
        endpoint,
        id,
        query,
        body,
    })
}

/// `a[item, item, ...]`: several items batched in one frame, as real servers do.
///
/// ```
/// use serde_json::json;
/// use tradewire_testkit::tradovate::array_frame;
///
/// assert_eq!(array_frame(&[json!({"e": "clock", "d": 1})]), r#"a[{"d":1,"e":"clock"}]"#);
/// ```
pub fn array_frame(items: &[Value]) -> String {
    format!("a{}", Value::Array(items.to_vec()))
}

/// `a[...]` of items that are already JSON text.
pub(crate) fn array_frame_raw(items: &[String]) -> String {
    format!("a[{}]", items.join(","))
}

/// `c[code,"reason"]`: the SockJS close frame.
///
/// ```
/// assert_eq!(tradewire_testkit::tradovate::close_frame(3000, "Go away!"), r#"c[3000,"Go away!"]"#);
/// ```
pub fn close_frame(code: u16, reason: &str) -> String {
    format!("c{}", json!([code, reason]))
}

/// The item of a `props` event for an entity of `account_id`:
/// `{"e":"props","d":{"entityType":..,"eventType":"Updated","entity":{..,"accountId":account_id}}}`.
///
/// `accountId` is set in `entity` (an object); any other JSON value is kept
/// under `"value"` beside it. Batch items with [`array_frame`] and send them
/// with [`TradovateServer::emit`](super::TradovateServer::emit):
///
/// ```
/// use serde_json::json;
/// use tradewire_testkit::tradovate::{array_frame, props_item};
///
/// let frame = array_frame(&[
///     props_item(101, "position", json!({"netPos": 1})),
///     props_item(202, "position", json!({"netPos": -2})),
/// ]);
/// let items: serde_json::Value = serde_json::from_str(&frame[1..]).unwrap();
/// assert_eq!(items[1]["e"], "props");
/// assert_eq!(items[1]["d"]["entity"], json!({"netPos": -2, "accountId": 202}));
/// ```
pub fn props_item(account_id: i64, entity_type: &str, entity: Value) -> Value {
    let mut entity = match entity {
        Value::Object(map) => map,
        other => {
            let mut map = Map::new();
            map.insert("value".into(), other);
            map
        }
    };
    entity.insert("accountId".into(), json!(account_id));
    json!({
        "e": "props",
        "d": {"entityType": entity_type, "eventType": "Updated", "entity": entity},
    })
}

/// The item of a response as JSON text, keys in the order real servers use:
/// `{"s":status,"i":id}` plus `"d"` when given.
pub(crate) fn response(id: u64, status: u16, data: Option<&Value>) -> String {
    match data {
        Some(d) => format!(r#"{{"s":{status},"i":{id},"d":{d}}}"#),
        None => format!(r#"{{"s":{status},"i":{id}}}"#),
    }
}

/// The item of an `md` quote event for `contract_id` around `bid`.
pub(crate) fn quote_item(contract_id: i64, bid: f64, timestamp: &str) -> Value {
    json!({
        "e": "md",
        "d": {"quotes": [{
            "id": contract_id,
            "timestamp": timestamp,
            "contractId": contract_id,
            "entries": {
                "Bid": {"price": bid, "size": 10},
                "Offer": {"price": bid + 0.25, "size": 12},
                "Trade": {"price": bid, "size": 1},
            },
        }]},
    })
}

/// The shutdown event item.
pub(crate) fn shutdown_item() -> Value {
    json!({"e": "shutdown", "d": {"reasonCode": "Maintenance"}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests() {
        assert_eq!(
            parse_request("authorize\n0\n\ntok-1"),
            Some(Request {
                endpoint: "authorize",
                id: 0,
                query: "",
                body: "tok-1"
            })
        );
        let r = parse_request("order/placeorder\n12\nq=1\n{\n \"a\": 1\n}").unwrap();
        assert_eq!((r.endpoint, r.id, r.query), ("order/placeorder", 12, "q=1"));
        assert_eq!(r.body, "{\n \"a\": 1\n}");
        let bare = parse_request("account/list\n3").unwrap();
        assert_eq!((bare.query, bare.body), ("", ""));
        assert_eq!(parse_request("account/list\n\n\n").map(|r| r.id), None);
        assert_eq!(parse_request("account/list\n-1\n\n"), None);
        assert_eq!(parse_request("[]"), None);
        assert_eq!(parse_request("hello"), None);
        assert_eq!(parse_request("\n1\n\n"), None);
        assert_eq!(parse_request("{\"a\": 1}\n1\n\n"), None);
    }

    #[test]
    fn builds_frames() {
        assert_eq!(array_frame(&[]), "a[]");
        assert_eq!(
            array_frame_raw(&[response(4, 401, Some(&json!("Not authorized")))]),
            r#"a[{"s":401,"i":4,"d":"Not authorized"}]"#
        );
        assert_eq!(
            array_frame_raw(&[
                response(0, 200, None),
                response(1, 200, Some(&json!({"x": [1]})))
            ]),
            r#"a[{"s":200,"i":0},{"s":200,"i":1,"d":{"x":[1]}}]"#
        );
        assert_eq!(close_frame(1000, "a \"b\""), r#"c[1000,"a \"b\""]"#);
        let item = props_item(101, "order", json!(5));
        assert_eq!(item["d"]["entity"], json!({"value": 5, "accountId": 101}));
        assert_eq!(item["d"]["eventType"], "Updated");
        let quote = quote_item(1, 100.0, "t");
        assert_eq!(quote["d"]["quotes"][0]["entries"]["Offer"]["price"], 100.25);
    }
}
