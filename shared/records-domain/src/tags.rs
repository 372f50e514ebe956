//! The S3 tags records-bridge writes and reads, named once. S3's users see them on the object
//! versions; the reconciler and the governance sync read them back.

/// The OpenText node id of the record a version is declared as (P1 writes it once the record
/// is classified; P3 finds the records governing a key by it).
pub const NODE_ID: &str = "records-bridge:node-id";

/// Where the version's declaration stands: [`DECLARED`] once declared.
pub const STATE: &str = "records-bridge:state";
/// [`STATE`]'s value on a declared version.
pub const DECLARED: &str = "declared";

/// A retention S3 cannot express as a date, kept under a legal hold: `awaiting-event` or
/// `permanent` ([`crate::retention::AWAITING_EVENT`], [`crate::retention::PERMANENT`]), then
/// `dated` once OpenText gives it a date.
pub const RETENTION: &str = "records-bridge:retention";

/// The record's OpenText disposition status (P3).
pub const DISPOSITION: &str = "records-bridge:disposition";

/// The approval tag the sample policies match on (`records-bridge:status: final`): set by the
/// object's owner, read only through the policy's `match.tags`.
pub const STATUS: &str = "records-bridge:status";

#[cfg(test)]
mod tests {
    #[test]
    fn every_tag_is_in_the_records_bridge_namespace_and_distinct() {
        let all = [
            super::NODE_ID,
            super::STATE,
            super::RETENTION,
            super::DISPOSITION,
            super::STATUS,
        ];
        for (i, t) in all.iter().enumerate() {
            assert!(t.starts_with("records-bridge:"), "{t}");
            // S3: tag keys up to 128 characters.
            assert!(t.len() <= 128, "{t}");
            assert!(!all[..i].contains(t), "{t} twice");
        }
    }
}
