//! P7: the optional `publication:` section: which OpenText documents are published to the
//! publication bucket, when, under which key, and which gates they must pass first.
//!
//! ```yaml
//! publication:
//!   triggers:                    # what counts as a request to publish (any one)
//!     - folder_id: 2300          # node.moved into this folder; moving out withdraws
//!     - approval                 # the approval attribute set (node.attributes_changed)
//!     - request                  # publication.requested through the signed intake
//!   approval:
//!     status_attribute: "3300_2" # category attribute that says approved (or rm_status)
//!     approved_values: [Approved]
//!     version_attribute: "3300_3" # the version number that was approved
//!   require_official: true       # the "declared" gate: an official record (default true)
//!   audience: public             # public (served through CloudFront) | internal
//!   key: "manuals/{node_id}/{name}"
//!   content_type: from_opentext  # or a fixed type such as application/pdf
//!   cache_control: "public, max-age=300"
//!   content_disposition: inline  # inline | attachment
//! ```
//!
//! The gates are fixed (classified, approved, declared, not held, latest approved version);
//! the policy names where the approval is read. The approval must name the version it
//! approved: a status alone would let a later, unreviewed version through.

use serde::{Deserialize, Serialize};

use super::validate::ValidationError;
use crate::lifecycle::{LifecycleEvent, LifecycleEventType};

/// S3's longest key, in bytes.
pub const MAX_S3_KEY_BYTES: usize = 1024;
/// Placeholders a publication key may use, for error messages.
pub const KEY_PLACEHOLDERS: &str = "node_id, name, stem, extension, version";
const MAX_CACHE_CONTROL: usize = 256;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PublicationDoc {
    pub triggers: Option<Vec<TriggerDoc>>,
    pub approval: Option<ApprovalDoc>,
    pub require_official: Option<bool>,
    pub audience: Option<String>,
    pub key: Option<String>,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum TriggerDoc {
    Named(String),
    Folder { folder_id: Option<u64> },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApprovalDoc {
    pub status_attribute: Option<String>,
    pub approved_values: Option<Vec<String>>,
    pub rm_status: Option<Vec<String>>,
    pub version_attribute: Option<String>,
}

/// What counts as a request to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicationTrigger {
    /// `node.moved` into this folder; the document stays requested while it is there.
    FolderId(u64),
    /// `node.attributes_changed` on the approval category.
    Approval,
    /// `publication.requested` (an API call through the intake).
    Request,
}

/// A category attribute, `{category}_{attribute}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeRef {
    pub category_id: u64,
    pub attribute: u32,
}

impl AttributeRef {
    fn parse(s: &str) -> Option<AttributeRef> {
        let (c, a) = s.trim().split_once('_')?;
        let (category_id, attribute) = (c.parse().ok()?, a.parse().ok()?);
        (category_id > 0 && attribute >= 2).then_some(AttributeRef {
            category_id,
            attribute,
        })
    }

    /// `3300_2`, as OpenText keys the value.
    pub fn key(&self) -> String {
        format!("{}_{}", self.category_id, self.attribute)
    }
}

/// Where "approved" is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalSource {
    /// A category attribute holding one of `values`.
    Attribute {
        attribute: AttributeRef,
        values: Vec<String>,
    },
    /// The record's RM status is one of these.
    RmStatus(Vec<String>),
}

/// The validated approval: where "approved" is read and which version it approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub source: ApprovalSource,
    pub version_attribute: AttributeRef,
}

impl Approval {
    /// The categories the gates read.
    pub fn category_ids(&self) -> Vec<u64> {
        let mut ids = vec![self.version_attribute.category_id];
        if let ApprovalSource::Attribute { attribute, .. } = &self.source
            && !ids.contains(&attribute.category_id)
        {
            ids.push(attribute.category_id);
        }
        ids
    }
}

/// Who the published copy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Under `public/`: served through the CloudFront distribution (origin path `/public`).
    Public,
    /// Under `internal/`: never served by CloudFront; read with IAM inside the account.
    Internal,
}

impl Audience {
    /// The key prefix of the audience's copies (the bucket policy lets CloudFront read
    /// `public/*` only).
    pub fn prefix(self) -> &'static str {
        match self {
            Audience::Public => "public/",
            Audience::Internal => "internal/",
        }
    }
}

/// The published copy's content type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentTypeSource {
    /// The version's MIME type in OpenText.
    FromOpentext,
    Fixed(String),
}

