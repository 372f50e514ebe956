//! The job's manifest: `S3BatchOperations_CSV_20180820` with fields Bucket, Key, VersionId.
//! Batch Operations requires the keys URL-encoded ("object%20key%20with%20spaces" in its
//! docs), and sends them back encoded in each task; the version ids are S3's own (URL-safe).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use records_domain::ObjectVersion;

use super::BatchOpsError;
use crate::s3_objects::classify;

/// Where a manifest was written, and what CreateJob needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestLocation {
    pub bucket: String,
    pub key: String,
    /// Without quotes.
    pub etag: String,
    pub version_id: Option<String>,
}

/// Percent-encodes every byte but the unreserved ones (RFC 3986) and `/`: a `+` becomes
/// `%2B` (Batch Operations' decoders read `+` as a space), a comma `%2C` (the CSV stays
/// unquoted).
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes a key as Batch Operations sends it (`unquote_plus`, as AWS's examples do: `+`
/// is a space, `%XX` a byte), the same form as S3 event keys. A malformed escape is an
/// error, never guessed at: the key names what gets destroyed.
pub fn decode_key(encoded: &str) -> Result<String, BatchOpsError> {
    records_domain::decode_s3_event_key(encoded)
        .map_err(|e| BatchOpsError::Invalid(format!("key {encoded:?}: {e}")))
}

/// The manifest: one `bucket,key,versionId` line per version, keys encoded, `\n` endings.
/// Every line names a version (Batch Operations wants all or none; we delete versions).
pub fn manifest_csv(versions: &[ObjectVersion]) -> Result<String, BatchOpsError> {
    let mut out = String::new();
    for v in versions {
        if !v.is_versioned() || v.version_id.contains([',', '\n', '\r', '"']) {
            return Err(BatchOpsError::Invalid(format!(
                "s3://{}/{} has no usable version id ({:?})",
                v.bucket, v.key, v.version_id
            )));
        }
        if v.bucket.is_empty() || v.bucket.contains([',', '\n', '\r', '"']) || v.key.is_empty() {
            return Err(BatchOpsError::Invalid(format!(
                "bucket {:?} / key {:?} cannot be a manifest line",
                v.bucket, v.key
            )));
        }
        out.push_str(&v.bucket);
        out.push(',');
        out.push_str(&encode_key(&v.key));
        out.push(',');
        out.push_str(&v.version_id);
        out.push('\n');
    }
    Ok(out)
}

/// Writes the manifest and returns its ETag. SSE-S3 on purpose: Batch Operations cannot
/// read a CSV manifest encrypted with SSE-KMS.
pub async fn write_manifest(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    csv: &str,
) -> Result<ManifestLocation, BatchOpsError> {
    let out = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("text/csv")
        .server_side_encryption(ServerSideEncryption::Aes256)
        // The audit bucket has Object Lock: every PUT carries a checksum.
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(csv.as_bytes().to_vec()))
        .send()
        .await
        .map_err(|e| classify("PutObject", bucket, key, None, e))?;
    let etag = out
        .e_tag()
        .map(|e| records_domain::normalize_etag(e).to_string())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            BatchOpsError::Invalid(format!("PutObject s3://{bucket}/{key} returned no ETag"))
        })?;
    Ok(ManifestLocation {
        bucket: bucket.into(),
        key: key.into(),
        etag,
        version_id: out.version_id().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_the_encoding_batch_operations_wants() {
        for key in [
            "a/b c.pdf",
            "legal/ünïcode €/x+y=z.txt",
            "q?&%#,\"'.bin",
            "日本/報告.csv",
        ] {
            let enc = encode_key(key);
            assert!(!enc.contains([' ', '+', ',', '"', '\n']), "{enc}");
            assert_eq!(decode_key(&enc).unwrap(), key);
        }
        assert_eq!(
            encode_key("object key with spaces"),
            "object%20key%20with%20spaces"
        );
        assert_eq!(encode_key("a+b/c"), "a%2Bb/c");
        // As Batch Operations may send them: `+` for a space (inventory-style encoding).
        assert_eq!(decode_key("my+file%2B1.txt").unwrap(), "my file+1.txt");
    }

    #[test]
    fn malformed_escapes_and_non_utf8_are_errors() {
        for bad in ["a%", "a%2", "a%zz", "%FF%FE"] {
            assert!(decode_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_manifest_line_per_version_and_unversioned_refused() {
        let v = |k: &str, id: &str| ObjectVersion::new("gov", k, Some(id));
        let csv = manifest_csv(&[v("a b.pdf", "v1"), v("x,y+z", "v.2_Z")]).unwrap();
        assert_eq!(csv, "gov,a%20b.pdf,v1\ngov,x%2Cy%2Bz,v.2_Z\n");
        assert!(manifest_csv(&[ObjectVersion::new("gov", "k", None)]).is_err());
        assert_eq!(manifest_csv(&[]).unwrap(), "");
    }
}
