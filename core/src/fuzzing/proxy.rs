//! A proxy's replies: the answer to HTTP CONNECT (read in pieces until its header ends) and
//! the SOCKS5 method, login and CONNECT replies (RFC 1928, RFC 1929), read in the order
//! `transport/tunnel.rs` reads them.

use super::Choices;
use crate::proxy::wire::{self, ConnectAnswer, SocksMethod};

/// The proxy's replies: never a panic; the CONNECT answer's result the same in any pieces;
/// the header never kept past 16 KiB plus one read; every SOCKS5 reply length within
/// what the address types allow.
pub fn proxy_replies(data: &[u8]) {
    let mut c = Choices::new(data);
    let how = c.byte();
    if how & 1 == 0 {
        let piece = usize::from(c.byte()).max(1);
        let answer = c.rest();
        // The status and phrase do not depend on the reads. Whether bytes follow the header
        // does: the tunnel stops reading at the read that completes the header, so only
        // bytes that came in that read are seen (later ones reach TLS, which refuses them).
        let status = |r: Option<Result<(u16, String, bool), String>>| {
            r.map(|r| r.map(|(code, phrase, _)| (code, phrase)))
        };
        let split = status(connect_answer(answer.chunks(piece)));
        assert_eq!(
            split,
            status(connect_answer(answer.chunks(1024))),
            "the CONNECT answer reads differently in pieces of {piece}"
        );
    } else {
        socks5(&mut c, how & 2 != 0);
    }
}

/// Feeds the pieces as the tunnel does (reads of up to 1 KiB) until the header is complete.
fn connect_answer<'a>(
    pieces: impl Iterator<Item = &'a [u8]>,
) -> Option<Result<(u16, String, bool), String>> {
    let mut answer = ConnectAnswer::default();
    let mut read = 0;
    for piece in pieces {
        read += piece.len();
        match answer.push(piece) {
            Ok(false) => assert!(read <= wire::MAX_CONNECT_ANSWER + 1024),
            Ok(true) => {
                let status = answer.status();
                if let Ok((_, phrase, _)) = &status {
                    // Cut to 100 characters (escapes included) and a note of what was cut.
                    assert!(phrase.chars().count() <= 130, "{phrase:?}");
                }
                return Some(status);
            }
            Err(e) => return Some(Err(e)),
        }
    }
    None
}

/// The SOCKS5 replies in the order the tunnel reads them; the end of the input is the
/// proxy closing the connection.
fn socks5(c: &mut Choices<'_>, with_auth: bool) {
    let Ok(method) = <[u8; 2]>::try_from(c.take(2)) else {
        return;
    };
    match wire::socks_method(method, with_auth) {
        Err(e) => return assert!(e.contains("SOCKS5")),
        Ok(SocksMethod::UserPass) => {
            assert!(with_auth);
            let Ok(answer) = <[u8; 2]>::try_from(c.take(2)) else {
                return;
            };
            if !wire::socks_auth_ok(answer) {
                return;
            }
        }
        Ok(SocksMethod::NoAuth) => assert!(!with_auth),
        Ok(SocksMethod::Refused(_)) => return,
    }
    let Ok(head) = <[u8; 5]>::try_from(c.take(5)) else {
        return;
    };
    let Ok(len) = wire::socks_reply_len(head) else {
        return;
    };
    assert!((7..=4 + 1 + 255 + 2).contains(&len), "reply length {len}");
    let rest = c.take(len - head.len());
    if rest.len() == len - head.len() {
        let _ = wire::socks_reply_text(head[1]);
    }
}
