//! [`Message::validate`]: every way a message breaks RFC 5322, RFC 2045-2049 or RFC 2047,
//! each with the clause it breaks (`"5322#2.1.1"`, the notation transcripts use) and whether
//! the clause is a MUST or a SHOULD.
//!
//! Line checks are aggregated (one violation per kind, with a count and the first place), so
//! the list stays short whatever the input.

use std::fmt;

use crate::address::{self, Address};
use crate::base64::Base64Issue;
use crate::datetime;
use crate::header::{HeaderField, HeaderIssue, MAX_LINE_LEN, RECOMMENDED_LINE_LEN};
use crate::message::Message;
use crate::mime::TransferEncoding;
use crate::msg_id;
use crate::part::{Part, PartIssue, PartKind};
use crate::qp::QpIssue;
use crate::syntax::Cursor;

/// The requirement level of the broken clause (RFC 2119).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// MUST / MUST NOT / REQUIRED (including "MUST NOT generate" obsolete syntax).
    Must,
    /// SHOULD / SHOULD NOT / RECOMMENDED.
    Should,
}

/// One broken requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// RFC and section, e.g. `"5322#2.1.1"`.
    pub clause: &'static str,
    pub level: Level,
    pub kind: ViolationKind,
    /// The MIME entity (IMAP section path; empty for the message itself).
    pub section: Vec<u32>,
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViolationKind {
    /// `count` lines longer than `limit` characters (CRLF not counted); the first is line
    /// `first_line` (1-based), the longest has `longest` characters.
    LongLines {
        limit: usize,
        count: usize,
        first_line: usize,
        longest: usize,
    },
    /// CR not followed by LF.
    BareCr {
        count: usize,
        first_offset: usize,
    },
    /// LF not preceded by CR.
    BareLf {
        count: usize,
        first_offset: usize,
    },
    /// NUL octets.
    Nul {
        count: usize,
        first_offset: usize,
    },
    /// Octets above 127 where only US-ASCII is allowed.
    EightBit {
        count: usize,
        first_offset: usize,
    },
    /// A field whose name or body has octets above 127 (allowed only under RFC 6532).
    NonAsciiField {
        field: String,
    },
    MissingField(&'static str),
    /// A field that may appear at most once appears `count` times.
    RepeatedField {
        field: &'static str,
        count: usize,
    },
    /// A field whose body does not match its grammar.
    InvalidField {
        field: String,
        reason: String,
    },
    /// Obsolete syntax (RFC 5322 §4): accepted, but MUST NOT be generated.
    ObsoleteSyntax {
        field: String,
    },
    /// From has more than one mailbox and there is no Sender.
    SenderRequired,
    /// To or Cc without any address.
    EmptyAddressList {
        field: String,
    },
    Part(PartIssue),
    /// A multipart or message entity in an encoding other than 7bit, 8bit or binary.
    CompositeEncoding(String),
    Base64 {
        first: Base64Issue,
        count: usize,
    },
    QuotedPrintable {
        first: QpIssue,
        count: usize,
    },
}

/// At most this many field-level violations are listed (bounded output).
const MAX_VIOLATIONS: usize = 256;

impl Message {
    /// Check the message against RFC 5322 and MIME; an empty list means conformant.
    pub fn validate(&self) -> Vec<Violation> {
        let mut v = Checker {
            out: Vec::new(),
            section: Vec::new(),
        };
        let is_mime = self.field("MIME-Version").is_some();
        v.lines(self.raw());
        v.header_fields(self.root());
        v.message_fields(self);
        let mut uses_mime = false;
        self.root().walk(&mut |path, part| {
            v.section = path.to_vec();
            uses_mime |= part.content_type_explicit || part.encoding != TransferEncoding::SevenBit;
            v.part(self, part, is_mime, path.is_empty());
        });
        v.section.clear();
        if uses_mime && !is_mime {
            v.push(
                "2045#4",
                Level::Must,
                ViolationKind::MissingField("MIME-Version"),
            );
        }
        v.out.truncate(MAX_VIOLATIONS);
        v.out
    }
}

struct Checker {
    out: Vec<Violation>,
    section: Vec<u32>,
}

/// Line statistics over a byte range.
#[derive(Default)]
struct LineStats {
    long: [(usize, usize, usize); 2], // (count, first line, longest) over 998 and over 78
    bare_cr: (usize, usize),
    bare_lf: (usize, usize),
    nul: (usize, usize),
    eight_bit: (usize, usize),
}

fn count(slot: &mut (usize, usize), offset: usize) {
    if slot.0 == 0 {
        slot.1 = offset;
    }
    slot.0 += 1;
}

fn line_stats(bytes: &[u8], base: usize) -> LineStats {
    let mut s = LineStats::default();
    let mut line_start = 0;
    let mut line_no = 1;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => count(&mut s.bare_cr, base + i),
            b'\n' => {
                if i == 0 || bytes[i - 1] != b'\r' {
                    count(&mut s.bare_lf, base + i);
                }
                let len = i - line_start - usize::from(i > line_start && bytes[i - 1] == b'\r');
                note_line(&mut s, len, line_no);
                line_start = i + 1;
                line_no += 1;
            }
            0 => count(&mut s.nul, base + i),
            128..=255 => count(&mut s.eight_bit, base + i),
            _ => {}
        }
    }
    note_line(&mut s, bytes.len() - line_start, line_no);
    s
}

