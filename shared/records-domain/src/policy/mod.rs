//! The declaration policy: which S3 objects become which OpenText records.
//! See the crate README for the YAML format.

pub mod access;
pub mod archive;
pub mod business;
mod evaluate;
pub mod evidence;
mod model;
pub mod publication;
mod template;
mod validate;

#[cfg(test)]
mod tests;

pub use archive::{ArchivePolicy, ArchiveTrigger, RetentionMode, VersionSelection};
pub use business::{BusinessEventPolicy, BusinessEventRule, BusinessKeySource, BusinessKeySpec};
pub use evaluate::{
    CategoryValues, Decision, ObjectFacts, Plan, PlanError, RecordDetails, source_uri,
};
pub use model::{
    AttrSpec, AttrValue, CategorySpec, GovernSpec, Mode, OnExistingName, OnNameClash, Policy,
    Provenance, ProvenanceField, RecordDateSource, RecordSpec, Rule, RuleAction,
};
pub use template::{
    KNOWN_PLACEHOLDERS, MAX_NODE_NAME_CHARS, Placeholder, Template, TemplateError, basename,
    disambiguate_node_name, sanitize_node_name,
};
pub use validate::{POLICY_VERSION, PolicyError, ValidationError};
