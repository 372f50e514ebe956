//! Idempotency keys: one per effect on one object version, so duplicate and
//! retried S3 events never declare the same version twice.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `external_identity_type` the bridge sets next to [`IdempotencyKey::external_identity`].
pub const EXTERNAL_IDENTITY_TYPE: &str = "records-bridge";

/// Longest key kept readable; longer ones are hashed (see [`IdempotencyKey::from_parts`]).
pub const MAX_READABLE_KEY_BYTES: usize = 1024;

/// Characters of the SHA-256 hex kept in the external identity (128 bits).
pub const EXTERNAL_IDENTITY_LEN: usize = 32;

/// One S3 object version. S3 spells an unversioned object's version "null".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectVersion {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
}

impl ObjectVersion {
    /// `version_id` None or "" (unversioned bucket, as S3 events send it) becomes "null".
    pub fn new(bucket: &str, key: &str, version_id: Option<&str>) -> Self {
        ObjectVersion {
            bucket: bucket.to_string(),
            key: key.to_string(),
            version_id: match version_id {
                None | Some("") => "null".to_string(),
                Some(v) => v.to_string(),
            },
        }
    }

    /// False for unversioned (and versioning-suspended "null") objects, whose
    /// overwrites all share one version id.
    pub fn is_versioned(&self) -> bool {
        self.version_id != "null"
    }
}

