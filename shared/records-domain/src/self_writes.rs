//! Which S3 notifications records-bridge caused itself. Every declaration tags its own object
//! version ([`crate::tags`]), and the lifecycle worker tags governed versions too; S3 then
//! sends an `ObjectTagging:Put` for each of those writes. Recognised by the writer's IAM role
//! (S3's `userIdentity.principalId` of a Lambda function's write is
//! `AWS:<role unique id>:<session name>`), they are dropped before any store or S3 call. A
//! person's tagging (any other principal, or none) still triggers a declaration.

/// S3's event name for a tag set written on an object version.
pub const OBJECT_TAGGING_PUT: &str = "ObjectTagging:Put";

/// The unique ids (`AROA…`) of the IAM roles records-bridge's functions write to the
/// governed bucket with. Empty: nothing is recognised, every event goes on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelfWriters {
    role_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelfWritersError {
    #[error("entry {position} of the comma-separated list is empty")]
    EmptyEntry { position: usize },
    #[error(
        "{id:?} is not an IAM role unique id (\"AROA\" then upper-case letters and digits, \
         as CloudFormation's !GetAtt <Role>.RoleId gives it; not a role name or ARN)"
    )]
    NotARoleId { id: String },
}

impl SelfWriters {
    /// No role recognised.
    pub fn none() -> Self {
        Self::default()
    }

    /// A comma-separated list of role unique ids; blank is [`SelfWriters::none`].
    pub fn parse(list: &str) -> Result<Self, SelfWritersError> {
        if list.trim().is_empty() {
            return Ok(Self::none());
        }
        let mut role_ids: Vec<String> = Vec::new();
        for (i, entry) in list.split(',').enumerate() {
            let id = entry.trim();
            if id.is_empty() {
                return Err(SelfWritersError::EmptyEntry { position: i + 1 });
            }
            let well_formed = id.strip_prefix("AROA").is_some_and(|rest| {
                !rest.is_empty()
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            });
            if !well_formed || id.len() > 128 {
                return Err(SelfWritersError::NotARoleId { id: id.to_string() });
            }
            if !role_ids.iter().any(|r| r == id) {
                role_ids.push(id.to_string());
            }
        }
        Ok(Self { role_ids })
    }

    pub fn role_ids(&self) -> &[String] {
        &self.role_ids
    }

    /// Whether `principal` (S3's `userIdentity.principalId`) is a session of a listed role:
    /// `AWS:<role id>:<session>` or the bare `<role id>:<session>`.
    pub fn wrote(&self, principal: &str) -> bool {
        let rest = principal.strip_prefix("AWS:").unwrap_or(principal);
        let Some((id, _session)) = rest.split_once(':') else {
            return false;
        };
        self.role_ids.iter().any(|r| r == id)
    }

    /// Whether an S3 notification is records-bridge's own tag write, to be dropped: only an
    /// `ObjectTagging:Put` by a listed role. Object creations and deletions always go on,
    /// whoever made them, and so does an event without a principal (moto sends none).
    pub fn caused(&self, event_name: &str, principal: Option<&str>) -> bool {
        event_name == OBJECT_TAGGING_PUT && principal.is_some_and(|p| self.wrote(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DECLARE: &str = "AROADBQP57FF2AEXAMPLE";
    const WORKER: &str = "AROA3XFRBF535PLEXAMPLE";

    fn writers() -> SelfWriters {
        SelfWriters::parse(&format!("{DECLARE},{WORKER}")).unwrap()
    }

    #[test]
    fn a_tagging_by_a_listed_role_is_its_own_write() {
        let w = writers();
        for principal in [
            format!("AWS:{DECLARE}:records-bridge-declare"),
            format!("AWS:{WORKER}:lifecycle-worker"),
            // The bare form, without S3's `AWS:` prefix.
            format!("{DECLARE}:records-bridge-declare"),
        ] {
            assert!(
                w.caused(OBJECT_TAGGING_PUT, Some(&principal)),
                "{principal}"
            );
        }
    }

    #[test]
    fn a_persons_tagging_or_one_without_a_principal_goes_on() {
        let w = writers();
        for principal in [
            "AWS:AIDAEXAMPLE:alice",
            "AIDAJDPLRKLG7UEXAMPLE",
            "AWS:AROAUNLISTEDEXAMPLE:declare-fn",
            // A listed id without a session is not an assumed role's principal.
            DECLARE,
            &format!("AWS:{DECLARE}"),
            // Only the id before the session counts, whole.
            &format!("AWS:{DECLARE}X:declare-fn"),
            &format!("AWS:AROAOTHER:{DECLARE}"),
            "",
        ] {
            assert!(
                !w.caused(OBJECT_TAGGING_PUT, Some(principal)),
                "{principal:?}"
            );
        }
        assert!(
            !w.caused(OBJECT_TAGGING_PUT, None),
            "moto sends no userIdentity"
        );
    }

    #[test]
    fn only_tagging_events_are_ever_dropped() {
        let w = writers();
        let own = format!("AWS:{DECLARE}:records-bridge-declare");
        for event in [
            "ObjectCreated:Put",
            "ObjectCreated:CompleteMultipartUpload",
            "ObjectCreated:Copy",
            "ObjectRemoved:DeleteMarkerCreated",
            "ObjectRemoved:Delete",
            "ObjectTagging:Delete",
        ] {
            assert!(!w.caused(event, Some(&own)), "{event}");
        }
    }

    #[test]
    fn nothing_is_recognised_when_no_role_is_listed() {
        for blank in ["", "  "] {
            let w = SelfWriters::parse(blank).unwrap();
            assert_eq!(w, SelfWriters::none());
            assert!(!w.caused(OBJECT_TAGGING_PUT, Some(&format!("AWS:{DECLARE}:s"))));
        }
    }

    #[test]
    fn the_list_is_trimmed_and_deduplicated() {
        let w = SelfWriters::parse(&format!(" {DECLARE} , {WORKER},{DECLARE}")).unwrap();
        assert_eq!(w.role_ids(), [DECLARE, WORKER]);
    }

    #[test]
    fn malformed_lists_say_what_is_wrong() {
        assert_eq!(
            SelfWriters::parse(&format!("{DECLARE},,{WORKER}")),
            Err(SelfWritersError::EmptyEntry { position: 2 })
        );
        assert_eq!(
            SelfWriters::parse(&format!("{DECLARE},")),
            Err(SelfWritersError::EmptyEntry { position: 2 })
        );
        for bad in [
            "arn:aws:iam::123456789012:role/declare",
            "records-bridge-DeclareFunctionRole-ABC",
            "AIDAJDPLRKLG7UEXAMPLE",
            "AROA",
            "aroadbqp57ff2aexample",
            "AROA DBQP57",
            "AROADBQP:57",
        ] {
            let err = SelfWriters::parse(bad).unwrap_err();
            assert!(
                matches!(&err, SelfWritersError::NotARoleId { id } if id == bad),
                "{bad}: {err:?}"
            );
            assert!(err.to_string().contains("RoleId"), "{err}");
        }
    }
}
