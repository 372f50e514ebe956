//! Snapshot dates (`qdate`) in every form the RM spec describes:
//!
//! * `YYYY-MM-DD` (the path parameters' `format: date`): the latest snapshot of that day;
//! * `D/YYYY-MM-DD:HH:mm:ss` (the review and action form fields), also written with the spec's
//!   `\:` escapes (`D/2026-03-01\:10\:00\:00`);
//! * `YYYY-MM-DD:HH:mm:ss` (finishreview), with or without `\:`;
//! * `YYYY-MM-DDTHH:mm:ss` (what the sim emits, the RM date pattern), a space for the `T`,
//!   fractional seconds (dropped), `/` between the date's parts, `YYYYMMDD`;
//! * any of these with `Z` or an offset: converted to the server's zone. Without a zone the
//!   time is the server's wall clock, as every RM date (REFERENCE §0).

use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use crate::dates::fmt_rm;
use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct QDate {
    /// Server wall-clock time.
    pub at: PrimitiveDateTime,
    /// Only a day was given.
    pub day_only: bool,
    /// As the request sent it (for messages).
    pub raw: String,
}

impl QDate {
    pub fn parse(raw: &str, zone: UtcOffset) -> Result<QDate, ApiError> {
        parse(raw, zone).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid snapshot date '{raw}': expected YYYY-MM-DD, YYYY-MM-DDTHH:mm:ss or D/YYYY-MM-DD:HH:mm:ss"
            ))
        })
    }

    pub fn matches(&self, snapshot: PrimitiveDateTime) -> bool {
        if self.day_only {
            snapshot.date() == self.at.date()
        } else {
            snapshot == self.at
        }
    }
}

/// The form the sim emits.
pub fn emit(t: PrimitiveDateTime) -> String {
    fmt_rm(t)
}

fn parse(raw: &str, zone: UtcOffset) -> Option<QDate> {
    let cleaned: String = raw.trim().chars().filter(|c| *c != '\\').collect();
    let s = cleaned
        .strip_prefix("D/")
        .or_else(|| cleaned.strip_prefix("d/"))
        .unwrap_or(&cleaned);
    let (date_part, rest) = match s.find(['T', 't', ' ', ':']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let date = parse_date(date_part)?;
    let Some(rest) = rest.filter(|r| !r.trim().is_empty()) else {
        return Some(QDate {
            at: PrimitiveDateTime::new(date, Time::MIDNIGHT),
            day_only: true,
            raw: raw.to_string(),
        });
    };
    let (time_part, offset) = split_zone(rest.trim())?;
    let local = PrimitiveDateTime::new(date, parse_time(time_part)?);
    let at = match offset {
        Some(o) => {
            let t = local.assume_offset(o).checked_to_offset(zone)?;
            PrimitiveDateTime::new(t.date(), t.time())
        }
        None => local,
    };
    Some(QDate {
        at,
        day_only: false,
        raw: raw.to_string(),
    })
}

fn num<T: std::str::FromStr>(s: &str, max_len: usize) -> Option<T> {
    let ok = !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit());
    if ok { s.parse().ok() } else { None }
}

fn parse_date(s: &str) -> Option<Date> {
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    let (y, m, d) = match parts.as_slice() {
        [y, m, d] => (num::<i32>(y, 4)?, num::<u8>(m, 2)?, num::<u8>(d, 2)?),
        [all] if all.len() == 8 => (
            num::<i32>(&all[..4], 4)?,
            num::<u8>(&all[4..6], 2)?,
            num::<u8>(&all[6..], 2)?,
        ),
        _ => return None,
    };
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

fn parse_time(s: &str) -> Option<Time> {
    let s = s.split('.').next()?;
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [h, m] => (num(h, 2)?, num(m, 2)?, 0),
        [h, m, sec] => (num(h, 2)?, num(m, 2)?, num(sec, 2)?),
        _ => return None,
    };
    Time::from_hms(h, m, sec).ok()
}

/// The time and, when there is one, its zone (`Z`, `±HH:MM`, `±HHMM`, `±HH`).
fn split_zone(s: &str) -> Option<(&str, Option<UtcOffset>)> {
    if let Some(t) = s.strip_suffix(['Z', 'z']) {
        return Some((t, Some(UtcOffset::UTC)));
    }
    let Some(i) = s.find(['+', '-']) else {
        return Some((s, None));
    };
    let (t, z) = (&s[..i], &s[i..]);
    let sign: i8 = if z.starts_with('-') { -1 } else { 1 };
    let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
    let (h, m) = match digits.len() {
        2 => (num::<i8>(&digits, 2)?, 0),
        4 => (num::<i8>(&digits[..2], 2)?, num::<i8>(&digits[2..], 2)?),
        _ => return None,
    };
    let o = UtcOffset::from_hms(sign * h, sign * m, 0).ok()?;
    Some((t, Some(o)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn every_spec_form_reads_as_server_time() {
        let utc = UtcOffset::UTC;
        let want = datetime!(2026-03-01 10:20:30);
        for raw in [
            "2026-03-01T10:20:30",
            "2026-03-01 10:20:30.123",
            "D/2026-03-01:10:20:30",
            "D/2026-03-01\\:10\\:20\\:30",
            "2026-03-01:10:20:30",
            "2026-03-01\\:10\\:20\\:30",
            "D/2026/3/1:10:20:30",
        ] {
            let q = parse(raw, utc).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!((q.at, q.day_only), (want, false), "{raw}");
        }
        let q = parse("2026-03-01T08:20:30Z", offset!(+2)).unwrap();
        assert_eq!(q.at, want);
        let q = parse("2026-03-01T10:20:30+02:00", utc).unwrap();
        assert_eq!(q.at, datetime!(2026-03-01 08:20:30));
        let q = parse("2026-03-01", utc).unwrap();
        assert!(q.day_only && q.matches(datetime!(2026-03-01 23:59:59)));
        assert!(!q.matches(datetime!(2026-03-02 00:00:00)));
        assert!(parse("20260301", utc).is_some_and(|q| q.day_only));
    }

    #[test]
    fn garbage_is_refused() {
        for raw in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30T00:00:00",
            "D/2026-03-01:25:00:00",
            "2026-03-01T10:00:00+99",
        ] {
            assert!(parse(raw, UtcOffset::UTC).is_none(), "{raw}");
        }
    }

    #[test]
    fn emitted_form_is_the_rm_pattern() {
        assert_eq!(emit(datetime!(2026-03-01 10:20:30)), "2026-03-01T10:20:30");
    }
}
