//! Calendar arithmetic for INTERNALDATE and the SEARCH date keys (no clock is read here).

use crate::types::Date;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The calendar date of `unix` seconds at `offset_minutes` from UTC.
pub(crate) fn date_of(unix: i64, offset_minutes: i32) -> Date {
    let local = unix + i64::from(offset_minutes) * 60;
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    Date { year: u16::try_from(y.clamp(0, 9999)).unwrap_or(0), month: m, day: d }
}

/// RFC 9051 §9 `date-time` text (without quotes): `dd-Mon-yyyy hh:mm:ss +zzzz`, day
/// space-padded (`date-day-fixed`), in UTC (`+0000`).
pub(crate) fn format_date_time(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    format!("{d:>2}-{}-{y:04} {:02}:{:02}:{:02} +0000", crate::codec::month_name(m), s / 3600, s % 3600 / 60, s % 60)
}

/// RFC 5322 §3.3 `date-time` of a `Date:` header, reduced to its calendar date in the
/// zone it was written in (RFC 9051 §6.4.4 SENTBEFORE etc. "disregarding time and
/// timezone"). Obsolete forms (two-digit years, zone names) are tolerated.
pub(crate) fn parse_rfc5322_date(s: &str) -> Option<Date> {
    let s = s.split_once(',').map_or(s, |(_, r)| r);
    let mut words = s.split_whitespace();
    let day: u8 = words.next()?.parse().ok()?;
    let month = words.next()?;
    let month = crate::codec::month_number(month.as_bytes())?;
    let year: u16 = words.next()?.parse().ok()?;
    let year = match year {
        0..=49 => year + 2000,
        50..=999 => year + 1900,
        _ => year,
    };
    (1..=31).contains(&day).then_some(Date { year, month, day })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_days() {
        for z in [-800_000i64, -1, 0, 1, 10_957, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn internal_date_text() {
        assert_eq!(format_date_time(1_704_103_200), " 1-Jan-2024 10:00:00 +0000");
    }

    #[test]
    fn header_dates() {
        assert_eq!(parse_rfc5322_date("Mon, 01 Jan 2024 10:00:00 +0000"), Some(Date { year: 2024, month: 1, day: 1 }));
        assert_eq!(parse_rfc5322_date("2 Jan 99 10:00 EST"), Some(Date { year: 1999, month: 1, day: 2 }));
        assert_eq!(parse_rfc5322_date("garbage"), None);
    }
}
