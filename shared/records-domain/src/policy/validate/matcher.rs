//! Validation of a rule's `match`: bucket and key globs, key prefix, tags and metadata.

use std::collections::BTreeMap;

use globset::{GlobBuilder, GlobMatcher};

use super::Errors;
use crate::policy::evaluate::{KeyMatch, Matcher};
use crate::policy::model::{MatchDoc, Scalar};

pub(super) fn glob(pattern: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(pattern)
        // `*` stays within one path segment; `**` crosses them.
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|err| format!("invalid glob {pattern:?}: {}", err.kind()))
}

pub(super) fn matcher(m: MatchDoc, e: &mut Errors) -> Option<Matcher> {
    let mut ok = true;
    let bucket = m.bucket.as_deref().and_then(|g| {
        glob(g)
            .map_err(|msg| {
                e.push("match.bucket", msg);
                ok = false;
            })
            .ok()
    });
    let key = match (&m.key, &m.key_prefix) {
        (Some(_), Some(_)) => {
            e.push("match", "key and key_prefix are exclusive; use one");
            ok = false;
            None
        }
        (Some(g), None) => {
            if g.starts_with('/') {
                e.push("match.key", format!("{g:?}: S3 keys do not start with '/'"));
                ok = false;
            }
            match glob(g) {
                Ok(m) => Some(KeyMatch::Glob(m)),
                Err(msg) => {
                    e.push("match.key", msg);
                    ok = false;
                    None
                }
            }
        }
        (None, Some(p)) => {
            if p.is_empty() {
                e.push("match.key_prefix", "empty: omit it to match every key");
                ok = false;
            } else if p.starts_with('/') {
                e.push(
                    "match.key_prefix",
                    format!("{p:?}: S3 keys do not start with '/'"),
                );
                ok = false;
            }
            Some(KeyMatch::Prefix(p.clone()))
        }
        (None, None) => None,
    };
    let mut tags = BTreeMap::new();
    for (k, v) in m.tags {
        let path = format!("match.tags.{k:?}");
        if k.is_empty() {
            e.push(path, "empty tag key");
            ok = false;
        } else if let Some(v) = scalar_text(&v, &path, e) {
            tags.insert(k, v);
        } else {
            ok = false;
        }
    }
    let mut metadata = BTreeMap::new();
    for (k, v) in m.metadata {
        let path = format!("match.metadata.{k:?}");
        if k.is_empty() {
            e.push(path, "empty metadata name");
            ok = false;
        } else if k.to_ascii_lowercase().starts_with("x-amz-meta-") {
            e.push(path, "write the name without the x-amz-meta- prefix");
            ok = false;
        } else if let Some(v) = scalar_text(&v, &path, e) {
            // S3 returns user metadata names lower-cased.
            metadata.insert(k.to_ascii_lowercase(), v);
        } else {
            ok = false;
        }
    }
    ok.then_some(Matcher {
        bucket,
        key,
        tags,
        metadata,
    })
}

pub(super) fn scalar_text(v: &Scalar, path: &str, e: &mut Errors) -> Option<String> {
    match v {
        Scalar::Str(s) => Some(s.clone()),
        Scalar::Int(i) => Some(i.to_string()),
        Scalar::Bool(b) => Some(b.to_string()),
        Scalar::Float(f) => {
            e.push(
                path,
                format!("fractional number {f} is not supported; quote the value"),
            );
            None
        }
    }
}
