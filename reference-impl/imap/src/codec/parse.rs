//! Grammar primitives (RFC 9051 §9, RFC 3501 §9) over one framed command, literals included.

use super::{Grammar, is_astring_char, is_atom_char};
use crate::types::{Date, DateTime, Mailbox, SeqNumber, SequenceSet};

/// A syntax error: what was expected, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError(pub String);

pub(crate) type PResult<T> = Result<T, SyntaxError>;

/// A cursor over the bytes of one command (its final CRLF removed).
pub(crate) struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    /// Which protocol's grammar the command follows (quoted strings, SEARCH CHARSET).
    pub grammar: Grammar,
}

impl<'a> Parser<'a> {
    /// A parser of the IMAP4rev2 grammar (RFC 9051 §9).
    #[cfg(test)]
    pub fn new(b: &'a [u8]) -> Self {
        Parser::with_grammar(b, Grammar::Imap4rev2)
    }

    pub fn with_grammar(b: &'a [u8], grammar: Grammar) -> Self {
        Parser { b, pos: 0, grammar }
    }

    pub fn err<T>(&self, what: &str) -> PResult<T> {
        Err(SyntaxError(format!("expected {what} at octet {}", self.pos)))
    }

    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    pub fn end(&self) -> PResult<()> {
        if self.at_end() { Ok(()) } else { self.err("end of command") }
    }

