//! URL query strings: parsing with `%XX` decoding, and percent-encoding.

/// Splits `a=1&b=x%20y` into decoded pairs; a key without `=` gets "".
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Decodes `%XX` escapes; malformed escapes are kept as they are. `+` stays `+`.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_decodes_query() {
        assert_eq!(
            parse_query("token=a%2Bb&agentId=agent-1&flag&x=%zz&y=%4"),
            vec![
                ("token".to_string(), "a+b".to_string()),
                ("agentId".to_string(), "agent-1".to_string()),
                ("flag".to_string(), String::new()),
                ("x".to_string(), "%zz".to_string()),
                ("y".to_string(), "%4".to_string()),
            ]
        );
    }

    #[test]
    fn encode_round_trips() {
        let text = "a b&c=d/é~";
        assert_eq!(percent_encode(text), "a%20b%26c%3Dd%2F%C3%A9~");
        assert_eq!(percent_decode(&percent_encode(text)), text);
    }
}
