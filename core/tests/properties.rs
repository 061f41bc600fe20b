//! Property tests of the decoders (run on stable by the test command; `scripts/fuzz.sh`
//! fuzzes the same functions with libFuzzer): no input makes them panic, and what they
//! return is consistent with the input.

use proptest::prelude::*;
use tradewire::envelope::{member, parse, AccountField, Pointer, Pointers};
use tradewire::fuzzing::{read_messages, End, Limits, Msg};
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

    /// The account filter's shortcut never drops a message that the full parse would let
    /// through: members in any order and nesting, the account keys among them (as
    /// integers, strings, null, objects, repeated), checked against serde_json by the fuzz
    /// target's body.
    #[test]
    fn the_account_shortcut_drops_only_other_accounts(
        ours in prop::sample::select(vec!["", "123", "0", "-0", "7", "abc"]),
        members in prop::collection::vec(
            (
                prop_oneof![Just("account_id".to_string()), Just("a".to_string()), "[a-z_]{1,8}"],
                prop_oneof![
                    json_value().prop_map(|v| v.to_string()),
                    prop::sample::select(vec![
                        "123", "\"123\"", "0", "-0", "7", "\"7\"", "\"abc\"", "\"\"", "null",
                        "7.0", "{\"account_id\":7}", "[\"a\",7]", "\"1\\u00323\"", "\"\\u0037\"",
                    ])
                    .prop_map(str::to_string),
                ],
            ),
            0..6,
        ),
        spaced in any::<bool>(),
    ) {
        // Written by hand so that keys may repeat and values keep their order.
        let sep = if spaced { " " } else { "" };
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("{sep}{}{sep}:{sep}{v}", serde_json::Value::from(k.as_str())))
            .collect();
        let message = format!("{{{}{sep}}}", body.join(","));
        tradewire::fuzzing::account_prefilter(format!("{ours}\n{message}").as_bytes());
    }

    #[test]
    fn config_from_json_never_panics(s in ".{0,64}", v in json_value()) {
        if let Ok(c) = tradewire::Config::from_json(&s) { let _ = c.validate(); }
        if let Ok(c) = tradewire::Config::from_value(v) { let _ = c.validate(); }
    }
}

/// A server frame (unmasked), with the shortest length encoding (RFC 6455 §5.2).
fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | opcode];
    match payload.len() {
        n if n < 126 => f.push(n as u8),
        n if n <= 0xffff => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

/// One message as the test writes it: text or binary, cut into fragments at `cuts` (byte
/// positions, even inside a UTF-8 character), with a ping or pong after some fragments.
#[derive(Debug, Clone)]
struct Written {
    msg: Msg,
    cuts: Vec<usize>,
    controls: Vec<(usize, bool, Vec<u8>)>,
}

fn written() -> impl Strategy<Value = Written> {
    let data = prop_oneof![
        ".{0,40}".prop_map(Msg::Text),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Msg::Binary),
        // Lengths around the 16-bit encoding's limits, and past them (a 64-bit length).
        prop::sample::select(vec![125usize, 126, 127, 65_535, 65_536, 70_000])
            .prop_map(|n| Msg::Binary(vec![0x5a; n])),
    ];
    let control = (
        0usize..8,
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..=125),
    );
    (
        data,
        prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        prop::collection::vec(control, 0..3),
    )
        .prop_map(|(msg, cuts, controls)| {
            let len = match &msg {
                Msg::Text(t) => t.len(),
                Msg::Binary(b) => b.len(),
                _ => 0,
            };
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(len + 1)).collect();
            cuts.sort_unstable();
            Written {
                msg,
                cuts,
                controls,
            }
        })
}

impl Written {
    /// The frames of this message, and what the reader must give for them, in order (a
    /// control frame between fragments comes out before the message it interrupts).
    fn frames(&self, out: &mut Vec<u8>, want: &mut Vec<Msg>) {
        let (opcode, bytes) = match &self.msg {
            Msg::Text(t) => (1, t.as_bytes()),
            Msg::Binary(b) => (2, b.as_slice()),
            _ => unreachable!(),
        };
        let mut bounds = vec![0];
        bounds.extend(&self.cuts);
        bounds.push(bytes.len());
        let pieces = bounds.len() - 1;
        for i in 0..pieces {
            let last = i == pieces - 1;
            let op = if i == 0 { opcode } else { 0 };
            out.extend(server_frame(last, op, &bytes[bounds[i]..bounds[i + 1]]));
            if !last {
                for (_, ping, payload) in self.controls.iter().filter(|(at, _, _)| at % pieces == i)
                {
                    out.extend(server_frame(true, if *ping { 9 } else { 10 }, payload));
                    want.push(if *ping {
                        Msg::Ping(payload.clone())
                    } else {
                        Msg::Pong(payload.clone())
                    });
                }
            }
        }
        want.push(self.msg.clone());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any sequence of valid frames (text and binary, fragmented anywhere, pings and pongs
    /// between fragments, a close at the end or not), split into reads at any points (with
    /// reads that would block among them), reads back as the same messages.
    #[test]
    fn valid_frames_in_any_reads_give_the_messages_back(
        messages in prop::collection::vec(written(), 0..6),
        close in prop::option::of((1000u16..=1003, ".{0,20}")),
        pieces in prop::collection::vec(0usize..80, 1..6),
        chunk_shift in 0u32..7,
    ) {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for m in &messages {
            m.frames(&mut stream, &mut want);
        }
        let mut end = End::Eof;
        if let Some((code, reason)) = &close {
            let reason: String = reason.chars().take(30).collect();
            let mut payload = code.to_be_bytes().to_vec();
            payload.extend_from_slice(reason.as_bytes());
            payload.truncate(125);
            let reason = String::from_utf8_lossy(&payload[2..]).into_owned();
            if reason.len() + 2 == payload.len() {
                stream.extend(server_frame(true, 8, &payload));
                want.push(Msg::Close(Some((*code, reason))));
                end = End::Closed;
            }
        }
        let limits = Limits { chunk: 256 << chunk_shift, max_frame: 1 << 20, max_message: 1 << 20, deflate: None };
        let (got, got_end) = read_messages(&stream, &pieces, limits);
        prop_assert_eq!(got_end, end);
        prop_assert_eq!(got, want);
    }
}
