//! One invocation's identity and time budget, and the clock every workflow writes with.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time kept back from Lambda's deadline for bookkeeping after the last OpenText call.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub deadline: Instant,
    pub margin: Duration,
}

impl Invocation {
    /// From Lambda's deadline (epoch milliseconds).
    pub fn new(request_id: &str, deadline_epoch_ms: u64, margin: Duration) -> Self {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let left = Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms));
        Self {
            request_id: request_id.to_string(),
            deadline: Instant::now() + left,
            margin,
        }
    }

    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// OpenText retries stop here, leaving time to record state before Lambda's deadline.
    pub fn opentext_deadline(&self) -> Instant {
        self.deadline
            .checked_sub(self.margin)
            .unwrap_or_else(Instant::now)
    }

    /// A lease on claimed work: Lambda stops the attempt at its deadline, so the lease need
    /// only outlive that (a crashed attempt's work is taken over soon after).
    pub fn lease(&self) -> Duration {
        self.remaining() + Duration::from_secs(5)
    }
}

/// Now, RFC 3339 UTC with milliseconds: every audit event and workflow record uses this one.
pub fn now_rfc3339() -> String {
    utc_millis(time::OffsetDateTime::now_utc())
}

/// `2026-12-01T10:00:00.040Z`: always three fraction digits, so these times sort as text
/// (the well-known RFC 3339 formatter trims trailing zeros, and `.04Z` would sort after
/// `.041Z`).
pub fn utc_millis(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opentext_deadline_keeps_the_margin_and_times_carry_milliseconds() {
        let in_a_minute = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
            + 60_000;
        let inv = Invocation::new("r", in_a_minute, DEFAULT_MARGIN);
        let left = inv
            .opentext_deadline()
            .saturating_duration_since(Instant::now());
        assert!(
            left <= Duration::from_secs(50) && left > Duration::from_secs(45),
            "{left:?}"
        );
        assert!(inv.lease() > inv.remaining());
        let past = Invocation::new("r", 0, DEFAULT_MARGIN);
        assert_eq!(past.remaining(), Duration::ZERO);
        let now = now_rfc3339();
        assert!(
            now.ends_with('Z') && now.len() == "2026-12-01T10:00:00.123Z".len(),
            "{now}"
        );
    }

    #[test]
    fn times_keep_three_fraction_digits_so_they_sort_as_text() {
        use time::macros::datetime;
        assert_eq!(
            utc_millis(datetime!(2026-12-01 22:23:47.04 UTC)),
            "2026-12-01T22:23:47.040Z"
        );
        assert_eq!(
            utc_millis(datetime!(2026-12-01 22:23:47 UTC)),
            "2026-12-01T22:23:47.000Z"
        );
        assert_eq!(
            utc_millis(datetime!(2026-12-01 23:30:00.5 +01:00)),
            "2026-12-01T22:30:00.500Z"
        );
        let earlier = utc_millis(datetime!(2026-12-01 22:23:47.04 UTC));
        let later = utc_millis(datetime!(2026-12-01 22:23:47.041 UTC));
        assert!(earlier < later);
    }
}
