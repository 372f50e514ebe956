//! An evidence package request (P6): which records, which of their versions, who asked and
//! why. Its id is derived from what it asks, so the same request made twice names the same
//! package.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most node ids one request may list (a hold or a folder names more).
pub const MAX_NODES: usize = 10_000;
/// Longest `requested_by` and `reason`, in characters.
pub const MAX_WHO: usize = 256;
pub const MAX_REASON: usize = 2_048;

/// Which records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// These nodes (sorted, without duplicates once validated).
    Nodes(Vec<u64>),
    /// Every item under this RM hold (the hold items API).
    Hold(u64),
    /// Every document in this folder.
    Folder(u64),
}

/// Which versions of each record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Versions {
    #[default]
    Latest,
    All,
}

/// A request as received (the intake's JSON, an event's `data`, the operator command).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestDoc {
    nodes: Option<Vec<u64>>,
    hold_id: Option<u64>,
    folder_id: Option<u64>,
    versions: Option<Versions>,
    requested_by: Option<String>,
    reason: Option<String>,
}

/// A validated request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRequest {
    pub selection: Selection,
    pub versions: Versions,
    /// Who asked (an OpenText user, counsel's name, a ticket).
    pub requested_by: String,
    /// Why (the matter, the audit, the request for production).
    pub reason: String,
}

/// Why a request was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RequestError {
    pub field: String,
    pub message: String,
}

fn refuse(field: &str, message: impl Into<String>) -> RequestError {
    RequestError {
        field: field.into(),
        message: message.into(),
    }
}

