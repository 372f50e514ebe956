//! P6: how evidence packages are made and handed out (top-level `evidence:`).
//!
//! ```yaml
//! evidence:
//!   source_organization: "Example Corp Records Management"   # bag-info.txt
//!   retention_days: 2555          # Object Lock (COMPLIANCE) on each package
//!   link_lifetime_days: 7         # presigned links to recipients; at most 7 (SigV4)
//!   declare_back:                 # optional: the package becomes a record in OpenText
//!     folder_id: 2103
//!     classification_id: 4102
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::ValidationError;

/// The longest presigned URL S3 honours (SigV4): 7 days.
pub const MAX_LINK_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// Longest retention accepted (100 years, S3 Object Lock's practical bound).
const MAX_RETENTION_DAYS: u32 = 36_500;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceDoc {
    pub source_organization: Option<String>,
    pub retention_days: Option<u32>,
    pub link_lifetime_days: Option<u32>,
    pub declare_back: Option<DeclareBackDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeclareBackDoc {
    pub folder_id: Option<u64>,
    pub classification_id: Option<u64>,
}

/// Where a finished package is declared back into OpenText, as a record of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclareBack {
    pub folder_id: u64,
    pub classification_id: u64,
}

/// The validated `evidence:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidencePolicy {
    pub source_organization: String,
    pub retention_days: u32,
    pub link_lifetime: Duration,
    pub declare_back: Option<DeclareBack>,
}

fn finding(field: &str, message: impl Into<String>) -> ValidationError {
    ValidationError {
        rule: None,
        field: format!("evidence.{field}"),
        message: message.into(),
    }
}

pub(crate) fn validate_evidence(
    doc: EvidenceDoc,
    errors: &mut Vec<ValidationError>,
) -> Option<EvidencePolicy> {
    let before = errors.len();
    let source_organization = match doc.source_organization.map(|s| s.trim().to_string()) {
        Some(s) if !s.is_empty() && s.len() <= 256 && !s.chars().any(char::is_control) => s,
        Some(s) => {
            errors.push(finding(
                "source_organization",
                format!("{s:?}: 1-256 characters on one line"),
            ));
            String::new()
        }
        None => {
            errors.push(finding(
                "source_organization",
                "missing: the organisation bag-info.txt names",
            ));
            String::new()
        }
    };
    let retention_days = match doc.retention_days {
        Some(d) if (1..=MAX_RETENTION_DAYS).contains(&d) => d,
        Some(d) => {
            errors.push(finding(
                "retention_days",
                format!("{d}: 1 to {MAX_RETENTION_DAYS} days"),
            ));
            0
        }
        None => {
            errors.push(finding(
                "retention_days",
                "missing: how long Object Lock keeps each package",
            ));
            0
        }
    };
    let max_days = (MAX_LINK_LIFETIME.as_secs() / 86_400) as u32;
    let link_lifetime = match doc.link_lifetime_days.unwrap_or(max_days) {
        d @ 1.. if d <= max_days => Duration::from_secs(u64::from(d) * 86_400),
        d => {
            errors.push(finding(
                "link_lifetime_days",
                format!("{d}: presigned links live 1 to {max_days} days (S3's SigV4 limit)"),
            ));
            MAX_LINK_LIFETIME
        }
    };
    let declare_back = match doc.declare_back {
        None => None,
        Some(DeclareBackDoc {
            folder_id: Some(f),
            classification_id: Some(c),
        }) if f > 0 && c > 0 => Some(DeclareBack {
            folder_id: f,
            classification_id: c,
        }),
        Some(_) => {
            errors.push(finding(
                "declare_back",
                "needs a positive folder_id and classification_id",
            ));
            None
        }
    };
    (errors.len() == before).then_some(EvidencePolicy {
        source_organization,
        retention_days,
        link_lifetime,
        declare_back,
    })
}

#[cfg(test)]
mod tests {
    use crate::policy::{Policy, PolicyError};

    const BASE: &str = "version: 1\nprovenance:\n  category_id: 3100\n  attributes: { bucket: 2, key: 3, version_id: 4, etag: 5, size: 6, sha256: 7 }\nrules:\n  - name: all\n    match: {}\n    action: ignore\n";

    #[test]
    fn links_last_seven_days_unless_shorter_and_mistakes_are_named() {
        let p = Policy::from_yaml(&format!(
            "{BASE}evidence:\n  source_organization: Example Corp\n  retention_days: 2555\n"
        ))
        .unwrap()
        .evidence
        .unwrap();
        assert_eq!(p.link_lifetime, super::MAX_LINK_LIFETIME);
        assert_eq!(p.retention_days, 2555);
        assert_eq!(p.declare_back, None);
        assert!(Policy::from_yaml(BASE).unwrap().evidence.is_none());
        let bad = format!(
            "{BASE}evidence:\n  source_organization: \"\"\n  retention_days: 0\n  link_lifetime_days: 8\n  declare_back: {{ folder_id: 2103 }}\n"
        );
        let Err(PolicyError::Invalid(errs)) = Policy::from_yaml(&bad) else {
            panic!("refused");
        };
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        for field in [
            "evidence.source_organization",
            "evidence.retention_days",
            "evidence.link_lifetime_days: 8",
            "evidence.declare_back",
        ] {
            assert!(text.iter().any(|t| t.contains(field)), "{field}: {text:?}");
        }
    }
}
