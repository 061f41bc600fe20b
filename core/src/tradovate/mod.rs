//! Everything Tradovate (reference document 000), in one place: the SockJS framing
//! (`sockjs`), the dialect that turns its frames into events and answers its login
//! (`dialect`), the access token and its expiry rules (`token`), the token file (`token_file`),
//! the HTTP requests that obtain and renew tokens (`http`), and the token's life on the I/O
//! thread (`renew`: loaded, requested, renewed ahead of expiry, forgotten when refused).
//!
//! The generic engine knows none of this: it talks to [`crate::dialect::Dialect`] and to
//! [`crate::dialect::Login`], which `renew::Tokens` implements.

pub(crate) mod dialect;
pub(crate) mod http;
pub(crate) mod renew;
pub mod sockjs;
pub mod token;
pub(crate) mod token_file;
