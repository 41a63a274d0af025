//! RFC 5322 §2.2 header fields and §2.1 the header section / body split.
//!
//! [`parse_header_section`] reads the lines up to the first empty line (§2.1: "the body ...
//! is separated from the header section by an empty line"). Each field keeps its exact bytes
//! (its byte range and raw value, folding included) so a message can be reproduced byte for
//! byte; [`HeaderField::unfolded`] applies §2.2.3 unfolding. Lines that are not fields are
//! reported, not dropped from the byte ranges. Bare LF line ends are accepted and reported.
//!
//! [`write_field`] goes the other way: it folds a value at white space (§2.2.3) so lines stay
//! within 78 characters where the value allows it and never pass 998 (§2.1.1).

use std::borrow::Cow;
use std::ops::Range;

use thiserror::Error;

use crate::issues::Issues;

/// RFC 5322 §2.1.1: "Each line of characters MUST be no more than 998 characters".
pub const MAX_LINE_LEN: usize = 998;
/// RFC 5322 §2.1.1: "... SHOULD be no more than 78 characters".
pub const RECOMMENDED_LINE_LEN: usize = 78;

/// One header field (§2.2), with its place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// The field name as written (without white space before the colon).
    pub name: String,
    /// The field body as written: everything after the colon up to the final line break,
    /// folding line breaks included.
    pub raw_value: Vec<u8>,
    /// The whole field in the source, final line break included.
    pub range: Range<usize>,
}

impl HeaderField {
    /// Field names are case-insensitive (§1.2.2).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// §2.2.3 unfolding: every line break immediately followed by WSP is removed. Bytes that
    /// are not UTF-8 become U+FFFD.
    pub fn unfolded(&self) -> String {
        let bytes = unfold(&self.raw_value);
        match String::from_utf8_lossy(&bytes) {
            Cow::Borrowed(s) => s.to_string(),
            Cow::Owned(s) => s,
        }
    }

    /// The unfolded body without the white space around it: what structured parsers read.
    pub fn value(&self) -> String {
        self.unfolded().trim_matches([' ', '\t']).to_string()
    }
}

/// §2.2.3: remove each CRLF (or bare LF) that is immediately followed by WSP.
pub fn unfold(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        let eol = match (b, raw.get(i + 1)) {
            (b'\r', Some(b'\n')) => 2,
            (b'\n', _) => 1,
            _ => 0,
        };
        if eol > 0 && matches!(raw.get(i + eol), Some(b' ' | b'\t')) {
            i += eol;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Something in a header section that is not as §2.2 says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderIssue {
    /// A line that is neither a field nor a continuation (no colon, or a bad name).
    NotAField { range: Range<usize> },
    /// A continuation line (starting with WSP) before any field.
    ContinuationWithoutField { range: Range<usize> },
    /// §4.5 obs-optional: white space between the field name and the colon.
    SpaceBeforeColon { range: Range<usize> },
    /// A line ended by LF alone (§2.3: CR and LF MUST only occur together).
    BareLineFeed { offset: usize },
    /// The last line has no line break at all.
    UnterminatedLine { offset: usize },
}

/// A parsed header section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderSection {
    pub fields: Vec<HeaderField>,
    /// The header section in the source, the empty line that ends it included.
    pub range: Range<usize>,
    /// Where the body starts (the end of `range`; the end of the input when there is no empty
    /// line).
    pub body_start: usize,
    /// Whether an empty line ended the section (without one there is no body).
    pub has_separator: bool,
    pub issues: Issues<HeaderIssue>,
}

impl HeaderSection {
    /// The first field with this name.
    pub fn get(&self, name: &str) -> Option<&HeaderField> {
        self.fields.iter().find(|f| f.is(name))
    }

    /// Every field with this name, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a HeaderField> + 'a {
        self.fields.iter().filter(move |f| f.is(name))
    }

    /// The first field with this name, as its trimmed unfolded value.
    pub fn value(&self, name: &str) -> Option<String> {
        self.get(name).map(HeaderField::value)
    }
}

