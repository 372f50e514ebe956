//! Matching an object against the policy and building the declaration plan.

use std::collections::BTreeMap;

use globset::GlobMatcher;
use serde::{Deserialize, Serialize};

use super::model::{
    AttrSpec, AttrValue, CategorySpec, Mode, OnExistingName, OnNameClash, Policy, Provenance,
    ProvenanceField, RecordDateSource, RuleAction,
};
use super::template::{Template, sanitize_node_name, utc_date};
use crate::idempotency::{IdempotencyKey, ObjectVersion, normalize_etag};

/// What the worker knows about one S3 object version when it evaluates.
///
/// `tags` and `metadata` are `None` when the worker has not fetched them
/// (S3 events carry neither); a rule that needs them then fails the plan
/// instead of silently not matching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectFacts {
    pub bucket: String,
    /// Decoded key (see [`decode_s3_event_key`](crate::decode_s3_event_key)).
    pub key: String,
    /// None (or "null") for an unversioned bucket.
    pub version_id: Option<String>,
    pub size: u64,
    /// With or without the quotes S3 puts around it.
    pub etag: String,
    pub tags: Option<BTreeMap<String, String>>,
    /// User metadata without the `x-amz-meta-` prefix; keys compare case-insensitively.
    pub metadata: Option<BTreeMap<String, String>>,
    /// RFC 3339 upload time: the `ObjectCreated` event time, or `LastModified`
    /// from HeadObject (an `ObjectTagging:Put` event time is not the upload time).
    pub uploaded_at: String,
}

impl ObjectFacts {
    /// The version id as S3 spells an unversioned one: "null".
    pub fn version_id_or_null(&self) -> &str {
        match self.version_id.as_deref() {
            None | Some("") => "null",
            Some(v) => v,
        }
    }

    pub fn etag_normalized(&self) -> &str {
        normalize_etag(&self.etag)
    }

    pub fn object_version(&self) -> ObjectVersion {
        ObjectVersion::new(&self.bucket, &self.key, self.version_id.as_deref())
    }

    /// A metadata value by case-insensitive name; Err if metadata was not fetched.
    pub(crate) fn metadata_value(&self, name: &str) -> Result<Option<&str>, PlanError> {
        let md = self
            .metadata
            .as_ref()
            .ok_or(PlanError::FactsMissing("metadata".into()))?;
        Ok(md
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str()))
    }
}

/// Why a matching rule cannot produce a plan for this object. Not retryable
/// with the same facts: the worker fails the item and audits the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanError {
    #[error("the object's {0} were not fetched but the policy needs them")]
    FactsMissing(String),
    #[error("metadata x-amz-meta-{0} is missing")]
    MissingMetadata(String),
    #[error("tag {0} is missing")]
    MissingTag(String),
    #[error("upload time {0:?} is not RFC 3339")]
    BadUploadTime(String),
    #[error("record date from metadata {name}: {value:?} is neither YYYY-MM-DD nor RFC 3339")]
    BadRecordDate { name: String, value: String },
    #[error("document name rendered from {0:?} is empty")]
    EmptyName(String),
    #[error("{{sha256}} is not known before the content has streamed")]
    Sha256NotYetKnown,
    #[error("sha256 {0:?} is not 64 lower-case hex digits")]
    BadSha256(String),
}

/// The outcome of evaluating one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Declare it, as the plan says.
    Govern(Box<Plan>),
    /// An `action: ignore` rule matched.
    Ignore { rule: String },
    /// No rule matched.
    Ungoverned,
    /// The key ends in '/': a console "folder" marker, never a record.
    FolderMarker,
    /// A governing rule matched but its plan cannot be built for this object.
    Failed { rule: String, error: PlanError },
}

impl Decision {
    /// The name of the rule that decided, if any.
    pub fn rule(&self) -> Option<&str> {
        match self {
            Decision::Govern(p) => Some(&p.rule),
            Decision::Ignore { rule } | Decision::Failed { rule, .. } => Some(rule),
            Decision::Ungoverned | Decision::FolderMarker => None,
        }
    }
}

/// Record details with the record date resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDetails {
    pub rsi: Option<String>,
    pub official: Option<bool>,
    pub status: Option<String>,
    /// `YYYY-MM-DD`.
    pub record_date: Option<String>,
}

/// Final attribute values for one category, keys in `{cat}_{attr}` form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryValues {
    pub id: u64,
    pub values: BTreeMap<String, AttrValue>,
}

