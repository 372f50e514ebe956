//! Policy data types: the raw YAML document (parsed leniently so that
//! validation can name the rule and field of every mistake) and the public,
//! validated types the rest of the crate works with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::evaluate::Matcher;
use super::template::Template;

// ---------------------------------------------------------------------------
// Raw YAML document. Every field is optional here: missing or malformed values
// become validation errors that name the rule, instead of one opaque parse error.
// `deny_unknown_fields` everywhere, so a typo never silently ungoverns an object.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyDoc {
    pub version: Option<u32>,
    pub provenance: Option<ProvenanceDoc>,
    pub rules: Option<Vec<RuleDoc>>,
    /// P2: optional archive tier section.
    pub archive: Option<super::archive::ArchiveDoc>,
    /// P4: what business events change.
    pub business_events: Option<Vec<super::business::BusinessEventDoc>>,
    /// P5: how S3 content of records is handed out.
    pub access: Option<super::access::AccessDoc>,
    /// P7: which documents are published, when, and where.
    pub publication: Option<super::publication::PublicationDoc>,
    /// P6: how evidence packages are made and handed out.
    pub evidence: Option<super::evidence::EvidenceDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProvenanceDoc {
    pub category_id: Option<u64>,
    pub attributes: Option<ProvenanceAttrsDoc>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProvenanceAttrsDoc {
    pub bucket: Option<u32>,
    pub key: Option<u32>,
    pub version_id: Option<u32>,
    pub etag: Option<u32>,
    pub size: Option<u32>,
    pub sha256: Option<u32>,
    pub source_uri: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDoc {
    pub name: Option<String>,
    #[serde(rename = "match")]
    pub match_: Option<MatchDoc>,
    pub action: Option<String>,
    pub destination: Option<DestinationDoc>,
    pub document_name: Option<String>,
    pub mode: Option<String>,
    pub on_existing_name: Option<String>,
    pub on_name_clash: Option<String>,
    pub classification: Option<ClassificationDoc>,
    pub record: Option<RecordDoc>,
    pub categories: Option<Vec<CategoryDoc>>,
    /// P4: the business objects a record belongs to.
    pub business_keys: Option<Vec<super::business::BusinessKeyDoc>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatchDoc {
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, Scalar>,
    #[serde(default)]
    pub metadata: BTreeMap<String, Scalar>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DestinationDoc {
    pub folder_id: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassificationDoc {
    pub id: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordDoc {
    pub rsi: Option<String>,
    pub official: Option<bool>,
    pub status: Option<String>,
    pub record_date: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategoryDoc {
    pub id: Option<u64>,
    #[serde(default)]
    pub attributes: BTreeMap<String, Scalar>,
}

/// A YAML scalar. Tag values such as `2024` or `true` parse as numbers or
/// booleans; matching compares their text form.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

// ---------------------------------------------------------------------------
// Validated policy types.
// ---------------------------------------------------------------------------

/// How the content reaches OpenText.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Stream the bytes into Content Server as a document version.
    Copy,
    /// Keep the bytes in S3; OpenText holds a reference record (P3).
    Reference,
}

/// What to do when the destination folder already holds a node of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnExistingName {
    /// Add a version to the existing node.
    NewVersion,
    /// Fail the declaration (non-retryable) and audit the refusal.
    Refuse,
}

/// What to do when the name is taken by a document that is not this object's: another S3
/// key whose name renders the same (`x/a.pdf` and `y/a.pdf` under `{basename}`, names equal
/// once cut to 248 characters or stripped of `:`, names equal but for case), or a document
/// records-bridge did not create. Never a new version of someone else's document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnNameClash {
    /// Declare under a name made unique by a short hash of the S3 bucket and key
    /// (`a [s3 1f2e3d4c].pdf`): the same object always gets the same name.
    #[default]
    Disambiguate,
    /// Fail the declaration (non-retryable), naming the document in the way.
    Refuse,
}

/// Where a record's record date comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordDateSource {
    /// The object's upload time (`ObjectFacts::uploaded_at`), as a UTC date.
    UploadTime,
    /// A user metadata value (`x-amz-meta-<name>`), `YYYY-MM-DD` or RFC 3339.
    Metadata(String),
    /// Do not send a record date.
    None,
}

/// A category attribute value as OpenText receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttrValue {
    Bool(bool),
    Integer(i64),
    Text(String),
}

impl AttrValue {
    /// The value as a multipart form field (OpenText form bodies are text).
    pub fn to_form_value(&self) -> String {
        match self {
            AttrValue::Bool(b) => b.to_string(),
            AttrValue::Integer(i) => i.to_string(),
            AttrValue::Text(s) => s.clone(),
        }
    }
}

/// A rule's attribute value: a literal, or a template rendered per object.
/// Externally tagged in JSON (`{"template":"s3://{bucket}/{key}"}`) so a text
/// literal and a template stay distinct when a plan is stored and read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttrSpec {
    Literal(AttrValue),
    Template(Template),
}

/// One category a rule applies, with attribute keys in `{cat}_{attr}` form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategorySpec {
    pub id: u64,
    pub attributes: BTreeMap<String, AttrSpec>,
}