fn text(field: &str, v: Option<String>, max: usize) -> Result<String, RequestError> {
    let v = v
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| refuse(field, "missing"))?;
    if v.chars().count() > max {
        return Err(refuse(field, format!("longer than {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(refuse(field, "control characters are not allowed"));
    }
    Ok(v)
}

impl PackageRequest {
    /// Parses and validates a request body.
    pub fn parse(body: &[u8]) -> Result<PackageRequest, RequestError> {
        let doc: RequestDoc = serde_json::from_slice(body)
            .map_err(|e| refuse("request", format!("not a package request: {e}")))?;
        Self::from_doc(doc)
    }

    /// From a JSON value (a lifecycle event's `data`).
    pub fn from_value(v: serde_json::Value) -> Result<PackageRequest, RequestError> {
        let doc: RequestDoc = serde_json::from_value(v)
            .map_err(|e| refuse("request", format!("not a package request: {e}")))?;
        Self::from_doc(doc)
    }

    fn from_doc(doc: RequestDoc) -> Result<PackageRequest, RequestError> {
        let selection = match (doc.nodes, doc.hold_id, doc.folder_id) {
            (Some(mut nodes), None, None) => {
                if nodes.is_empty() {
                    return Err(refuse("nodes", "empty: name at least one record"));
                }
                if nodes.contains(&0) {
                    return Err(refuse("nodes", "node ids are positive"));
                }
                nodes.sort_unstable();
                nodes.dedup();
                if nodes.len() > MAX_NODES {
                    return Err(refuse(
                        "nodes",
                        format!(
                            "{} records; one request lists at most {MAX_NODES} (ask by hold or folder)",
                            nodes.len()
                        ),
                    ));
                }
                Selection::Nodes(nodes)
            }
            (None, Some(h), None) if h > 0 => Selection::Hold(h),
            (None, None, Some(f)) if f > 0 => Selection::Folder(f),
            (None, Some(_), None) => return Err(refuse("hold_id", "must be a positive id")),
            (None, None, Some(_)) => return Err(refuse("folder_id", "must be a positive id")),
            _ => {
                return Err(refuse(
                    "selection",
                    "give exactly one of nodes, hold_id or folder_id",
                ));
            }
        };
        Ok(PackageRequest {
            selection,
            versions: doc.versions.unwrap_or_default(),
            requested_by: text("requested_by", doc.requested_by, MAX_WHO)?,
            reason: text("reason", doc.reason, MAX_REASON)?,
        })
    }

    /// `pkg-<24 hex>`: the SHA-256 of the request's canonical JSON (RFC 8785), so the same
    /// request (in any order of its nodes, asked again) names the same package.
    pub fn package_id(&self) -> String {
        let canonical = serde_jcs::to_vec(self).unwrap_or_default();
        let digest = hex::encode(Sha256::digest(&canonical));
        format!("pkg-{}", &digest[..24])
    }

    /// The selection as `bag-info.txt` and the audit say it.
    pub fn selection_text(&self) -> String {
        let versions = match self.versions {
            Versions::Latest => "latest version",
            Versions::All => "all versions",
        };
        match &self.selection {
            Selection::Nodes(n) if n.len() <= 20 => format!(
                "nodes {}; {versions}",
                n.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
            ),
            Selection::Nodes(n) => format!("{} nodes; {versions}", n.len()),
            Selection::Hold(h) => format!("every item under hold {h}; {versions}"),
            Selection::Folder(f) => format!("every document in folder {f}; {versions}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<PackageRequest, RequestError> {
        PackageRequest::parse(s.as_bytes())
    }

    #[test]
    fn a_request_names_its_records_and_the_same_request_the_same_package() {
        let a = parse(r#"{"nodes":[10003,10001,10002,10001],"versions":"all","requested_by":"counsel: J. Roe","reason":"LH-2026-014 production"}"#).unwrap();
        assert_eq!(a.selection, Selection::Nodes(vec![10001, 10002, 10003]));
        assert_eq!(a.versions, Versions::All);
        let b = parse(r#"{"reason":"LH-2026-014 production","requested_by":" counsel: J. Roe ","versions":"all","nodes":[10002,10003,10001]}"#).unwrap();
        assert_eq!(
            a.package_id(),
            b.package_id(),
            "order and spacing do not matter"
        );
        assert!(a.package_id().starts_with("pkg-") && a.package_id().len() == 28);
        let other = parse(r#"{"nodes":[10001,10002,10003],"requested_by":"counsel: J. Roe","reason":"LH-2026-014 production"}"#).unwrap();
        assert_ne!(
            a.package_id(),
            other.package_id(),
            "latest is another package"
        );
        assert_eq!(other.versions, Versions::Latest);
        let hold =
            parse(r#"{"hold_id":6100,"requested_by":"auditor","reason":"annual audit"}"#).unwrap();
        assert_eq!(
            hold.selection_text(),
            "every item under hold 6100; latest version"
        );
    }

    #[test]
    fn bad_requests_name_the_field() {
        for (body, field) in [
            (r#"{"requested_by":"a","reason":"b"}"#, "selection"),
            (
                r#"{"nodes":[1],"hold_id":2,"requested_by":"a","reason":"b"}"#,
                "selection",
            ),
            (r#"{"nodes":[],"requested_by":"a","reason":"b"}"#, "nodes"),
            (r#"{"nodes":[0],"requested_by":"a","reason":"b"}"#, "nodes"),
            (
                r#"{"hold_id":0,"requested_by":"a","reason":"b"}"#,
                "hold_id",
            ),
            (r#"{"nodes":[1],"reason":"b"}"#, "requested_by"),
            (
                r#"{"nodes":[1],"requested_by":"a","reason":"  "}"#,
                "reason",
            ),
            (
                r#"{"nodes":[1],"requested_by":"a\nb","reason":"c"}"#,
                "requested_by",
            ),
            (
                r#"{"nodes":[1],"requested_by":"a","reason":"b","extra":1}"#,
                "request",
            ),
            (
                r#"{"nodes":[1],"versions":"some","requested_by":"a","reason":"b"}"#,
                "request",
            ),
            ("[]", "request"),
        ] {
            let e = parse(body).unwrap_err();
            assert_eq!(e.field, field, "{body}: {e}");
        }
        let many: Vec<u64> = (1..=MAX_NODES as u64 + 1).collect();
        let body = serde_json::json!({"nodes": many, "requested_by": "a", "reason": "b"});
        assert_eq!(PackageRequest::from_value(body).unwrap_err().field, "nodes");
    }
}
