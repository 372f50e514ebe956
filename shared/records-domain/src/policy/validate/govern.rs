//! Validation of what a governing rule prescribes: destination, name, mode,
//! classification, record details and category attributes.

use std::collections::{BTreeMap, BTreeSet};

use super::Errors;
use crate::policy::model::{
    AttrSpec, AttrValue, CategoryDoc, CategorySpec, GovernSpec, Mode, OnExistingName, OnNameClash,
    Provenance, RecordDateSource, RecordDoc, RecordSpec, RuleDoc, Scalar,
};
use crate::policy::template::Template;

pub(super) fn govern(r: &RuleDoc, prov: Option<&Provenance>, e: &mut Errors) -> Option<GovernSpec> {
    let folder_id = match r.destination.as_ref().map(|d| d.folder_id) {
        None => e.none(
            "destination",
            "missing: a governing rule needs destination.folder_id",
        ),
        Some(None) => e.none("destination.folder_id", "missing"),
        Some(Some(0)) => e.none("destination.folder_id", "must be a positive node id"),
        Some(Some(id)) => Some(id),
    };
    let document_name = match Template::parse(r.document_name.as_deref().unwrap_or("{basename}")) {
        Err(err) => e.none("document_name", err.to_string()),
        Ok(t) if t.uses_sha256() => e.none(
            "document_name",
            "{sha256} is not known until the content has streamed; use it in category attributes",
        ),
        Ok(t) => Some(t),
    };
    let mode = match r.mode.as_deref() {
        None => e.none("mode", "missing (copy or reference)"),
        Some("copy") => Some(Mode::Copy),
        Some("reference") => Some(Mode::Reference),
        Some(m) => e.none(
            "mode",
            format!("unknown mode {m:?} (expected copy or reference)"),
        ),
    };
    let on_existing_name = match r.on_existing_name.as_deref() {
        None => e.none("on_existing_name", "missing (new_version or refuse)"),
        Some("new_version") => Some(OnExistingName::NewVersion),
        Some("refuse") => Some(OnExistingName::Refuse),
        Some(m) => e.none(
            "on_existing_name",
            format!("unknown value {m:?} (expected new_version or refuse)"),
        ),
    };
    let on_name_clash = match r.on_name_clash.as_deref() {
        None | Some("disambiguate") => Some(OnNameClash::Disambiguate),
        Some("refuse") => Some(OnNameClash::Refuse),
        Some(m) => e.none(
            "on_name_clash",
            format!("unknown value {m:?} (expected disambiguate or refuse)"),
        ),
    };
    if let Some(t) = &document_name {
        warn_if_names_can_collide(t, on_name_clash, e);
    }
    let classification_id = match r.classification.as_ref().map(|c| c.id) {
        None => e.none(
            "classification",
            "missing: declaring needs an RM classification id",
        ),
        Some(None) => e.none("classification.id", "missing"),
        Some(Some(0)) => e.none("classification.id", "must be a positive id"),
        Some(Some(id)) => Some(id),
    };
    let record = record(r.record.as_ref(), e);
    let categories = categories(r.categories.as_deref().unwrap_or_default(), prov, e);
    let business_keys = super::super::business::validate_business_keys(
        r.business_keys.as_deref().unwrap_or_default(),
        e.rule.clone(),
        &mut e.list,
    );
    Some(GovernSpec {
        folder_id: folder_id?,
        document_name: document_name?,
        mode: mode?,
        on_existing_name: on_existing_name?,
        on_name_clash: on_name_clash?,
        classification_id: classification_id?,
        record: record?,
        categories: categories?,
        business_keys,
    })
}

/// A template that can give two keys one name is allowed, with a warning saying what a clash
/// will do.
fn warn_if_names_can_collide(t: &Template, on_name_clash: Option<OnNameClash>, e: &mut Errors) {
    if names_are_unique_per_key(t) {
        return;
    }
    let outcome = match on_name_clash {
        Some(OnNameClash::Refuse) => "refused (on_name_clash: refuse)",
        _ => "declared under a disambiguated name (on_name_clash: disambiguate)",
    };
    e.warn(
        "document_name",
        format!(
            "{:?} can give objects with different keys the same name (it does not contain {{key}}); such clashes are {outcome}",
            t.as_str()
        ),
    );
}

