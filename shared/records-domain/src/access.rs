//! P5, the pure parts: why a request for a record's content is refused (and with which HTTP
//! status), the `Content-Disposition` a presigned URL carries, and the S3 URI form a
//! governed version may be asked for by.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use crate::ObjectVersion;

/// Why a version is no longer there, read from the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Gone {
    /// Destroyed by an approved disposition (P4), under this certificate.
    Disposed { certificate_id: Option<String> },
    /// Deleted otherwise (by someone outside records-bridge, or before its audit).
    Deleted,
}

/// A refusal: each maps to one HTTP status and a sentence for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AccessRefusal {
    /// No `OTCSTicket`, bearer token or session.
    NoCredentials,
    /// OpenText refused the credentials (bad or expired).
    BadCredentials { detail: String },
    /// The user may not see this record's content.
    NoPermission { node_id: u64, missing: String },
    /// No such record (or the user may not even see it: OpenText says 404 then).
    UnknownRecord { node_id: u64 },
    /// The record links no S3 version: it is not governed by records-bridge.
    Ungoverned { node_id: u64 },
    /// The asked-for S3 version is not a governed version of any record.
    NotGoverned { uri: String },
    /// The linked version no longer exists in S3.
    VersionGone {
        node_id: u64,
        uri: String,
        #[serde(flatten)]
        gone: Gone,
    },
    /// A hold applies and the policy closes held records.
    UnderHold { node_id: u64, holds: Vec<u64> },
    /// Malformed request (an S3 URI that is not one, a node id that is not a number).
    BadRequest { detail: String },
}

impl AccessRefusal {
    pub fn status(&self) -> u16 {
        match self {
            AccessRefusal::NoCredentials | AccessRefusal::BadCredentials { .. } => 401,
            AccessRefusal::NoPermission { .. } => 403,
            AccessRefusal::UnknownRecord { .. }
            | AccessRefusal::Ungoverned { .. }
            | AccessRefusal::NotGoverned { .. } => 404,
            AccessRefusal::VersionGone { .. } => 410,
            AccessRefusal::UnderHold { .. } => 423,
            AccessRefusal::BadRequest { .. } => 400,
        }
    }

    pub fn message(&self) -> String {
        match self {
            AccessRefusal::NoCredentials => {
                "sign in: an OTCSTicket header, an OTDS bearer token or a session is needed".into()
            }
            AccessRefusal::BadCredentials { detail } => {
                format!("OpenText did not accept the credentials: {detail}")
            }
            AccessRefusal::NoPermission { node_id, missing } => {
                format!("you may not see the content of record {node_id} (no {missing} permission)")
            }
            AccessRefusal::UnknownRecord { node_id } => format!("no record {node_id}"),
            AccessRefusal::Ungoverned { node_id } => {
                format!("record {node_id} has no content in S3 governed by records-bridge")
            }
            AccessRefusal::NotGoverned { uri } => {
                format!("{uri} is not a governed version of any record")
            }
            AccessRefusal::VersionGone { node_id, uri, gone } => match gone {
                Gone::Disposed {
                    certificate_id: Some(c),
                } => format!(
                    "the content of record {node_id} ({uri}) was destroyed by an approved disposition, certificate {c}"
                ),
                Gone::Disposed {
                    certificate_id: None,
                } => format!(
                    "the content of record {node_id} ({uri}) was destroyed by an approved disposition"
                ),
                Gone::Deleted => {
                    format!("the content of record {node_id} ({uri}) was deleted from S3")
                }
            },
            AccessRefusal::UnderHold { node_id, holds } => format!(
                "record {node_id} is under hold {holds:?}: its content is closed while the hold applies"
            ),
            AccessRefusal::BadRequest { detail } => detail.clone(),
        }
    }

    /// The JSON body the endpoint answers with.
    pub fn body(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("status".into(), self.status().into());
            o.insert("message".into(), self.message().into());
        }
        v
    }
}

/// RFC 5987 `attr-char`: ALPHA / DIGIT / "!#$&+-.^_`|~" stay, everything else is encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266 with RFC 5987): an ASCII
/// fallback (quotes, backslashes and controls replaced) for old clients, the exact name for
/// the rest. Path separators never reach the name.
pub fn content_disposition(name: &str) -> String {
    content_disposition_as(false, name)
}

/// As [`content_disposition`], `inline` (shown in the browser) or `attachment` (saved).
pub fn content_disposition_as(inline: bool, name: &str) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let name: String = name
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    let name = if name.trim().is_empty() {
        "download".to_string()
    } else {
        name
    };
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && c != '"' && c != '\\' && c != '%' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if fallback == name {
        format!("{kind}; filename=\"{name}\"")
    } else {
        format!(
            "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}",
            utf8_percent_encode(&name, ATTR_CHAR)
        )
    }
}

