//! Wall-clock time as the journal writes it: RFC 3339 UTC with milliseconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Civil date (year, month, day) of a day count since 1970-01-01.
pub(super) fn civil(days: i64) -> (i64, u32, u32) {
    hascript_api::civil::from_days(days)
}

/// `2026-07-28T17:26:00.123Z` for a time since the Unix epoch.
pub fn rfc3339(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs() as i64;
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        since_epoch.subsec_millis()
    )
}

/// The wall clock of this machine as `2026-07-28T17:26:00.123Z`.
pub fn now_rfc3339() -> String {
    rfc3339(wall())
}

pub(super) fn wall() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}
