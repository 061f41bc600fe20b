//! The id of a JSON request (`request_json`): the caller's, or a fresh one written into the
//! message without re-serializing it; and whether a caller's id for a Tradovate request
//! (`send_request_with_id`) can be used.

/// A JSON request ready to send: its text and its id's JSON text (`42`, `"abc"`), the key its
/// answer is matched by.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Identified {
    pub text: String,
    pub id: String,
}

/// Gives `message` (a JSON object's text) an id in member `field`: the one it has, or `fresh`
/// written as the object's first member. `Err`: why the message cannot be a request. Pure.
pub(crate) fn identify(message: &str, field: &str, fresh: u64) -> Result<Identified, String> {
    let value: &serde_json::value::RawValue = serde_json::from_str(message)
        .map_err(|e| format!("the request is not valid JSON ({e}); pass a JSON object"))?;
    let raw = value.get();
    if !raw.starts_with('{') {
        return Err("the request must be a JSON object, to carry its id".into());
    }
    if let Some(id) = crate::envelope::member(raw, field) {
        if id == "null" {
            return Err(format!(
                "the request's `{field}` is null; leave it out (a fresh id is filled in) or give an id"
            ));
        }
        return Ok(Identified {
            text: message.to_string(),
            id: id.to_string(),
        });
    }
    let open = message.len() - message.trim_start().len();
    let empty = raw[1..].trim_start().starts_with('}');
    let key = serde_json::Value::from(field).to_string();
    let member = format!("{key}:{fresh}{}", if empty { "" } else { "," });
    let mut text = String::with_capacity(message.len() + member.len());
    text.push_str(&message[..=open]);
    text.push_str(&member);
    text.push_str(&message[open + 1..]);
    Ok(Identified {
        text,
        id: fresh.to_string(),
    })
}

/// Why a caller's Tradovate request id cannot be used, if it cannot: 0 is the login's
/// (`authorize`), and an id still waiting for its response would make two answers
/// indistinguishable. Pure.
pub(crate) fn refuse_chosen(id: u64, in_use: bool) -> Option<String> {
    if id == 0 {
        return Some("request id 0 is the login's (authorize); choose an id from 1".into());
    }
    in_use.then(|| {
        format!("request id {id} is already waiting for its response; choose another (or let the client choose: send_request)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_id_is_written_first_and_the_rest_is_kept_as_written() {
        let r = identify(r#"{"op": "get",  "x": [1, 2]}"#, "id", 7).unwrap();
        assert_eq!(r.text, r#"{"id":7,"op": "get",  "x": [1, 2]}"#);
        assert_eq!(r.id, "7");
        let r = identify(" { } ", "requestId", 1).unwrap();
        assert_eq!(r.text, r#" {"requestId":1 } "#);
        let r = identify(r#"{"a":1}"#, "we\"ird", 2).unwrap();
        assert_eq!(r.text, r#"{"we\"ird":2,"a":1}"#);
        serde_json::from_str::<serde_json::Value>(&r.text).unwrap();
    }

    #[test]
    fn the_callers_id_is_kept_as_its_json_text() {
        let r = identify(r#"{"requestId":"abc-1","op":"x"}"#, "requestId", 9).unwrap();
        assert_eq!(r.id, r#""abc-1""#);
        assert_eq!(r.text, r#"{"requestId":"abc-1","op":"x"}"#);
        assert_eq!(identify(r#"{"id":12}"#, "id", 9).unwrap().id, "12");
    }

    #[test]
    fn a_chosen_tradovate_id_must_be_free_and_not_the_logins() {
        assert_eq!(refuse_chosen(5, false), None);
        assert!(refuse_chosen(0, false).unwrap().contains("login"));
        assert!(refuse_chosen(5, true).unwrap().contains("already waiting"));
    }

    #[test]
    fn what_cannot_be_a_request_says_why() {
        assert!(identify("[1]", "id", 1)
            .unwrap_err()
            .contains("JSON object"));
        assert!(identify("{", "id", 1)
            .unwrap_err()
            .contains("not valid JSON"));
        assert!(identify(r#"{"id":null}"#, "id", 1)
            .unwrap_err()
            .contains("null"));
    }
}
