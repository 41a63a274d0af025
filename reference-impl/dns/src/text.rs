//! The master-file text form shared by zone files and the presentation form (RFC 1035 §5.1):
//! tokenizing (quotes, `\` escapes, `( )` continuation, `;` comments), TTLs, and RDATA in text
//! (including RFC 3597 §5 `\# len hex` for any type).

use std::fmt::Write as _;

use crate::codec;
use crate::message::{RData, RecordType, Soa};
use crate::name::{Name, NameError, unescape};

/// Why a piece of master-file text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// A quoted string without its closing quote.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// `)` without `(`, or `(` never closed.
    #[error("unbalanced parentheses")]
    Parentheses,
    /// A bad domain name.
    #[error("bad name {text:?}: {error}")]
    Name {
        /// The text.
        text: String,
        /// Why.
        error: NameError,
    },
    /// A bad number, address, TTL or hex string.
    #[error("bad {what}: {text:?}")]
    Value {
        /// What was expected.
        what: &'static str,
        /// The text.
        text: String,
    },
    /// Too few or too many fields for the type.
    #[error("wrong number of RDATA fields for {0}")]
    FieldCount(RecordType),
    /// A type with no text form here, not written as `\# len hex`.
    #[error("type {0} needs the generic form \\# len hex (RFC 3597 §5)")]
    NeedsGeneric(RecordType),
    /// A character-string longer than 255 octets.
    #[error("character-string longer than 255 octets")]
    StringTooLong,
}

/// One field of master-file text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The text as written, escapes not yet applied (quotes removed for quoted strings).
    pub text: String,
    /// Whether it was a quoted string.
    pub quoted: bool,
}

/// One logical entry (a line, or several joined by parentheses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line where the entry starts.
    pub line: usize,
    /// Whether the line started with white space (RFC 1035 §5.1: the previous owner applies).
    pub blank_owner: bool,
    /// The fields.
    pub tokens: Vec<Token>,
}

/// Splits text into entries: `;` starts a comment, `( )` join lines, quotes keep spaces.
pub fn tokenize(text: &str) -> Result<Vec<Entry>, TextError> {
    let mut entries = Vec::new();
    let mut current: Option<Entry> = None;
    let mut depth = 0usize;
    let mut line = 1;
    let mut chars = text.char_indices().peekable();
    let mut at_line_start = true;
    while let Some((_, c)) = chars.next() {
        match c {
            '\n' => {
                line += 1;
                if depth == 0 {
                    if let Some(e) = current.take().filter(|e| !e.tokens.is_empty()) {
                        entries.push(e);
                    }
                    current = None;
                    at_line_start = true;
                }
                continue;
            }
            ' ' | '\t' | '\r' => {
                if at_line_start && depth == 0 && current.is_none() {
                    current = Some(Entry {
                        line,
                        blank_owner: true,
                        tokens: Vec::new(),
                    });
                }
                at_line_start = false;
                continue;
            }
            _ => {}
        }
        at_line_start = false;
        let entry = current.get_or_insert_with(|| Entry {
            line,
            blank_owner: false,
            tokens: Vec::new(),
        });
        match c {
            ';' => {
                while let Some(&(_, c)) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    chars.next();
                }
            }
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1).ok_or(TextError::Parentheses)?,
            '"' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(TextError::UnterminatedQuote),
                        Some((_, '"')) => break,
                        Some((_, '\\')) => {
                            s.push('\\');
                            if let Some((_, n)) = chars.next() {
                                s.push(n);
                            }
                        }
                        Some((_, ch)) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            s.push(ch);
                        }
                    }
                }
                entry.tokens.push(Token {
                    text: s,
                    quoted: true,
                });
            }
            _ => {
                let mut s = String::new();
                s.push(c);
                if c == '\\'
                    && let Some((_, n)) = chars.next()
                {
                    s.push(n);
                }
                while let Some(&(_, n)) = chars.peek() {
                    if matches!(n, ' ' | '\t' | '\r' | '\n' | ';' | '(' | ')' | '"') {
                        break;
                    }
                    chars.next();
                    s.push(n);
                    if n == '\\'
                        && let Some((_, e)) = chars.next()
                    {
                        s.push(e);
                    }
                }
                entry.tokens.push(Token {
                    text: s,
                    quoted: false,
                });
            }
        }
    }
    if depth != 0 {
        return Err(TextError::Parentheses);
    }
    if let Some(e) = current.filter(|e| !e.tokens.is_empty()) {
        entries.push(e);
    }
    Ok(entries)
}