    pub fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, c: u8) -> PResult<()> {
        if self.eat(c) { Ok(()) } else { self.err(&format!("{:?}", c as char)) }
    }

    pub fn sp(&mut self) -> PResult<()> {
        self.expect(b' ')
    }

    /// Case-insensitive keyword, consumed only when the word ends there (the next octet is
    /// not a letter, digit, `.` or `-`).
    pub fn keyword(&mut self, kw: &str) -> bool {
        let kw = kw.as_bytes();
        let Some(s) = self.b.get(self.pos..self.pos + kw.len()) else { return false };
        if !s.eq_ignore_ascii_case(kw) {
            return false;
        }
        match self.b.get(self.pos + kw.len()) {
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-') => false,
            _ => {
                self.pos += kw.len();
                true
            }
        }
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        &self.b[start..self.pos]
    }

    /// An upper-cased word of octets that satisfy `f`.
    pub fn word(&mut self, f: impl Fn(u8) -> bool) -> PResult<String> {
        let w = self.take_while(f);
        if w.is_empty() { self.err("keyword") } else { Ok(String::from_utf8_lossy(w).to_ascii_uppercase()) }
    }

    /// `atom = 1*ATOM-CHAR`.
    pub fn atom(&mut self) -> PResult<&'a [u8]> {
        let a = self.take_while(is_atom_char);
        if a.is_empty() { self.err("atom") } else { Ok(a) }
    }

    /// An atom as an upper-case string (command names, keywords).
    pub fn atom_upper(&mut self) -> PResult<String> {
        Ok(String::from_utf8_lossy(self.atom()?).to_ascii_uppercase())
    }

    /// `tag = 1*<any ASTRING-CHAR except "+">`.
    pub fn tag(&mut self) -> PResult<String> {
        let t = self.take_while(super::is_tag_char);
        if t.is_empty() { self.err("tag") } else { Ok(String::from_utf8_lossy(t).into_owned()) }
    }

    /// `number` (32-bit unsigned).
    pub fn number(&mut self) -> PResult<u32> {
        let d = self.take_while(|c| c.is_ascii_digit());
        if d.is_empty() {
            return self.err("number");
        }
        d.iter()
            .try_fold(0u32, |acc, &c| acc.checked_mul(10)?.checked_add(u32::from(c - b'0')))
            .map_or_else(|| self.err("number below 2^32"), Ok)
    }

    /// `nz-number`.
    pub fn nz_number(&mut self) -> PResult<u32> {
        match self.number()? {
            0 => self.err("non-zero number"),
            n => Ok(n),
        }
    }

    /// `quoted = DQUOTE *QUOTED-CHAR DQUOTE`; `\"` and `\\` are the only escapes.
    ///
    /// RFC 9051 §9: `QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\"
    /// quoted-specials / UTF8-2 / UTF8-3 / UTF8-4`: octets above 0x7F only as UTF-8.
    /// RFC 3501 §9: `TEXT-CHAR = <any CHAR except CR and LF>`, `CHAR = %x01-7F`: an
    /// IMAP4rev1 quoted string is 7-bit (8-bit text goes in a literal).
    pub fn quoted(&mut self) -> PResult<Vec<u8>> {
        let start = self.pos;
        let out = self.quoted_octets()?;
        let valid = match self.grammar {
            Grammar::Imap4rev1 => out.is_ascii(),
            Grammar::Imap4rev2 => std::str::from_utf8(&out).is_ok(),
        };
        if !valid {
            self.pos = start;
            return self.err(match self.grammar {
                Grammar::Imap4rev1 => "7-bit quoted string (RFC 3501 §9; 8-bit text in a literal)",
                Grammar::Imap4rev2 => "UTF-8 in a quoted string (RFC 9051 §9 QUOTED-CHAR)",
            });
        }
        Ok(out)
    }

    fn quoted_octets(&mut self) -> PResult<Vec<u8>> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\r') | Some(b'\n') | Some(0) => return self.err("closing quote"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => {
                            out.push(c);
                            self.pos += 1;
                        }
                        _ => return self.err("quoted-special after backslash"),
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `literal = "{" number64 ["+"] "}" CRLF *CHAR8` (and `literal8 = "~{" …` when
    /// `binary_ok`). NUL is not allowed in a plain literal (RFC 9051 §4.3).
    pub fn literal(&mut self, binary_ok: bool) -> PResult<Vec<u8>> {
        let binary = binary_ok && self.eat(b'~');
        self.expect(b'{')?;
        let n = self.number()?;
        let _ = self.eat(b'+');
        self.expect(b'}')?;
        self.expect(b'\r')?;
        self.expect(b'\n')?;
        let n = n as usize;
        let Some(data) = self.b.get(self.pos..self.pos.saturating_add(n)) else {
            return self.err("literal octets");
        };
        if !binary && data.contains(&0) {
            return self.err("no NUL in a literal (use literal8)");
        }
        self.pos += n;
        Ok(data.to_vec())
    }

    /// `string = quoted / literal`.
    pub fn string(&mut self) -> PResult<Vec<u8>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(false),
            _ => self.err("string"),
        }
    }

    /// `astring = 1*ASTRING-CHAR / string`.
    pub fn astring(&mut self) -> PResult<Vec<u8>> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => {
                let a = self.take_while(is_astring_char);
                if a.is_empty() { self.err("astring") } else { Ok(a.to_vec()) }
            }
        }
    }

    /// An astring that must be UTF-8 (mailbox names, header field names).
    pub fn astring_utf8(&mut self) -> PResult<String> {
        String::from_utf8(self.astring()?).map_or_else(|_| self.err("UTF-8"), Ok)
    }

    /// `mailbox = "INBOX" / astring`.
    pub fn mailbox(&mut self) -> PResult<Mailbox> {
        Ok(Mailbox::new(self.astring_utf8()?))
    }

    /// `list-mailbox = 1*list-char / string` (list-char adds `%`, `*` and `]`).
    pub fn list_mailbox(&mut self) -> PResult<Mailbox> {
        let v = match self.peek() {
            Some(b'"' | b'{') => self.string()?,
            _ => {
                let a = self.take_while(|c| is_astring_char(c) || c == b'%' || c == b'*');
                if a.is_empty() {
                    return self.err("list-mailbox");
                }
                a.to_vec()
            }
        };
        String::from_utf8(v).map_or_else(|_| self.err("UTF-8 mailbox pattern"), |s| Ok(Mailbox::new(s)))
    }

    /// `flag = "\Answered" / … / keyword / flag-extension`; system flags are returned in
    /// their canonical case (flags are case-insensitive, RFC 9051 §2.3.2).
    pub fn flag(&mut self) -> PResult<String> {
        let backslash = self.eat(b'\\');
        let a = self.atom()?;
        let a = String::from_utf8_lossy(a).into_owned();
        if !backslash {
            return Ok(a);
        }
        Ok(canonical_system_flag(&a).map_or_else(|| format!("\\{a}"), str::to_string))
    }

    /// `flag-list = "(" [flag *(SP flag)] ")"`.
    pub fn flag_list(&mut self) -> PResult<Vec<String>> {
        self.expect(b'(')?;
        let mut flags = Vec::new();
        if self.eat(b')') {
            return Ok(flags);
        }
        loop {
            flags.push(self.flag()?);
            if self.eat(b')') {
                return Ok(flags);
            }
            self.sp()?;
        }
    }

    /// `sequence-set` or `$` (RFC 5182).
    pub fn sequence_set(&mut self) -> PResult<SequenceSet> {
        if self.eat(b'$') {
            return Ok(SequenceSet::Saved);
        }
        let mut ranges = Vec::new();
        loop {
            let a = self.seq_number()?;
            let b = if self.eat(b':') { self.seq_number()? } else { a };
            ranges.push((a, b));
            if !self.eat(b',') {
                return Ok(SequenceSet::Ranges(ranges));
            }
        }
    }

    fn seq_number(&mut self) -> PResult<SeqNumber> {
        if self.eat(b'*') { Ok(SeqNumber::Largest) } else { Ok(SeqNumber::Value(self.nz_number()?)) }
    }

    /// `date = date-text / DQUOTE date-text DQUOTE`.
    pub fn date(&mut self) -> PResult<Date> {
        let quoted = self.eat(b'"');
        let text = self.take_while(|c| c.is_ascii_alphanumeric() || c == b'-');
        let d = parse_date(text).map_or_else(|| self.err("date d-Mon-yyyy"), Ok)?;
        if quoted {
            self.expect(b'"')?;
        }
        Ok(d)
    }

    /// `date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE`.
    pub fn date_time(&mut self) -> PResult<DateTime> {
        let q = self.quoted()?;
        parse_date_time(&q).map_or_else(|| self.err("date-time"), Ok)
    }

    /// A parenthesised list of `item`s separated by SP; `allow_empty` for `()`.
    pub fn paren_list<T>(
        &mut self,
        allow_empty: bool,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        self.expect(b'(')?;
        let mut v = Vec::new();
        if allow_empty && self.eat(b')') {
            return Ok(v);
        }
        loop {
            v.push(item(self)?);
            if self.eat(b')') {
                return Ok(v);
            }
            self.sp()?;
        }
    }

    /// The remaining bytes (for the AUTHENTICATE initial response).
    pub fn rest(&mut self) -> &'a [u8] {
        let r = &self.b[self.pos..];
        self.pos = self.b.len();
        r
    }
}

