//! P5: how records-bridge hands out S3 content of records (top-level `access:`).
//!
//! ```yaml
//! access:
//!   url_lifetime_seconds: 60     # presigned URL lifetime; at most 900 (15 minutes)
//!   holds_block_access: false    # true: a record under hold is not opened (423)
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::ValidationError;

/// The longest presigned URL records-bridge hands out: 15 minutes.
pub const MAX_URL_LIFETIME: Duration = Duration::from_secs(900);
/// Unless the policy says otherwise: one minute.
pub const DEFAULT_URL_LIFETIME: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessDoc {
    pub url_lifetime_seconds: Option<i64>,
    pub holds_block_access: Option<bool>,
}

/// The validated `access:` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessPolicy {
    pub url_lifetime: Duration,
    /// A hold keeps the record's content closed (legal review), not only undeletable.
    pub holds_block_access: bool,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        AccessPolicy {
            url_lifetime: DEFAULT_URL_LIFETIME,
            holds_block_access: false,
        }
    }
}

pub(crate) fn validate_access(
    doc: Option<AccessDoc>,
    errors: &mut Vec<ValidationError>,
) -> AccessPolicy {
    let Some(doc) = doc else {
        return AccessPolicy::default();
    };
    let mut policy = AccessPolicy::default();
    if let Some(secs) = doc.url_lifetime_seconds {
        if secs < 1 || secs as u64 > MAX_URL_LIFETIME.as_secs() {
            errors.push(ValidationError {
                rule: None,
                field: "access.url_lifetime_seconds".into(),
                message: format!(
                    "{secs} s: a presigned URL lives 1 to {} seconds (15 minutes)",
                    MAX_URL_LIFETIME.as_secs()
                ),
            });
        } else {
            policy.url_lifetime = Duration::from_secs(secs as u64);
        }
    }
    if let Some(b) = doc.holds_block_access {
        policy.holds_block_access = b;
    }
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        let mut e = Vec::new();
        assert_eq!(validate_access(None, &mut e), AccessPolicy::default());
        let p = validate_access(
            Some(AccessDoc {
                url_lifetime_seconds: Some(900),
                holds_block_access: Some(true),
            }),
            &mut e,
        );
        assert!(e.is_empty());
        assert_eq!(p.url_lifetime, Duration::from_secs(900));
        assert!(p.holds_block_access);
        for bad in [0, -5, 901, 3600] {
            let mut e = Vec::new();
            validate_access(
                Some(AccessDoc {
                    url_lifetime_seconds: Some(bad),
                    holds_block_access: None,
                }),
                &mut e,
            );
            assert_eq!(e.len(), 1, "{bad}");
            assert!(e[0].message.contains("1 to 900 seconds"), "{}", e[0]);
        }
    }
}