fn note_line(s: &mut LineStats, len: usize, line_no: usize) {
    for (slot, limit) in s.long.iter_mut().zip([MAX_LINE_LEN, RECOMMENDED_LINE_LEN]) {
        if len > limit {
            if slot.0 == 0 {
                slot.1 = line_no;
            }
            slot.0 += 1;
            slot.2 = slot.2.max(len);
        }
    }
}

impl Checker {
    fn push(&mut self, clause: &'static str, level: Level, kind: ViolationKind) {
        if self.out.len() < MAX_VIOLATIONS {
            self.out.push(Violation {
                clause,
                level,
                kind,
                section: self.section.clone(),
            });
        }
    }

    /// RFC 5322 §2.1.1 line lengths and §2.3 CR/LF only as CRLF, over the whole message.
    fn lines(&mut self, raw: &[u8]) {
        let s = line_stats(raw, 0);
        for ((count, first_line, longest), limit, level) in [
            (s.long[0], MAX_LINE_LEN, Level::Must),
            (s.long[1], RECOMMENDED_LINE_LEN, Level::Should),
        ] {
            if count > 0 {
                self.push(
                    "5322#2.1.1",
                    level,
                    ViolationKind::LongLines {
                        limit,
                        count,
                        first_line,
                        longest,
                    },
                );
            }
        }
        for ((count, first_offset), is_cr) in [(s.bare_cr, true), (s.bare_lf, false)] {
            if count > 0 {
                let kind = if is_cr {
                    ViolationKind::BareCr {
                        count,
                        first_offset,
                    }
                } else {
                    ViolationKind::BareLf {
                        count,
                        first_offset,
                    }
                };
                self.push("5322#2.3", Level::Must, kind);
            }
        }
    }

    /// RFC 5322 §2.2: fields are printable US-ASCII (RFC 6532 relaxes this for UTF-8).
    fn header_fields(&mut self, part: &Part) {
        for f in &part.fields {
            if f.raw_value.iter().any(|&b| b >= 128) {
                self.push(
                    "5322#2.2",
                    Level::Must,
                    ViolationKind::NonAsciiField {
                        field: f.name.clone(),
                    },
                );
            }
        }
    }

    /// RFC 5322 §3.6: which fields, how many times, and their syntax.
    fn message_fields(&mut self, m: &Message) {
        const LIMITS: [(&str, usize, usize); 11] = [
            ("Date", 1, 1),
            ("From", 1, 1),
            ("Sender", 0, 1),
            ("Reply-To", 0, 1),
            ("To", 0, 1),
            ("Cc", 0, 1),
            ("Bcc", 0, 1),
            ("Message-ID", 0, 1),
            ("In-Reply-To", 0, 1),
            ("References", 0, 1),
            ("Subject", 0, 1),
        ];
        for (name, min, max) in LIMITS {
            let n = m.fields_named(name).count();
            if n < min {
                self.push("5322#3.6", Level::Must, ViolationKind::MissingField(name));
            } else if n > max {
                self.push(
                    "5322#3.6",
                    Level::Must,
                    ViolationKind::RepeatedField {
                        field: name,
                        count: n,
                    },
                );
            }
        }
        if m.field("Message-ID").is_none() {
            self.push(
                "5322#3.6.4",
                Level::Should,
                ViolationKind::MissingField("Message-ID"),
            );
        }
        for f in m.fields() {
            self.field_syntax(f);
        }
        let from_count = m.addresses("From").mailboxes().count();
        if from_count > 1 && m.field("Sender").is_none() {
            self.push("5322#3.6.2", Level::Must, ViolationKind::SenderRequired);
        }
    }

