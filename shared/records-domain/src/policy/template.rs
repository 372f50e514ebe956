//! Name and attribute templates (`{basename}`, `{meta:invoice-no}`, ...) and
//! the OpenText node-name sanitiser.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::evaluate::{ObjectFacts, PlanError};

/// OpenText rejects node names longer than this (in characters).
pub const MAX_NODE_NAME_CHARS: usize = 248;

/// Names the parser accepts, for error messages.
pub const KNOWN_PLACEHOLDERS: &str = "bucket, key, basename, stem, extension, dirname, version_id, etag, size, \
     uploaded_at, upload_date, sha256, meta:<name>, tag:<name>";

/// A value a template can insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder {
    Bucket,
    /// The full, decoded object key.
    Key,
    /// The last path segment of the key.
    Basename,
    /// The basename without its extension.
    Stem,
    /// The extension without the dot ("" if none).
    Extension,
    /// The key up to the last '/' ("" if none).
    Dirname,
    /// The version id, "null" for unversioned buckets.
    VersionId,
    Etag,
    Size,
    /// RFC 3339 upload time as given.
    UploadedAt,
    /// Upload time as a UTC date, `YYYY-MM-DD`.
    UploadDate,
    /// Known only after the bytes have streamed: attribute templates only.
    Sha256,
    /// A user metadata value (`x-amz-meta-<name>`); missing → the plan fails.
    Meta(String),
    /// An object tag value; missing → the plan fails.
    Tag(String),
}

impl Placeholder {
    fn parse(name: &str) -> Result<Self, TemplateError> {
        let named = |prefix: &str, make: fn(String) -> Placeholder| {
            let rest = &name[prefix.len()..];
            if rest.is_empty() {
                Err(TemplateError::EmptyName(name.to_string()))
            } else {
                Ok(make(rest.to_string()))
            }
        };
        Ok(match name {
            "bucket" => Placeholder::Bucket,
            "key" => Placeholder::Key,
            "basename" => Placeholder::Basename,
            "stem" => Placeholder::Stem,
            "extension" => Placeholder::Extension,
            "dirname" => Placeholder::Dirname,
            "version_id" => Placeholder::VersionId,
            "etag" => Placeholder::Etag,
            "size" => Placeholder::Size,
            "uploaded_at" => Placeholder::UploadedAt,
            "upload_date" => Placeholder::UploadDate,
            "sha256" => Placeholder::Sha256,
            n if n.starts_with("meta:") => return named("meta:", Placeholder::Meta),
            n if n.starts_with("tag:") => return named("tag:", Placeholder::Tag),
            other => return Err(TemplateError::Unknown(other.to_string())),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Lit(String),
    Var(Placeholder),
}

/// Why a template does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{0}}} (known: {KNOWN_PLACEHOLDERS})")]
    Unknown(String),
    #[error("unclosed '{{' at byte {0}; write '{{{{' for a literal brace")]
    Unclosed(usize),
    #[error("unmatched '}}' at byte {0}; write '}}}}' for a literal brace")]
    StrayClose(usize),
    #[error("placeholder {{{0}}} needs a name after the colon")]
    EmptyName(String),
}

/// A parsed template. `{{` and `}}` are literal braces.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Template({:?})", self.source)
    }
}

impl TryFrom<String> for Template {
    type Error = TemplateError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Template::parse(&s)
    }
}

impl From<Template> for String {
    fn from(t: Template) -> String {
        t.source
    }
}

impl Template {
    pub fn parse(src: &str) -> Result<Self, TemplateError> {
        let mut segments = Vec::new();
        let mut lit = String::new();
        let mut chars = src.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let rest = &src[i + 1..];
                    let end = rest.find('}').ok_or(TemplateError::Unclosed(i))?;
                    let name = &rest[..end];
                    if name.contains('{') {
                        return Err(TemplateError::Unclosed(i));
                    }
                    if !lit.is_empty() {
                        segments.push(Segment::Lit(std::mem::take(&mut lit)));
                    }
                    segments.push(Segment::Var(Placeholder::parse(name)?));
                    // Skip the placeholder body and its closing brace.
                    for _ in 0..name.chars().count() + 1 {
                        chars.next();
                    }
                }
                '}' => return Err(TemplateError::StrayClose(i)),
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            segments.push(Segment::Lit(lit));
        }
        Ok(Template {
            source: src.to_string(),
            segments,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(p) => Some(p),
            Segment::Lit(_) => None,
        })
    }

    /// The text of a template without placeholders (`{{` already unescaped).
    pub fn literal_text(&self) -> Option<String> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Lit(l) => Some(l.as_str()),
                Segment::Var(_) => None,
            })
            .collect()
    }

    pub fn uses_sha256(&self) -> bool {
        self.placeholders().any(|p| *p == Placeholder::Sha256)
    }

    pub fn uses_tags(&self) -> bool {
        self.placeholders()
            .any(|p| matches!(p, Placeholder::Tag(_)))
    }

    pub fn uses_metadata(&self) -> bool {
        self.placeholders()
            .any(|p| matches!(p, Placeholder::Meta(_)))
    }

    /// Render for one object. `sha256` is None before the bytes have streamed;
    /// a `{sha256}` placeholder then fails.
    pub fn render(&self, facts: &ObjectFacts, sha256: Option<&str>) -> Result<String, PlanError> {
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Lit(s) => out.push_str(s),
                Segment::Var(p) => out.push_str(&value_of(p, facts, sha256)?),
            }
        }
        Ok(out)
    }
}

