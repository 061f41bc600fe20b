//! Tests of [`Message`]: where its fields are kept, and the account's JSON type.

use super::*;

#[test]
fn fields_are_ranges_of_the_frame_or_stored_after_it() {
    let frame = r#"{"type":"Trade","account_id":123,"data":{"px":1}}"#;
    let t = &frame[9..14];
    let a = &frame[29..32];
    let m = Message::text(frame, Some(t), Some(a), Some(40..48), SystemTime::now(), 3);
    assert_eq!(m.msg_type(), Some("Trade"));
    assert_eq!(m.account_id(), Some("123"));
    assert_eq!(m.data_json(), Some(r#"{"px":1}"#));
    assert_eq!(m.raw(), Some(frame));
    assert_eq!(m.raw_bytes(), frame.as_bytes());

    // Unescaped strings that are not in the frame are kept after it, out of raw().
    let frame = r#"{"type":"Tr\u0061de","account_id":"A\u0042"}"#;
    let m = Message::text(frame, Some("Trade"), Some("AB"), None, SystemTime::now(), 1);
    assert_eq!(m.msg_type(), Some("Trade"));
    assert_eq!(m.account_id(), Some("AB"));
    assert_eq!(m.raw(), Some(frame));
    assert_eq!(m.data_json(), None);
    let clone = m.clone();
    assert_eq!(clone.msg_type(), Some("Trade"));

    let b = Message::binary(Bytes::from_static(b"\x00\x01"), SystemTime::now(), 1);
    assert_eq!(b.account_value(), None);
    assert_eq!(
        (b.msg_type(), b.raw(), b.raw_bytes()),
        (None, None, &b"\x00\x01"[..])
    );
    assert!(format!("{m:?}").contains("Trade"));
}

fn parsed(frame: &str) -> Message {
    parsed_message(frame, SystemTime::now(), 1)
}

#[test]
fn the_account_keeps_its_json_type() {
    let cases = [
        (
            r#"{"type":"t","account_id":123}"#,
            Some(AccountValue::Integer("123")),
            Some("123"),
        ),
        (
            r#"{"account_id": -7 ,"type":"t"}"#,
            Some(AccountValue::Integer("-7")),
            Some("-7"),
        ),
        (
            r#"{"type":"t","account_id":123456789012345678901234567890}"#,
            Some(AccountValue::Integer("123456789012345678901234567890")),
            Some("123456789012345678901234567890"),
        ),
        (
            r#"{"type":"t","account_id":"123"}"#,
            Some(AccountValue::String("123")),
            Some(r#""123""#),
        ),
        (
            r#"{"account_id":"A-1","type":"t"}"#,
            Some(AccountValue::String("A-1")),
            Some(r#""A-1""#),
        ),
        // Escaped: unescaped after the frame, written again as JSON.
        (
            r#"{"type":"t","account_id":"A\u0042\"C"}"#,
            Some(AccountValue::String("AB\"C")),
            Some(r#""AB\"C""#),
        ),
        (
            r#"{"type":"T\u0041","account_id":"\u0031"}"#,
            Some(AccountValue::String("1")),
            Some(r#""1""#),
        ),
        (r#"{"type":"t","account_id":null}"#, None, None),
        (r#"{"type":"t","account_id":1.5}"#, None, None),
        (r#"{"type":"t"}"#, None, None),
    ];
    for (frame, value, json) in cases {
        let m = parsed(frame);
        assert_eq!(m.account_value(), value, "{frame}");
        assert_eq!(m.account_id_json().as_deref(), json, "{frame}");
        assert_eq!(m.account_id(), value.map(|v| v.as_str()), "{frame}");
        if let Some(json) = json {
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            let sent: serde_json::Value = serde_json::from_str(frame).unwrap();
            assert_eq!(v, sent["account_id"], "{frame}");
        }
    }
}

#[test]
fn a_text_that_is_not_json_can_be_its_own_data() {
    let frame = "say \"hi\"\n";
    let m = Message::text_as_data(frame, SystemTime::UNIX_EPOCH, 2);
    assert_eq!(m.raw(), Some(frame));
    assert_eq!(m.raw_bytes(), frame.as_bytes());
    assert_eq!(m.data_json(), Some(r#""say \"hi\"\n""#));
    assert_eq!(m.data::<String>().as_deref(), Some(frame));
    assert!(m.data_is_the_text() && !m.is_binary());
    assert_eq!((m.msg_type(), m.account_id(), m.epoch()), (None, None, 2));
    let v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
    assert_eq!(
        (&v["data"], &v["raw"]),
        (&v["raw"], &serde_json::json!(frame))
    );
    // A parsed message's data lies inside the frame.
    assert!(!parsed(r#"{"type":"t"}"#).data_is_the_text());
}

/// A message as the json dialect builds it from `frame`.
pub(crate) fn parsed_message(frame: &str, at: SystemTime, epoch: u64) -> Message {
    let env = crate::envelope::parse(frame, &Default::default()).unwrap();
    let account = match &env.account {
        crate::envelope::AccountField::Id(a) => Some(a.as_ref()),
        _ => None,
    };
    let t = env.msg_type.as_deref();
    Message::text(frame, t, account, Some(env.data), at, epoch)
}