/// The endpoint's link to one governed version (`<base>/content?uri=<the S3 URI, encoded>`):
/// known before the record exists, so a reference record can carry it from its creation.
pub fn access_link(base: &str, s3_uri: &str) -> String {
    format!(
        "{}/content?uri={}",
        base.trim_end_matches('/'),
        utf8_percent_encode(s3_uri, NON_ALPHANUMERIC)
    )
}

/// `s3://bucket/key?versionId=v` (the key as written, `%`-escapes decoded) → the version.
/// A governed version is always named with its version id.
pub fn parse_s3_uri(uri: &str) -> Result<ObjectVersion, String> {
    let rest = uri
        .strip_prefix("s3://")
        .ok_or_else(|| format!("{uri:?} is not an s3:// URI"))?;
    let (path, query) = rest
        .split_once('?')
        .ok_or_else(|| format!("{uri:?} names no versionId"))?;
    let (bucket, key) = path
        .split_once('/')
        .filter(|(b, k)| !b.is_empty() && !k.is_empty())
        .ok_or_else(|| format!("{uri:?} names no bucket and key"))?;
    let version_id = query
        .split('&')
        .find_map(|p| p.strip_prefix("versionId="))
        .filter(|v| !v.is_empty() && *v != "null")
        .ok_or_else(|| format!("{uri:?} names no versionId"))?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| format!("{uri:?} is not UTF-8 once decoded"))
    };
    Ok(ObjectVersion::new(
        bucket,
        &decode(key)?,
        Some(&decode(version_id)?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_names_are_quoted_as_they_are() {
        assert_eq!(
            content_disposition("contract 2026.pdf"),
            "attachment; filename=\"contract 2026.pdf\""
        );
    }

    #[test]
    fn other_names_carry_an_ascii_fallback_and_the_exact_utf8_name() {
        assert_eq!(
            content_disposition("Übersicht €.pdf"),
            "attachment; filename=\"_bersicht _.pdf\"; filename*=UTF-8''%C3%9Cbersicht%20%E2%82%AC.pdf"
        );
        // A backslash is a path separator to some clients: it never reaches the name.
        assert_eq!(
            content_disposition("a\"b\\c%d.txt"),
            "attachment; filename=\"a_b_c_d.txt\"; filename*=UTF-8''a%22b_c%25d.txt"
        );
        assert_eq!(
            content_disposition("../etc/passwd"),
            "attachment; filename=\".._etc_passwd\""
        );
        assert_eq!(
            content_disposition("\u{7}"),
            "attachment; filename=\"download\""
        );
    }

    #[test]
    fn the_access_link_round_trips_to_the_version() {
        let uri = "s3://gov/legal/a%20b+c.pdf?versionId=3HL";
        let link = access_link("https://x.lambda-url.eu-west-1.on.aws/", uri);
        assert!(link.starts_with("https://x.lambda-url.eu-west-1.on.aws/content?uri=s3%3A%2F%2F"));
        let encoded = link.split_once("?uri=").unwrap().1;
        let decoded = percent_encoding::percent_decode_str(encoded)
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, uri);
        assert_eq!(parse_s3_uri(&decoded).unwrap().key, "legal/a b+c.pdf");
    }

    #[test]
    fn s3_uris_name_a_version() {
        let v = parse_s3_uri("s3://gov/legal/a%20b+c.pdf?versionId=3HL4kqtJ").unwrap();
        assert_eq!(
            (v.bucket.as_str(), v.key.as_str(), v.version_id.as_str()),
            ("gov", "legal/a b+c.pdf", "3HL4kqtJ")
        );
        for bad in [
            "https://gov/x?versionId=1",
            "s3://gov/x",
            "s3://gov/x?versionId=",
            "s3://gov/x?versionId=null",
            "s3:///x?versionId=1",
            "s3://gov/?versionId=1",
            "s3://gov/%FF?versionId=1",
        ] {
            assert!(parse_s3_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refusals_map_to_their_status() {
        let gone = AccessRefusal::VersionGone {
            node_id: 7,
            uri: "s3://b/k?versionId=v".into(),
            gone: Gone::Disposed {
                certificate_id: Some("disp-1".into()),
            },
        };
        assert_eq!(gone.status(), 410);
        let body = gone.body();
        assert_eq!(body["code"], "version_gone");
        assert_eq!(body["how"], "disposed");
        assert_eq!(body["status"], 410);
        assert!(body["message"].as_str().unwrap().contains("disp-1"));
        assert_eq!(AccessRefusal::NoCredentials.status(), 401);
        assert_eq!(
            AccessRefusal::UnderHold {
                node_id: 1,
                holds: vec![6100]
            }
            .status(),
            423
        );
        assert_eq!(
            AccessRefusal::NoPermission {
                node_id: 1,
                missing: "see_contents".into()
            }
            .status(),
            403
        );
    }
}