    fn invalid(&mut self, clause: &'static str, f: &HeaderField, reason: impl ToString) {
        self.push(
            clause,
            Level::Must,
            ViolationKind::InvalidField {
                field: f.name.clone(),
                reason: reason.to_string(),
            },
        );
    }

    fn obsolete(&mut self, clause: &'static str, f: &HeaderField) {
        self.push(
            clause,
            Level::Must,
            ViolationKind::ObsoleteSyntax {
                field: f.name.clone(),
            },
        );
    }

    fn field_syntax(&mut self, f: &HeaderField) {
        let name = f.name.to_ascii_lowercase();
        let value = f.value();
        match name.as_str() {
            "date" | "resent-date" => match datetime::parse_detailed(&value) {
                Err(e) => self.invalid("5322#3.3", f, e),
                Ok(p) if p.obsolete => self.obsolete("5322#4.3", f),
                Ok(_) => {}
            },
            "from" | "resent-from" | "sender" | "resent-sender" | "reply-to" | "to" | "cc"
            | "bcc" | "resent-to" | "resent-cc" | "resent-bcc" => {
                self.address_field(f, &name, &value)
            }
            "message-id" | "resent-message-id" => match msg_id::parse_msg_id_detailed(&value) {
                Err(e) => self.invalid("5322#3.6.4", f, e),
                Ok((_, true)) => self.obsolete("5322#4.5.4", f),
                Ok(_) => {}
            },
            "in-reply-to" | "references" => match msg_id::parse_msg_id_list(&value) {
                Err(e) => self.invalid("5322#3.6.4", f, e),
                Ok(l) if l.obsolete => self.obsolete("5322#4.5.4", f),
                Ok(_) => {}
            },
            "mime-version" => {
                let mut c = Cursor::new(&value);
                let mut text = String::new();
                while !c.is_at_end() {
                    if c.skip_cfws().is_err() {
                        break;
                    }
                    text.push_str(c.take_while(|ch| !matches!(ch, '(' | ' ' | '\t')));
                }
                if text != "1.0" {
                    self.invalid("2045#4", f, format!("MIME-Version is {value:?}, not 1.0"));
                }
            }
            _ => {}
        }
    }

    fn address_field(&mut self, f: &HeaderField, name: &str, value: &str) {
        let list = address::parse_address_list(value);
        if let Some(e) = list.errors.first() {
            return self.invalid("5322#3.4", f, e);
        }
        let single = matches!(name, "sender" | "resent-sender");
        let mailbox_only = single || matches!(name, "from" | "resent-from");
        if mailbox_only
            && list
                .addresses
                .iter()
                .any(|a| matches!(a, Address::Group(_)))
        {
            return self.invalid("5322#3.6.2", f, "a group where a mailbox is required");
        }
        if single && list.addresses.len() != 1 {
            return self.invalid("5322#3.6.2", f, "exactly one mailbox required");
        }
        if list.addresses.is_empty() && !name.ends_with("bcc") {
            let clause = if mailbox_only {
                "5322#3.6.2"
            } else {
                "5322#3.6.3"
            };
            self.push(
                clause,
                Level::Must,
                ViolationKind::EmptyAddressList {
                    field: f.name.clone(),
                },
            );
        }
        if list.obsolete {
            self.obsolete("5322#4.4", f);
        }
    }