/// RFC 9051 §2.3.2 system flags in their canonical spelling.
pub(crate) fn canonical_system_flag(name: &str) -> Option<&'static str> {
    const SYSTEM: [&str; 6] = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent"];
    SYSTEM.iter().copied().find(|f| f[1..].eq_ignore_ascii_case(name))
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// The three-letter month name of `month` (1..=12).
pub(crate) fn month_name(month: u8) -> &'static str {
    MONTHS.get(usize::from(month.clamp(1, 12)) - 1).copied().unwrap_or("Jan")
}

fn month_number(s: &[u8]) -> Option<u8> {
    MONTHS.iter().position(|m| m.as_bytes().eq_ignore_ascii_case(s)).and_then(|i| u8::try_from(i + 1).ok())
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |a, &d| a * 10 + u32::from(d - b'0')))
}

/// `date-text = date-day "-" date-month "-" date-year` (RFC 9051 §9), e.g. `1-Feb-1994`.
pub fn parse_date(s: &[u8]) -> Option<Date> {
    let mut it = s.split(|&c| c == b'-');
    let (d, m, y) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || d.len() > 2 || y.len() != 4 {
        return None;
    }
    let day = u8::try_from(digits(d)?).ok()?;
    let month = month_number(m)?;
    let year = u16::try_from(digits(y)?).ok()?;
    (1..=days_in_month(year, month)).contains(&day).then_some(Date { year, month, day })
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The contents of a `date-time` (without its quotes): `dd-Mon-yyyy hh:mm:ss +zzzz`, the
/// day possibly space-padded (`date-day-fixed = (SP DIGIT) / 2DIGIT`).
pub fn parse_date_time(s: &[u8]) -> Option<DateTime> {
    let s = s.strip_prefix(b" ").unwrap_or(s);
    let mut parts = s.split(|&c| c == b' ');
    let (date, time, zone) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let date = parse_date(date)?;
    let mut t = time.split(|&c| c == b':');
    let (h, m, sec) = (t.next()?, t.next()?, t.next()?);
    if t.next().is_some() || h.len() != 2 || m.len() != 2 || sec.len() != 2 {
        return None;
    }
    let (h, m, sec) = (digits(h)?, digits(m)?, digits(sec)?);
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let (sign, z) = match zone.split_first()? {
        (b'+', z) => (1, z),
        (b'-', z) => (-1, z),
        _ => return None,
    };
    if z.len() != 4 {
        return None;
    }
    let zh = digits(z.get(..2)?)?;
    let zm = digits(z.get(2..)?)?;
    if zm > 59 {
        return None;
    }
    let offset = sign * i16::try_from(zh * 60 + zm).ok()?;
    let unix = crate::date::to_unix(date, h as u8, m as u8, sec as u8, offset);
    Some(DateTime { unix, offset_minutes: i32::from(offset) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        let mut p = Parser::new(b"\"a\\\"b\" {3}\r\nx\ny atom]x");
        assert_eq!(p.astring().unwrap(), b"a\"b");
        p.sp().unwrap();
        assert_eq!(p.astring().unwrap(), b"x\ny");
        p.sp().unwrap();
        assert_eq!(p.astring().unwrap(), b"atom]x");
        assert!(p.at_end());
        assert!(Parser::new(b"{5}\r\nab").astring().is_err());
        assert!(Parser::new(b"\"abc").astring().is_err());
        assert!(Parser::new(b"{1}\r\n\0").astring().is_err());
        assert_eq!(Parser::new(b"~{1}\r\n\0").literal(true).unwrap(), b"\0");
    }

    #[test]
    fn sequence_sets() {
        let s = Parser::new(b"1:3,5,*:7").sequence_set().unwrap();
        assert!(s.contains(2, 9) && s.contains(5, 9) && s.contains(8, 9) && !s.contains(4, 9));
        assert!(Parser::new(b"0").sequence_set().is_err());
        assert_eq!(Parser::new(b"$").sequence_set().unwrap(), SequenceSet::Saved);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date(b"1-Feb-1994"), Some(Date { year: 1994, month: 2, day: 1 }));
        assert_eq!(parse_date(b"30-Feb-1994"), None);
        assert_eq!(parse_date(b"1-Foo-1994"), None);
        let dt = parse_date_time(b"17-Jul-1996 02:44:25 -0700").unwrap();
        assert_eq!(dt.unix, 837_596_665);
        assert_eq!(dt.offset_minutes, -420);
        assert!(parse_date_time(b" 7-Jul-1996 02:44:25 +0000").is_some());
        assert!(parse_date_time(b"7-Jul-1996 2:44:25 +0000").is_none());
    }

    #[test]
    fn flags() {
        let mut p = Parser::new(b"(\\seen \\DELETED $Junk \\X)");
        assert_eq!(p.flag_list().unwrap(), ["\\Seen", "\\Deleted", "$Junk", "\\X"]);
    }
}
