//! A freshly generated self-signed certificate for `localhost` / `127.0.0.1`.

use native_tls::Identity;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509Builder, X509NameBuilder};

/// Generates a P-256 key and a self-signed certificate for CN=localhost with
/// SAN `DNS:localhost` and `IP:127.0.0.1`, valid from yesterday for 30 days.
///
/// Returns the server identity and the certificate as PEM, which a client can
/// add as a trusted root (or ignore with `danger_accept_invalid_certs`).
///
/// # Panics
///
/// If OpenSSL cannot generate the key or certificate.
pub fn self_signed_identity() -> (Identity, Vec<u8>) {
    match try_self_signed_identity() {
        Ok(pair) => pair,
        Err(e) => panic!("generating a self-signed certificate failed: {e}"),
    }
}

/// Like [`self_signed_identity`] but reports failures.
pub(crate) fn try_self_signed_identity() -> Result<(Identity, Vec<u8>), String> {
    let (cert_pem, key_pem) = generate().map_err(|e| e.to_string())?;
    let identity = Identity::from_pkcs8(&cert_pem, &key_pem).map_err(|e| e.to_string())?;
    Ok((identity, cert_pem))
}

/// Returns (certificate PEM, PKCS#8 private key PEM).
fn generate() -> Result<(Vec<u8>, Vec<u8>), openssl::error::ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;

    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, "localhost")?;
    let name = name.build();

    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;

    let mut builder = X509Builder::new()?;
    builder.set_version(2)?;
    let serial = serial.to_asn1_integer()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(&key)?;
    let not_before = Asn1Time::from_unix(unix_now() - 86_400)?;
    let not_after = Asn1Time::days_from_now(30)?;
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;
    builder.append_extension(BasicConstraints::new().critical().build()?)?;
    builder.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_encipherment()
            .build()?,
    )?;
    builder.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .ip("127.0.0.1")
        .build(&builder.x509v3_context(None, None))?;
    builder.append_extension(san)?;
    builder.sign(&key, MessageDigest::sha256())?;
    let cert = builder.build();
    Ok((cert.to_pem()?, key.private_key_to_pem_pkcs8()?))
}

fn unix_now() -> i64 {
    (crate::clock::unix_ms() / 1000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_names_localhost_and_loopback() {
        let (cert_pem, _) = generate().unwrap();
        let cert = openssl::x509::X509::from_pem(&cert_pem).unwrap();
        let sans = cert.subject_alt_names().unwrap();
        assert!(sans.iter().any(|n| n.dnsname() == Some("localhost")));
        assert!(sans
            .iter()
            .any(|n| n.ipaddress() == Some(&[127u8, 0, 0, 1][..])));
        assert!(try_self_signed_identity().is_ok());
    }
}
