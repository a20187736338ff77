//! Civil (proleptic Gregorian, UTC) dates from day counts and back: the one copy the
//! journal's time stamps, the simulator's log formats and the drivers' folder names use
//! (Howard Hinnant's algorithms, exact for every `i64` day a clock can hold).

/// The civil date `(year, month 1–12, day 1–31)` of `days` since 1970-01-01.
pub fn from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of the civil date `year-month-day` (month 1–12).
pub fn to_days(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(hour, minute, second)` of a second count within its day (`secs` since the epoch).
pub fn time_of_day(secs: i64) -> (u32, u32, u32) {
    let s = secs.rem_euclid(86_400);
    ((s / 3600) as u32, ((s / 60) % 60) as u32, (s % 60) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates_and_a_round_trip_over_centuries() {
        assert_eq!(from_days(0), (1970, 1, 1));
        assert_eq!(from_days(-1), (1969, 12, 31));
        assert_eq!(from_days(11_016), (2000, 2, 29));
        assert_eq!(from_days(20_430), (2025, 12, 8));
        assert_eq!(to_days(2026, 12, 7), 20_794);
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = from_days(days);
            assert_eq!(to_days(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(time_of_day(86_399), (23, 59, 59));
        assert_eq!(time_of_day(-1), (23, 59, 59));
    }
}
