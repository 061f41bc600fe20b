//! One event as one Redis Stream entry: its stable key, its fields, and the `XADD` command
//! that appends it, written straight into the batch's RESP buffer. Pure.
//!
//! Fields, in order (absent ones left out):
//!
//! | field | value |
//! |---|---|
//! | `key` | `<instance>:<connection>:<epoch>:<seq>`, the same on every re-send |
//! | `kind` | `message`, `connected`, `disconnected`, `gap`, `lagged`, `gave_up`, ... |
//! | `type` | the message's type (messages only, when it has one) |
//! | `account_id` | the message's account (messages only, when it has one) |
//! | `epoch` | the WebSocket connection number (1, 2, ...; 0 before the first) |
//! | `seq` | the entry's number within its epoch, from 1 |
//! | `received_at` | when the frame was read (messages), ISO-8601 UTC with microseconds |
//! | `server_time` | the message's own timestamp, where known (`time_pointer`) |
//! | `data` | the event's JSON projection, the line `listen` prints: a message's payload is its `data` member, non-JSON text its `raw`; lifecycle events carry their reason, code, ... |

use tradewire::Event;

/// Numbers entries: the epoch is the WebSocket connection's, the sequence counts from 1
/// within it. Events that carry no epoch (reconnecting, lagged, gave_up, ...) belong to the
/// last epoch seen (0 before the first connection).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Keyer {
    epoch: u64,
    seq: u64,
}

impl Keyer {
    /// The `(epoch, seq)` of the next event.
    pub fn next(&mut self, event: &Event) -> (u64, u64) {
        if let Some(e) = event.epoch() {
            if e != self.epoch {
                self.epoch = e;
                self.seq = 0;
            }
        }
        self.seq += 1;
        (self.epoch, self.seq)
    }
}

/// Buffers reused from entry to entry (no allocation per event once they have grown).
#[derive(Debug, Default)]
pub struct Scratch {
    json: String,
    key: String,
    time: String,
    /// The time `time` holds: the messages of one socket read share their `received_at`,
    /// so it is formatted once for all of them.
    time_of: Option<std::time::SystemTime>,
    server_time: String,
}

/// Where an entry goes and how it is trimmed.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The stream's name.
    pub stream: &'a str,
    /// `MAXLEN ~ N`: approximate trimming.
    pub maxlen: Option<u64>,
}

/// What identifies an entry.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    /// The bridge instance's id.
    pub instance: &'a str,
    /// The connection's number in the bridge (1 without `--config` lists).
    pub connection: usize,
    /// From [`Keyer::next`].
    pub epoch: u64,
    /// From [`Keyer::next`].
    pub seq: u64,
}

/// Prepares the fields of `event` in `scratch` (the JSON projection is written once, even
/// when the entry goes to several streams).
pub fn prepare(scratch: &mut Scratch, event: &Event, key: Key<'_>) {
    scratch.json.clear();
    event.write_json(&mut scratch.json);
    // `<instance>:<connection>:<epoch>:<seq>`, without the formatting machinery (once per
    // event on the bridge's hot path).
    let k = &mut scratch.key;
    k.clear();
    k.push_str(key.instance);
    for n in [key.connection as u64, key.epoch, key.seq] {
        k.push(':');
        let mut digits = [0u8; 20];
        let start = decimal(&mut digits, n);
        // Digits are ASCII.
        k.push_str(std::str::from_utf8(&digits[start..]).unwrap_or_default());
    }
    scratch.server_time.clear();
    if let Event::Message(m) = event {
        let at = m.received_at();
        if scratch.time_of != Some(at) {
            scratch.time.clear();
            tradewire::push_timestamp(&mut scratch.time, at);
            scratch.time_of = Some(at);
        }
        if let Some(t) = m.server_time() {
            tradewire::push_timestamp(&mut scratch.server_time, t);
        }
    }
}

/// Appends `XADD <stream> [MAXLEN ~ N] * <fields>` for `event` (its fields prepared in
/// `scratch` by [`prepare`]) to `buf`, as RESP.
pub fn write_xadd(buf: &mut Vec<u8>, to: Target<'_>, event: &Event, key: Key<'_>, s: &Scratch) {
    let (ty, account, time) = match event {
        Event::Message(m) => (m.msg_type(), m.account_id(), s.time.as_str()),
        _ => (None, None, ""),
    };
    let optional = [
        ("type", ty.unwrap_or_default()),
        ("account_id", account.unwrap_or_default()),
        ("received_at", time),
        ("server_time", s.server_time.as_str()),
    ];
    let present = optional.iter().filter(|(_, v)| !v.is_empty()).count();
    // key, kind, epoch, seq, event + the optional ones, each a name and a value.
    let fields = 5 + present;
    let trim = if to.maxlen.is_some() { 3 } else { 0 };
    array(buf, 3 + trim + 2 * fields);
    bulk(buf, b"XADD");
    bulk(buf, to.stream.as_bytes());
    if let Some(n) = to.maxlen {
        bulk(buf, b"MAXLEN");
        bulk(buf, b"~");
        bulk_u64(buf, n);
    }
    bulk(buf, b"*");
    bulk(buf, b"key");
    bulk(buf, s.key.as_bytes());
    bulk(buf, b"kind");
    bulk(buf, event.kind().as_bytes());
    for (name, value) in optional.iter().take(2) {
        if !value.is_empty() {
            bulk(buf, name.as_bytes());
            bulk(buf, value.as_bytes());
        }
    }
    bulk(buf, b"epoch");
    bulk_u64(buf, key.epoch);
    bulk(buf, b"seq");
    bulk_u64(buf, key.seq);
    for (name, value) in optional.iter().skip(2) {
        if !value.is_empty() {
            bulk(buf, name.as_bytes());
            bulk(buf, value.as_bytes());
        }
    }
    bulk(buf, b"data");
    bulk(buf, s.json.as_bytes());
}

