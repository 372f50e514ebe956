//! Signatures of OpenText event callbacks (the signed intake).
//!
//! The sender computes `hex(HMAC-SHA256(key, timestamp + "." + raw_body))` and sends
//! `X-Records-Bridge-Timestamp: <unix seconds>` and
//! `X-Records-Bridge-Signature: v1=<hex>` (several `v1=` values, comma-separated, are
//! allowed: a sender rolling over to a new key may sign with both). The receiver holds up to
//! two keys (`current`, `previous`) so a key can be rotated without refusing calls.
//! Comparison is constant time (`Mac::verify_slice`).

use hmac::{KeyInit, Mac};
use serde::Deserialize;

type HmacSha256 = hmac::Hmac<hmac_sha2::Sha256>;

/// Header names (lower case, as Lambda Function URLs deliver them).
pub const TIMESTAMP_HEADER: &str = "x-records-bridge-timestamp";
pub const SIGNATURE_HEADER: &str = "x-records-bridge-signature";
/// The only signature scheme so far.
pub const SCHEME_V1: &str = "v1";
/// Shortest key accepted (characters of the secret string, used as UTF-8 bytes).
pub const MIN_KEY_LEN: usize = 32;

/// The keys a receiver accepts. `Debug` never prints them.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SigningKeys {
    pub current: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("current", &"<redacted>")
            .field("previous", &self.previous.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysError {
    #[error("signing secret is not the JSON {{\"current\":\"…\",\"previous\":\"…\"?}}: {0}")]
    Shape(String),
    #[error("signing key {0:?} is shorter than {MIN_KEY_LEN} characters")]
    TooShort(&'static str),
}

impl SigningKeys {
    /// Parses the secret's JSON. Errors name the field, never a value.
    pub fn parse(json: &str) -> Result<SigningKeys, KeysError> {
        let keys: SigningKeys = serde_json::from_str(json).map_err(|e| {
            KeysError::Shape(format!(
                "line {} column {}: {:?}",
                e.line(),
                e.column(),
                e.classify()
            ))
        })?;
        if keys.current.chars().count() < MIN_KEY_LEN {
            return Err(KeysError::TooShort("current"));
        }
        if let Some(p) = &keys.previous
            && p.chars().count() < MIN_KEY_LEN
        {
            return Err(KeysError::TooShort("previous"));
        }
        Ok(keys)
    }

    fn all(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(self.current.as_bytes()).chain(self.previous.as_deref().map(str::as_bytes))
    }
}

/// Why a call's signature was refused (the message is safe to return to the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing header X-Records-Bridge-Timestamp")]
    MissingTimestamp,
    #[error("missing header X-Records-Bridge-Signature")]
    MissingSignature,
    #[error("X-Records-Bridge-Timestamp must be unix seconds")]
    BadTimestamp,
    #[error("X-Records-Bridge-Signature has no v1=<64 hex digits> value")]
    NoV1Signature,
    #[error("signature does not match")]
    Mismatch,
    #[error("timestamp outside the accepted window of {window_secs} s")]
    Stale { window_secs: u64 },
}

/// `hex(HMAC-SHA256(key, timestamp + "." + body))`: what the sender puts after `v1=`.
pub fn sign(key: &[u8], timestamp: &str, body: &[u8]) -> String {
    hex::encode(mac(key, timestamp, body).finalize().into_bytes())
}

fn mac(key: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The timestamp header as unix seconds (digits only, optional leading '-' refused).
pub fn parse_timestamp(value: &str) -> Result<i64, SignatureError> {
    let v = value.trim();
    if v.is_empty() || v.len() > 12 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::BadTimestamp);
    }
    v.parse().map_err(|_| SignatureError::BadTimestamp)
}

/// The `v1=` values of the signature header, hex-decoded; other schemes are ignored so a
/// future `v2=` can be sent alongside.
pub fn parse_signatures(value: &str) -> Result<Vec<Vec<u8>>, SignatureError> {
    let sigs: Vec<Vec<u8>> = value
        .split(',')
        .filter_map(|part| {
            let (scheme, hex_value) = part.trim().split_once('=')?;
            (scheme.trim() == SCHEME_V1)
                .then(|| hex::decode(hex_value.trim()).ok())
                .flatten()
                .filter(|bytes| bytes.len() == 32)
        })
        .collect();
    if sigs.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    Ok(sigs)
}

/// True when one of `signatures` is the HMAC of this call under one of `keys`. Every
/// comparison is constant time.
pub fn verify(keys: &SigningKeys, timestamp: &str, body: &[u8], signatures: &[Vec<u8>]) -> bool {
    let mut ok = false;
    for key in keys.all() {
        let expected = mac(key, timestamp, body);
        for sig in signatures {
            // No early exit: the work does not depend on which key or value matched.
            ok |= expected.clone().verify_slice(sig).is_ok();
        }
    }
    ok
}