/// Everything a worker needs to declare one object version. Serialisable so
/// the worker can store it with the work item and resume under the same plan
/// even if the policy changes meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub rule: String,
    pub facts: ObjectFacts,
    pub folder_id: u64,
    /// Rendered and sanitised.
    pub document_name: String,
    pub mode: Mode,
    pub on_existing_name: OnExistingName,
    /// Absent in plans frozen before it existed: the default then.
    #[serde(default)]
    pub on_name_clash: OnNameClash,
    pub classification_id: u64,
    pub record: RecordDetails,
    pub provenance: Provenance,
    /// The rule's categories, still templated: `{sha256}` renders at the end.
    pub categories: Vec<CategorySpec>,
    /// P4: the business objects this record belongs to (indexed when it is declared).
    #[serde(default)]
    pub business_objects: Vec<crate::business_event::BusinessObject>,
}

impl Plan {
    pub fn idempotency_key(&self) -> IdempotencyKey {
        IdempotencyKey::declare(&self.facts.object_version(), Some(&self.facts.etag))
    }

    /// The category values to apply once the SHA-256 of the content is known:
    /// the provenance attributes merged with the rule's own (validation has
    /// ensured they never overlap).
    pub fn category_values(&self, sha256: &str) -> Result<Vec<CategoryValues>, PlanError> {
        check_sha256(sha256)?;
        self.render(Some(sha256), Part::All)
    }

    /// The values known before the content is read: sent with the create, so the document
    /// never exists without its provenance. Every category is listed, with no values if all
    /// of its values need the hash (applying it is still due).
    pub fn category_values_before_hash(&self) -> Result<Vec<CategoryValues>, PlanError> {
        self.render(None, Part::BeforeHash)
    }

    /// The values that need the content's SHA-256 (the provenance `sha256` attribute and any
    /// template using `{sha256}`), only for categories that have some: what is left to set
    /// after a create that carried [`Self::category_values_before_hash`].
    pub fn category_values_needing_hash(
        &self,
        sha256: &str,
    ) -> Result<Vec<CategoryValues>, PlanError> {
        check_sha256(sha256)?;
        let mut values = self.render(Some(sha256), Part::NeedingHash)?;
        values.retain(|c| !c.values.is_empty());
        Ok(values)
    }

    fn render(&self, sha256: Option<&str>, part: Part) -> Result<Vec<CategoryValues>, PlanError> {
        render_categories(
            &self.provenance,
            &self.categories,
            &self.facts,
            sha256,
            part,
        )
    }
}

fn check_sha256(sha256: &str) -> Result<(), PlanError> {
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(PlanError::BadSha256(sha256.to_string()));
    }
    Ok(())
}

/// Which of a plan's category values to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    All,
    BeforeHash,
    NeedingHash,
}

impl Part {
    fn takes(self, needs_hash: bool) -> bool {
        match self {
            Part::All => true,
            Part::BeforeHash => !needs_hash,
            Part::NeedingHash => needs_hash,
        }
    }
}

fn provenance_value(field: ProvenanceField, f: &ObjectFacts, sha256: Option<&str>) -> AttrValue {
    let text = |s: &str| AttrValue::Text(s.to_string());
    match field {
        ProvenanceField::Bucket => text(&f.bucket),
        ProvenanceField::Key => text(&f.key),
        ProvenanceField::VersionId => text(f.version_id_or_null()),
        ProvenanceField::Etag => text(f.etag_normalized()),
        // S3 objects are at most 5 TiB, far below i64::MAX.
        ProvenanceField::Size => AttrValue::Integer(f.size as i64),
        ProvenanceField::Sha256 => text(sha256.unwrap_or_default()),
        ProvenanceField::SourceUri => text(&source_uri(f)),
    }
}

/// `s3://bucket/key`, with `?versionId=` when the bucket is versioned.
pub fn source_uri(f: &ObjectFacts) -> String {
    match f.version_id_or_null() {
        "null" => format!("s3://{}/{}", f.bucket, f.key),
        v => format!("s3://{}/{}?versionId={v}", f.bucket, f.key),
    }
}

fn render_categories(
    prov: &Provenance,
    cats: &[CategorySpec],
    facts: &ObjectFacts,
    sha256: Option<&str>,
    part: Part,
) -> Result<Vec<CategoryValues>, PlanError> {
    let mut out: Vec<CategoryValues> = Vec::new();
    let mut provenance_values = BTreeMap::new();
    for &field in prov.attributes.keys() {
        if !part.takes(field == ProvenanceField::Sha256) {
            continue;
        }
        if let Some(k) = prov.attribute_key(field) {
            provenance_values.insert(k, provenance_value(field, facts, sha256));
        }
    }
    out.push(CategoryValues {
        id: prov.category_id,
        values: provenance_values,
    });
    for c in cats {
        let mut values = BTreeMap::new();
        for (k, spec) in &c.attributes {
            let needs_hash = matches!(spec, AttrSpec::Template(t) if t.uses_sha256());
            if !part.takes(needs_hash) {
                continue;
            }
            let v = match spec {
                AttrSpec::Literal(v) => v.clone(),
                AttrSpec::Template(t) => AttrValue::Text(render_attr(t, facts, sha256)?),
            };
            values.insert(k.clone(), v);
        }
        match out.iter_mut().find(|cv| cv.id == c.id) {
            Some(existing) => existing.values.extend(values),
            None => out.push(CategoryValues { id: c.id, values }),
        }
    }
    Ok(out)
}

