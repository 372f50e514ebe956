//! What the test suites share, so that a test reads as its scenario only.
//!
//! - [`hashing`]: SHA-256 as hex and base64, as OpenText, the workflow items and S3 show it;
//! - [`content`]: deterministic content of any size, generated as it is read;
//! - [`policy`]: the records policy fixtures several suites use;
//! - [`epoch`]: RFC 3339 → epoch seconds (Object Lock's retain-until dates).
//!
//! With the `stack` feature (default), over [`local_stack::stack::Stack`]:
//!
//! - [`stack`]: building and starting a stack, moto alone for adapter tests;
//! - [`queue`]: depth, sending, peeking and taking messages;
//! - [`workflow`]: the workflow table's items and the record ⇄ S3 version links;
//! - [`sim`]: the simulator's admin views (documents in a folder, a node, category values,
//!   the request log);
//! - [`opentext`]: clients for the simulator's service account and administrator;
//! - [`s3`]: real S3 notifications, uploads, heads and tags of object versions;
//! - [`audit`]: the audit trail of a record or an S3 version.
//!
//! Each suite keeps its own scenario-specific helpers; what is here is what several repeat.

pub mod content;
pub mod hashing;
pub mod policy;

#[cfg(feature = "browser")]
pub mod browser;

#[cfg(feature = "stack")]
pub mod audit;
#[cfg(feature = "stack")]
pub mod opentext;
#[cfg(feature = "stack")]
pub mod queue;
#[cfg(feature = "stack")]
pub mod s3;
#[cfg(feature = "stack")]
pub mod sim;
#[cfg(feature = "stack")]
pub mod stack;
#[cfg(feature = "stack")]
pub mod workflow;

/// Epoch seconds of an RFC 3339 date (how S3 reports a retain-until date).
pub fn epoch(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339:?} is not RFC 3339: {e}"))
        .unix_timestamp()
}
