//! The LQL subset `POST /api/v2/search` understands: clauses joined by `AND` (any case), each
//! `Field:value` or `Field:"quoted value"` (space after the colon allowed). Fields:
//!
//! * `OTName`: the name contains the value as whole words, in order, compared with Unicode case
//!   folding (`OTName:"Q1 report"` finds `Q1 Report 2026.pdf`; the full name always matches);
//! * `OTSubType`, `OTParentID`, `OTObjectID`: equal integers;
//! * `OTObjectDate` (the create date, server time): `YYYYMMDD` or `YYYY-MM-DD`, optionally
//!   after `>`, `>=`, `<`, `<=` (`OTObjectDate:>=20260101`);
//! * `Attr_<categoryId>_<attributeId>`: the node carries that category and the attribute
//!   equals the value (strings compared case-folded, numbers numerically; a multi-value
//!   attribute matches when any value does).
//!
//! Anything else (`OR`, `NOT`, parentheses, bare words, wildcards, other regions) is refused
//! with 400 rather than answered wrongly.

use serde_json::Value;
use time::Date;

use crate::dates::to_local;
use crate::error::ApiError;
use crate::model::Node;

#[derive(Debug, Clone, PartialEq)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    Name(Vec<String>),
    SubType(i64),
    Parent(i64),
    Object(i64),
    ObjectDate(Cmp, Date),
    Attr {
        cat: i64,
        key: String,
        value: String,
    },
}

fn refuse(what: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "Error Evaluating Query, one of your Livelink Query Language statements is incorrect: {what}. The simulator supports Field:value clauses joined by AND for OTName, OTSubType, OTParentID, OTObjectID, OTObjectDate and Attr_<category>_<attribute>"
    ))
}

/// Lower-cased words (letters and digits) of a text.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Splits `where` into clauses.
pub fn parse(input: &str) -> Result<Vec<Clause>, ApiError> {
    let mut out = Vec::new();
    let mut rest = input.trim();
    if rest.is_empty() {
        return Err(ApiError::bad_request(
            "Error Evaluating Query, You have either not specified any search criterion at all, or one of your Livelink Query Language statements is incorrect.",
        ));
    }
    loop {
        let colon = rest
            .find(':')
            .ok_or_else(|| refuse(format!("'{rest}' is no Field:value clause")))?;
        let field = rest[..colon].trim();
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(refuse(format!("'{}' is no field name", &rest[..colon])));
        }
        let after = rest[colon + 1..].trim_start();
        let (value, quoted, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').ok_or_else(|| refuse("unterminated quote"))?;
            (&q[..end], true, &q[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..end], false, &after[end..])
        };
        out.push(clause(field, value, quoted)?);
        let tail = tail.trim_start();
        if tail.is_empty() {
            return Ok(out);
        }
        let (op, next) = tail.split_at(tail.find(char::is_whitespace).unwrap_or(tail.len()));
        if !op.eq_ignore_ascii_case("and") {
            return Err(refuse(format!("'{op}' (only AND joins clauses)")));
        }
        rest = next.trim_start();
        if rest.is_empty() {
            return Err(refuse("nothing after AND"));
        }
    }
}

fn int(field: &str, v: &str) -> Result<i64, ApiError> {
    v.trim()
        .parse()
        .map_err(|_| refuse(format!("{field} takes an integer, not '{v}'")))
}

