//! Property tests of the decoders (run on stable by the test command; `scripts/fuzz.sh`
//! fuzzes the same functions with libFuzzer): no input makes them panic, and what they
//! return is consistent with the input.

use proptest::prelude::*;
use tradewire::envelope::{member, parse, AccountField, Pointer, Pointers};
use tradewire::tradovate::sockjs::{decode, Frame, Item};

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::json!(f)),
        ".{0,12}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn sockjs_decode_never_panics(s in ".{0,64}") {
        let _ = decode(&s);
    }

    #[test]
    fn sockjs_a_frames_round_trip(messages in prop::collection::vec(".{0,16}", 0..5)) {
        let frame = format!("a{}", serde_json::to_string(&messages).unwrap());
        let Frame::Messages(items) = decode(&frame).unwrap() else { panic!("not messages") };
        let back: Vec<String> = items.into_iter().map(|i| match i { Item::Text(t) => t, Item::Json(j) => j.to_string() }).collect();
        prop_assert_eq!(back, messages);
    }

    #[test]
    fn envelope_parse_never_panics(s in ".{0,64}") {
        if let Ok(env) = parse(&s, &Pointers::default()) {
            prop_assert!(s.get(env.data).is_some());
        }
    }

    #[test]
    fn envelope_reads_what_was_written(
        msg_type in "[A-Za-z_]{1,16}",
        account in prop_oneof![any::<i64>().prop_map(|n| serde_json::json!(n)), "[A-Z0-9-]{1,10}".prop_map(serde_json::Value::String)],
        data in json_value(),
        extra in json_value(),
    ) {
        let msg = serde_json::json!({"extra": extra, "type": msg_type, "account_id": account, "data": data});
        let text = msg.to_string();
        let env = parse(&text, &Pointers::default()).unwrap();
        prop_assert_eq!(env.msg_type.as_deref(), Some(msg_type.as_str()));
        let want = match &account { serde_json::Value::String(s) => s.clone(), other => other.to_string() };
        prop_assert_eq!(env.account, AccountField::Id(want.into()));
        // The payload is the exact text the writer produced for it.
        prop_assert_eq!(&text[env.data], data.to_string());
    }

    #[test]
    fn member_gives_each_value_of_an_object(
        obj in prop::collection::btree_map("[a-z_\"\\\\]{1,6}", json_value(), 0..6),
        pretty in any::<bool>(),
        probe in "[a-z_]{1,6}",
    ) {
        let value = serde_json::Value::Object(obj.clone().into_iter().collect());
        let text = if pretty { serde_json::to_string_pretty(&value).unwrap() } else { value.to_string() };
        for (k, v) in &obj {
            let raw = member(&text, k).unwrap();
            // Both sides through the same parse: serde_json's float reading is not exact.
            let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap();
            prop_assert_eq!(parse(raw), parse(&v.to_string()));
        }
        prop_assert_eq!(member(&text, &probe).is_some(), obj.contains_key(&probe));
    }

    #[test]
    fn nested_pointers_never_panic(s in ".{0,64}", a in "[a-z/~01]{0,12}") {
        if let Ok(p) = Pointer::parse(&format!("/{a}")) {
            let ptrs = Pointers { msg_type: p.clone(), account: p.clone(), data: p.clone(), time: p.clone(), sequence: p.clone(), sequence_key: p };
            if let Ok(env) = parse(&s, &ptrs) {
                if let Some(raw) = env.time {
                    let _ = tradewire::time::server_time(raw);
                }
            }
        }
    }

    #[test]
    fn a_server_time_is_read_or_none_never_a_panic(s in "\"?[-+.eE0-9:TZ é\\\\]{0,32}\"?") {
        let _ = tradewire::time::server_time(&s);
        let _ = tradewire::time::parse_iso8601(&s);
    }

    #[test]
    fn config_from_json_never_panics(s in ".{0,64}", v in json_value()) {
        if let Ok(c) = tradewire::Config::from_json(&s) { let _ = c.validate(); }
        if let Ok(c) = tradewire::Config::from_value(v) { let _ = c.validate(); }
    }
}
