//! Dates in the forms the specs give them.
//!
//! * RM dates (holds' `DateApplied`/`date_applied`, `date_to_remove`, record details'
//!   `record_date`, `status_date`, `received_date`, review dates): zone-less
//!   `YYYY-MM-DDTHH:mm:ss` in the server's time zone, the RM spec's pattern
//!   (`"2026-12-01T07:38:58"`). A date given in a request is stored in that form; text that is
//!   no date is stored as given (so a client's handling of a bad date can be tested).
//! * serverinfo's `current_date`: the same form (the CS spec: "YYYY-MM-DDThh:mm:ss").
//! * Node, version and audit dates: RFC 3339 in UTC with `Z` (the CS spec's `date-time`,
//!   what recent servers send; [`crate::store::now_iso`]).
//!
//! The server's time zone is a fixed offset (`--time-zone`, default UTC).

use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

const RM_FORM: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");

/// Now, as the RM API writes it in a server whose clock is at `zone`.
pub fn now_rm(zone: UtcOffset) -> String {
    let now = OffsetDateTime::now_utc().to_offset(zone);
    PrimitiveDateTime::new(now.date(), now.time())
        .format(RM_FORM)
        .unwrap_or_default()
}

/// A date from a request in the RM API's stored form; text that is no date, as given.
pub fn rm_date(input: &str, zone: UtcOffset) -> String {
    read(input.trim(), zone)
        .and_then(|t| t.format(RM_FORM).ok())
        .unwrap_or_else(|| input.to_string())
}

/// An RM-form date (`YYYY-MM-DDTHH:mm:ss`) of a wall-clock time.
pub fn fmt_rm(t: PrimitiveDateTime) -> String {
    t.format(RM_FORM).unwrap_or_default()
}

/// Now as the server's wall clock at `zone` (whole seconds).
pub fn now_local(zone: UtcOffset) -> PrimitiveDateTime {
    let now = OffsetDateTime::now_utc().to_offset(zone);
    let t = PrimitiveDateTime::new(now.date(), now.time());
    t.replace_nanosecond(0).unwrap_or(t)
}

/// A stored date (RM zone-less or RFC 3339 node date) as the server's wall clock at `zone`.
pub fn to_local(s: &str, zone: UtcOffset) -> Option<PrimitiveDateTime> {
    read(s.trim(), zone)
}

/// The wall-clock time at `zone`: zoned input converted, zone-less input taken as it is.
fn read(s: &str, zone: UtcOffset) -> Option<PrimitiveDateTime> {
    let s = s.replacen(' ', "T", 1);
    if let Ok(t) = OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339) {
        let t = t.checked_to_offset(zone)?;
        return Some(PrimitiveDateTime::new(t.date(), t.time()));
    }
    let times = [
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ];
    for form in times {
        if let Ok(t) = PrimitiveDateTime::parse(&s, form) {
            return t.replace_nanosecond(0).ok();
        }
    }
    let days = [
        format_description!("[year]-[month]-[day]"),
        format_description!("[year][month][day]"),
    ];
    days.into_iter()
        .find_map(|form| Date::parse(&s, form).ok())
        .map(|d| PrimitiveDateTime::new(d, Time::MIDNIGHT))
}

/// `UTC`, `Z` or `±HH:MM` (the `--time-zone` flag).
pub fn parse_zone(s: &str) -> Result<UtcOffset, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
        return Ok(UtcOffset::UTC);
    }
    UtcOffset::parse(
        t,
        format_description!("[offset_hour sign:mandatory]:[offset_minute]"),
    )
    .map_err(|_| format!("expected UTC or an offset such as +02:00, got {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::offset;

    #[test]
    fn request_dates_are_stored_zone_less_in_the_servers_zone() {
        let cases = [
            ("2026-12-01T07:38:58", offset!(+2), "2026-12-01T07:38:58"),
            (
                "2026-12-01 07:38:58.123",
                offset!(UTC),
                "2026-12-01T07:38:58",
            ),
            ("2026-12-01T07:38:58Z", offset!(+2), "2026-12-01T09:38:58"),
            (
                "2026-12-01T07:38:58+01:00",
                offset!(UTC),
                "2026-12-01T06:38:58",
            ),
            ("2026-12-01", offset!(-5), "2026-12-01T00:00:00"),
            ("20261201", offset!(UTC), "2026-12-01T00:00:00"),
            ("not a date", offset!(UTC), "not a date"),
        ];
        for (input, zone, stored) in cases {
            assert_eq!(rm_date(input, zone), stored, "{input} at {zone}");
        }
    }

    #[test]
    fn now_is_the_servers_wall_clock() {
        let utc = now_rm(UtcOffset::UTC);
        let east = now_rm(offset!(+2));
        let parse = |s: &str| PrimitiveDateTime::parse(s, RM_FORM).unwrap();
        let gap = parse(&east) - parse(&utc);
        assert!((gap.whole_seconds() - 7200).abs() <= 1, "{utc} {east}");
        assert!(!utc.ends_with('Z') && utc.len() == 19);
    }

    #[test]
    fn zones() {
        assert_eq!(parse_zone("UTC"), Ok(UtcOffset::UTC));
        assert_eq!(parse_zone("+02:00"), Ok(offset!(+2)));
        assert_eq!(parse_zone("-05:30"), Ok(offset!(-5:30)));
        assert!(parse_zone("Europe/Berlin").is_err());
        assert!(parse_zone("+2").is_err());
    }
}
