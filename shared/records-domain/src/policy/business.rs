//! P4 in the policy: which business objects a declared record belongs to (per rule), and what
//! a business event about such an object changes (top-level `business_events:`).
//!
//! ```yaml
//! rules:
//!   - name: claims
//!     ...
//!     business_keys:                       # taken from the object at declaration
//!       - { type: claim, tag: claim-id }   # an S3 tag
//!       - { type: customer, metadata: customer-no }   # x-amz-meta-customer-no
//!       - { type: case, key_pattern: "cases/{id}/" }  # the key part between the literals
//!       - { type: contract, category_attribute: "6228_3" }  # a value the rule sets
//! business_events:
//!   - event_type: claim.settled
//!     object_type: claim
//!     status: CLOSED            # RM status set with the record date (the event's date)
//!     search: 'Attr_6228_3:"{id}"'   # optional: also find records declared elsewhere (LQL)
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::model::{AttrSpec, AttrValue, CategorySpec};
use super::validate::ValidationError;
use crate::business_event::BusinessObject;

// ----------------------------------------------------------------- YAML documents

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BusinessKeyDoc {
    #[serde(rename = "type")]
    pub object_type: Option<String>,
    pub tag: Option<String>,
    pub metadata: Option<String>,
    pub key_pattern: Option<String>,
    pub category_attribute: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BusinessEventDoc {
    pub event_type: Option<String>,
    pub object_type: Option<String>,
    pub status: Option<String>,
    pub search: Option<String>,
}

// ----------------------------------------------------------------- validated types

/// Where a record's business object id comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusinessKeySource {
    Tag(String),
    /// User metadata, compared without case as S3 does.
    Metadata(String),
    /// The key's text between `prefix` and `suffix` (the pattern's `{id}`); an empty suffix
    /// takes the rest of the key.
    KeyPattern {
        prefix: String,
        suffix: String,
    },
    /// A category attribute value the rule sets (`6228_3`).
    CategoryAttribute(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessKeySpec {
    pub object_type: String,
    pub source: BusinessKeySource,
}

/// What a business event of one type changes on the records of its business object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessEventRule {
    pub event_type: String,
    /// Records are those indexed under this business object type.
    pub object_type: String,
    /// RM status set with the record date; it also marks the event as happened for the
    /// retention of event-based RSI stages.
    pub status: Option<String>,
    /// An LQL `where` with `{id}`, to find records declared outside records-bridge.
    pub search: Option<String>,
}

impl BusinessEventRule {
    /// The search's `where` for one business object id (quotes in the id escaped).
    pub fn search_for(&self, id: &str) -> Option<String> {
        let escaped = id.replace('\\', "\\\\").replace('"', "\\\"");
        self.search.as_ref().map(|s| s.replace("{id}", &escaped))
    }
}

/// The validated `business_events:` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessEventPolicy {
    pub rules: Vec<BusinessEventRule>,
}

impl BusinessEventPolicy {
    pub fn rule_for(&self, event_type: &str) -> Option<&BusinessEventRule> {
        self.rules.iter().find(|r| r.event_type == event_type)
    }

    /// The RM statuses business events set (upper-cased): a record carrying one has had
    /// its event, so an event-based RSI stage counts from its record date.
    pub fn event_statuses(&self) -> BTreeSet<String> {
        self.rules
            .iter()
            .filter_map(|r| r.status.as_ref())
            .map(|s| s.trim().to_uppercase())
            .collect()
    }
}

// ----------------------------------------------------------------- extraction