/// §3.6.8 `ftext`: printable US-ASCII except ':'.
pub fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| (33..=126).contains(&b) && b != b':')
}

/// Split `bytes[start..]` into header fields up to the empty line. Offsets in the result are
/// offsets into `bytes`.
pub fn parse_header_section(bytes: &[u8], start: usize) -> HeaderSection {
    let mut section = HeaderSection {
        range: start..bytes.len(),
        body_start: bytes.len(),
        ..Default::default()
    };
    let mut pos = start.min(bytes.len());
    while pos < bytes.len() {
        let (content_end, next) = match bytes[pos..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let lf = pos + i;
                if lf == pos || bytes[lf - 1] != b'\r' {
                    section
                        .issues
                        .push(HeaderIssue::BareLineFeed { offset: lf });
                    (lf, lf + 1)
                } else {
                    (lf - 1, lf + 1)
                }
            }
            None => {
                section.issues.push(HeaderIssue::UnterminatedLine {
                    offset: bytes.len(),
                });
                (bytes.len(), bytes.len())
            }
        };
        let line = &bytes[pos..content_end];
        if line.is_empty() && content_end < bytes.len() {
            section.range = start..next;
            section.body_start = next;
            section.has_separator = true;
            return section;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            match section.fields.last_mut() {
                // Only a field that ended exactly at this line can continue here.
                Some(field) if field.range.end == pos => {
                    field.raw_value.extend_from_slice(
                        &bytes[field.range.end - line_break_len(bytes, pos)..content_end],
                    );
                    field.range.end = next;
                }
                _ => section
                    .issues
                    .push(HeaderIssue::ContinuationWithoutField { range: pos..next }),
            }
        } else {
            match line.iter().position(|&b| b == b':') {
                Some(colon) => {
                    let name = &line[..colon];
                    let trimmed_len = name
                        .iter()
                        .rposition(|&b| b != b' ' && b != b'\t')
                        .map_or(0, |i| i + 1);
                    let trimmed = &name[..trimmed_len];
                    if is_field_name(trimmed) {
                        if trimmed_len != name.len() {
                            section
                                .issues
                                .push(HeaderIssue::SpaceBeforeColon { range: pos..next });
                        }
                        section.fields.push(HeaderField {
                            name: String::from_utf8_lossy(trimmed).into_owned(),
                            raw_value: line[colon + 1..].to_vec(),
                            range: pos..next,
                        });
                    } else {
                        section
                            .issues
                            .push(HeaderIssue::NotAField { range: pos..next });
                    }
                }
                None => section
                    .issues
                    .push(HeaderIssue::NotAField { range: pos..next }),
            }
        }
        pos = next;
    }
    section
}

/// The length of the line break that ends just before `pos` (2 for CRLF, 1 for LF).
fn line_break_len(bytes: &[u8], pos: usize) -> usize {
    match pos.checked_sub(2).and_then(|i| bytes.get(i..pos)) {
        Some(b"\r\n") => 2,
        _ => usize::from(pos > 0 && bytes.get(pos - 1) == Some(&b'\n')),
    }
}

/// Why a field could not be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FieldError {
    #[error("invalid field name {0:?} (RFC 5322 §3.6.8)")]
    InvalidName(String),
    #[error("field value contains CR or LF; pass it unfolded (RFC 5322 §2.2.3)")]
    LineBreakInValue,
    #[error("field {0} has a word that cannot be folded under 998 characters (RFC 5322 §2.1.1)")]
    LineTooLong(String),
}