/// One piece of a key template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPart {
    Text(String),
    NodeId,
    /// The node's name, with `/` and control characters made `-`.
    Name,
    Stem,
    Extension,
    Version,
}

/// What a key is rendered from.
#[derive(Debug, Clone, Copy)]
pub struct KeyFacts<'a> {
    pub node_id: u64,
    pub name: &'a str,
    pub version: u32,
}

/// The validated `key:` template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyTemplate(pub Vec<KeyPart>);

impl KeyTemplate {
    pub fn parse(src: &str) -> Result<KeyTemplate, String> {
        let mut parts = Vec::new();
        let mut rest = src;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(KeyPart::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("{src:?}: unclosed {{"))?;
            parts.push(match &after[..close] {
                "node_id" => KeyPart::NodeId,
                "name" => KeyPart::Name,
                "stem" => KeyPart::Stem,
                "extension" => KeyPart::Extension,
                "version" => KeyPart::Version,
                other => {
                    return Err(format!(
                        "{{{other}}} is not a placeholder; expected one of {KEY_PLACEHOLDERS}"
                    ));
                }
            });
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("{src:?}: unmatched }}"));
        }
        if !rest.is_empty() {
            parts.push(KeyPart::Text(rest.to_string()));
        }
        Ok(KeyTemplate(parts))
    }

    /// Whether the key changes with the node (two documents never share a literal key).
    fn names_the_node(&self) -> bool {
        self.0
            .iter()
            .any(|p| matches!(p, KeyPart::NodeId | KeyPart::Name | KeyPart::Stem))
    }

    fn has(&self, part: &KeyPart) -> bool {
        self.0.contains(part)
    }

    /// The key under the audience's prefix; an error when it would not be a usable S3 key.
    pub fn render(&self, audience: Audience, f: &KeyFacts) -> Result<String, String> {
        let name = key_safe(f.name);
        let (stem, ext) = match name.rsplit_once('.') {
            Some((s, e)) if !s.is_empty() => (s.to_string(), e.to_string()),
            _ => (name.clone(), String::new()),
        };
        let mut key = audience.prefix().to_string();
        for p in &self.0 {
            match p {
                KeyPart::Text(t) => key.push_str(t),
                KeyPart::NodeId => key.push_str(&f.node_id.to_string()),
                KeyPart::Name => key.push_str(&name),
                KeyPart::Stem => key.push_str(&stem),
                KeyPart::Extension => key.push_str(&ext),
                KeyPart::Version => key.push_str(&f.version.to_string()),
            }
        }
        if key.len() > MAX_S3_KEY_BYTES {
            return Err(format!(
                "the publication key would be {} bytes; S3 keys hold at most {MAX_S3_KEY_BYTES}",
                key.len()
            ));
        }
        if key.ends_with('/') || key.split('/').any(|s| s == "." || s == "..") {
            return Err(format!("{key:?} is not a usable object key"));
        }
        Ok(key)
    }
}

/// A node name as one key segment: no `/`, `\` or control characters.
fn key_safe(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '-'
            } else {
                c
            }
        })
        .collect();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "unnamed".into()
    } else {
        cleaned
    }
}

/// The validated `publication:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationPolicy {
    pub triggers: Vec<PublicationTrigger>,
    pub approval: Approval,
    pub require_official: bool,
    pub audience: Audience,
    pub key: KeyTemplate,
    pub content_type: ContentTypeSource,
    pub cache_control: String,
    /// `attachment` instead of `inline`.
    pub attachment: bool,
}