/// Before the hash is known, `{sha256}` renders as empty: evaluation only
/// checks that every other placeholder can be filled.
fn render_attr(
    t: &Template,
    facts: &ObjectFacts,
    sha256: Option<&str>,
) -> Result<String, PlanError> {
    t.render(facts, Some(sha256.unwrap_or_default()))
}

/// A rule's compiled match conditions; all must hold.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    pub bucket: Option<GlobMatcher>,
    pub key: Option<KeyMatch>,
    pub tags: BTreeMap<String, String>,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(crate) enum KeyMatch {
    Glob(GlobMatcher),
    Prefix(String),
}

impl Matcher {
    fn matches(&self, f: &ObjectFacts) -> Result<bool, PlanError> {
        if let Some(g) = &self.bucket
            && !g.is_match(&f.bucket)
        {
            return Ok(false);
        }
        let key_ok = match &self.key {
            None => true,
            Some(KeyMatch::Glob(g)) => g.is_match(&f.key),
            Some(KeyMatch::Prefix(p)) => f.key.starts_with(p.as_str()),
        };
        if !key_ok {
            return Ok(false);
        }
        if !self.tags.is_empty() {
            let tags = f
                .tags
                .as_ref()
                .ok_or(PlanError::FactsMissing("tags".into()))?;
            if !self.tags.iter().all(|(k, v)| tags.get(k) == Some(v)) {
                return Ok(false);
            }
        }
        for (k, v) in &self.metadata {
            if f.metadata_value(k)? != Some(v.as_str()) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl Policy {
    /// First matching rule wins.
    pub fn evaluate(&self, facts: &ObjectFacts) -> Decision {
        if facts.key.ends_with('/') {
            return Decision::FolderMarker;
        }
        for rule in &self.rules {
            match rule.matcher.matches(facts) {
                Ok(false) => continue,
                Err(error) => {
                    return Decision::Failed {
                        rule: rule.name.clone(),
                        error,
                    };
                }
                Ok(true) => {}
            }
            return match &rule.action {
                RuleAction::Ignore => Decision::Ignore {
                    rule: rule.name.clone(),
                },
                RuleAction::Govern(spec) => match self.plan(&rule.name, spec, facts) {
                    Ok(plan) => Decision::Govern(Box::new(plan)),
                    Err(error) => Decision::Failed {
                        rule: rule.name.clone(),
                        error,
                    },
                },
            };
        }
        Decision::Ungoverned
    }

    fn plan(
        &self,
        rule: &str,
        spec: &super::model::GovernSpec,
        facts: &ObjectFacts,
    ) -> Result<Plan, PlanError> {
        let document_name = sanitize_node_name(&spec.document_name.render(facts, None)?)?;
        let record_date = match &spec.record.record_date {
            RecordDateSource::None => None,
            RecordDateSource::UploadTime => Some(
                utc_date(&facts.uploaded_at)
                    .ok_or_else(|| PlanError::BadUploadTime(facts.uploaded_at.clone()))?,
            ),
            RecordDateSource::Metadata(name) => {
                let v = facts
                    .metadata_value(name)?
                    .ok_or_else(|| PlanError::MissingMetadata(name.clone()))?;
                Some(
                    parse_record_date(v).ok_or_else(|| PlanError::BadRecordDate {
                        name: name.clone(),
                        value: v.to_string(),
                    })?,
                )
            }
        };
        // Fail now, not after the upload, if an attribute template cannot render.
        render_categories(&self.provenance, &spec.categories, facts, None, Part::All)?;
        Ok(Plan {
            rule: rule.to_string(),
            facts: facts.clone(),
            folder_id: spec.folder_id,
            document_name,
            mode: spec.mode,
            on_existing_name: spec.on_existing_name,
            on_name_clash: spec.on_name_clash,
            classification_id: spec.classification_id,
            record: RecordDetails {
                rsi: spec.record.rsi.clone(),
                official: spec.record.official,
                status: spec.record.status.clone(),
                record_date,
            },
            provenance: self.provenance.clone(),
            categories: spec.categories.clone(),
            business_objects: super::business::business_objects(
                &spec.business_keys,
                &facts.key,
                facts.tags.as_ref(),
                facts.metadata.as_ref(),
                &spec.categories,
            ),
        })
    }
}

/// `YYYY-MM-DD` as is, or the UTC date of an RFC 3339 timestamp.
fn parse_record_date(v: &str) -> Option<String> {
    let v = v.trim();
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(v, fmt) {
        return d.format(fmt).ok();
    }
    utc_date(v)
}
