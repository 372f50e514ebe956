//! OpenText timestamps: `2025-01-19T06:57:04Z` on recent servers, zone-less
//! `2019-07-25T16:41:14` on older ones, sometimes a bare date.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// A timestamp as sent by the server, with its parsed value when it parses.
///
/// Zone-less values are taken as UTC (the server's zone is unknown to REST).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OtDateTime {
    raw: String,
    parsed: Option<OffsetDateTime>,
}

impl OtDateTime {
    /// Parses `raw`, keeping it even when it does not parse.
    pub fn parse(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let parsed = parse_any(raw.trim());
        OtDateTime { raw, parsed }
    }

    /// The text as sent by the server.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The parsed instant (zone-less values as UTC), if it parsed.
    pub fn datetime(&self) -> Option<OffsetDateTime> {
        self.parsed
    }

    /// True when the server sent an explicit zone (`Z` or an offset).
    pub fn has_zone(&self) -> bool {
        let t = self.raw.trim();
        t.ends_with('Z') || t.ends_with('z') || t.get(19..).is_some_and(|s| s.contains(['+', '-']))
    }
}

fn parse_any(s: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let s = s.replace(' ', "T");
    let with_frac =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");
    let plain = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let no_secs = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    for fmt in [with_frac, plain, no_secs] {
        if let Ok(p) = PrimitiveDateTime::parse(&s, fmt) {
            return Some(p.assume_offset(UtcOffset::UTC));
        }
    }
    Date::parse(&s, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|d| d.midnight().assume_offset(UtcOffset::UTC))
}

impl fmt::Debug for OtDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.raw)
    }
}

impl fmt::Display for OtDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for OtDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for OtDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(OtDateTime::parse(String::deserialize(d)?))
    }
}

/// `null`, `""` and non-strings become `None`.
pub(crate) fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OtDateTime>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(OtDateTime::parse(s)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        let z = OtDateTime::parse("2025-01-19T06:57:04Z");
        let naive = OtDateTime::parse("2025-01-19T06:57:04");
        assert_eq!(z.datetime(), naive.datetime());
        assert!(z.has_zone() && !naive.has_zone());
        assert!(OtDateTime::parse("2025-01-19").datetime().is_some());
        assert!(
            OtDateTime::parse("2025-01-19T06:57:04.123")
                .datetime()
                .is_some()
        );
        assert!(OtDateTime::parse("2025-01-19T06:57:04+02:00").has_zone());
        assert!(OtDateTime::parse("garbage").datetime().is_none());
    }
}