/// Whether every object key renders a name of its own: the template holds the whole key, or
/// its directory and its file name. (Names still fold case and lose `:` and characters past
/// 248; clashes from those are caught at declaration and follow `on_name_clash`.)
fn names_are_unique_per_key(t: &Template) -> bool {
    use crate::policy::Placeholder as P;
    let has = |want: &P| t.placeholders().any(|p| p == want);
    has(&P::Key)
        || (has(&P::Dirname) && (has(&P::Basename) || (has(&P::Stem) && has(&P::Extension))))
}

fn record(r: Option<&RecordDoc>, e: &mut Errors) -> Option<RecordSpec> {
    let Some(r) = r else {
        return Some(RecordSpec {
            rsi: None,
            official: None,
            status: None,
            record_date: RecordDateSource::UploadTime,
        });
    };
    let mut ok = true;
    for (field, v) in [("record.rsi", &r.rsi), ("record.status", &r.status)] {
        if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
            e.push(field, "empty: omit it instead");
            ok = false;
        }
    }
    let record_date = match r.record_date.as_deref() {
        None | Some("upload_time") => Some(RecordDateSource::UploadTime),
        Some("none") => Some(RecordDateSource::None),
        Some(s) => match s.strip_prefix("metadata:") {
            Some(n) if !n.is_empty() && !n.to_ascii_lowercase().starts_with("x-amz-meta-") => {
                Some(RecordDateSource::Metadata(n.to_ascii_lowercase()))
            }
            _ => {
                e.push(
                    "record.record_date",
                    format!("{s:?}: expected upload_time, none or metadata:<name>"),
                );
                None
            }
        },
    };
    (ok && record_date.is_some()).then(|| RecordSpec {
        rsi: r.rsi.clone(),
        official: r.official,
        status: r.status.clone(),
        record_date: record_date.unwrap_or(RecordDateSource::UploadTime),
    })
}

fn categories(
    docs: &[CategoryDoc],
    prov: Option<&Provenance>,
    e: &mut Errors,
) -> Option<Vec<CategorySpec>> {
    let mut ok = true;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (c, doc) in docs.iter().enumerate() {
        let id = match doc.id {
            None | Some(0) => {
                e.push(
                    format!("categories[{c}].id"),
                    "missing: a positive category id is required",
                );
                ok = false;
                continue;
            }
            Some(id) => id,
        };
        if !seen.insert(id) {
            e.push(
                format!("categories[{c}].id"),
                format!("category {id} is listed twice"),
            );
            ok = false;
        }
        let mut attributes = BTreeMap::new();
        for (k, v) in &doc.attributes {
            let path = format!("categories[{c}].attributes.{k:?}");
            match attribute_spec(id, k, v, prov) {
                Ok(spec) => {
                    attributes.insert(k.clone(), spec);
                }
                Err(msg) => {
                    e.push(path, msg);
                    ok = false;
                }
            }
        }
        out.push(CategorySpec { id, attributes });
    }
    ok.then_some(out)
}

fn attribute_spec(
    cat: u64,
    key: &str,
    v: &Scalar,
    prov: Option<&Provenance>,
) -> Result<AttrSpec, String> {
    let parts: Vec<&str> = key.split('_').collect();
    let (Some(kc), Some(ka), 2) = (
        parts.first().and_then(|p| p.parse::<u64>().ok()),
        parts.get(1).and_then(|p| p.parse::<u32>().ok()),
        parts.len(),
    ) else {
        return Err(format!(
            "key is not of the form {{cat}}_{{attr}} (e.g. {cat}_2)"
        ));
    };
    if kc != cat {
        return Err(format!(
            "belongs to category {kc}, not to category {cat} listed here"
        ));
    }
    if ka < 2 {
        return Err(format!(
            "attribute {ka}: numbers start at 2 ({{cat}}_1 is the category itself)"
        ));
    }
    if let Some(p) = prov.filter(|p| p.category_id == cat)
        && let Some((field, _)) = p.attributes.iter().find(|(_, n)| **n == ka)
    {
        return Err(format!(
            "set by provenance.attributes.{}: the bridge records it, a rule may not",
            field.as_str()
        ));
    }
    Ok(match v {
        Scalar::Bool(b) => AttrSpec::Literal(AttrValue::Bool(*b)),
        Scalar::Int(i) => AttrSpec::Literal(AttrValue::Integer(*i)),
        Scalar::Float(f) => {
            return Err(format!(
                "fractional number {f} is not supported; quote the value"
            ));
        }
        Scalar::Str(s) => {
            let t = Template::parse(s).map_err(|err| err.to_string())?;
            match t.literal_text() {
                Some(text) => AttrSpec::Literal(AttrValue::Text(text)),
                None => AttrSpec::Template(t),
            }
        }
    })
}
