//! Kinds of events, and sets of them: what a listener asks for ([`Client::on`]).
//!
//! A kind's name is the one [`Event::kind`] gives (`message`, `connected`, ...); `*` names
//! every kind. A set is a bit mask, so the C binding passes it as one integer (bit `n` is
//! the `n`-th kind of [`Kind::ALL`]).
//!
//! [`Client::on`]: crate::Client::on

use std::fmt;
use std::ops::BitOr;

use crate::error::{Error, Result};
use crate::event::Event;

/// The kind of an [`Event`], as a value (its name is [`Event::kind`]'s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// [`Event::Message`]: a message from the server.
    Message,
    /// [`Event::Connected`]: a connection was established.
    Connected,
    /// [`Event::Authenticated`]: the server accepted the credentials.
    Authenticated,
    /// [`Event::Disconnected`]: a connection ended.
    Disconnected,
    /// [`Event::Reconnecting`]: the client will try again.
    Reconnecting,
    /// [`Event::GaveUp`]: the client stopped trying.
    GaveUp,
    /// [`Event::Error`]: bad input or a failure that did not end the stream.
    Error,
    /// [`Event::Lagged`]: events were dropped by the overflow policy.
    Lagged,
    /// [`Event::Response`]: a response nobody waits for.
    Response,
    /// [`Event::Lagging`]: a lag crossed `lag_warning`.
    Lagging,
    /// [`Event::CaughtUp`]: a lag fell below half of `lag_warning` again.
    CaughtUp,
    /// [`Event::Gap`]: the feed skipped sequence numbers.
    Gap,
}

impl Kind {
    /// Every kind, in bit order (bit `n` of a [`KindSet`] is `ALL[n]`).
    pub const ALL: [Kind; 12] = [
        Kind::Message,
        Kind::Connected,
        Kind::Authenticated,
        Kind::Disconnected,
        Kind::Reconnecting,
        Kind::GaveUp,
        Kind::Error,
        Kind::Lagged,
        Kind::Response,
        Kind::Lagging,
        Kind::CaughtUp,
        Kind::Gap,
    ];

    /// The kind of `event`.
    pub fn of(event: &Event) -> Kind {
        match event {
            Event::Message(_) => Kind::Message,
            Event::Connected { .. } => Kind::Connected,
            Event::Authenticated { .. } => Kind::Authenticated,
            Event::Disconnected { .. } => Kind::Disconnected,
            Event::Reconnecting { .. } => Kind::Reconnecting,
            Event::GaveUp { .. } => Kind::GaveUp,
            Event::Error(_) => Kind::Error,
            Event::Lagged { .. } => Kind::Lagged,
            Event::Response { .. } => Kind::Response,
            Event::Lagging { .. } => Kind::Lagging,
            Event::CaughtUp { .. } => Kind::CaughtUp,
            Event::Gap { .. } => Kind::Gap,
        }
    }

    /// The kind's name, as [`Event::kind`] gives it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Message => "message",
            Kind::Connected => "connected",
            Kind::Authenticated => "authenticated",
            Kind::Disconnected => "disconnected",
            Kind::Reconnecting => "reconnecting",
            Kind::GaveUp => "gave_up",
            Kind::Error => "error",
            Kind::Lagged => "lagged",
            Kind::Response => "response",
            Kind::Lagging => "lagging",
            Kind::CaughtUp => "caught_up",
            Kind::Gap => "gap",
        }
    }

    /// The kind named `name` (exactly as [`Kind::name`] writes it).
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind's bit in a [`KindSet`].
    pub const fn bit(self) -> u32 {
        1 << self as u32
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`Kind`]s: the events a listener is called for.
///
/// ```
/// use tradewire::{Kind, KindSet};
///
/// let lifecycle = KindSet::from(Kind::Connected) | Kind::Disconnected;
/// assert!(lifecycle.contains(Kind::Connected) && !lifecycle.contains(Kind::Message));
/// assert_eq!(KindSet::parse(["*"])?, KindSet::ALL);
/// assert_eq!(KindSet::parse(["connected", "disconnected"])?, lifecycle);
/// # Ok::<(), tradewire::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KindSet(u32);

