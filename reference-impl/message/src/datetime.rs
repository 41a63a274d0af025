//! RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 (two- and three-digit years,
//! alphabetic zones, CFWS between the parts).
//!
//! [`parse`] checks what the grammar and §3.3's prose require: a real calendar date, the
//! day-of-week (if given) the one the date implies, a year of 1900 or later, hour, minute and
//! second in range (second 60 for a leap second). [`DateTime`]'s `Display` writes the current
//! syntax, `Fri, 21 Nov 1997 09:55:06 -0600`. Conversions to and from Unix time take the
//! time as an argument: this crate reads no clock.

use std::fmt;

use thiserror::Error;

use crate::syntax::{self, Token, TokenKind};

/// A date and time with its zone offset, as written in a Date field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    pub year: u16,
    /// 1-12.
    pub month: u8,
    /// 1-31, valid for the month.
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    /// 0-60 (60 only for a leap second).
    pub second: u8,
    /// Offset from UT in minutes (`-0330` is -210).
    pub offset_minutes: i16,
    /// The zone says nothing about local time: `-0000` (§3.3) or a military zone (§4.3).
    pub zone_unknown: bool,
}

/// The outcome of a successful parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedDateTime {
    pub value: DateTime,
    /// Obsolete syntax (§4.3) was used: accepted, but MUST NOT be generated.
    pub obsolete: bool,
    /// Comments in the field (e.g. `(PST)`).
    pub comments: Vec<String>,
}