/// `*<n>\r\n`
fn array(buf: &mut Vec<u8>, n: usize) {
    buf.push(b'*');
    push_decimal(buf, n as u64);
    buf.extend_from_slice(b"\r\n");
}

/// `$<len>\r\n<bytes>\r\n`
fn bulk(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.push(b'$');
    push_decimal(buf, bytes.len() as u64);
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(bytes);
    buf.extend_from_slice(b"\r\n");
}

/// A number as a bulk string.
fn bulk_u64(buf: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let start = decimal(&mut digits, n);
    bulk(buf, &digits[start..]);
}

fn push_decimal(buf: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let start = decimal(&mut digits, n);
    buf.extend_from_slice(&digits[start..]);
}

/// Writes `n`'s digits at the end of `out`; returns where they start.
fn decimal(out: &mut [u8; 20], mut n: u64) -> usize {
    let mut i = out.len();
    loop {
        i -= 1;
        out[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return i;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connected(epoch: u64) -> Event {
        Event::Connected {
            epoch,
            url: "ws://h".into(),
        }
    }

    #[test]
    fn sequence_restarts_with_each_epoch() {
        let mut k = Keyer::default();
        let lagged = Event::Lagged { dropped: 1 };
        assert_eq!(k.next(&lagged), (0, 1));
        assert_eq!(k.next(&connected(1)), (1, 1));
        assert_eq!(k.next(&lagged), (1, 2));
        let gone = Event::Disconnected {
            epoch: 1,
            code: Some(1006),
            reason: "r".into(),
            error: None,
            by_client: false,
        };
        assert_eq!(k.next(&gone), (1, 3));
        let again = Event::Reconnecting {
            attempt: 1,
            delay: std::time::Duration::ZERO,
            reason: "r".into(),
        };
        assert_eq!(k.next(&again), (1, 4));
        assert_eq!(k.next(&connected(2)), (2, 1));
    }

    /// The RESP array back as its strings.
    fn decode(mut b: &[u8]) -> Vec<String> {
        fn line<'a>(b: &mut &'a [u8]) -> &'a [u8] {
            let end = b.windows(2).position(|w| w == b"\r\n").unwrap();
            let l = &b[..end];
            *b = &b[end + 2..];
            l
        }
        let head = line(&mut b);
        assert_eq!(head[0], b'*');
        let n: usize = std::str::from_utf8(&head[1..]).unwrap().parse().unwrap();
        let mut out = Vec::new();
        for _ in 0..n {
            let h = line(&mut b);
            assert_eq!(h[0], b'$');
            let len: usize = std::str::from_utf8(&h[1..]).unwrap().parse().unwrap();
            out.push(String::from_utf8(b[..len].to_vec()).unwrap());
            assert_eq!(&b[len..len + 2], b"\r\n");
            b = &b[len + 2..];
        }
        assert!(b.is_empty(), "trailing bytes");
        out
    }

    #[test]
    fn a_lifecycle_entry() {
        let ev = connected(7);
        let key = Key {
            instance: "i1",
            connection: 2,
            epoch: 7,
            seq: 1,
        };
        let mut s = Scratch::default();
        prepare(&mut s, &ev, key);
        let mut buf = Vec::new();
        let to = Target {
            stream: "tw",
            maxlen: Some(100_000),
        };
        write_xadd(&mut buf, to, &ev, key, &s);
        assert_eq!(
            decode(&buf),
            [
                "XADD",
                "tw",
                "MAXLEN",
                "~",
                "100000",
                "*",
                "key",
                "i1:2:7:1",
                "kind",
                "connected",
                "epoch",
                "7",
                "seq",
                "1",
                "data",
                r#"{"kind":"connected","epoch":7,"url":"ws://h","is_connected":true}"#
            ]
        );
    }

    #[test]
    fn numbers() {
        for n in [0u64, 7, 10, 99, 100, 123_456, u64::MAX] {
            let mut b = Vec::new();
            push_decimal(&mut b, n);
            assert_eq!(b, n.to_string().as_bytes());
        }
    }
}
