//! Tradovate access tokens (reference 000): the token itself and its expiry rules, the token
//! file, and the HTTP requests that obtain and renew tokens.

pub(crate) mod http;
pub mod token;
pub(crate) mod token_file;