/// A provenance fact the bridge always records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvenanceField {
    Bucket,
    Key,
    VersionId,
    Etag,
    Size,
    Sha256,
    SourceUri,
}

impl ProvenanceField {
    pub const ALL: [ProvenanceField; 7] = [
        ProvenanceField::Bucket,
        ProvenanceField::Key,
        ProvenanceField::VersionId,
        ProvenanceField::Etag,
        ProvenanceField::Size,
        ProvenanceField::Sha256,
        ProvenanceField::SourceUri,
    ];

    /// The YAML field name under `provenance.attributes`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProvenanceField::Bucket => "bucket",
            ProvenanceField::Key => "key",
            ProvenanceField::VersionId => "version_id",
            ProvenanceField::Etag => "etag",
            ProvenanceField::Size => "size",
            ProvenanceField::Sha256 => "sha256",
            ProvenanceField::SourceUri => "source_uri",
        }
    }

    /// P1 requires these on every record (chain of custody); `source_uri` is optional.
    pub fn is_required(self) -> bool {
        self != ProvenanceField::SourceUri
    }
}

/// Where provenance goes: one category and an attribute number per fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub category_id: u64,
    /// Attribute number (the `2` of `3100_2`) per fact.
    pub attributes: BTreeMap<ProvenanceField, u32>,
}

impl Provenance {
    /// The full attribute key (`3100_7`) of a fact, if mapped.
    pub fn attribute_key(&self, field: ProvenanceField) -> Option<String> {
        self.attributes
            .get(&field)
            .map(|n| format!("{}_{}", self.category_id, n))
    }
}

/// Record details applied with the RM classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSpec {
    /// RSI name (e.g. `FIN-7Y`); None keeps the classification's default.
    pub rsi: Option<String>,
    pub official: Option<bool>,
    /// RM status code (e.g. `ACTIVE`).
    pub status: Option<String>,
    pub record_date: RecordDateSource,
}

/// Everything a governing rule prescribes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GovernSpec {
    pub folder_id: u64,
    pub document_name: Template,
    pub mode: Mode,
    pub on_existing_name: OnExistingName,
    pub on_name_clash: OnNameClash,
    pub classification_id: u64,
    pub record: RecordSpec,
    pub categories: Vec<CategorySpec>,
    /// P4: indexed at declaration so business events find the record.
    #[serde(default)]
    pub business_keys: Vec<super::business::BusinessKeySpec>,
}

/// What a matching rule does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RuleAction {
    Govern(Box<GovernSpec>),
    /// Explicit non-governance: the object is skipped and the skip audited.
    Ignore,
}

/// A validated rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub index: usize,
    pub name: String,
    pub(crate) matcher: Matcher,
    pub action: RuleAction,
}

/// A validated policy; build it with [`Policy::from_yaml`](crate::Policy::from_yaml).
#[derive(Debug, Clone)]
pub struct Policy {
    pub provenance: Provenance,
    pub rules: Vec<Rule>,
    /// P2: when and how records are archived to S3 (None: no archive tier).
    pub archive: Option<super::archive::ArchivePolicy>,
    /// P4: what business events change (empty: none are acted on).
    pub business_events: super::business::BusinessEventPolicy,
    /// P5: presigned URL lifetime, whether holds close access.
    pub access: super::access::AccessPolicy,
    /// P7: gated publication (None: nothing is published).
    pub publication: Option<super::publication::PublicationPolicy>,
    /// P6: evidence packages (None: requests are refused).
    pub evidence: Option<super::evidence::EvidencePolicy>,
    /// What is allowed but worth a records manager's look (e.g. a name template that can
    /// give two objects one name); functions log them at start.
    pub warnings: Vec<super::ValidationError>,
}