/// Strip the quotes S3 puts around ETags in HTTP headers (events send none).
pub fn normalize_etag(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

/// A stable, readable key such as `declare#acme-records#finance/a.pdf#3HL4kqtJ`.
/// Parts are escaped ('%' → `%25`, '#' → `%23`) so keys never collide and a
/// prefix (`declare#bucket#key#`) selects every version of one key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Scope of P1 declarations.
    pub const DECLARE: &'static str = "declare";

    /// The declaration key of one object version.
    ///
    /// In an unversioned bucket every overwrite has version "null", so the key
    /// alone cannot tell two uploads apart: pass the ETag and it is appended
    /// for unversioned objects (same content → same key, which is the right
    /// duplicate). It is ignored for versioned objects, whose version id is unique.
    pub fn declare(obj: &ObjectVersion, etag: Option<&str>) -> Self {
        let etag = etag.map(normalize_etag).filter(|e| !e.is_empty());
        match etag {
            Some(etag) if !obj.is_versioned() => Self::from_parts(
                Self::DECLARE,
                &[&obj.bucket, &obj.key, &obj.version_id, etag],
            ),
            _ => Self::from_parts(Self::DECLARE, &[&obj.bucket, &obj.key, &obj.version_id]),
        }
    }

    /// A key for any effect (`archive`, `hold-sync`, `publish`, ...): scope
    /// then parts, '#'-separated and escaped.
    ///
    /// A key longer than [`MAX_READABLE_KEY_BYTES`] becomes `scope#sha256#<hex of the
    /// readable key>`: S3 keys reach 1,024 bytes and escaping can triple them, past
    /// DynamoDB's 2,048-byte partition key limit. Still one key per effect, always the same.
    pub fn from_parts(scope: &str, parts: &[&str]) -> Self {
        let mut s = escape(scope);
        for p in parts {
            s.push('#');
            s.push_str(&escape(p));
        }
        if s.len() > MAX_READABLE_KEY_BYTES {
            s = format!(
                "{}#sha256#{}",
                escape(scope),
                hex::encode(Sha256::digest(s.as_bytes()))
            );
        }
        IdempotencyKey(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// First 32 hex characters of SHA-256 of the key: short enough for
    /// OpenText's `external_identity`, so a resumed attempt can find the
    /// version it already created.
    pub fn external_identity(&self) -> String {
        let mut h = hex::encode(Sha256::digest(self.0.as_bytes()));
        h.truncate(EXTERNAL_IDENTITY_LEN);
        h
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn escape(part: &str) -> String {
    part.replace('%', "%25").replace('#', "%23")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(bucket: &str, key: &str, version: Option<&str>) -> ObjectVersion {
        ObjectVersion::new(bucket, key, version)
    }

    #[test]
    fn a_1024_byte_key_full_of_percent_signs_fits_dynamodb_and_stays_distinct() {
        let key = "%".repeat(1024);
        let other = format!("{}x", "%".repeat(1023));
        let a = IdempotencyKey::declare(&v("b", &key, Some("v1")), None);
        let b = IdempotencyKey::declare(&v("b", &other, Some("v1")), None);
        let a_next = IdempotencyKey::declare(&v("b", &key, Some("v2")), None);
        assert!(a.as_str().len() <= 2048, "{}", a.as_str().len());
        assert!(a.as_str().starts_with("declare#sha256#"), "{a}");
        assert_ne!(a, b);
        assert_ne!(a, a_next);
        assert_eq!(a, IdempotencyKey::declare(&v("b", &key, Some("v1")), None));
        let short = IdempotencyKey::declare(&v("b", "a/b.pdf", Some("v1")), None);
        assert_eq!(
            short.as_str(),
            "declare#b#a/b.pdf#v1",
            "short keys stay readable"
        );
    }

    #[test]
    fn readable_and_stable() {
        let k = IdempotencyKey::declare(
            &v("acme-records", "finance/a.pdf", Some("3HL4kqtJ")),
            Some("\"e1\""),
        );
        assert_eq!(k.as_str(), "declare#acme-records#finance/a.pdf#3HL4kqtJ");
        let again =
            IdempotencyKey::declare(&v("acme-records", "finance/a.pdf", Some("3HL4kqtJ")), None);
        assert_eq!(k, again, "the etag does not matter for versioned objects");
        assert_eq!(k.external_identity(), again.external_identity());
        assert_eq!(k.external_identity().len(), EXTERNAL_IDENTITY_LEN);
        assert!(k.external_identity().bytes().all(|b| b.is_ascii_hexdigit()));
        // Pinned: changing the scheme would orphan versions already in OpenText.
        assert_eq!(
            k.external_identity(),
            hex::encode(Sha256::digest(
                b"declare#acme-records#finance/a.pdf#3HL4kqtJ"
            ))[..32]
        );
    }

    #[test]
    fn distinct_per_version() {
        let a = IdempotencyKey::declare(&v("b", "k", Some("v1")), None);
        let b = IdempotencyKey::declare(&v("b", "k", Some("v2")), None);
        assert_ne!(a, b);
        assert_ne!(a.external_identity(), b.external_identity());
    }

    #[test]
    fn unversioned_uses_null_and_etag() {
        let o = v("b", "k", None);
        assert_eq!(o.version_id, "null");
        assert!(!o.is_versioned());
        assert_eq!(v("b", "k", Some("")).version_id, "null");
        assert_eq!(
            IdempotencyKey::declare(&o, None).as_str(),
            "declare#b#k#null"
        );
        let e1 = IdempotencyKey::declare(&o, Some("\"abc\""));
        let e2 = IdempotencyKey::declare(&o, Some("def-2"));
        assert_eq!(e1.as_str(), "declare#b#k#null#abc");
        assert_ne!(
            e1, e2,
            "an overwrite with other content is a new declaration"
        );
    }

    #[test]
    fn separators_in_keys_cannot_collide() {
        let a = IdempotencyKey::declare(&v("b", "x#y", Some("v")), None);
        let b = IdempotencyKey::declare(&v("b", "x", Some("y#v")), None);
        assert_ne!(a, b);
        assert_eq!(a.as_str(), "declare#b#x%23y#v");
        let c = IdempotencyKey::declare(&v("b", "x%23y", Some("v")), None);
        assert_ne!(a, c);
        assert_eq!(
            IdempotencyKey::from_parts("archive", &["10001", "3"]).as_str(),
            "archive#10001#3"
        );
    }

    #[test]
    fn serde_is_a_plain_string() {
        let k = IdempotencyKey::declare(&v("b", "k", Some("v")), None);
        assert_eq!(serde_json::to_string(&k).unwrap(), "\"declare#b#k#v\"");
    }
}