/// Why a date-time could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DateTimeError {
    #[error(transparent)]
    Syntax(#[from] syntax::SyntaxError),
    #[error("expected {0} (RFC 5322 §3.3)")]
    Expected(&'static str),
    #[error("unknown day name {0:?} (RFC 5322 §3.3)")]
    UnknownDay(String),
    #[error("unknown month name {0:?} (RFC 5322 §3.3)")]
    UnknownMonth(String),
    #[error("unknown time zone {0:?} (RFC 5322 §3.3, §4.3)")]
    UnknownZone(String),
    #[error("{0} out of range (RFC 5322 §3.3)")]
    OutOfRange(&'static str),
    #[error("day of week does not match the date (RFC 5322 §3.3)")]
    WeekdayMismatch,
    #[error("unexpected text after the date-time (RFC 5322 §3.3)")]
    TrailingText,
}

pub const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
pub const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parse a Date (or Resent-Date) field body.
pub fn parse(value: &str) -> Result<DateTime, DateTimeError> {
    parse_detailed(value).map(|p| p.value)
}

/// Parse a field body, also reporting obsolete syntax and comments.
pub fn parse_detailed(value: &str) -> Result<ParsedDateTime, DateTimeError> {
    let tokens = syntax::tokenize(value)?;
    let mut p = Reader {
        tokens: &tokens.tokens,
        pos: 0,
        obsolete: false,
    };
    // Comments anywhere but at the end are obsolete (§4.3 allows CFWS between the parts).
    let trailing_comment_only = value.trim_end().ends_with(')') && tokens.comments.len() == 1;
    p.obsolete |= !tokens.comments.is_empty() && !trailing_comment_only;

    // [ day-of-week "," ]
    let mut weekday = None;
    if let (Some(TokenKind::Atom(name)), Some(TokenKind::Special(','))) = (p.kind(0), p.kind(1)) {
        let index = DAY_NAMES.iter().position(|d| d.eq_ignore_ascii_case(name));
        weekday = Some(index.ok_or_else(|| DateTimeError::UnknownDay(name.clone()))?);
        p.obsolete |= p.cfws_before(1);
        p.pos += 2;
    }
    let day = p.number(1, 2, "day")?;
    let month_name = p.atom("month")?;
    let month = MONTH_NAMES
        .iter()
        .position(|m| m.eq_ignore_ascii_case(&month_name));
    let month = month.ok_or(DateTimeError::UnknownMonth(month_name))? + 1;
    let year_digits = p.peek_len();
    let year = p.number(2, 4, "year")?;
    // §4.3: two-digit years 00-49 are 2000-2049, 50-99 are 1950-1999; three digits add 1900.
    let year = match year_digits {
        2 if year < 50 => year + 2000,
        2 | 3 => year + 1900,
        _ => year,
    };
    p.obsolete |= year_digits < 4;
    if year < 1900 {
        return Err(DateTimeError::OutOfRange("year (must be 1900 or later)"));
    }
    let hour = p.number(2, 2, "hour")?;
    p.colon()?;
    let minute = p.number(2, 2, "minute")?;
    let second = if p.kind(0) == Some(&TokenKind::Special(':')) {
        p.colon()?;
        p.number(2, 2, "second")?
    } else {
        0
    };
    let (offset_minutes, zone_unknown) = p.zone()?;
    if !p.at_end() {
        return Err(DateTimeError::TrailingText);
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(DateTimeError::OutOfRange("time of day"));
    }
    if day == 0 || day > days_in_month(year, month as u32) {
        return Err(DateTimeError::OutOfRange("day of month"));
    }
    let value = DateTime {
        year: year as u16,
        month: month as u8,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        offset_minutes,
        zone_unknown,
    };
    if weekday.is_some_and(|w| w != usize::from(value.weekday())) {
        return Err(DateTimeError::WeekdayMismatch);
    }
    Ok(ParsedDateTime {
        value,
        obsolete: p.obsolete,
        comments: tokens.comments,
    })
}

struct Reader<'t> {
    tokens: &'t [Token],
    pos: usize,
    obsolete: bool,
}

impl Reader<'_> {
    fn kind(&self, ahead: usize) -> Option<&TokenKind> {
        self.tokens.get(self.pos + ahead).map(|t| &t.kind)
    }

    fn cfws_before(&self, ahead: usize) -> bool {
        self.tokens
            .get(self.pos + ahead)
            .is_some_and(|t| t.cfws_before)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    fn atom(&mut self, what: &'static str) -> Result<String, DateTimeError> {
        match self.kind(0) {
            Some(TokenKind::Atom(a)) => {
                let a = a.clone();
                self.pos += 1;
                Ok(a)
            }
            _ => Err(DateTimeError::Expected(what)),
        }
    }

    fn peek_len(&self) -> usize {
        match self.kind(0) {
            Some(TokenKind::Atom(a)) => a.len(),
            _ => 0,
        }
    }

    /// A run of `min..=max` digits (years: `min` or more, capped at 4 to stay bounded).
    fn number(&mut self, min: usize, max: usize, what: &'static str) -> Result<u32, DateTimeError> {
        let atom = self.atom(what)?;
        if atom.len() < min || atom.len() > max || !atom.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DateTimeError::Expected(what));
        }
        atom.parse().map_err(|_| DateTimeError::Expected(what))
    }

    /// The ':' of a time; CFWS around it is obsolete (§4.3 obs-hour etc.).
    fn colon(&mut self) -> Result<(), DateTimeError> {
        if self.kind(0) != Some(&TokenKind::Special(':')) {
            return Err(DateTimeError::Expected("':'"));
        }
        self.obsolete |= self.cfws_before(0) || self.cfws_before(1);
        self.pos += 1;
        Ok(())
    }

    /// zone = ("+" / "-") 4DIGIT / obs-zone; returns (offset, unknown).
    fn zone(&mut self) -> Result<(i16, bool), DateTimeError> {
        let zone = self.atom("a time zone")?;
        let bytes = zone.as_bytes();
        if let [sign @ (b'+' | b'-'), digits @ ..] = bytes {
            if digits.len() != 4 || !digits.iter().all(u8::is_ascii_digit) {
                return Err(DateTimeError::UnknownZone(zone));
            }
            let hh = i16::from(digits[0] - b'0') * 10 + i16::from(digits[1] - b'0');
            let mm = i16::from(digits[2] - b'0') * 10 + i16::from(digits[3] - b'0');
            if mm > 59 {
                return Err(DateTimeError::OutOfRange("zone minutes"));
            }
            let minutes = hh * 60 + mm;
            return Ok(if *sign == b'-' {
                (-minutes, minutes == 0)
            } else {
                (minutes, false)
            });
        }
        self.obsolete = true;
        // §4.3 obs-zone.
        let hours = match zone.to_ascii_uppercase().as_str() {
            "UT" | "GMT" => 0,
            "EDT" => -4,
            "EST" | "CDT" => -5,
            "CST" | "MDT" => -6,
            "MST" | "PDT" => -7,
            "PST" => -8,
            // Military zones: "SHOULD be considered equivalent to -0000".
            z if z.len() == 1 && z != "J" && z.bytes().all(|b| b.is_ascii_uppercase()) => {
                return Ok((0, true));
            }
            _ => return Err(DateTimeError::UnknownZone(zone)),
        };
        Ok((hours * 60, false))
    }
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl DateTime {
    /// Day of the week, 0 = Sunday.
    pub fn weekday(&self) -> u8 {
        let days = days_from_civil(
            i64::from(self.year),
            u32::from(self.month),
            u32::from(self.day),
        );
        (days + 4).rem_euclid(7) as u8
    }

    /// Seconds since 1970-01-01T00:00:00Z (a leap second counts as the next one).
    pub fn to_unix(&self) -> i64 {
        let days = days_from_civil(
            i64::from(self.year),
            u32::from(self.month),
            u32::from(self.day),
        );
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset_minutes) * 60
    }

    /// The local time at `offset_minutes` of a Unix time; `None` outside the years 1900-9999
    /// or for an offset beyond ±99:59.
    pub fn from_unix(seconds: i64, offset_minutes: i16) -> Option<DateTime> {
        if offset_minutes.unsigned_abs() > 99 * 60 + 59 {
            return None;
        }
        let local = seconds.checked_add(i64::from(offset_minutes) * 60)?;
        let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        if !(1900..=9999).contains(&year) {
            return None;
        }
        Some(DateTime {
            year: year as u16,
            month: month as u8,
            day: day as u8,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
            offset_minutes,
            zone_unknown: false,
        })
    }
}

