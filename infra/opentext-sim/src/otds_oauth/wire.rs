//! Encoding helpers: PKCE values, digests, base64url and RFC 6749 parameter decoding.

use sha2::{Digest, Sha256};

/// `BASE64URL-NOPAD(SHA256(ASCII(verifier)))` (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1/§4.2 ABNF: 43..=128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
pub(crate) fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

pub(super) fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Compares the SHA-256 digests of both values without an early exit, so the time taken says
/// nothing about how much of a secret matched.
pub(crate) fn digest_eq(a: &[u8], b: &[u8]) -> bool {
    let (x, y) = (digest(a), digest(b));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

pub(super) fn random_b64url() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    b64url(&bytes)
}

/// Base64url without padding (RFC 4648 §5); no base64 crate in this package.
fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(chunk[0]) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Decoded form or query parameters, with RFC 6749 §3.1's rules: empty values count as absent,
/// and a parameter given twice is an error.
pub(crate) struct Params(Vec<(String, String)>);

pub(crate) struct Duplicate(pub String);

impl Params {
    pub(crate) fn parse(raw: &[u8]) -> Result<Params, String> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw)
            .map(Params)
            .map_err(|_| "the parameters are not valid UTF-8 form encoding".to_string())
    }

    pub(crate) fn one(&self, name: &str) -> Result<Option<&str>, Duplicate> {
        let mut found = self
            .0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str());
        let first = found.next();
        if found.next().is_some() {
            return Err(Duplicate(format!("{name} is included more than once")));
        }
        Ok(first)
    }

    /// Linear, so a request with thousands of parameters costs no more than reading it.
    pub(crate) fn first_duplicate(&self) -> Option<Duplicate> {
        let mut seen = std::collections::HashSet::new();
        self.0
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .find(|(k, _)| !seen.insert(k.as_str()))
            .map(|(k, _)| Duplicate(format!("{k} is included more than once")))
    }
}
