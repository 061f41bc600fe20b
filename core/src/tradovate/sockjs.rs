//! SockJS framing as Tradovate uses it (reference 000): `o` (open), `h` (heartbeat),
//! `a[...]` (an array of messages), `c[code,"reason"]` (close). Pure decoding.
//!
//! Standard SockJS servers send each message of an `a` frame as a JSON *string*
//! (`a["{\"x\":1}"]`); Tradovate sends JSON objects (`a[{"e":"props",...}]`). Both are read.

use serde_json::value::RawValue;

/// One decoded SockJS frame.
#[derive(Debug, PartialEq)]
pub enum Frame<'a> {
    /// `o`: the session is open.
    Open,
    /// `h`: server heartbeat.
    Heartbeat,
    /// `a[...]`: messages.
    Messages(Vec<Item<'a>>),
    /// `c[code,"reason"]`: the server closes the session.
    Close {
        /// Close code.
        code: u16,
        /// Close reason.
        reason: String,
    },
}

/// One message of an `a` frame.
#[derive(Debug, PartialEq)]
pub enum Item<'a> {
    /// A JSON value other than a string (Tradovate's objects), as its raw text.
    Json(&'a str),
    /// A JSON string element (standard SockJS): its decoded content.
    Text(String),
}

/// Decodes one text frame.
///
/// ```
/// use tradewire::tradovate::sockjs::{decode, Frame, Item};
/// assert_eq!(decode("o").unwrap(), Frame::Open);
/// let Frame::Messages(items) = decode(r#"a[{"i":0,"s":200}]"#).unwrap() else { panic!() };
/// assert_eq!(items, [Item::Json(r#"{"i":0,"s":200}"#)]);
/// assert_eq!(decode(r#"c[3000,"Go away!"]"#).unwrap(), Frame::Close { code: 3000, reason: "Go away!".into() });
/// ```
pub fn decode(text: &str) -> Result<Frame<'_>, String> {
    match text.as_bytes().first() {
        Some(b'o') if text.len() == 1 => Ok(Frame::Open),
        Some(b'h') if text.len() == 1 => Ok(Frame::Heartbeat),
        Some(b'a') => {
            let items: Vec<&RawValue> = serde_json::from_str(&text[1..])
                .map_err(|e| format!("an `a` frame must carry a JSON array: {e}"))?;
            items
                .into_iter()
                .map(|raw| {
                    let t = raw.get();
                    if t.starts_with('"') {
                        serde_json::from_str::<String>(t)
                            .map(Item::Text)
                            .map_err(|e| format!("bad string message: {e}"))
                    } else {
                        Ok(Item::Json(t))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Frame::Messages)
        }
        Some(b'c') => {
            let (code, reason): (u32, String) = serde_json::from_str(&text[1..])
                .map_err(|e| format!("a `c` frame must be c[code,\"reason\"]: {e}"))?;
            let code =
                u16::try_from(code).map_err(|_| format!("close code {code} is out of range"))?;
            Ok(Frame::Close { code, reason })
        }
        _ => {
            let shown: String = text.chars().take(40).collect();
            Err(format!(
                "not a SockJS frame (expected o, h, a[...] or c[...]): {shown:?}"
            ))
        }
    }
}

/// Builds a request frame: `endpoint\n<id>\n\n<body>`.
pub fn request_frame(endpoint: &str, id: u64, body: Option<&str>) -> String {
    format!("{endpoint}\n{id}\n\n{}", body.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        assert_eq!(decode("h").unwrap(), Frame::Heartbeat);
        let Frame::Messages(items) = decode(r#"a["{\"e\":\"props\"}",{"i":3},5]"#).unwrap() else {
            panic!()
        };
        assert_eq!(
            items,
            [
                Item::Text(r#"{"e":"props"}"#.into()),
                Item::Json(r#"{"i":3}"#),
                Item::Json("5")
            ]
        );
        assert_eq!(decode("a[]").unwrap(), Frame::Messages(vec![]));
        for bad in [
            "",
            "x",
            "oo",
            "a",
            "a{",
            "a[1",
            "c[]",
            "c[1]",
            "c[70000,\"x\"]",
            "c[\"x\",1]",
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn request_frames() {
        assert_eq!(
            request_frame("authorize", 0, Some("tok")),
            "authorize\n0\n\ntok"
        );
        assert_eq!(
            request_frame("account/list", 5, None),
            "account/list\n5\n\n"
        );
    }
}