    /// MIME checks of one entity.
    fn part(&mut self, m: &Message, part: &Part, is_mime: bool, is_root: bool) {
        for issue in &part.issues {
            let (clause, level) = match issue {
                PartIssue::Header(HeaderIssue::BareLineFeed { .. }) | PartIssue::LimitReached => {
                    continue;
                }
                PartIssue::Header(HeaderIssue::SpaceBeforeColon { .. }) => {
                    ("5322#4.5", Level::Must)
                }
                PartIssue::Header(HeaderIssue::ContinuationWithoutField { .. }) => {
                    ("5322#2.2.3", Level::Must)
                }
                PartIssue::Header(_) => ("5322#2.2", Level::Must),
                PartIssue::BadContentType(_) | PartIssue::BadParameter(_) => {
                    ("2045#5.1", Level::Must)
                }
                PartIssue::MissingSeparator if is_root => ("5322#2.1", Level::Must),
                PartIssue::EncodedMessage => ("2046#5.2.1", Level::Must),
                PartIssue::UnknownEncoding(e) if e.starts_with("x-") => continue,
                PartIssue::UnknownEncoding(_) => ("2045#6.1", Level::Must),
                _ => ("2046#5.1.1", Level::Must),
            };
            self.push(clause, level, ViolationKind::Part(issue.clone()));
        }
        if !is_root {
            self.header_fields(part);
        }
        if let Some(f) = part.field("Content-ID")
            && let Err(e) = msg_id::parse_msg_id(&f.value())
        {
            self.invalid("2045#7", f, e);
        }
        if !matches!(part.kind, PartKind::Leaf)
            || part.content_type.is_multipart()
            || part.content_type.is_message()
        {
            if !part.encoding.is_identity() {
                self.push(
                    "2045#6.4",
                    Level::Must,
                    ViolationKind::CompositeEncoding(part.encoding.to_string()),
                );
            }
            return;
        }
        let body = m.bytes(&part.body);
        match &part.encoding {
            TransferEncoding::SevenBit | TransferEncoding::EightBit => {
                let s = line_stats(body, part.body.start);
                let seven = part.encoding == TransferEncoding::SevenBit;
                let clause = match (is_mime, seven) {
                    (false, _) => "5322#2.3",
                    (true, true) => "2045#2.7",
                    (true, false) => "2045#2.8",
                };
                if s.nul.0 > 0 {
                    self.push(
                        clause,
                        Level::Must,
                        ViolationKind::Nul {
                            count: s.nul.0,
                            first_offset: s.nul.1,
                        },
                    );
                }
                if seven && s.eight_bit.0 > 0 {
                    let kind = ViolationKind::EightBit {
                        count: s.eight_bit.0,
                        first_offset: s.eight_bit.1,
                    };
                    self.push(clause, Level::Must, kind);
                }
            }
            TransferEncoding::Base64 => {
                let d = part.encoding.decode(body);
                if let Some(first) = d.base64_issues.as_slice().first() {
                    let kind = ViolationKind::Base64 {
                        first: first.clone(),
                        count: d.base64_issues.count(),
                    };
                    self.push("2045#6.8", Level::Must, kind);
                }
            }
            TransferEncoding::QuotedPrintable => {
                let d = part.encoding.decode(body);
                if let Some(first) = d.qp_issues.as_slice().first() {
                    let kind = ViolationKind::QuotedPrintable {
                        first: first.clone(),
                        count: d.qp_issues.count(),
                    };
                    self.push("2045#6.7", Level::Must, kind);
                }
            }
            _ => {}
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        })
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[RFC {} {}] ",
            self.clause.replace('#', " §"),
            self.level
        )?;
        if !self.section.is_empty() {
            let path: Vec<String> = self.section.iter().map(u32::to_string).collect();
            write!(f, "part {}: ", path.join("."))?;
        }
        match &self.kind {
            ViolationKind::LongLines {
                limit,
                count,
                first_line,
                longest,
            } => {
                write!(
                    f,
                    "{count} line(s) longer than {limit} characters (first: line {first_line}, longest: {longest})"
                )
            }
            ViolationKind::BareCr {
                count,
                first_offset,
            } => write!(f, "{count} bare CR (first at offset {first_offset})"),
            ViolationKind::BareLf {
                count,
                first_offset,
            } => write!(f, "{count} bare LF (first at offset {first_offset})"),
            ViolationKind::Nul {
                count,
                first_offset,
            } => write!(f, "{count} NUL octet(s) (first at offset {first_offset})"),
            ViolationKind::EightBit {
                count,
                first_offset,
            } => {
                write!(
                    f,
                    "{count} octet(s) above 127 in 7-bit data (first at offset {first_offset})"
                )
            }
            ViolationKind::NonAsciiField { field } => {
                write!(f, "field {field} has non-ASCII octets")
            }
            ViolationKind::MissingField(name) => write!(f, "missing {name} field"),
            ViolationKind::RepeatedField { field, count } => {
                write!(f, "{field} appears {count} times")
            }
            ViolationKind::InvalidField { field, reason } => write!(f, "invalid {field}: {reason}"),
            ViolationKind::ObsoleteSyntax { field } => write!(f, "{field} uses obsolete syntax"),
            ViolationKind::SenderRequired => {
                f.write_str("From has several mailboxes but there is no Sender")
            }
            ViolationKind::EmptyAddressList { field } => write!(f, "{field} has no address"),
            ViolationKind::Part(issue) => write!(f, "{issue:?}"),
            ViolationKind::CompositeEncoding(e) => write!(f, "composite entity in {e} encoding"),
            ViolationKind::Base64 { first, count } => {
                write!(f, "{count} base64 issue(s), first: {first:?}")
            }
            ViolationKind::QuotedPrintable { first, count } => {
                write!(f, "{count} quoted-printable issue(s), first: {first:?}")
            }
        }
    }
}