impl KindSet {
    /// No kind.
    pub const EMPTY: KindSet = KindSet(0);
    /// Every kind (`"*"`).
    pub const ALL: KindSet = KindSet((1 << Kind::ALL.len()) - 1);
    /// Document 004's `connection-change`: `connected` and `disconnected` (see
    /// [`Event::is_connected`]). Named `connection_change` (or `connection-change`).
    pub const CONNECTION_CHANGE: KindSet =
        KindSet(Kind::Connected.bit() | Kind::Disconnected.bit());

    /// The set as a bit mask (bit `n` is `Kind::ALL[n]`).
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The set a bit mask stands for; `None` if it has a bit that names no kind.
    pub const fn from_bits(bits: u32) -> Option<KindSet> {
        if bits & !KindSet::ALL.0 == 0 {
            Some(KindSet(bits))
        } else {
            None
        }
    }

    /// Whether `kind` is in the set.
    pub const fn contains(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// Whether the set has no kind.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kinds in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(move |k| self.contains(*k))
    }

    /// The set of the kinds named (`"*"` or `"activity"`: every kind; `"connection_change"`
    /// or `"connection-change"`: [`KindSet::CONNECTION_CHANGE`]). An unknown name is a
    /// `Usage` error that lists the names there are.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<KindSet> {
        let mut set = KindSet::EMPTY;
        for name in names {
            set = set | kind_set_of_name(name)?;
        }
        Ok(set)
    }
}

/// The set one name stands for: a kind, `*` (or document 004's `activity`, "fired after
/// any other event") for all, or `connection_change` (004's `connection-change`) for
/// `connected` and `disconnected`.
fn kind_set_of_name(name: &str) -> Result<KindSet> {
    match name {
        "*" | "activity" => return Ok(KindSet::ALL),
        "connection_change" | "connection-change" => return Ok(KindSet::CONNECTION_CHANGE),
        _ => {}
    }
    if let Some(kind) = Kind::from_name(name) {
        return Ok(kind.into());
    }
    // The WebSocket API's names (004's addEventListener, websocket-client's on_open and
    // on_close) are the usual mistake: say which name to use.
    let hint = match name {
        "open" => " (the WebSocket API's 'open' is 'connected' here)",
        "close" => " (the WebSocket API's 'close' is 'disconnected' here)",
        _ => "",
    };
    let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
    Err(Error::usage(format!(
        "{name:?} is not a kind of event{hint}; use one of {}, \"connection_change\" (connected and disconnected), or \"*\" for all",
        names.join(", ")
    )))
}

impl From<Kind> for KindSet {
    fn from(kind: Kind) -> KindSet {
        KindSet(kind.bit())
    }
}

impl From<&[Kind]> for KindSet {
    fn from(kinds: &[Kind]) -> KindSet {
        kinds.iter().copied().collect()
    }
}

impl<const N: usize> From<[Kind; N]> for KindSet {
    fn from(kinds: [Kind; N]) -> KindSet {
        kinds.into_iter().collect()
    }
}

impl FromIterator<Kind> for KindSet {
    fn from_iter<I: IntoIterator<Item = Kind>>(kinds: I) -> KindSet {
        KindSet(kinds.into_iter().fold(0, |bits, k| bits | k.bit()))
    }
}

impl<T: Into<KindSet>> BitOr<T> for KindSet {
    type Output = KindSet;
    fn bitor(self, other: T) -> KindSet {
        KindSet(self.0 | other.into().0)
    }
}

