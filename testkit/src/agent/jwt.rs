//! HS256 JSON Web Tokens: signing and verification with an HMAC secret.

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use serde_json::Value;

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Signs `claims` as `base64url(header).base64url(claims).base64url(hmac)`.
pub(crate) fn sign(secret: &str, claims: &Value) -> Result<String, String> {
    let signing_input = format!(
        "{}.{}",
        base64url_encode(HEADER.as_bytes()),
        base64url_encode(claims.to_string().as_bytes())
    );
    let mac = hmac_sha256(secret.as_bytes(), signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", base64url_encode(&mac)))
}

/// Returns the claims if `token` is a well-formed HS256 JWT signed with
/// `secret` and not expired (`exp`, seconds since the epoch, if present).
pub(crate) fn verify(secret: &str, token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (header_b64, claims_b64, signature_b64) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&base64url_decode(header_b64)?).ok()?;
    if header.get("alg")?.as_str()? != "HS256" {
        return None;
    }
    let signing_input = format!("{header_b64}.{claims_b64}");
    let expected = hmac_sha256(secret.as_bytes(), signing_input.as_bytes()).ok()?;
    let signature = base64url_decode(signature_b64)?;
    if signature.len() != expected.len() || !openssl::memcmp::eq(&signature, &expected) {
        return None;
    }
    let claims: Value = serde_json::from_slice(&base64url_decode(claims_b64)?).ok()?;
    if let Some(exp) = claims.get("exp") {
        let now_secs = (crate::clock::unix_ms() / 1000) as f64;
        if exp.as_f64()? <= now_secs {
            return None;
        }
    }
    Some(claims)
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    let run = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let key = PKey::hmac(key)?;
        let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
        signer.update(data)?;
        signer.sign_to_vec()
    };
    run().map_err(|e| e.to_string())
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding.
pub(crate) fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let symbols = chunk.len() + 1;
        for i in 0..symbols {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 0x3F) as usize] as char);
        }
    }
    out
}

/// Decodes base64url, with or without padding; None on invalid input.
pub(crate) fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = acc << 6 | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64url_round_trips() {
        assert_eq!(base64url_encode(b""), "");
        assert_eq!(base64url_encode(b"f"), "Zg");
        assert_eq!(base64url_encode(b"fo"), "Zm8");
        assert_eq!(base64url_encode(b"foo"), "Zm9v");
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64url_decode(&base64url_encode(&data)).unwrap(), data);
        }
        assert_eq!(base64url_decode("Zg==").unwrap(), b"f");
        assert!(base64url_decode("Z").is_none());
        assert!(base64url_decode("Zm9v!").is_none());
    }

    #[test]
    fn matches_a_known_hs256_token() {
        // Computed independently with Python's hmac/base64 modules.
        let token = sign("secret", &json!({"userId": "u1"})).unwrap();
        assert_eq!(
            token,
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VySWQiOiJ1MSJ9.\
             GLfcFPlBqgXn4SBWZYc5BZyGHhStrsW3WD3umIQY3vM"
        );
        assert_eq!(verify("secret", &token).unwrap()["userId"], "u1");
    }

    #[test]
    fn rejects_bad_tokens() {
        let token = sign("secret", &json!({"userId": "u1"})).unwrap();
        assert!(verify("other", &token).is_none());
        assert!(verify("secret", "not-a-jwt").is_none());
        assert!(verify("secret", &format!("{token}x")).is_none());
        let expired = sign("secret", &json!({"userId": "u1", "exp": 1})).unwrap();
        assert!(verify("secret", &expired).is_none());
        let mut tampered: Vec<&str> = token.split('.').collect();
        let other_claims = base64url_encode(br#"{"userId":"admin"}"#);
        tampered[1] = &other_claims;
        assert!(verify("secret", &tampered.join(".")).is_none());
    }
}
