//! The account a message names, with the JSON type the server gave it.

/// The account a message names, with the JSON type the server gave it
/// ([`Message::account_value`](super::Message::account_value)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountValue<'a> {
    /// A JSON integer, as its digits (`-7`, `123`, or more than 64 bits' worth).
    Integer(&'a str),
    /// A JSON string, unescaped.
    String(&'a str),
}

impl<'a> AccountValue<'a> {
    /// The canonical text: an integer's digits or a string's content.
    pub fn as_str(&self) -> &'a str {
        match self {
            AccountValue::Integer(s) | AccountValue::String(s) => s,
        }
    }
}
