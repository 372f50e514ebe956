//! OpenText timestamps, read one way everywhere.
//!
//! The forms the specs and real servers use:
//! * RFC 3339 with `Z` or an offset: Content Server `date-time` values on recent servers
//!   (`2025-01-19T06:57:04Z`);
//! * zone-less `YYYY-MM-DDTHH:mm:ss`, the RM spec's pattern (holds' `DateApplied`, RSI
//!   dates) and what RM v1 answers for its `date` fields (`date_applied`, `status_date`,
//!   `record_date`: `2026-12-01T07:38:58`), also with fractional seconds or a space for the `T`;
//! * a bare date, `YYYY-MM-DD` (`format: date`) or `YYYYMMDD` (RM form fields).
//!
//! A zone-less value is the Content Server's wall-clock time: [`ServerTimeZone`] says which
//! offset that is (the client's setting, [`crate::ClientBuilder::time_zone`], default UTC; a
//! bare date is midnight there). Values the client returns carry its zone, so
//! [`OtDateTime::instant`] and [`OtDateTime::to_rfc3339`] need no argument. What
//! records-bridge writes onward is RFC 3339 with a zone, never the raw text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The offset of the Content Server's clock, for dates it sends without a zone.
///
/// A fixed offset: `UTC` (the default) or `±HH:MM`. Named zones with daylight saving time
/// (`Europe/Berlin`) are refused rather than guessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ServerTimeZone(UtcOffset);

impl Default for ServerTimeZone {
    fn default() -> Self {
        ServerTimeZone::UTC
    }
}

impl ServerTimeZone {
    /// UTC, the default.
    pub const UTC: ServerTimeZone = ServerTimeZone(UtcOffset::UTC);

    /// A fixed offset.
    pub const fn from_offset(offset: UtcOffset) -> ServerTimeZone {
        ServerTimeZone(offset)
    }

    /// The offset zone-less dates are read in.
    pub const fn offset(self) -> UtcOffset {
        self.0
    }
}

impl fmt::Display for ServerTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, _) = self.0.as_hms();
        if self.0.is_utc() {
            f.write_str("UTC")
        } else {
            let sign = if self.0.is_negative() { '-' } else { '+' };
            write!(f, "{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
        }
    }
}

/// A time zone setting that is not `UTC` or a fixed offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "time zone {value:?}: expected UTC or a fixed offset from -12:00 to +14:00 such as +02:00{hint}"
)]
pub struct TimeZoneError {
    value: String,
    hint: &'static str,
}

impl FromStr for ServerTimeZone {
    type Err = TimeZoneError;

    /// `UTC`, `Z`, `±HH:MM`, `±HHMM` or `±HH`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
            return Ok(ServerTimeZone::UTC);
        }
        let refuse = |hint| TimeZoneError {
            value: s.to_string(),
            hint,
        };
        let offset = parse_offset(t).ok_or_else(|| {
            refuse(if t.contains('/') {
                " (named zones are not supported: give the offset of the Content Server's clock)"
            } else {
                ""
            })
        })?;
        let (h, m, _) = offset.as_hms();
        if !(-12..=14).contains(&h) || (h == 14 && m != 0) || (h == -12 && m != 0) {
            return Err(refuse(""));
        }
        Ok(ServerTimeZone(offset))
    }
}

/// `±HH:MM`, `±HHMM` or `±HH`.
fn parse_offset(s: &str) -> Option<UtcOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1i8, &s[1..]),
        b'-' => (-1i8, &s[1..]),
        _ => return None,
    };
    if !rest.is_ascii() {
        return None;
    }
    let (hh, mm) = match rest.len() {
        2 => (rest, "00"),
        4 => (&rest[..2], &rest[2..]),
        5 if rest.as_bytes()[2] == b':' => (&rest[..2], &rest[3..]),
        _ => return None,
    };
    let two_digits = |d: &str| d.len() == 2 && d.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(hh) || !two_digits(mm) {
        return None;
    }
    let (h, m): (i8, i8) = (hh.parse().ok()?, mm.parse().ok()?);
    if h > 23 || m >= 60 {
        return None;
    }
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// A date OpenText sent that cannot be read as an instant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DateError {
    #[error(
        "OpenText date {0:?} is in none of the forms its APIs use (RFC 3339, YYYY-MM-DDTHH:mm:ss[.fff] without a zone, YYYY-MM-DD)"
    )]
    Unreadable(String),
    #[error("OpenText date {raw:?} (Content Server time zone {zone}) is out of range")]
    OutOfRange { raw: String, zone: ServerTimeZone },
}

/// What the text says, before a zone is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Reading {
    /// Sent with `Z` or an offset: one instant whatever the server's zone.
    Zoned(OffsetDateTime),
    /// The server's wall-clock time (a bare date is its midnight).
    Local(PrimitiveDateTime),
}

/// A timestamp as sent by the server, read in the server's time zone.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OtDateTime {
    raw: String,
    reading: Option<Reading>,
    zone: ServerTimeZone,
}

impl OtDateTime {
    /// Parses `raw` (zone-less values in UTC), keeping it even when it does not parse.
    pub fn parse(raw: impl Into<String>) -> Self {
        Self::parse_in(raw, ServerTimeZone::UTC)
    }