/// The business objects one object belongs to; a key whose source has no value for this
/// object is left out (the object is then not found by that business object's events).
pub fn business_objects(
    specs: &[BusinessKeySpec],
    key: &str,
    tags: Option<&BTreeMap<String, String>>,
    metadata: Option<&BTreeMap<String, String>>,
    categories: &[CategorySpec],
) -> Vec<BusinessObject> {
    let mut out: Vec<BusinessObject> = specs
        .iter()
        .filter_map(|spec| {
            let id = match &spec.source {
                BusinessKeySource::Tag(name) => tags.and_then(|t| t.get(name)).cloned(),
                BusinessKeySource::Metadata(name) => metadata.and_then(|m| {
                    m.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.clone())
                }),
                BusinessKeySource::KeyPattern { prefix, suffix } => {
                    key_pattern_id(key, prefix, suffix)
                }
                BusinessKeySource::CategoryAttribute(attr) => categories
                    .iter()
                    .find_map(|c| c.attributes.get(attr))
                    .and_then(|v| match v {
                        AttrSpec::Literal(AttrValue::Text(s)) => Some(s.clone()),
                        AttrSpec::Literal(AttrValue::Integer(i)) => Some(i.to_string()),
                        _ => None,
                    }),
            }?;
            let object = BusinessObject::new(spec.object_type.clone(), id.trim());
            object.validate().ok().map(|()| object)
        })
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.index_key() == b.index_key());
    out
}

fn key_pattern_id(key: &str, prefix: &str, suffix: &str) -> Option<String> {
    let rest = key.strip_prefix(prefix)?;
    let id = if suffix.is_empty() {
        rest
    } else {
        &rest[..rest.find(suffix)?]
    };
    (!id.is_empty()).then(|| id.to_string())
}

// ----------------------------------------------------------------- validation

fn error(
    rule: Option<(usize, String)>,
    field: String,
    message: impl Into<String>,
) -> ValidationError {
    ValidationError {
        rule,
        field,
        message: message.into(),
    }
}

fn object_type_ok(t: &str) -> bool {
    BusinessObject::new(t, "x").validate().is_ok()
}

pub(crate) fn validate_business_keys(
    docs: &[BusinessKeyDoc],
    rule: Option<(usize, String)>,
    errors: &mut Vec<ValidationError>,
) -> Vec<BusinessKeySpec> {
    let mut out = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let path = |f: &str| format!("business_keys[{i}]{f}");
        let Some(object_type) = d.object_type.clone().filter(|t| object_type_ok(t)) else {
            errors.push(error(
                rule.clone(),
                path(".type"),
                "missing or not a business object type",
            ));
            continue;
        };
        let given = [
            d.tag.as_ref().map(|t| BusinessKeySource::Tag(t.clone())),
            d.metadata
                .as_ref()
                .map(|m| BusinessKeySource::Metadata(m.clone())),
            d.key_pattern.as_ref().and_then(|p| {
                let (prefix, suffix) = p.split_once("{id}")?;
                Some(BusinessKeySource::KeyPattern {
                    prefix: prefix.to_string(),
                    suffix: suffix.to_string(),
                })
            }),
            d.category_attribute
                .as_ref()
                .map(|a| BusinessKeySource::CategoryAttribute(a.clone())),
        ];
        if d.key_pattern
            .as_ref()
            .is_some_and(|p| p.matches("{id}").count() != 1)
        {
            errors.push(error(
                rule.clone(),
                path(".key_pattern"),
                "must hold `{id}` exactly once",
            ));
            continue;
        }
        let mut sources: Vec<BusinessKeySource> = given.into_iter().flatten().collect();
        if sources.len() != 1 {
            errors.push(error(
                rule.clone(),
                path(""),
                "name exactly one of tag, metadata, key_pattern, category_attribute",
            ));
            continue;
        }
        out.push(BusinessKeySpec {
            object_type,
            source: sources.remove(0),
        });
    }
    out
}

