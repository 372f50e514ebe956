//! Policy validation: every mistake is collected (not just the first), each
//! naming the rule (index and name) and the field path.

mod govern;
mod matcher;

use std::collections::BTreeMap;
use std::fmt;

use super::model::{
    AttrSpec, Policy, PolicyDoc, Provenance, ProvenanceDoc, ProvenanceField, RecordDateSource,
    Rule, RuleAction, RuleDoc,
};
use super::template::Template;
use govern::govern;
use matcher::matcher;

/// Policy format version this crate understands.
pub const POLICY_VERSION: u32 = 1;
const MAX_RULE_NAME: usize = 64;

/// One validation finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// (index, name) of the rule; None for top-level fields.
    pub rule: Option<(usize, String)>,
    /// Path inside the rule (or document), e.g. `match.key`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some((i, name)) if !name.is_empty() => write!(f, "rules[{i}] {name:?}: ")?,
            Some((i, _)) => write!(f, "rules[{i}]: ")?,
            None => {}
        }
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Why a policy could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// Not YAML, or the wrong shape (unknown field, wrong type); the parser's
    /// message carries the path and line.
    Parse(String),
    /// Parsed, but wrong; all findings, in document order.
    Invalid(Vec<ValidationError>),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Parse(m) => write!(f, "policy does not parse: {m}"),
            PolicyError::Invalid(errs) => {
                write!(f, "policy has {} error(s):", errs.len())?;
                for e in errs {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PolicyError {}

impl Policy {
    /// Parse and validate a policy document.
    pub fn from_yaml(src: &str) -> Result<Policy, PolicyError> {
        let doc: PolicyDoc =
            serde_norway::from_str(src).map_err(|e| PolicyError::Parse(e.to_string()))?;
        validate(doc).map_err(PolicyError::Invalid)
    }

    /// Whether any rule reads object tags (the worker must fetch them).
    pub fn needs_tags(&self) -> bool {
        self.rules
            .iter()
            .any(|r| !r.matcher.tags.is_empty() || templates(&r.action).any(|t| t.uses_tags()))
    }

    /// Whether any rule reads user metadata (the worker must HeadObject).
    pub fn needs_metadata(&self) -> bool {
        self.rules.iter().any(|r| {
            !r.matcher.metadata.is_empty()
                || templates(&r.action).any(|t| t.uses_metadata())
                || matches!(&r.action, RuleAction::Govern(g) if matches!(g.record.record_date, RecordDateSource::Metadata(_)))
        })
    }
}

fn templates(action: &RuleAction) -> Box<dyn Iterator<Item = &Template> + '_> {
    match action {
        RuleAction::Ignore => Box::new(std::iter::empty()),
        RuleAction::Govern(g) => Box::new(std::iter::once(&g.document_name).chain(
            g.categories.iter().flat_map(|c| {
                c.attributes.values().filter_map(|a| match a {
                    AttrSpec::Template(t) => Some(t),
                    AttrSpec::Literal(_) => None,
                })
            }),
        )),
    }
}

#[derive(Default)]
struct Errors {
    list: Vec<ValidationError>,
    warnings: Vec<ValidationError>,
    rule: Option<(usize, String)>,
}

impl Errors {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.list.push(ValidationError {
            rule: self.rule.clone(),
            field: field.into(),
            message: message.into(),
        });
    }

    /// A finding that does not stop the policy from loading.
    fn warn(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(ValidationError {
            rule: self.rule.clone(),
            field: field.into(),
            message: message.into(),
        });
    }

    /// Record a finding and yield no value, so `match` arms stay `Option<T>`.
    fn none<T>(&mut self, field: impl Into<String>, message: impl Into<String>) -> Option<T> {
        self.push(field, message);
        None
    }
}