/// Checks a call's headers and body: signature first, then the timestamp window (so an
/// unsigned caller learns nothing about the clock). `now` is unix seconds.
pub fn check(
    keys: &SigningKeys,
    timestamp_header: Option<&str>,
    signature_header: Option<&str>,
    body: &[u8],
    now: i64,
    window_secs: u64,
) -> Result<i64, SignatureError> {
    let ts_text = timestamp_header.ok_or(SignatureError::MissingTimestamp)?;
    let sig_text = signature_header.ok_or(SignatureError::MissingSignature)?;
    let ts = parse_timestamp(ts_text)?;
    let sigs = parse_signatures(sig_text)?;
    if !verify(keys, ts_text.trim(), body, &sigs) {
        return Err(SignatureError::Mismatch);
    }
    if now.abs_diff(ts) > window_secs {
        return Err(SignatureError::Stale { window_secs });
    }
    Ok(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: &str = "current-key-0123456789abcdef0123456789";
    const PREVIOUS: &str = "previous-key-0123456789abcdef012345678";
    const BODY: &[u8] = br#"{"schema":1}"#;

    fn keys(previous: bool) -> SigningKeys {
        SigningKeys {
            current: CURRENT.into(),
            previous: previous.then(|| PREVIOUS.into()),
        }
    }

    fn header(key: &str, ts: &str, body: &[u8]) -> String {
        format!("v1={}", sign(key.as_bytes(), ts, body))
    }

    #[test]
    fn sign_matches_a_reference_hmac() {
        // Python: hmac.new(b"Jefe", b'1764064800.{"schema":1}', hashlib.sha256).hexdigest()
        assert_eq!(
            sign(b"Jefe", "1764064800", BODY),
            "5995d607caa25629993e81e39f7fe2167e67d64b3db5603385d615d30ffb3dea"
        );
        // The dot between timestamp and body is part of the signed text.
        assert_ne!(sign(b"k", "1", b"2"), sign(b"k", "1.", b"2"));
    }

    #[test]
    fn a_call_signed_with_either_key_is_accepted_within_the_window() {
        let ts = "1764064800";
        for key in [CURRENT, PREVIOUS] {
            let sig = header(key, ts, BODY);
            assert_eq!(
                check(
                    &keys(true),
                    Some(ts),
                    Some(&sig),
                    BODY,
                    1764064800 + 299,
                    300
                ),
                Ok(1764064800)
            );
        }
    }

    #[test]
    fn the_previous_key_is_refused_once_dropped() {
        let ts = "1764064800";
        let sig = header(PREVIOUS, ts, BODY);
        assert_eq!(
            check(&keys(false), Some(ts), Some(&sig), BODY, 1764064800, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn several_v1_values_and_other_schemes_are_read() {
        let ts = "1764064800";
        let good = sign(CURRENT.as_bytes(), ts, BODY);
        let bad = sign(b"some-other-key-that-nobody-configured", ts, BODY);
        let value = format!("v2=abc, v1={bad} ,v1={good}");
        assert_eq!(parse_signatures(&value).unwrap().len(), 2);
        assert!(check(&keys(false), Some(ts), Some(&value), BODY, 1764064800, 300).is_ok());
    }

    #[test]
    fn refusals_say_why() {
        let ts = "1764064800";
        let now = 1764064800;
        let sig = header(CURRENT, ts, BODY);
        let k = keys(false);
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            &'a [u8],
            i64,
            SignatureError,
        );
        let cases: Vec<Case> = vec![
            (
                None,
                Some(&sig),
                BODY,
                now,
                SignatureError::MissingTimestamp,
            ),
            (Some(ts), None, BODY, now, SignatureError::MissingSignature),
            (
                Some("12:00"),
                Some(&sig),
                BODY,
                now,
                SignatureError::BadTimestamp,
            ),
            (
                Some("-5"),
                Some(&sig),
                BODY,
                now,
                SignatureError::BadTimestamp,
            ),
            (
                Some(ts),
                Some("sha256=abc"),
                BODY,
                now,
                SignatureError::NoV1Signature,
            ),
            (
                Some(ts),
                Some("v1=zz"),
                BODY,
                now,
                SignatureError::NoV1Signature,
            ),
            (
                Some(ts),
                Some("v1=abcd"),
                BODY,
                now,
                SignatureError::NoV1Signature,
            ),
            // A changed body, or the same signature under another timestamp.
            (
                Some(ts),
                Some(&sig),
                b"{\"schema\":2}",
                now,
                SignatureError::Mismatch,
            ),
            (
                Some("1764064801"),
                Some(&sig),
                BODY,
                now,
                SignatureError::Mismatch,
            ),
            // Stale or from the future.
            (
                Some(ts),
                Some(&sig),
                BODY,
                now + 301,
                SignatureError::Stale { window_secs: 300 },
            ),
            (
                Some(ts),
                Some(&sig),
                BODY,
                now - 301,
                SignatureError::Stale { window_secs: 300 },
            ),
        ];
        for (t, s, body, at, expected) in cases {
            assert_eq!(
                check(&k, t, s, body, at, 300),
                Err(expected.clone()),
                "{t:?} {s:?}"
            );
        }
    }

    #[test]
    fn keys_parse_and_never_print() {
        let k = SigningKeys::parse(&format!(
            r#"{{"current":"{CURRENT}","previous":"{PREVIOUS}"}}"#
        ))
        .unwrap();
        assert_eq!(k, keys(true));
        let shown = format!("{k:?}");
        assert!(
            !shown.contains(CURRENT) && !shown.contains(PREVIOUS),
            "{shown}"
        );
        assert!(matches!(
            SigningKeys::parse(r#"{"current":"short"}"#),
            Err(KeysError::TooShort("current"))
        ));
        let err = SigningKeys::parse(&format!(r#"{{"curent":"{CURRENT}"}}"#)).unwrap_err();
        assert!(!err.to_string().contains(CURRENT), "{err}");
        assert!(SigningKeys::parse("not json").is_err());
    }
}