fn value_of(
    p: &Placeholder,
    facts: &ObjectFacts,
    sha256: Option<&str>,
) -> Result<String, PlanError> {
    let key = facts.key.as_str();
    Ok(match p {
        Placeholder::Bucket => facts.bucket.clone(),
        Placeholder::Key => key.to_string(),
        Placeholder::Basename => basename(key).to_string(),
        Placeholder::Stem => split_ext(basename(key)).0.to_string(),
        Placeholder::Extension => split_ext(basename(key)).1.to_string(),
        Placeholder::Dirname => key.rfind('/').map_or("", |i| &key[..i]).to_string(),
        Placeholder::VersionId => facts.version_id_or_null().to_string(),
        Placeholder::Etag => facts.etag_normalized().to_string(),
        Placeholder::Size => facts.size.to_string(),
        Placeholder::UploadedAt => facts.uploaded_at.clone(),
        Placeholder::UploadDate => utc_date(&facts.uploaded_at)
            .ok_or_else(|| PlanError::BadUploadTime(facts.uploaded_at.clone()))?,
        Placeholder::Sha256 => sha256.ok_or(PlanError::Sha256NotYetKnown)?.to_string(),
        Placeholder::Meta(name) => facts
            .metadata_value(name)?
            .ok_or_else(|| PlanError::MissingMetadata(name.clone()))?
            .to_string(),
        Placeholder::Tag(name) => facts
            .tags
            .as_ref()
            .ok_or(PlanError::FactsMissing("tags".into()))?
            .get(name)
            .ok_or_else(|| PlanError::MissingTag(name.clone()))?
            .clone(),
    })
}

/// The last '/'-separated segment of a key.
pub fn basename(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// Split `name.ext` into (`name`, `ext`); a leading dot (`.env`) is not an extension.
fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i + 1..]),
        _ => (name, ""),
    }
}

/// The UTC date (`YYYY-MM-DD`) of an RFC 3339 timestamp.
pub(crate) fn utc_date(rfc3339: &str) -> Option<String> {
    let t = OffsetDateTime::parse(rfc3339, &Rfc3339).ok()?;
    t.to_offset(time::UtcOffset::UTC)
        .date()
        .format(format_description!("[year]-[month]-[day]"))
        .ok()
}

/// Make a rendered name acceptable to OpenText: drop ':' (pyxecm strips it) and
/// control characters, trim whitespace, and cut to 248 characters keeping a
/// short extension so the document still opens with the right application.
pub fn sanitize_node_name(raw: &str) -> Result<String, PlanError> {
    let cleaned: String = raw
        .chars()
        .filter(|c| *c != ':' && !c.is_control())
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.chars().count() <= MAX_NODE_NAME_CHARS {
        return if cleaned.is_empty() {
            Err(PlanError::EmptyName(raw.to_string()))
        } else {
            Ok(cleaned.to_string())
        };
    }
    let (stem, ext) = split_ext(cleaned);
    let ext_chars = ext.chars().count();
    let out = if !ext.is_empty() && ext_chars <= 16 {
        let keep = MAX_NODE_NAME_CHARS - ext_chars - 1;
        let stem: String = stem.chars().take(keep).collect();
        format!("{}.{ext}", stem.trim_end())
    } else {
        cleaned
            .chars()
            .take(MAX_NODE_NAME_CHARS)
            .collect::<String>()
            .trim_end()
            .to_string()
    };
    Ok(out)
}

/// `name` made unique to one S3 object: ` [s3 <8 hex of SHA-256 of bucket/key>]` before the
/// extension, the stem cut so the whole stays within [`MAX_NODE_NAME_CHARS`]. The same object
/// always gets the same name, so its later versions find it again.
pub fn disambiguate_node_name(name: &str, bucket: &str, key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(format!("{bucket}/{key}").as_bytes()));
    let tag = format!(" [s3 {}]", &digest[..8]);
    let (stem, ext) = split_ext(name);
    let ext = if ext.chars().count() <= 16 { ext } else { "" };
    let stem = if ext.is_empty() { name } else { stem };
    let suffix_chars = tag.chars().count()
        + if ext.is_empty() {
            0
        } else {
            ext.chars().count() + 1
        };
    let stem: String = stem
        .chars()
        .take(MAX_NODE_NAME_CHARS.saturating_sub(suffix_chars))
        .collect();
    match ext {
        "" => format!("{}{tag}", stem.trim_end()),
        ext => format!("{}{tag}.{ext}", stem.trim_end()),
    }
}

#[cfg(test)]
mod tests;