impl PublicationPolicy {
    /// The publish folders (their arrivals are requests; the poller reports arrivals).
    pub fn folders(&self) -> impl Iterator<Item = u64> + '_ {
        self.triggers.iter().filter_map(|t| match t {
            PublicationTrigger::FolderId(f) => Some(*f),
            _ => None,
        })
    }

    /// Whether `event` is a request to publish under this policy.
    pub fn requested_by(&self, event: &LifecycleEvent) -> bool {
        self.triggers.iter().any(|t| match (t, event.event_type) {
            (PublicationTrigger::FolderId(f), LifecycleEventType::NodeMoved) => {
                moved_to(event) == Some(*f)
            }
            (PublicationTrigger::Approval, LifecycleEventType::AttributesChanged) => {
                changed_category(event).is_some_and(|c| self.approval.category_ids().contains(&c))
            }
            // An approval read from the RM status arrives as a status change.
            (PublicationTrigger::Approval, LifecycleEventType::RecordStatusChanged) => {
                match &self.approval.source {
                    ApprovalSource::RmStatus(statuses) => event
                        .data
                        .get("status")
                        .and_then(|v| v.as_str())
                        .is_some_and(|s| statuses.iter().any(|a| a.eq_ignore_ascii_case(s.trim()))),
                    ApprovalSource::Attribute { .. } => false,
                }
            }
            (PublicationTrigger::Request, LifecycleEventType::PublicationRequested) => true,
            _ => false,
        })
    }

    /// A `node.moved` out of a publish folder (`data.from_parent_id`) to a folder that is
    /// not one: the records manager took the document out of publication.
    pub fn moved_out_by(&self, event: &LifecycleEvent) -> Option<u64> {
        if event.event_type != LifecycleEventType::NodeMoved {
            return None;
        }
        let from = event
            .data
            .get("from_parent_id")
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))?;
        (self.is_publish_folder(from)
            && !moved_to(event).is_some_and(|t| self.is_publish_folder(t)))
        .then_some(from)
    }

    /// Whether `folder` is one of the publish folders.
    pub fn is_publish_folder(&self, folder: u64) -> bool {
        self.folders().any(|f| f == folder)
    }
}

/// `data.to_parent_id` of a `node.moved` event.
pub fn moved_to(event: &LifecycleEvent) -> Option<u64> {
    event
        .data
        .get("to_parent_id")
        .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
}

/// `data.category_id` of a `node.attributes_changed` event.
pub fn changed_category(event: &LifecycleEvent) -> Option<u64> {
    event
        .data
        .get("category_id")
        .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
}

struct Findings<'a>(&'a mut Vec<ValidationError>);

impl Findings<'_> {
    fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(ValidationError {
            rule: None,
            field: format!("publication.{field}"),
            message: message.into(),
        })
    }
}

/// Validates the section; every finding names its field under `publication.`.
pub(crate) fn validate_publication(
    doc: PublicationDoc,
    errors: &mut Vec<ValidationError>,
    warnings: &mut Vec<ValidationError>,
) -> Option<PublicationPolicy> {
    let before = errors.len();
    let mut f = Findings(errors);
    let triggers = triggers(doc.triggers, &mut f);
    let approval = approval(doc.approval, &mut f);
    let audience = match doc.audience.as_deref() {
        Some("public") => Audience::Public,
        Some("internal") => Audience::Internal,
        None => {
            f.push("audience", "missing: public or internal");
            Audience::Internal
        }
        Some(a) => {
            f.push("audience", format!("{a:?}: expected public or internal"));
            Audience::Internal
        }
    };
    let key = match doc.key.as_deref().map(KeyTemplate::parse) {
        None => {
            f.push(
                "key",
                format!("missing: a key template using {KEY_PLACEHOLDERS}"),
            );
            None
        }
        Some(Err(e)) => {
            f.push("key", e);
            None
        }
        Some(Ok(t)) if !t.names_the_node() => {
            f.push(
                "key",
                "must use {node_id}, {name} or {stem}: otherwise every document shares one key",
            );
            None
        }
        Some(Ok(_)) if doc.key.as_deref().is_some_and(|k| k.starts_with('/')) => {
            f.push(
                "key",
                "starts with '/': keys are relative to the audience's prefix",
            );
            None
        }
        Some(Ok(t)) => Some(t),
    };
    if let Some(t) = &key
        && !t.has(&KeyPart::NodeId)
    {
        warnings.push(ValidationError {
            rule: None,
            field: "publication.key".into(),
            message: "has no {node_id}: two documents of one name would want one key; the \
                      second is refused while the first is published"
                .into(),
        });
    }
    let content_type = match doc.content_type.as_deref().map(str::trim) {
        None | Some("from_opentext") => ContentTypeSource::FromOpentext,
        Some(t) if is_media_type(t) => ContentTypeSource::Fixed(t.to_string()),
        Some(t) => {
            f.push(
                "content_type",
                format!("{t:?}: expected from_opentext or a media type such as application/pdf"),
            );
            ContentTypeSource::FromOpentext
        }
    };
    let cache_control = match doc.cache_control {
        None => match audience {
            Audience::Public => "public, max-age=300".to_string(),
            Audience::Internal => "private, no-cache".to_string(),
        },
        Some(c)
            if !c.trim().is_empty()
                && c.len() <= MAX_CACHE_CONTROL
                && c.chars().all(|ch| ch.is_ascii_graphic() || ch == ' ') =>
        {
            c.trim().to_string()
        }
        Some(c) => {
            f.push(
                "cache_control",
                format!("{c:?}: 1-{MAX_CACHE_CONTROL} printable ASCII characters"),
            );
            String::new()
        }
    };
    let attachment = match doc.content_disposition.as_deref() {
        None | Some("inline") => false,
        Some("attachment") => true,
        Some(d) => {
            f.push(
                "content_disposition",
                format!("{d:?}: expected inline or attachment"),
            );
            false
        }
    };
    let ok = f.0.len() == before;
    match (ok, approval, key) {
        (true, Some(approval), Some(key)) => Some(PublicationPolicy {
            triggers,
            approval,
            require_official: doc.require_official.unwrap_or(true),
            audience,
            key,
            content_type,
            cache_control,
            attachment,
        }),
        _ => None,
    }
}

