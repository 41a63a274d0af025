//! IMAP's date forms (RFC 9051 §9 `date`, `date-time`) on top of `wirecheck-message`'s
//! calendar arithmetic (no clock is read here).

use wirecheck_message::DateTime as MessageDate;

use crate::types::Date;

/// The calendar date of `unix` seconds in UTC (for BEFORE / ON / SINCE, which compare
/// internal dates "disregarding time and timezone", RFC 9051 §6.4.4).
pub(crate) fn date_of(unix: i64) -> Date {
    match MessageDate::from_unix(unix, 0) {
        Some(d) => Date { year: d.year, month: d.month, day: d.day },
        None => Date { year: 1900, month: 1, day: 1 },
    }
}

/// The calendar date of a `Date:` header, in the zone it was written in.
pub(crate) fn date_of_header(d: &MessageDate) -> Date {
    Date { year: d.year, month: d.month, day: d.day }
}

/// Seconds since the epoch of a local date and time at `offset_minutes`.
pub(crate) fn to_unix(date: Date, h: u8, m: u8, s: u8, offset_minutes: i16) -> i64 {
    MessageDate {
        year: date.year,
        month: date.month,
        day: date.day,
        hour: h,
        minute: m,
        second: s,
        offset_minutes,
        zone_unknown: false,
    }
    .to_unix()
}

/// RFC 9051 §9 `date-time` text (without quotes): `dd-Mon-yyyy hh:mm:ss +zzzz`, day
/// space-padded (`date-day-fixed`), in UTC.
pub(crate) fn format_date_time(unix: i64) -> String {
    let d = MessageDate::from_unix(unix, 0).unwrap_or(MessageDate {
        year: 1970,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        offset_minutes: 0,
        zone_unknown: false,
    });
    format!(
        "{:>2}-{}-{:04} {:02}:{:02}:{:02} +0000",
        d.day,
        crate::codec::month_name(d.month),
        d.year,
        d.hour,
        d.minute,
        d.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_date_text() {
        assert_eq!(format_date_time(1_704_103_200), " 1-Jan-2024 10:00:00 +0000");
        assert_eq!(date_of(1_704_103_200), Date { year: 2024, month: 1, day: 1 });
    }
}
