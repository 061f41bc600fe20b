//! Unit tests of envelope reading: the 002 envelope, pointers, errors, and proptests that the
//! scanner agrees with serde_json on valid, damaged and arbitrary text.

use super::*;

fn p() -> Pointers {
    Pointers::default()
}

#[test]
fn reads_the_002_envelope() {
    let t = r#"{"type":"daemon_status","account_id":null,"data":{"status":"RUNNING"}}"#;
    let e = parse(t, &p()).unwrap();
    assert_eq!(e.msg_type.as_deref(), Some("daemon_status"));
    assert_eq!(e.account, AccountField::Missing);
    assert_eq!(&t[e.data], r#"{"status":"RUNNING"}"#);
}

#[test]
fn string_and_escaped_accounts() {
    let e = parse(r#"{"account_id":"A\u0042C","type":"x"}"#, &p()).unwrap();
    assert_eq!(e.account, AccountField::Id("ABC".into()));
    let e = parse(r#"{"account_id":1.5}"#, &p()).unwrap();
    assert_eq!(e.account, AccountField::Other);
    let e = parse(r#"{"account_id":-7}"#, &p()).unwrap();
    assert_eq!(e.account, AccountField::Id("-7".into()));
}

#[test]
fn missing_data_means_whole_object_and_missing_type_is_reported() {
    let t = r#"{"type":"ping","timestamp":"2025-01-01T00:00:00Z"}"#;
    let e = parse(t, &p()).unwrap();
    assert_eq!(&t[e.data], t);
    let e = parse(r#"{"data":1}"#, &p()).unwrap();
    assert!(!e.has_type_field && e.msg_type.is_none());
    let e = parse(r#"{"type":5}"#, &p()).unwrap();
    assert!(e.has_type_field && e.msg_type.is_none());
}

#[test]
fn member_of_an_object() {
    let t = r#" {"a":1,"b":{"ts":2},"a":"last","e\u0073c":true} "#;
    assert_eq!(member(t, "a"), Some(r#""last""#));
    assert_eq!(member(t, "b"), Some(r#"{"ts":2}"#));
    assert_eq!(member(t, "ts"), None);
    // An escaped key sends the object to serde_json, which unescapes it.
    assert_eq!(member(t, "esc"), Some("true"));
    assert_eq!(member(r#"{"k\"q":5}"#, "k\"q"), Some("5"));
    assert_eq!(member("{}", "a"), None);
    assert_eq!(member("5", "a"), None);
    assert_eq!(member("\"text\"", "a"), None);
}

#[test]
fn nested_pointers() {
    let ptrs = Pointers {
        msg_type: Pointer::parse("/e").unwrap(),
        account: Pointer::parse("/d/entity/accountId").unwrap(),
        data: Pointer::parse("/d").unwrap(),
        time: Pointer::parse("/d/entity/timestamp").unwrap(),
        sequence: Pointer::parse("/d/entity/id").unwrap(),
        sequence_key: Pointer::parse("/d/entityType").unwrap(),
    };
    let t = r#"{"e":"props","d":{"entityType":"position","entity":{"id":1,"accountId":42}}}"#;
    let e = parse(t, &ptrs).unwrap();
    assert_eq!(e.msg_type.as_deref(), Some("props"));
    assert_eq!(e.account, AccountField::Id("42".into()));
    assert!(t[e.data].starts_with("{\"entityType\""));
    assert_eq!((e.sequence, e.sequence_key), (Some("1"), Some("\"position\"")));
    assert_eq!(
        Pointer::parse("/a~1b/c~0d").unwrap(),
        Pointer(vec!["a/b".into(), "c~d".into()])
    );
    assert!(Pointer::parse("nope").is_err());
}

#[test]
fn errors() {
    assert!(matches!(
        parse("not json", &p()),
        Err(EnvelopeError::InvalidJson(_))
    ));
    assert!(matches!(
        parse("{\"type\":", &p()),
        Err(EnvelopeError::InvalidJson(_))
    ));
    assert!(matches!(
        parse("{} trailing", &p()),
        Err(EnvelopeError::InvalidJson(_))
    ));
    assert_eq!(parse("[1,2]", &p()), Err(EnvelopeError::NotAnObject));
    assert_eq!(parse("  42", &p()), Err(EnvelopeError::NotAnObject));
    assert!(matches!(
        parse("", &p()),
        Err(EnvelopeError::InvalidJson(_))
    ));
}

/// The three values as byte ranges of the text.
type Ranges = Vec<Option<Range<usize>>>;

/// The scanner's answer as byte ranges (or `None`), and serde_json's.
fn both(text: &str, p: &Pointers) -> (Option<Ranges>, Result<Ranges, String>) {
    let fast =
        scan::lookup(text, p.all_with_sequence()).map(|f| f.iter().map(|v| v.map(|v| span_of(text, v))).collect());
    let slow = lookup(text, p.all_with_sequence())
        .map(|f| {
            f.iter()
                .map(|v| v.map(|v| span_of(text, v.get())))
                .collect()
        })
        .map_err(|e| e.to_string());
    (fast, slow)
}

fn pointer_sets() -> Vec<Pointers> {
    vec![
        p(),
        Pointers {
            msg_type: Pointer::parse("/e").unwrap(),
            account: Pointer::parse("/d/entity/accountId").unwrap(),
            data: Pointer::parse("/d").unwrap(),
            time: Pointer::parse("/d/ts").unwrap(),
            sequence: Pointer::parse("/seq").unwrap(),
            sequence_key: Pointer::parse("/d/ch").unwrap(),
        },
        Pointers {
            msg_type: Pointer::parse("/d/type").unwrap(),
            account: Pointer::parse("/d/account_id").unwrap(),
            data: Pointer::parse("").unwrap(),
            time: Pointer::parse("/e").unwrap(),
            sequence: Pointer::default(),
            sequence_key: Pointer::default(),
        },
    ]
}

/// Whenever the scanner answers, serde_json accepts the text and finds the same values.
fn agrees(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
    for p in pointer_sets() {
        if let (Some(fast), slow) = both(text, &p) {
            proptest::prop_assert_eq!(Ok(fast), slow, "{}", text);
        }
    }
    Ok(())
}

#[test]
fn the_scanner_reads_ordinary_messages_itself() {
    let texts = [
        r#"{"type":"MarketQuote","account_id":123,"data":{"bid":21000.25,"ask":-1.5e-3,"x":[1,true,null,{}],"s":"a\"b\u00e9"}}"#,
        r#" { "type" : "x" , "account_id" : "A-1" , "data" : [ ] , "type" : "y" } "#,
        r#"{"data":{"type":"nested"},"account_id":null}"#,
        r#"{"e":"props","d":{"entityType":"position","entity":{"id":1,"accountId":42}}}"#,
    ];
    for t in texts {
        for p in pointer_sets() {
            let (fast, slow) = both(t, &p);
            assert_eq!(Ok(fast.expect(t)), slow, "{t}");
        }
    }
    // Left to serde_json: escaped keys, invalid JSON, trailing text, deep nesting.
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(70), "]".repeat(70));
    for t in [
        r#"{"typ\u0065":"x"}"#,
        r#"{"a":01}"#,
        r#"{"a":1} x"#,
        r#"{"a":"\x"}"#,
        "{\"a\":\"\u{1}\"}",
        &deep,
    ] {
        assert!(scan::lookup(t, p().all()).is_none(), "{t}");
    }
    assert!(parse(&deep, &p()).is_ok());
}

fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::json!(f)),
        "(.|[\"\\\\\u{0}-\u{1f}]){0,8}".prop_map(serde_json::Value::String),
    ];
    let value = leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::vec(
                (
                    "(type|account_id|data|d|e|entity|accountId|[a-z]{1,3})",
                    inner
                ),
                0..5
            )
            .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    });
    prop::collection::vec(("(type|account_id|data|d|e|[a-z\"\\\\]{1,3})", value), 0..6)
        .prop_map(|kv| {
            let body: Vec<String> = kv
                .iter()
                .map(|(k, v)| format!("{}:{}", serde_json::Value::from(k.as_str()), v))
                .collect();
            format!("{{{}}}", body.join(","))
        })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

    #[test]
    fn the_scanner_agrees_with_serde_json_on_valid_json(text in json_text()) {
        agrees(&text)?;
        // Valid JSON is the scanner's own unless a key is escaped (only top-level keys
        // are generated with quotes and backslashes).
        for p in pointer_sets() {
            proptest::prop_assert!(scan::lookup(&text, p.all_with_sequence()).is_some() || text.contains('\\'), "{}", text);
        }
    }

    #[test]
    fn the_scanner_agrees_with_serde_json_on_damaged_json(
        text in json_text(),
        edits in proptest::collection::vec((0usize..400, 0usize..3, "[{}\\[\\]\":,\\\\ \t\n\u{0}\u{1f}0-9eE.+\\-tfnulrx/é]"), 1..4),
    ) {
        let mut chars: Vec<char> = text.chars().collect();
        for (at, op, c) in edits {
            let at = at % (chars.len() + 1);
            let c = c.chars().next().unwrap_or(' ');
            match op {
                0 => chars.insert(at, c),
                1 if at < chars.len() => { chars.remove(at); }
                _ if at < chars.len() => chars[at] = c,
                _ => chars.push(c),
            }
        }
        let damaged: String = chars.into_iter().collect();
        agrees(&damaged)?;
    }

    #[test]
    fn the_scanner_agrees_with_serde_json_on_scalars(v in "[-+.eE0-9]{1,6}|[tfnrulase]{1,6}|\"[a-z\\\\u0-9A-F\"]{0,8}\"?") {
        agrees(&format!(r#"{{"type":{v},"data":[{v}],"account_id":{v}}}"#))?;
    }

    #[test]
    fn the_scanner_agrees_with_serde_json_on_any_text(text in "[{}\\[\\]\":,\\\\ 0-9a-z.+\\-é\u{0}\u{7f}]{0,40}") {
        agrees(&text)?;
        agrees(&format!("{{{text}"))?;
    }
}

#[test]
fn any_depth_is_read_without_recursion() {
    // Far beyond serde_json's recursion limit (128) and deep enough to overflow a
    // thread's stack if anything recursed per level: the scanner leaves such messages
    // to serde_json, whose raw-value skipping is iterative.
    let objects = |n: usize| format!("{}0{}", r#"{"a":"#.repeat(n), "}".repeat(n));
    for n in [61, 129, 1_000, 200_000] {
        let arrays = format!("{}{}", "[".repeat(n), "]".repeat(n));
        for inner in [arrays.clone(), objects(n)] {
            let text = format!(r#"{{"type":"deep","account_id":7,"data":{inner}}}"#);
            let e = parse(&text, &p()).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!(&text[e.data], inner, "{n}");
            assert_eq!(e.account, AccountField::Id("7".into()));
            assert_eq!(member(&text, "data"), Some(inner.as_str()));
            // With an escaped key too (serde_json reads the whole message).
            let text = format!(r#"{{"typ\u0065":"deep","data":{inner}}}"#);
            let e = parse(&text, &p()).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!(&text[e.data], inner, "{n}");
        }
        // Not an object at the top: valid JSON all the same (the 004 form's `data`).
        assert_eq!(parse(&arrays, &p()), Err(EnvelopeError::NotAnObject), "{n}");
        // Broken at the bottom: invalid JSON.
        let broken = format!("{}{}", "[".repeat(n), "]".repeat(n - 1));
        assert!(
            matches!(parse(&broken, &p()), Err(EnvelopeError::InvalidJson(_))),
            "{n}"
        );
    }
}

#[test]
fn nan_and_infinity_are_read_as_json_loads_reads_them_and_kept_as_sent() {
    let t = r#"{"type":"t","account_id":7,"data":{"px":[NaN, -Infinity, Infinity],"s":"NaN"}}"#;
    let e = parse(t, &p()).unwrap();
    assert_eq!(e.msg_type.as_deref(), Some("t"));
    assert_eq!(e.account, AccountField::Id("7".into()));
    assert_eq!(&t[e.data], r#"{"px":[NaN, -Infinity, Infinity],"s":"NaN"}"#);
    let t = "{\n \"type\": \"t\",\n \"data\": Infinity\n}";
    assert_eq!(&t[parse(t, &p()).unwrap().data], "Infinity");
    // Not an object, masked or not.
    assert_eq!(parse("[NaN]", &p()), Err(EnvelopeError::NotAnObject));
    // What json.loads refuses stays refused, with serde_json's reason.
    for bad in [
        r#"{"type":"t","data":-NaN}"#,
        r#"{"type":"t","data":+Infinity}"#,
        r#"{"type":"t","data":nan}"#,
        r#"{"type":"t","data":NaNa}"#,
        // Found by fuzzing: glued to digits, a token masked by a number made a number.
        r#"{"type":"t","data":5NaN}"#,
        r#"{"type":"t","data":NaN1}"#,
        r#"{"type":"t","data":1Infinity}"#,
        r#"{"type":"t","data":Infinity5}"#,
        r#"{"type":"t","data":[1,-Infinity2]}"#,
    ] {
        match parse(bad, &p()) {
            Err(EnvelopeError::InvalidJson(why)) => assert!(why.contains("line 1"), "{why}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert_eq!(mask_non_finite(r#"[1,"NaN"]"#), None);
    assert_eq!(
        mask_non_finite(r#"[NaN,"\"NaN",-Infinity]"#).as_deref(),
        Some(r#"[0.0,"\"NaN",-0.000000]"#)
    );
}

#[test]
fn the_time_is_read_in_the_same_pass_only_when_pointed_at() {
    let t = r#"{"type":"SIGNAL","ts":1737125115123,"data":{"ts":"inner"}}"#;
    assert_eq!(parse(t, &p()).unwrap().time, None, "no time pointer");
    let with_ts = Pointers {
        time: Pointer::parse("/ts").unwrap(),
        ..p()
    };
    let e = parse(t, &with_ts).unwrap();
    assert_eq!(e.time, Some("1737125115123"));
    assert_eq!(&t[e.data], r#"{"ts":"inner"}"#);
    let nested = Pointers {
        time: Pointer::parse("/data/ts").unwrap(),
        ..p()
    };
    assert_eq!(parse(t, &nested).unwrap().time, Some(r#""inner""#));
    // Through serde_json (an escaped key) the same.
    let t = r#"{"typ\u0065":"x","ts":"2025-01-17T14:45:15Z"}"#;
    assert_eq!(
        parse(t, &with_ts).unwrap().time,
        Some(r#""2025-01-17T14:45:15Z""#)
    );
}

#[test]
fn duplicate_keys_last_wins() {
    let e = parse(r#"{"type":"a","type":"b"}"#, &p()).unwrap();
    assert_eq!(e.msg_type.as_deref(), Some("b"));
}

#[test]
fn the_sequence_number_is_found_with_and_without_a_time_pointer() {
    // Without `time` and `sequence_key`, the number takes the time pointer's slot in the
    // scan (four pointers, not five); the envelope must not tell the difference.
    let t = r#"{"seq":7,"type":"fill","account_id":1,"ts":99,"data":{}}"#;
    let mut p = Pointers {
        sequence: Pointer::parse("/seq").unwrap(),
        ..Pointers::default()
    };
    let e = parse(t, &p).unwrap();
    assert_eq!((e.sequence, e.time, e.sequence_key), (Some("7"), None, None));
    p.time = Pointer::parse("/ts").unwrap();
    let e = parse(t, &p).unwrap();
    assert_eq!((e.sequence, e.time, e.sequence_key), (Some("7"), Some("99"), None));
    p.sequence_key = Pointer::parse("/type").unwrap();
    let e = parse(t, &p).unwrap();
    assert_eq!(e.sequence_key, Some("\"fill\""));
}

/// Found by the differential fuzz target `json_envelope_vs_serde`
/// (`fuzz/regressions/json_envelope_vs_serde/found-085da896e9ce`): `member` found nothing in
/// a payload holding `NaN` or `Infinity`, a payload `parse` reads (so `data_member` and the
/// request id of such a response were missing).
#[test]
fn a_member_of_a_payload_with_nan_or_infinity_is_found_as_sent() {
    let data = "{\"px\":NaN,\"qty\":2,\"lo\":-Infinity,\"hi\": Infinity }";
    assert_eq!(member(data, "qty"), Some("2"));
    assert_eq!(member(data, "px"), Some("NaN"));
    assert_eq!(member(data, "lo"), Some("-Infinity"));
    assert_eq!(member(data, "hi"), Some("Infinity"));
    assert_eq!(member(data, "nope"), None);
    // What json.loads refuses stays unread.
    assert_eq!(member(r#"{"px":-NaN,"qty":2}"#, "qty"), None);
    assert_eq!(member(r#"{"px":5NaN,"qty":2}"#, "qty"), None);
}

/// Found by `json_envelope_vs_serde` (`fuzz/regressions/json_envelope_vs_serde/found-08879a2e155b`):
/// a lone surrogate escape in a key (which `json.loads` reads) was refused when a pointer
/// went through that object (serde_json decoded the key into a `str`) and read when none did
/// (the key was skipped): whether a message was refused depended on the pointers.
#[test]
fn a_lone_surrogate_escape_in_a_key_is_read_whatever_the_pointers() {
    let t = r#"{"type":"t","\ud800":1,"data":{"\udc00x":2,"ts":3},"account_id":"\ud83d"}"#;
    let nested = Pointers {
        time: Pointer::parse("/data/ts").unwrap(),
        ..p()
    };
    for ptrs in [p(), nested.clone()] {
        let e = parse(t, &ptrs).unwrap();
        assert_eq!(e.msg_type.as_deref(), Some("t"));
        assert_eq!(&t[e.data], r#"{"\udc00x":2,"ts":3}"#);
    }
    assert_eq!(parse(t, &nested).unwrap().time, Some("3"));
    assert_eq!(member(r#"{"\ud800":1,"ts":3}"#, "ts"), Some("3"));
    // A raw control character in a key is still refused, escaped key or not.
    for bad in ["{\"\\u00e9\u{1}\":1}", "{\"a\":{\"\\ud800\u{1}\":1}}"] {
        assert!(matches!(parse(bad, &nested), Err(EnvelopeError::InvalidJson(_))), "{bad:?}");
    }
}