fn is_media_type(t: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    let essence = t.split(';').next().unwrap_or_default().trim();
    matches!(essence.split_once('/'), Some((a, b)) if token(a) && token(b))
        && t.chars().all(|c| c.is_ascii_graphic() || c == ' ')
}

fn triggers(doc: Option<Vec<TriggerDoc>>, f: &mut Findings) -> Vec<PublicationTrigger> {
    let mut out = Vec::new();
    let Some(list) = doc.filter(|l| !l.is_empty()) else {
        f.push(
            "triggers",
            "missing: at least one of folder_id, approval, request",
        );
        return out;
    };
    for (i, t) in list.into_iter().enumerate() {
        let trigger = match t {
            TriggerDoc::Named(n) if n == "approval" => Some(PublicationTrigger::Approval),
            TriggerDoc::Named(n) if n == "request" => Some(PublicationTrigger::Request),
            TriggerDoc::Folder {
                folder_id: Some(id),
            } if id > 0 => Some(PublicationTrigger::FolderId(id)),
            other => {
                f.push(
                    &format!("triggers[{i}]"),
                    format!(
                        "{other:?}: expected {{folder_id: <positive id>}}, approval or request"
                    ),
                );
                None
            }
        };
        if let Some(t) = trigger
            && !out.contains(&t)
        {
            out.push(t);
        }
    }
    out
}

fn attribute(field: &str, v: Option<&str>, f: &mut Findings) -> Option<AttributeRef> {
    match v {
        None => {
            f.push(field, "missing: a category attribute such as \"3300_3\"");
            None
        }
        Some(s) => AttributeRef::parse(s).or_else(|| {
            f.push(
                field,
                format!("{s:?}: expected {{category}}_{{attribute}} with attribute >= 2"),
            );
            None
        }),
    }
}

fn values(field: &str, v: Option<Vec<String>>, f: &mut Findings) -> Vec<String> {
    let v: Vec<String> = v
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if v.is_empty() {
        f.push(field, "missing: at least one value");
    }
    v
}

fn approval(doc: Option<ApprovalDoc>, f: &mut Findings) -> Option<Approval> {
    let Some(doc) = doc else {
        f.push(
            "approval",
            "missing: where approval is read (status_attribute or rm_status) and \
             version_attribute",
        );
        return None;
    };
    let version_attribute = attribute(
        "approval.version_attribute",
        doc.version_attribute.as_deref(),
        f,
    );
    let source = match (doc.status_attribute.as_deref(), doc.rm_status) {
        (Some(a), None) => {
            let attribute = attribute("approval.status_attribute", Some(a), f);
            let values = values("approval.approved_values", doc.approved_values, f);
            attribute.map(|attribute| ApprovalSource::Attribute { attribute, values })
        }
        (None, Some(statuses)) => {
            if doc.approved_values.is_some() {
                f.push(
                    "approval.approved_values",
                    "goes with status_attribute; rm_status lists its own values",
                );
            }
            Some(ApprovalSource::RmStatus(values(
                "approval.rm_status",
                Some(statuses),
                f,
            )))
        }
        _ => {
            f.push(
                "approval",
                "give exactly one of status_attribute or rm_status",
            );
            None
        }
    };
    Some(Approval {
        source: source?,
        version_attribute: version_attribute?,
    })
}

#[cfg(test)]
#[path = "publication_tests.rs"]
mod tests;