fn clause(field: &str, value: &str, quoted: bool) -> Result<Clause, ApiError> {
    if !quoted && (value.is_empty() || value.contains(['(', ')', '*', '?', '[', ']'])) {
        return Err(refuse(format!("'{field}:{value}'")));
    }
    Ok(match field {
        "OTName" => {
            let w = words(value);
            if w.is_empty() {
                return Err(refuse("OTName needs a word"));
            }
            Clause::Name(w)
        }
        "OTSubType" => Clause::SubType(int(field, value)?),
        "OTParentID" => Clause::Parent(int(field, value)?),
        "OTObjectID" => Clause::Object(int(field, value)?),
        "OTObjectDate" => {
            let (cmp, d) = [
                (">=", Cmp::Ge),
                ("<=", Cmp::Le),
                (">", Cmp::Gt),
                ("<", Cmp::Lt),
            ]
            .into_iter()
            .find_map(|(p, c)| value.strip_prefix(p).map(|d| (c, d)))
            .unwrap_or((Cmp::Eq, value));
            let digits: String = d.trim().chars().filter(|c| *c != '-').collect();
            let date = crate::disposition::qdate::QDate::parse(&digits, time::UtcOffset::UTC)
                .ok()
                .filter(|q| q.day_only && digits.len() == 8)
                .map(|q| q.at.date())
                .ok_or_else(|| refuse(format!("OTObjectDate takes YYYYMMDD, not '{value}'")))?;
            Clause::ObjectDate(cmp, date)
        }
        f => {
            let Some((cat, attr)) = f
                .strip_prefix("Attr_")
                .and_then(|r| r.split_once('_'))
                .and_then(|(c, a)| Some((c.parse::<i64>().ok()?, a.parse::<i64>().ok()?)))
            else {
                return Err(refuse(format!("unknown region '{f}'")));
            };
            Clause::Attr {
                cat,
                key: format!("{cat}_{attr}"),
                value: value.to_string(),
            }
        }
    })
}

fn contains_words(hay: &[String], needle: &[String]) -> bool {
    needle.len() <= hay.len() && hay.windows(needle.len()).any(|w| w == needle)
}

fn value_matches(v: &Value, want: &str) -> bool {
    match v {
        Value::Array(items) => items.iter().any(|i| value_matches(i, want)),
        Value::String(s) => unicase::eq(s.as_str(), want),
        Value::Number(n) => want.trim().parse::<f64>().ok() == n.as_f64(),
        Value::Bool(b) => want.eq_ignore_ascii_case(&b.to_string()),
        _ => false,
    }
}

/// The node's `OTObjectDate` (its create date, server time).
pub fn object_date(n: &Node, tz: time::UtcOffset) -> Option<Date> {
    to_local(&n.create_date, tz).map(|t| t.date())
}

pub fn matches(n: &Node, clauses: &[Clause], tz: time::UtcOffset) -> bool {
    clauses.iter().all(|c| match c {
        Clause::Name(w) => contains_words(&words(&n.name), w),
        Clause::SubType(t) => n.node_type == *t,
        Clause::Parent(p) => n.parent_id == *p,
        Clause::Object(id) => n.id == *id,
        Clause::ObjectDate(cmp, d) => object_date(n, tz).is_some_and(|od| match cmp {
            Cmp::Eq => od == *d,
            Cmp::Lt => od < *d,
            Cmp::Le => od <= *d,
            Cmp::Gt => od > *d,
            Cmp::Ge => od >= *d,
        }),
        Clause::Attr { cat, key, value } => n
            .categories
            .get(cat)
            .and_then(|vals| vals.get(key))
            .is_some_and(|v| value_matches(v, value)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subset_parses() {
        let c = parse(r#"OTSubType:144 AND OTName:"Q1 report" and Attr_3100_2: bucket-a"#).unwrap();
        assert_eq!(
            c,
            vec![
                Clause::SubType(144),
                Clause::Name(vec!["q1".into(), "report".into()]),
                Clause::Attr {
                    cat: 3100,
                    key: "3100_2".into(),
                    value: "bucket-a".into()
                },
            ]
        );
        assert!(matches!(
            parse("OTObjectDate:>=20260101").unwrap()[0],
            Clause::ObjectDate(Cmp::Ge, _)
        ));
    }

    #[test]
    fn the_rest_is_refused() {
        for q in [
            "",
            "report",
            "OTName:a OR OTName:b",
            "NOT OTName:a",
            "(OTName:a)",
            "OTName:rep*",
            "OTSize:12",
            "OTSubType:doc",
            "OTName:\"open",
            "OTName:a AND",
            "OTObjectDate:yesterday",
            "Attr_x_2:y",
        ] {
            let e = parse(q).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST, "{q}");
            assert!(
                e.message.starts_with("Error Evaluating Query"),
                "{q}: {}",
                e.message
            );
        }
    }

    #[test]
    fn names_match_whole_words_case_folded() {
        let hay = words("Verträge Q1 Report 2026.pdf");
        assert!(contains_words(&hay, &words("q1 REPORT")));
        assert!(contains_words(&hay, &words("verträge")));
        assert!(!contains_words(&hay, &words("Rep")));
        assert!(!contains_words(&hay, &words("report q1")));
    }
}