fn validate(doc: PolicyDoc) -> Result<Policy, Vec<ValidationError>> {
    let mut e = Errors::default();
    match doc.version {
        None => e.push(
            "version",
            format!("missing (this crate reads version {POLICY_VERSION})"),
        ),
        Some(POLICY_VERSION) => {}
        Some(v) => e.push(
            "version",
            format!("unsupported version {v} (expected {POLICY_VERSION})"),
        ),
    }
    let provenance = match doc.provenance {
        None => {
            e.push(
                "provenance",
                "missing: every declared record must carry its S3 provenance",
            );
            None
        }
        Some(p) => provenance(p, &mut e),
    };
    let docs = doc.rules.unwrap_or_default();
    if docs.is_empty() {
        e.push("rules", "empty: a policy needs at least one rule");
    }
    let mut rules = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut catch_all: Option<(usize, String)> = None;
    for (i, r) in docs.into_iter().enumerate() {
        let name = r.name.clone().unwrap_or_default();
        e.rule = Some((i, name.clone()));
        check_rule_name(r.name.as_deref(), i, &mut names, &mut e);
        if let Some((j, other)) = &catch_all {
            e.push(
                "match",
                format!("unreachable: rules[{j}] {other:?} matches every object first"),
            );
        }
        // Judged on the document so a rule with other errors still shadows.
        let matches_all = r.match_.as_ref().is_some_and(|m| {
            m.bucket.is_none()
                && m.key.is_none()
                && m.key_prefix.is_none()
                && m.tags.is_empty()
                && m.metadata.is_empty()
        });
        if matches_all && catch_all.is_none() {
            catch_all = Some((i, name.clone()));
        }
        if let Some(rule) = rule(i, name, r, provenance.as_ref(), &mut e) {
            rules.push(rule);
        }
    }
    let archive = doc
        .archive
        .and_then(|a| super::archive::validate_archive(a, &mut e.list));
    let business_events = super::business::validate_business_events(
        doc.business_events.unwrap_or_default(),
        &mut e.list,
    );
    let access = super::access::validate_access(doc.access, &mut e.list);
    let evidence = doc
        .evidence
        .and_then(|d| super::evidence::validate_evidence(d, &mut e.list));
    let publication = doc
        .publication
        .and_then(|p| super::publication::validate_publication(p, &mut e.list, &mut e.warnings));
    match provenance {
        Some(provenance) if e.list.is_empty() => Ok(Policy {
            provenance,
            rules,
            archive,
            business_events,
            access,
            publication,
            evidence,
            warnings: e.warnings,
        }),
        _ => Err(e.list),
    }
}

/// A rule's name: present, well formed, and not used by an earlier rule.
fn check_rule_name(
    name: Option<&str>,
    index: usize,
    names: &mut BTreeMap<String, usize>,
    e: &mut Errors,
) {
    match name {
        None => e.push("name", "missing"),
        Some(n) if !valid_rule_name(n) => e.push(
            "name",
            format!(
                "{n:?} must be 1-{MAX_RULE_NAME} characters of letters, digits, '.', '_' or '-'"
            ),
        ),
        Some(n) => {
            if let Some(first) = names.get(n) {
                e.push(
                    "name",
                    format!("duplicate: rules[{first}] already uses {n:?}"),
                );
            } else {
                names.insert(n.to_string(), index);
            }
        }
    }
}

fn valid_rule_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= MAX_RULE_NAME
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn provenance(p: ProvenanceDoc, e: &mut Errors) -> Option<Provenance> {
    let category_id = match p.category_id {
        None => {
            e.push("provenance.category_id", "missing");
            0
        }
        Some(0) => {
            e.push("provenance.category_id", "must be a positive category id");
            0
        }
        Some(id) => id,
    };
    let a = p.attributes.unwrap_or_default();
    let given = [
        a.bucket,
        a.key,
        a.version_id,
        a.etag,
        a.size,
        a.sha256,
        a.source_uri,
    ];
    let mut attributes = BTreeMap::new();
    let mut used: BTreeMap<u32, ProvenanceField> = BTreeMap::new();
    for (field, n) in ProvenanceField::ALL.into_iter().zip(given) {
        let path = format!("provenance.attributes.{}", field.as_str());
        match n {
            None if field.is_required() => {
                e.push(path, "missing: required for the chain of custody")
            }
            None => {}
            Some(n) if n < 2 => e.push(
                path,
                format!("attribute {n}: numbers start at 2 ({{cat}}_1 is the category itself)"),
            ),
            Some(n) => {
                if let Some(other) = used.insert(n, field) {
                    e.push(
                        path,
                        format!("attribute {n} is also mapped to {}", other.as_str()),
                    );
                }
                attributes.insert(field, n);
            }
        }
    }
    (category_id != 0).then_some(Provenance {
        category_id,
        attributes,
    })
}

fn rule(
    i: usize,
    name: String,
    r: RuleDoc,
    prov: Option<&Provenance>,
    e: &mut Errors,
) -> Option<Rule> {
    let matcher = match r.match_.clone() {
        None => {
            e.push("match", "missing: write `match: {}` to match every object");
            None
        }
        Some(m) => matcher(m, e),
    };
    let action = match r.action.as_deref() {
        None | Some("govern") => govern(&r, prov, e).map(|g| RuleAction::Govern(Box::new(g))),
        Some("ignore") => {
            let extra = [
                ("destination", r.destination.is_some()),
                ("document_name", r.document_name.is_some()),
                ("mode", r.mode.is_some()),
                ("on_existing_name", r.on_existing_name.is_some()),
                ("on_name_clash", r.on_name_clash.is_some()),
                ("classification", r.classification.is_some()),
                ("record", r.record.is_some()),
                ("categories", r.categories.is_some()),
                ("business_keys", r.business_keys.is_some()),
            ];
            for (field, present) in extra {
                if present {
                    e.push(field, "not allowed on an `action: ignore` rule");
                }
            }
            Some(RuleAction::Ignore)
        }
        Some(other) => {
            e.push(
                "action",
                format!("unknown action {other:?} (expected govern or ignore)"),
            );
            None
        }
    };
    Some(Rule {
        index: i,
        name,
        matcher: matcher?,
        action: action?,
    })
}