/// RFC 1035 §5.1 `<character-string>` with escapes applied.
pub fn char_string(token: &Token) -> Result<Vec<u8>, TextError> {
    let bytes = token.text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' {
            let rest = bytes.get(i + 1..).unwrap_or_default();
            let (v, used) = unescape(rest).ok_or_else(|| TextError::Value {
                what: "escape",
                text: token.text.clone(),
            })?;
            out.push(v);
            i += 1 + used;
        } else {
            out.push(b);
            i += 1;
        }
    }
    if out.len() > 255 {
        return Err(TextError::StringTooLong);
    }
    Ok(out)
}

/// A TTL: seconds, or BIND-style units (`1h30m`, `2d`, `1w`).
pub fn parse_ttl(text: &str) -> Result<u32, TextError> {
    let bad = || TextError::Value {
        what: "TTL",
        text: text.to_string(),
    };
    if let Ok(n) = text.parse::<u32>() {
        return Ok(n);
    }
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(num.unwrap_or(0).checked_mul(10).ok_or_else(bad)? + u64::from(d));
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        total += num
            .take()
            .ok_or_else(bad)?
            .checked_mul(unit)
            .ok_or_else(bad)?;
    }
    if num.is_some() || total > u64::from(u32::MAX) {
        return Err(bad());
    }
    u32::try_from(total).map_err(|_| bad())
}

fn name(token: &Token, origin: Option<&Name>) -> Result<Name, TextError> {
    Name::parse_relative(&token.text, origin).map_err(|error| TextError::Name {
        text: token.text.clone(),
        error,
    })
}

fn number<T: std::str::FromStr>(token: &Token, what: &'static str) -> Result<T, TextError> {
    token.text.parse().map_err(|_| TextError::Value {
        what,
        text: token.text.clone(),
    })
}

/// RDATA of `rtype` from its fields; relative names get `origin` appended.
pub fn parse_rdata(
    rtype: RecordType,
    fields: &[Token],
    origin: Option<&Name>,
) -> Result<RData, TextError> {
    if fields.first().is_some_and(|t| !t.quoted && t.text == "\\#") {
        return parse_generic(rtype, &fields[1..]);
    }
    let count = |n: usize| {
        if fields.len() == n {
            Ok(())
        } else {
            Err(TextError::FieldCount(rtype))
        }
    };
    let f = |i: usize| fields.get(i).ok_or(TextError::FieldCount(rtype));
    Ok(match rtype {
        RecordType::A => {
            count(1)?;
            RData::A(number(f(0)?, "IPv4 address")?)
        }
        RecordType::AAAA => {
            count(1)?;
            RData::Aaaa(number(f(0)?, "IPv6 address")?)
        }
        RecordType::NS => {
            count(1)?;
            RData::Ns(name(f(0)?, origin)?)
        }
        RecordType::CNAME => {
            count(1)?;
            RData::Cname(name(f(0)?, origin)?)
        }
        RecordType::PTR => {
            count(1)?;
            RData::Ptr(name(f(0)?, origin)?)
        }
        RecordType::MX => {
            count(2)?;
            RData::Mx {
                preference: number(f(0)?, "preference")?,
                exchange: name(f(1)?, origin)?,
            }
        }
        RecordType::SOA => {
            count(7)?;
            let t = |i: usize| f(i).and_then(|t| parse_ttl(&t.text));
            RData::Soa(Soa {
                mname: name(f(0)?, origin)?,
                rname: name(f(1)?, origin)?,
                serial: number(f(2)?, "serial")?,
                refresh: t(3)?,
                retry: t(4)?,
                expire: t(5)?,
                minimum: t(6)?,
            })
        }
        RecordType::TXT => {
            if fields.is_empty() {
                return Err(TextError::FieldCount(rtype));
            }
            RData::Txt(fields.iter().map(char_string).collect::<Result<_, _>>()?)
        }
        RecordType::SRV => {
            count(4)?;
            RData::Srv {
                priority: number(f(0)?, "priority")?,
                weight: number(f(1)?, "weight")?,
                port: number(f(2)?, "port")?,
                target: name(f(3)?, origin)?,
            }
        }
        _ => return Err(TextError::NeedsGeneric(rtype)),
    })
}

/// RFC 3597 §5: `\# <length> <hex>...`; for a known type the octets must parse as its RDATA.
fn parse_generic(rtype: RecordType, fields: &[Token]) -> Result<RData, TextError> {
    let len_tok = fields.first().ok_or(TextError::FieldCount(rtype))?;
    let len: usize = number(len_tok, "RDATA length")?;
    let hex: String = fields[1..].iter().map(|t| t.text.as_str()).collect();
    let data = decode_hex(&hex).ok_or_else(|| TextError::Value {
        what: "hex",
        text: hex.clone(),
    })?;
    if data.len() != len {
        return Err(TextError::Value {
            what: "RDATA length",
            text: len_tok.text.clone(),
        });
    }
    if rtype.mnemonic().is_some() && rtype != RecordType::OPT {
        return codec::decode_rdata(rtype, &data).ok_or(TextError::Value {
            what: "RDATA",
            text: hex,
        });
    }
    Ok(RData::Unknown { rtype, data })
}