impl fmt::Debug for KindSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == KindSet::ALL {
            return f.write_str("KindSet(*)");
        }
        f.debug_set().entries(self.iter().map(Kind::name)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message of a usage error (panics on anything else).
    fn usage_message<T: std::fmt::Debug>(r: crate::error::Result<T>) -> String {
        match r {
            Err(e) if e.kind() == crate::ErrorCategory::Usage => e.to_string(),
            other => panic!("expected a usage error, got {other:?}"),
        }
    }
    use std::time::{Duration, SystemTime};

    fn one_of_each() -> Vec<Event> {
        vec![
            Event::Message(crate::event::Message::text(
                "{}",
                None,
                None,
                None,
                SystemTime::now(),
                1,
            )),
            Event::Connected {
                epoch: 1,
                url: "ws://h".into(),
            },
            Event::Authenticated { epoch: 1 },
            Event::Disconnected {
                epoch: 1,
                code: Some(1000),
                reason: String::new(),
                error: None,
                by_client: false,
            },
            Event::Reconnecting {
                attempt: 1,
                delay: Duration::ZERO,
                reason: String::new(),
            },
            Event::GaveUp {
                reason: String::new(),
            },
            Event::Error(crate::event::ErrorEvent::new(
                crate::event::ErrorKind::Protocol,
                "x",
                None,
                1,
            )),
            Event::Lagged { dropped: 1 },
            Event::Response {
                id: 1,
                status: 200,
                data: None,
            },
            Event::Lagging {
                lag: crate::Lag::Feed,
                seconds: 3.0,
            },
            Event::CaughtUp {
                lag: crate::Lag::Feed,
                seconds: 0.1,
            },
            Event::Gap {
                key: None,
                expected: 3,
                received: 5,
                missing: 2,
                epoch: 1,
            },
        ]
    }

    #[test]
    fn a_kind_is_named_as_the_event_names_itself() {
        let events = one_of_each();
        assert_eq!(events.len(), Kind::ALL.len());
        for (event, kind) in events.iter().zip(Kind::ALL) {
            assert_eq!(Kind::of(event), kind);
            assert_eq!(kind.name(), event.kind());
            assert_eq!(Kind::from_name(event.kind()), Some(kind));
        }
    }

    #[test]
    fn bits_follow_the_order_of_all_and_round_trip() {
        for (n, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind.bit(), 1 << n);
            assert_eq!(KindSet::from_bits(1 << n), Some(kind.into()));
        }
        assert_eq!(KindSet::ALL.bits(), 0xfff);
        // The bits of the first nine kinds never change (C programs carry them as numbers).
        assert_eq!(Kind::Response.bit(), 0x100);
        assert_eq!(KindSet::from_bits(0), Some(KindSet::EMPTY));
        assert_eq!(KindSet::from_bits(1 << Kind::ALL.len()), None);
        assert_eq!(KindSet::ALL.iter().collect::<Vec<_>>(), Kind::ALL.to_vec());
    }

    #[test]
    fn names_parse_to_sets_and_star_is_every_kind() {
        assert_eq!(KindSet::parse(["*"]).unwrap(), KindSet::ALL);
        assert_eq!(KindSet::parse(["message", "*"]).unwrap(), KindSet::ALL);
        assert_eq!(
            KindSet::parse(["gave_up", "lagged"]).unwrap(),
            KindSet::from([Kind::GaveUp, Kind::Lagged])
        );
        assert_eq!(KindSet::parse([]).unwrap(), KindSet::EMPTY);
        let set = KindSet::from(&[Kind::Message, Kind::Error][..]);
        assert!(set.contains(Kind::Message) && set.contains(Kind::Error));
        assert!(!set.contains(Kind::Connected));
        assert_eq!(format!("{set:?}"), "{\"message\", \"error\"}");
    }

    #[test]
    fn document_004_names_connection_change_and_activity() {
        let change = KindSet::from([Kind::Connected, Kind::Disconnected]);
        assert_eq!(KindSet::CONNECTION_CHANGE, change);
        assert_eq!(KindSet::parse(["connection_change"]).unwrap(), change);
        assert_eq!(KindSet::parse(["connection-change"]).unwrap(), change);
        assert_eq!(KindSet::parse(["activity"]).unwrap(), KindSet::ALL);
        // The bits of the kinds are unchanged: the alias is a set of them.
        assert_eq!(KindSet::CONNECTION_CHANGE.bits(), (1 << 1) | (1 << 3));
        for (event, kind) in one_of_each().iter().zip(Kind::ALL) {
            assert_eq!(
                event.is_connected().is_some(),
                KindSet::CONNECTION_CHANGE.contains(kind),
                "{kind}"
            );
        }
        assert_eq!(one_of_each()[1].is_connected(), Some(true));
        assert_eq!(one_of_each()[3].is_connected(), Some(false));
    }

    #[test]
    fn an_unknown_name_is_a_usage_error_that_lists_the_names() {
        let m = usage_message(KindSet::parse(["message", "tick"]));
        assert!(
            m.contains("\"tick\"") && m.contains("gave_up") && m.contains("\"*\""),
            "{m}"
        );
        let m = usage_message(KindSet::parse(["open"]));
        assert!(m.contains("'connected'"), "{m}");
        let m = usage_message(KindSet::parse(["close"]));
        assert!(m.contains("'disconnected'"), "{m}");
    }
}