pub(crate) fn validate_business_events(
    docs: Vec<BusinessEventDoc>,
    errors: &mut Vec<ValidationError>,
) -> BusinessEventPolicy {
    let mut rules: Vec<BusinessEventRule> = Vec::new();
    for (i, d) in docs.into_iter().enumerate() {
        let path = |f: &str| format!("business_events[{i}].{f}");
        let probe = |t: &str| {
            crate::business_event::BusinessEvent {
                schema: 1,
                event_id: "x".into(),
                event_type: t.into(),
                business_object: BusinessObject::new("x", "x"),
                occurred_at: "2026-01-01".into(),
                source: "x".into(),
                data: BTreeMap::new(),
            }
            .validate()
            .is_ok()
        };
        let event_type = match d.event_type {
            Some(t) if probe(&t) => t,
            _ => {
                errors.push(error(
                    None,
                    path("event_type"),
                    "missing or not a dotted lower-case name such as case.closed",
                ));
                continue;
            }
        };
        if rules.iter().any(|r| r.event_type == event_type) {
            errors.push(error(
                None,
                path("event_type"),
                format!("{event_type} is listed twice"),
            ));
            continue;
        }
        let Some(object_type) = d.object_type.filter(|t| object_type_ok(t)) else {
            errors.push(error(
                None,
                path("object_type"),
                "missing or not a business object type",
            ));
            continue;
        };
        if let Some(s) = &d.search
            && !s.contains("{id}")
        {
            errors.push(error(
                None,
                path("search"),
                "must use `{id}` (the business object id)",
            ));
            continue;
        }
        rules.push(BusinessEventRule {
            event_type,
            object_type,
            status: d
                .status
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            search: d.search,
        });
    }
    BusinessEventPolicy { rules }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(t: &str, source: BusinessKeySource) -> BusinessKeySpec {
        BusinessKeySpec {
            object_type: t.into(),
            source,
        }
    }

    #[test]
    fn each_source_gives_its_id_and_a_missing_one_none() {
        let tags = BTreeMap::from([("claim-id".to_string(), "CL-9".to_string())]);
        let meta = BTreeMap::from([("Customer-No".to_string(), "4711".to_string())]);
        let cats = vec![CategorySpec {
            id: 6228,
            attributes: BTreeMap::from([(
                "6228_3".to_string(),
                AttrSpec::Literal(AttrValue::Text("K-1".into())),
            )]),
        }];
        let specs = vec![
            spec("claim", BusinessKeySource::Tag("claim-id".into())),
            spec(
                "customer",
                BusinessKeySource::Metadata("customer-no".into()),
            ),
            spec(
                "case",
                BusinessKeySource::KeyPattern {
                    prefix: "cases/".into(),
                    suffix: "/".into(),
                },
            ),
            spec(
                "contract",
                BusinessKeySource::CategoryAttribute("6228_3".into()),
            ),
            spec("order", BusinessKeySource::Tag("order-id".into())),
        ];
        let found = business_objects(
            &specs,
            "cases/C 7/scan.pdf",
            Some(&tags),
            Some(&meta),
            &cats,
        );
        let keys: Vec<String> = found.iter().map(BusinessObject::index_key).collect();
        assert_eq!(
            keys,
            ["case#C 7", "claim#CL-9", "contract#K-1", "customer#4711"]
        );
        // The key does not fit the pattern: no case.
        let found = business_objects(&specs[2..3], "other/x.pdf", None, None, &[]);
        assert!(found.is_empty());
    }

    #[test]
    fn the_sections_validate_and_name_their_mistakes() {
        let mut errors = Vec::new();
        let keys: Vec<BusinessKeyDoc> = serde_norway::from_str(
            "[{type: claim, tag: claim-id}, {type: case, key_pattern: 'cases/'}, {type: x, tag: a, metadata: b}]",
        )
        .unwrap();
        let specs = validate_business_keys(&keys, None, &mut errors);
        assert_eq!(specs.len(), 1);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["business_keys[1].key_pattern", "business_keys[2]"]);

        let mut errors = Vec::new();
        let events: Vec<BusinessEventDoc> = serde_norway::from_str(
            "[{event_type: claim.settled, object_type: claim, status: CLOSED, search: 'Attr_6228_3:\"{id}\"'}, {event_type: Closed, object_type: case}, {event_type: claim.settled, object_type: claim}]",
        )
        .unwrap();
        let policy = validate_business_events(events, &mut errors);
        assert_eq!(policy.rules.len(), 1);
        assert_eq!(errors.len(), 2, "{errors:?}");
        let rule = policy.rule_for("claim.settled").unwrap();
        assert_eq!(rule.search_for("CL\"9").unwrap(), "Attr_6228_3:\"CL\\\"9\"");
        assert_eq!(
            policy.event_statuses(),
            BTreeSet::from(["CLOSED".to_string()])
        );
    }
}