/// Hex digits (no separators) to octets.
pub fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let digits = hex.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

/// Octets as upper-case hex (as dig writes RFC 3597 RDATA).
pub fn encode_hex(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// A character-string in quotes, with `"`, `\` and non-printable octets escaped.
pub fn quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03}");
            }
        }
    }
    out.push('"');
    out
}

/// RDATA in master-file text, as dig prints it.
pub fn format_rdata(rdata: &RData) -> String {
    match rdata {
        RData::A(a) => a.to_string(),
        RData::Aaaa(a) => a.to_string(),
        RData::Ns(n) | RData::Cname(n) | RData::Ptr(n) => n.to_string(),
        RData::Mx {
            preference,
            exchange,
        } => format!("{preference} {exchange}"),
        RData::Soa(s) => format!(
            "{} {} {} {} {} {} {}",
            s.mname, s.rname, s.serial, s.refresh, s.retry, s.expire, s.minimum
        ),
        RData::Txt(strings) => strings
            .iter()
            .map(|s| quote(s))
            .collect::<Vec<_>>()
            .join(" "),
        RData::Srv {
            priority,
            weight,
            port,
            target,
        } => format!("{priority} {weight} {port} {target}"),
        RData::Unknown { data, .. } if data.is_empty() => "\\# 0".to_string(),
        RData::Unknown { data, .. } => format!("\\# {} {}", data.len(), encode_hex(data)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Token> {
        tokenize(s).unwrap().remove(0).tokens
    }

    #[test]
    fn tokenizer_handles_quotes_parens_comments() {
        let e = tokenize("@ IN SOA ns1 host ( 1 ; serial\n 2 3 4 5 )\n  IN TXT \"a b\" c ; x\n")
            .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].tokens.len(), 10);
        assert!(!e[0].blank_owner);
        assert!(e[1].blank_owner);
        assert_eq!(e[1].line, 3);
        assert_eq!(
            e[1].tokens[2],
            Token {
                text: "a b".into(),
                quoted: true
            }
        );
        assert_eq!(tokenize("a ( b"), Err(TextError::Parentheses));
        assert_eq!(tokenize("a ) b"), Err(TextError::Parentheses));
        assert_eq!(tokenize("a \"b"), Err(TextError::UnterminatedQuote));
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("3600").unwrap(), 3600);
        assert_eq!(parse_ttl("1h30m").unwrap(), 5400);
        assert_eq!(parse_ttl("1W").unwrap(), 604_800);
        assert!(parse_ttl("1x").is_err());
        assert!(parse_ttl("h").is_err());
        assert!(parse_ttl("99999999999").is_err());
    }

    #[test]
    fn rdata_text_round_trip() {
        let origin = Name::parse("example.test.").unwrap();
        for (t, text) in [
            (RecordType::A, "127.0.0.10"),
            (RecordType::AAAA, "::1"),
            (RecordType::MX, "10 mail.example.test."),
            (
                RecordType::SOA,
                "ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300",
            ),
            (RecordType::TXT, "\"hello world\" \"a\\\"b\\\\c\\007\""),
            (RecordType::SRV, "0 5 25 mail.example.test."),
            (RecordType(65280), "\\# 3 0A0B0C"),
            (RecordType(65281), "\\# 0"),
        ] {
            let rd = parse_rdata(t, &toks(text), Some(&origin)).unwrap();
            assert_eq!(format_rdata(&rd), text, "{t}");
        }
        let rd = parse_rdata(RecordType::MX, &toks("10 mail"), Some(&origin)).unwrap();
        assert_eq!(format_rdata(&rd), "10 mail.example.test.");
        // RFC 3597 §5: the generic form for a known type is converted.
        let rd = parse_rdata(RecordType::A, &toks("\\# 4 7F000001"), None).unwrap();
        assert_eq!(rd, RData::A("127.0.0.1".parse().unwrap()));
        assert!(parse_rdata(RecordType::A, &toks("\\# 3 7F0000"), None).is_err());
        assert!(parse_rdata(RecordType(999), &toks("abc"), None).is_err());
        assert!(parse_rdata(RecordType::A, &toks("1.2.3"), None).is_err());
        assert!(parse_rdata(RecordType::MX, &toks("10"), None).is_err());
    }
}
