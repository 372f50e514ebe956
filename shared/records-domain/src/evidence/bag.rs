//! The BagIt bag (RFC 8493) of an evidence package, as text: `bagit.txt`, `bag-info.txt`,
//! the payload and tag manifests, and the payload's paths. The bytes are streamed by the
//! workflow; what they are called and how they are listed is decided here.

use std::fmt::Write as _;

/// `bagit.txt`: the version and the tag files' encoding.
pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// One file of the bag: its path inside the bag (`data/…` for payload) and its digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagFile {
    pub path: String,
    pub size: u64,
    /// Hex SHA-256.
    pub sha256: String,
    /// Hex SHA-512.
    pub sha512: String,
}

/// The digests a manifest lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
}

/// One segment of a payload path: no separators, no controls, nothing Windows refuses to
/// unpack, never `.` or `..`, at most 200 characters.
pub fn path_segment(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .take(200)
        .collect();
    let cleaned = cleaned.trim_end_matches(['.', ' ']).to_string();
    if cleaned.is_empty() {
        "unnamed".into()
    } else {
        cleaned
    }
}

/// Where a record's version goes: `data/<node>/v<version>/<file name>`.
pub fn content_path(node_id: u64, version: u32, file_name: &str) -> String {
    format!("data/{node_id}/v{version}/{}", path_segment(file_name))
}

/// Where a record's metadata goes: `data/<node>/metadata.json`.
pub fn metadata_path(node_id: u64) -> String {
    format!("data/{node_id}/metadata.json")
}

/// A path as a manifest line writes it: CR, LF and `%` percent-encoded (RFC 8493 §2.1.3).
pub fn manifest_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `manifest-<alg>.txt` or `tagmanifest-<alg>.txt`: one `<digest>  <path>` line per file,
/// in path order.
pub fn manifest(files: &[BagFile], alg: Algorithm) -> String {
    let mut sorted: Vec<&BagFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut out = String::new();
    for f in sorted {
        let digest = match alg {
            Algorithm::Sha256 => &f.sha256,
            Algorithm::Sha512 => &f.sha512,
        };
        let _ = writeln!(out, "{digest}  {}", manifest_path(&f.path));
    }
    out
}

/// `Payload-Oxum`: total payload octets `.` number of payload files.
pub fn payload_oxum(payload: &[BagFile]) -> String {
    let octets: u64 = payload.iter().map(|f| f.size).sum();
    format!("{octets}.{}", payload.len())
}

/// `bag-info.txt`'s fields, in the order they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagInfo {
    pub source_organization: String,
    /// `YYYY-MM-DD`.
    pub bagging_date: String,
    /// The package id (the request's).
    pub external_identifier: String,
    pub external_description: String,
    /// Who asked, and why.
    pub contact_name: String,
    pub reason: String,
    /// The selection in words.
    pub selection: String,
    pub payload_oxum: String,
    /// Sources whose bytes did not match the SHA-256 recorded at declaration (`node vN: …`).
    pub mismatches: Vec<String>,
}

impl BagInfo {
    /// The file's text: `Label: value` lines, values on one line each (line breaks become
    /// spaces, so no value can add a field).
    pub fn render(&self) -> String {
        let one_line = |v: &str| v.split(['\r', '\n']).collect::<Vec<_>>().join(" ");
        let mut fields: Vec<(&str, String)> = vec![
            ("Source-Organization", one_line(&self.source_organization)),
            ("Bagging-Date", one_line(&self.bagging_date)),
            ("External-Identifier", one_line(&self.external_identifier)),
            ("External-Description", one_line(&self.external_description)),
            ("Contact-Name", one_line(&self.contact_name)),
            ("Internal-Sender-Description", one_line(&self.reason)),
            ("Records-Bridge-Selection", one_line(&self.selection)),
            ("Payload-Oxum", self.payload_oxum.clone()),
            (
                "Records-Bridge-Source-Mismatches",
                self.mismatches.len().to_string(),
            ),
        ];
        for m in &self.mismatches {
            fields.push(("Records-Bridge-Source-Mismatch", one_line(m)));
        }
        let mut out = String::new();
        for (label, value) in fields {
            let _ = writeln!(out, "{label}: {value}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64) -> BagFile {
        BagFile {
            path: path.into(),
            size,
            sha256: format!("{:0>64}", size),
            sha512: format!("{:0>128}", size),
        }
    }

    #[test]
    fn payload_paths_are_safe_to_unpack_anywhere() {
        assert_eq!(
            content_path(10001, 2, "Q3 report: draft/final?.pdf"),
            "data/10001/v2/Q3 report_ draft_final_.pdf"
        );
        assert_eq!(content_path(1, 1, ".."), "data/1/v1/unnamed");
        assert_eq!(content_path(1, 1, "café.txt. "), "data/1/v1/café.txt");
        assert_eq!(path_segment(&"x".repeat(300)).chars().count(), 200);
        assert_eq!(metadata_path(7), "data/7/metadata.json");
    }

    #[test]
    fn manifests_list_every_file_in_path_order_with_rfc_8493_encoding() {
        let files = [file("data/2/b.txt", 3), file("data/1/100%\nsure.txt", 5)];
        let m = manifest(&files, Algorithm::Sha256);
        let lines: Vec<&str> = m.lines().collect();
        assert_eq!(
            lines,
            [
                format!("{:0>64}  data/1/100%25%0Asure.txt", 5),
                format!("{:0>64}  data/2/b.txt", 3)
            ]
        );
        assert!(manifest(&files, Algorithm::Sha512).starts_with(&format!("{:0>128}  ", 5)));
        assert_eq!(payload_oxum(&files), "8.2");
    }

    #[test]
    fn bag_info_is_one_line_per_field_and_no_value_adds_a_field() {
        let info = BagInfo {
            source_organization: "Example Corp Records".into(),
            bagging_date: "2026-12-01".into(),
            external_identifier: "pkg-0123".into(),
            external_description: "records-bridge evidence package".into(),
            contact_name: "counsel\nPayload-Oxum: 1.1".into(),
            reason: "LH-2026-014".into(),
            selection: "every item under hold 6100; latest version".into(),
            payload_oxum: "8.2".into(),
            mismatches: vec!["10002 v1: recorded ab…, read cd…".into()],
        };
        let text = info.render();
        assert!(
            text.starts_with(
                "Source-Organization: Example Corp Records\nBagging-Date: 2026-12-01\n"
            )
        );
        assert_eq!(
            text.matches("Payload-Oxum:").count(),
            2,
            "one of them inside a value"
        );
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("Payload-Oxum:"))
                .count(),
            1,
            "only one is a field"
        );
        assert!(text.contains("Contact-Name: counsel Payload-Oxum: 1.1\n"));
        assert!(text.contains("Records-Bridge-Source-Mismatches: 1\n"));
        assert!(
            text.ends_with("Records-Bridge-Source-Mismatch: 10002 v1: recorded ab…, read cd…\n")
        );
        assert!(BAGIT_TXT.starts_with("BagIt-Version: 1.0\n"));
    }
}