/// Write `Name: value` CRLF, folding at white space before 78 characters where possible
/// (§2.2.3: folding inserts CRLF before WSP). `value` must not contain CR or LF.
pub fn write_field(name: &str, value: &str, out: &mut Vec<u8>) -> Result<(), FieldError> {
    if !is_field_name(name.as_bytes()) {
        return Err(FieldError::InvalidName(name.to_string()));
    }
    if value.contains(['\r', '\n']) {
        return Err(FieldError::LineBreakInValue);
    }
    out.extend_from_slice(name.as_bytes());
    out.push(b':');
    let mut line_len = name.len() + 1;
    let mut rest = value;
    let mut first = true;
    while !rest.is_empty() {
        let ws_len = rest.find(|c| c != ' ' && c != '\t').unwrap_or(rest.len());
        let (mut ws, after) = rest.split_at(ws_len);
        let word_len = after.find([' ', '\t']).unwrap_or(after.len());
        let (word, after_word) = after.split_at(word_len);
        rest = after_word;
        if first {
            // The conventional single space after the colon.
            if ws.is_empty() && !word.is_empty() {
                ws = " ";
            }
            first = false;
        } else if !word.is_empty() && line_len + ws.len() + word.len() > RECOMMENDED_LINE_LEN {
            out.extend_from_slice(b"\r\n");
            line_len = 0;
        }
        out.extend_from_slice(ws.as_bytes());
        out.extend_from_slice(word.as_bytes());
        line_len += ws.len() + word.len();
        if line_len > MAX_LINE_LEN {
            return Err(FieldError::LineTooLong(name.to_string()));
        }
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_fields_and_body() {
        let msg = b"From: a@b.test\r\nSubject: hello\r\n  world\r\n\r\nbody\r\n";
        let h = parse_header_section(msg, 0);
        assert_eq!(h.fields.len(), 2);
        assert_eq!(h.fields[1].name, "Subject");
        assert_eq!(h.fields[1].raw_value, b" hello\r\n  world");
        assert_eq!(h.fields[1].unfolded(), " hello  world");
        assert_eq!(h.fields[1].value(), "hello  world");
        assert_eq!(
            &msg[h.fields[1].range.clone()],
            b"Subject: hello\r\n  world\r\n"
        );
        assert_eq!(&msg[h.body_start..], b"body\r\n");
        assert_eq!(h.range, 0..h.body_start);
        assert!(h.has_separator && h.issues.is_empty());
        assert_eq!(h.value("subject").as_deref(), Some("hello  world"));
    }

    #[test]
    fn reports_what_is_not_a_field() {
        let msg = b" lead\r\nFrom : a@b.test\nnot a field\r\nX:\r\n";
        let h = parse_header_section(msg, 0);
        assert_eq!(
            h.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["From", "X"]
        );
        assert_eq!(
            h.issues.as_slice(),
            [
                HeaderIssue::ContinuationWithoutField { range: 0..7 },
                HeaderIssue::BareLineFeed { offset: 22 },
                HeaderIssue::SpaceBeforeColon { range: 7..23 },
                HeaderIssue::NotAField { range: 23..36 },
            ]
        );
        assert!(!h.has_separator);
        assert_eq!(h.body_start, msg.len());
        let h = parse_header_section(b"A: b", 0);
        assert_eq!(
            h.issues.as_slice(),
            [HeaderIssue::UnterminatedLine { offset: 4 }]
        );
        // A message that starts with the empty line has no fields, all body.
        let h = parse_header_section(b"\r\nbody", 0);
        assert!(h.fields.is_empty() && h.has_separator && h.body_start == 2);
    }

    #[test]
    fn folding_keeps_lines_short() {
        let value = "word ".repeat(40);
        let mut out = Vec::new();
        assert_eq!(write_field("Subject", value.trim_end(), &mut out), Ok(()));
        let text = String::from_utf8(out.clone()).unwrap_or_default();
        assert!(text.split("\r\n").all(|l| l.len() <= 78), "{text}");
        let h = parse_header_section(&out, 0);
        assert_eq!(h.fields[0].value(), value.trim_end());
        let mut out = Vec::new();
        assert_eq!(
            write_field("X", &"a".repeat(1000), &mut out),
            Err(FieldError::LineTooLong("X".into()))
        );
        assert_eq!(
            write_field("Bad Name", "v", &mut out),
            Err(FieldError::InvalidName("Bad Name".into()))
        );
        assert_eq!(
            write_field("X", "a\r\nb", &mut out),
            Err(FieldError::LineBreakInValue)
        );
        let mut out = Vec::new();
        assert_eq!(write_field("X", "", &mut out), Ok(()));
        assert_eq!(out, b"X:\r\n");
    }
}