/// RFC 5322 §3.3 current syntax, with the day of week: `Fri, 21 Nov 1997 09:55:06 -0600`.
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day_name = DAY_NAMES.get(usize::from(self.weekday())).unwrap_or(&"Sun");
        let month_name = MONTH_NAMES
            .get(usize::from(self.month).wrapping_sub(1))
            .unwrap_or(&"Jan");
        let sign = if self.offset_minutes < 0 || (self.offset_minutes == 0 && self.zone_unknown) {
            '-'
        } else {
            '+'
        };
        let offset = self.offset_minutes.unsigned_abs();
        write!(
            f,
            "{day_name}, {} {month_name} {:04} {:02}:{:02}:{:02} {sign}{:02}{:02}",
            self.day,
            self.year,
            self.hour,
            self.minute,
            self.second,
            offset / 60,
            offset % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;

    fn dt(year: u16, month: u8, day: u8, hms: (u8, u8, u8), offset: i16) -> DateTime {
        DateTime {
            year,
            month,
            day,
            hour: hms.0,
            minute: hms.1,
            second: hms.2,
            offset_minutes: offset,
            zone_unknown: false,
        }
    }

    #[test]
    fn rfc5322_appendix_a_dates() {
        assert_eq!(
            parse("Fri, 21 Nov 1997 09:55:06 -0600"),
            Ok(dt(1997, 11, 21, (9, 55, 6), -360))
        );
        assert_eq!(
            parse("Tue, 1 Jul 2003 10:52:37 +0200"),
            Ok(dt(2003, 7, 1, (10, 52, 37), 120))
        );
        assert_eq!(
            parse("Thu, 13 Feb 1969 23:32:54 -0330"),
            Ok(dt(1969, 2, 13, (23, 32, 54), -210))
        );
        // A.5: folding white space everywhere, no seconds, a trailing comment: current syntax.
        let a5 = parse_detailed(
            "Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n               -0330 (Newfoundland Time)",
        );
        let a5 = a5.map(|p| (p.value, p.obsolete, p.comments));
        assert_eq!(
            a5,
            Ok((
                dt(1969, 2, 13, (23, 32, 0), -210),
                false,
                vec!["Newfoundland Time".to_string()]
            ))
        );
        // A.6.2: two-digit year and GMT.
        let a62 = parse_detailed("21 Nov 97 09:55:06 GMT").map(|p| (p.value, p.obsolete));
        assert_eq!(a62, Ok((dt(1997, 11, 21, (9, 55, 6), 0), true)));
        // A.6.3: comments and white space around the colons.
        let a63 = parse_detailed("Fri, 21 Nov 1997 09(comment):   55  :  06 -0600")
            .map(|p| (p.value, p.obsolete));
        assert_eq!(a63, Ok((dt(1997, 11, 21, (9, 55, 6), -360), true)));
        assert_eq!(
            parse("Sun, 21 Mar 1993 23:56:48 -0800 (PST)").map(|d| d.offset_minutes),
            Ok(-480)
        );
    }

    #[test]
    fn obsolete_zones_and_years() {
        assert_eq!(
            parse("1 Jan 2001 00:00:00 EST").map(|d| d.offset_minutes),
            Ok(-300)
        );
        assert_eq!(
            parse("1 Jan 2001 00:00:00 pdt").map(|d| d.offset_minutes),
            Ok(-420)
        );
        assert_eq!(
            parse("1 Jan 2001 00:00:00 Z").map(|d| (d.offset_minutes, d.zone_unknown)),
            Ok((0, true))
        );
        assert_eq!(
            parse("1 Jan 2001 00:00:00 J"),
            Err(DateTimeError::UnknownZone("J".into()))
        );
        assert_eq!(
            parse("1 Jan 2001 00:00:00 CEST"),
            Err(DateTimeError::UnknownZone("CEST".into()))
        );
        assert_eq!(parse("1 Jan 49 00:00:00 +0000").map(|d| d.year), Ok(2049));
        assert_eq!(parse("1 Jan 50 00:00:00 +0000").map(|d| d.year), Ok(1950));
        assert_eq!(parse("1 Jan 103 00:00:00 +0000").map(|d| d.year), Ok(2003));
        assert_eq!(
            parse("1 Jan 2001 00:00:00 -0000").map(|d| d.zone_unknown),
            Ok(true)
        );
    }

    #[test]
    fn invalid_dates_are_rejected() {
        assert_eq!(
            parse("Mon, 21 Nov 1997 09:55:06 -0600"),
            Err(DateTimeError::WeekdayMismatch)
        );
        assert_eq!(
            parse("Fry, 21 Nov 1997 09:55:06 -0600"),
            Err(DateTimeError::UnknownDay("Fry".into()))
        );
        assert_eq!(
            parse("30 Feb 2000 00:00:00 +0000"),
            Err(DateTimeError::OutOfRange("day of month"))
        );
        assert!(parse("29 Feb 2000 00:00:00 +0000").is_ok());
        assert!(parse("29 Feb 1900 00:00:00 +0000").is_err());
        assert_eq!(
            parse("1 Jan 2001 24:00:00 +0000"),
            Err(DateTimeError::OutOfRange("time of day"))
        );
        assert!(parse("31 Dec 2016 23:59:60 +0000").is_ok());
        assert_eq!(
            parse("1 Jan 1899 00:00:00 +0000"),
            Err(DateTimeError::OutOfRange("year (must be 1900 or later)"))
        );
        assert_eq!(
            parse("1 Jan 2001 00:00:00 +0000 x"),
            Err(DateTimeError::TrailingText)
        );
        assert_eq!(
            parse("1 Jan 2001 00:00:00 +00"),
            Err(DateTimeError::UnknownZone("+00".into()))
        );
        assert_eq!(
            parse("1 Foo 2001 00:00:00 +0000"),
            Err(DateTimeError::UnknownMonth("Foo".into()))
        );
        assert_eq!(
            parse("1 Jan 20011 00:00:00 +0000"),
            Err(DateTimeError::Expected("year"))
        );
        assert_eq!(parse(""), Err(DateTimeError::Expected("day")));
    }

    #[test]
    fn formats_current_syntax() {
        assert_eq!(
            dt(1997, 11, 21, (9, 55, 6), -360).to_string(),
            "Fri, 21 Nov 1997 09:55:06 -0600"
        );
        assert_eq!(
            dt(1969, 2, 13, (23, 32, 54), -210).to_string(),
            "Thu, 13 Feb 1969 23:32:54 -0330"
        );
        let unknown = DateTime {
            zone_unknown: true,
            ..dt(2001, 1, 1, (0, 0, 0), 0)
        };
        assert_eq!(unknown.to_string(), "Mon, 1 Jan 2001 00:00:00 -0000");
    }

    #[test]
    fn unix_time_conversions() {
        assert_eq!(dt(1970, 1, 1, (0, 0, 0), 0).to_unix(), 0);
        assert_eq!(dt(1997, 11, 21, (9, 55, 6), -360).to_unix(), 880_127_706);
        assert_eq!(
            DateTime::from_unix(880_127_706, -360),
            Some(dt(1997, 11, 21, (9, 55, 6), -360))
        );
        assert_eq!(DateTime::from_unix(-2_208_988_801, 0), None);
        assert_eq!(DateTime::from_unix(i64::MAX, 0), None);
        let mut rng = XorShift::new(5322);
        for _ in 0..2000 {
            let secs = (rng.next_u64() % 8_000_000_000) as i64 - 2_000_000_000;
            let offset = (rng.below(2 * 14 * 60) as i16) - 14 * 60;
            let Some(d) = DateTime::from_unix(secs, offset) else {
                continue;
            };
            assert_eq!(d.to_unix(), secs);
            assert_eq!(parse(&d.to_string()), Ok(d), "{d}");
        }
    }
}
