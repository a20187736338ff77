//! Calendar arithmetic for the virtual clock (UTC only; the simulated hosts run in UTC).

/// Unix seconds of the instant every simulated site starts at: 2026-11-21 00:00:00 UTC.
pub(crate) const START_UNIX: u64 = 1_795_219_200;

/// Milliseconds of [`START_UNIX`].
pub(crate) const START_MS: u64 = START_UNIX * 1000;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
}

/// Days since 1970-01-01 to a (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    hascript_api::civil::from_days(z)
}

/// Break unix milliseconds into UTC fields.
pub(crate) fn civil(ms: u64) -> Civil {
    let secs = (ms / 1000) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: ((rem % 3600) / 60) as u32,
        second: (rem % 60) as u32,
        millis: (ms % 1000) as u32,
    }
}

/// Syslog's timestamp (`Nov 21 00:12:03`, day padded with a space: `Nov  1`).
pub(crate) fn syslog(ms: u64) -> String {
    let c = civil(ms);
    let mon = MONTHS
        .get((c.month as usize).saturating_sub(1))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{mon} {:>2} {:02}:{:02}:{:02}",
        c.day, c.hour, c.minute, c.second
    )
}

/// RMS switchlog's timestamp (`2026-11-21 00:12:03.000`).
pub(crate) fn switchlog(ms: u64) -> String {
    let c = civil(ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.millis
    )
}

/// A compact date for generated configuration names (`20261121`).
pub(crate) fn ymd(ms: u64) -> String {
    let c = civil(ms);
    format!("{:04}{:02}{:02}", c.year, c.month, c.day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_instant() {
        let c = civil(START_MS);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (2026, 11, 21, 0, 0, 0)
        );
        assert_eq!(syslog(START_MS + 723_000), "Nov 21 00:12:03");
        assert_eq!(switchlog(START_MS + 723_456), "2026-11-21 00:12:03.456");
        assert_eq!(ymd(START_MS), "20261121");
    }

    #[test]
    fn day_is_space_padded_and_months_roll() {
        // 2026-12-01 is 10 days after the start.
        assert_eq!(syslog(START_MS + 10 * 86_400_000), "Dec  1 00:00:00");
        assert_eq!(syslog(START_MS - 1000), "Nov 20 23:59:59");
        assert_eq!(syslog(0), "Jan  1 00:00:00");
        // Leap day 2028-02-29.
        let feb29 = (START_UNIX + (365 + 100) * 86_400) * 1000;
        assert_eq!(ymd(feb29), "20280229");
    }
}