    /// Parses `raw`, reading a zone-less value in `zone`.
    pub fn parse_in(raw: impl Into<String>, zone: ServerTimeZone) -> Self {
        let raw = raw.into();
        let reading = read(&raw);
        OtDateTime { raw, reading, zone }
    }

    /// The same text read in `zone` (no effect on values sent with a zone).
    pub fn in_zone(mut self, zone: ServerTimeZone) -> Self {
        self.zone = zone;
        self
    }

    /// The zone a zone-less value is read in.
    pub fn zone(&self) -> ServerTimeZone {
        self.zone
    }

    /// The text as sent by the server.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// True when the server sent an explicit zone (`Z` or an offset).
    pub fn has_zone(&self) -> bool {
        matches!(self.reading, Some(Reading::Zoned(_)))
    }

    /// The instant (in UTC), a zone-less value read in [`OtDateTime::zone`].
    pub fn instant(&self) -> Result<OffsetDateTime, DateError> {
        let at = match self.reading {
            None => return Err(DateError::Unreadable(self.raw.clone())),
            Some(Reading::Zoned(t)) => t,
            Some(Reading::Local(t)) => t.assume_offset(self.zone.offset()),
        };
        at.checked_to_offset(UtcOffset::UTC)
            .ok_or_else(|| DateError::OutOfRange {
                raw: self.raw.clone(),
                zone: self.zone,
            })
    }

    /// [`OtDateTime::instant`], or `None` when it cannot be read.
    pub fn datetime(&self) -> Option<OffsetDateTime> {
        self.instant().ok()
    }

    /// The instant as RFC 3339 in UTC (`2026-12-01T05:38:58Z`): the form written onward.
    pub fn to_rfc3339(&self) -> Result<String, DateError> {
        self.instant()?
            .format(&Rfc3339)
            .map_err(|_| DateError::OutOfRange {
                raw: self.raw.clone(),
                zone: self.zone,
            })
    }
}

fn read(raw: &str) -> Option<Reading> {
    let mut s = raw.trim().to_string();
    // A space (SQL style) or a lower-case `t` between date and time.
    if s.len() > 10 && s.is_char_boundary(10) && s.is_char_boundary(11) {
        let sep = &s[10..11];
        if sep == " " || sep == "t" {
            s.replace_range(10..11, "T");
        }
    }
    let (local, offset) = split_zone(&s)?;
    let local = read_local(local)?;
    Some(match offset {
        Some(o) => Reading::Zoned(local.assume_offset(o)),
        None => Reading::Local(local),
    })
}

/// The text before the zone, and the zone if there is one. `None`: a zone that is not one.
fn split_zone(s: &str) -> Option<(&str, Option<UtcOffset>)> {
    if let Some(rest) = s.strip_suffix(['Z', 'z']) {
        return Some((rest, Some(UtcOffset::UTC)));
    }
    // Past the date (whose own `-` are not a zone).
    let at = s
        .bytes()
        .enumerate()
        .skip(10)
        .find(|(_, b)| matches!(b, b'+' | b'-'))
        .map(|(i, _)| i);
    match at {
        Some(i) => Some((&s[..i], Some(parse_offset(&s[i..])?))),
        None => Some((s, None)),
    }
}

fn read_local(s: &str) -> Option<PrimitiveDateTime> {
    let forms = [
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ];
    for form in forms {
        if let Ok(t) = PrimitiveDateTime::parse(s, form) {
            return Some(t);
        }
    }
    let days = [
        format_description!("[year]-[month]-[day]"),
        format_description!("[year][month][day]"),
    ];
    days.into_iter()
        .find_map(|form| Date::parse(s, form).ok())
        .map(|d| PrimitiveDateTime::new(d, Time::MIDNIGHT))
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

/// Written onward as RFC 3339 with a zone; text that cannot be read is written as sent.
impl Serialize for OtDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.to_rfc3339() {
            Ok(t) => s.serialize_str(&t),
            Err(_) => s.serialize_str(&self.raw),
        }
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

/// Responses whose dates the client reads in its server's time zone: every model carrying an
/// [`OtDateTime`] implements it, and every call returning one applies it.
pub(crate) trait InZone {
    fn set_zone(&mut self, zone: ServerTimeZone);
}

impl InZone for OtDateTime {
    fn set_zone(&mut self, zone: ServerTimeZone) {
        self.zone = zone;
    }
}

impl<T: InZone> InZone for Option<T> {
    fn set_zone(&mut self, zone: ServerTimeZone) {
        if let Some(t) = self {
            t.set_zone(zone);
        }
    }
}

impl<T: InZone> InZone for Vec<T> {
    fn set_zone(&mut self, zone: ServerTimeZone) {
        for t in self {
            t.set_zone(zone);
        }
    }
}

/// Implements [`InZone`] for a model by naming its date fields.
macro_rules! in_zone {
    ($t:ty: $($field:ident),+) => {
        impl $crate::model::InZone for $t {
            fn set_zone(&mut self, zone: $crate::model::ServerTimeZone) {
                $($crate::model::InZone::set_zone(&mut self.$field, zone);)+
            }
        }
    };
}
pub(crate) use in_zone;

#[cfg(test)]
mod tests;
