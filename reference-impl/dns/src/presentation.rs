//! The dig-like text forms the transcripts use (docs/transcripts.md, section DNS).
//!
//! **Queries** ([`parse_query`]) are one line: `NAME [TYPE] [CLASS] [options]`, e.g.
//! `example.test. MX +rd id=4242 edns=0 bufsize=1232 +do`. The type defaults to `A`, the class
//! to `IN`, the id to 0, and no flag is set unless written (unlike dig, `+rd` is not implied).
//! Options: `+qr +aa +tc +rd +ra +z +ad +cd` (header bits), `+do` (RFC 3225, implies EDNS),
//! `id=N`, `opcode=QUERY|IQUERY|STATUS|NOTIFY|UPDATE|N`, `rcode=NAME|N`, `class=C`, `type=T`,
//! `edns=VERSION`, `bufsize=N` (implies EDNS), `ednsflags=N` (the 15 Z bits),
//! `ednsopt=CODE[:HEX]` (repeatable).
//!
//! The same line can carry records, for the answers wirecheck sends when it plays a server:
//! after the header part, each `; answer RECORD`, `; authority RECORD` or `; additional RECORD`
//! (or `; an`, `; ns`, `; ar`) adds one record in master-file form with absolute names, e.g.
//! `example.test. A +qr +aa id=7 ; answer example.test. 3600 IN A 127.0.0.10`.
//!
//! **Messages** ([`render`]) are shaped like dig's output, without blank lines (so transcripts can
//! match them line by line):
//!
//! ```text
//! ;; opcode: QUERY, status: NOERROR, id: 4242
//! ;; flags: qr aa rd; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1
//! ;; OPT PSEUDOSECTION:
//! ; EDNS: version: 0, flags: do; udp: 1232
//! ;; QUESTION SECTION:
//! ;example.test.<TAB><TAB>IN<TAB>MX
//! ;; ANSWER SECTION:
//! example.test.<TAB>3600<TAB>IN<TAB>MX<TAB>10 mail.example.test.
//! example.test.<TAB>3600<TAB>IN<TAB>MX<TAB>20 mail2.example.test.
//! ```
//!
//! (`<TAB>` is one tab character.) Fields of a record are separated by one tab; the question line has an empty TTL column
//! (two tabs). ADDITIONAL counts the OPT record, as on the wire. A section header is written
//! only when the section has records (QUESTION: when it has a question). EDNS options are
//! written `; OPT=CODE: HEX`. [`parse_message`] reads this form back (the server-role
//! transcripts write the answers wirecheck sends in it); there the counts are optional and
//! ignored (they follow from the sections).

use std::fmt::Write as _;

use crate::message::{Class, Edns, Header, Message, Opcode, Question, Rcode, Record, RecordType};
use crate::name::{Name, NameError};
use crate::text::{self, TextError, Token};

/// Why a presentation-form text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PresentationError {
    /// The query line has no name.
    #[error("empty query")]
    Empty,
    /// A bad query name.
    #[error("bad name {text:?}: {error}")]
    Name {
        /// The text.
        text: String,
        /// Why.
        error: NameError,
    },
    /// An option or field that is not understood.
    #[error("unknown or malformed field {0:?}")]
    Field(String),
    /// Bad hex in `hex …` (odd number of digits or a non-hex character).
    #[error("bad hex: {0}")]
    Hex(String),
    /// A bad record or question line in a message.
    #[error("line {line}: {error}")]
    Record {
        /// 1-based line.
        line: usize,
        /// Why.
        error: TextError,
    },
    /// A line of a message that fits no part of the form.
    #[error("line {line}: unexpected {text:?}")]
    Line {
        /// 1-based line.
        line: usize,
        /// The text.
        text: String,
    },
}

/// Parses a one-line query (see the module docs).
pub fn parse_query(line: &str) -> Result<Message, PresentationError> {
    let mut segments = split_segments(line).into_iter();
    let mut msg = parse_query_part(segments.next().unwrap_or_default())?;
    for (i, segment) in segments.enumerate() {
        let segment = segment.trim();
        let (section, record) = segment
            .split_once(char::is_whitespace)
            .unwrap_or((segment, ""));
        let target = match section.to_ascii_lowercase().as_str() {
            "answer" | "an" => &mut msg.answers,
            "authority" | "ns" => &mut msg.authorities,
            "additional" | "ar" => &mut msg.additionals,
            _ => return Err(PresentationError::Field(segment.to_string())),
        };
        target.push(parse_record_at(record.trim(), i + 2)?);
    }
    Ok(msg)
}

/// Splits at `;` outside double quotes (a `\` escape keeps the next character).
fn split_segments(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&line[start..]);
    out
}

fn parse_query_part(line: &str) -> Result<Message, PresentationError> {
    let mut words = line.split_whitespace();
    let qname = words.next().ok_or(PresentationError::Empty)?;
    let name = Name::parse(qname).map_err(|error| PresentationError::Name {
        text: qname.to_string(),
        error,
    })?;
    let mut msg = Message::query(0, name, RecordType::A);
    let mut edns: Option<Edns> = None;
    let bad = |w: &str| PresentationError::Field(w.to_string());
    for word in words {
        if let Some(flag) = word.strip_prefix('+') {
            let flag = flag.to_ascii_lowercase();
            if flag == "do" {
                edns.get_or_insert_with(Edns::default).dnssec_ok = true;
            } else if !set_flag(&mut msg.header, &flag) {
                return Err(bad(word));
            }
        } else if let Some((key, value)) = word.split_once('=') {
            match key.to_ascii_lowercase().as_str() {
                "id" => msg.header.id = value.parse().map_err(|_| bad(word))?,
                "opcode" => msg.header.opcode = parse_opcode(value).ok_or_else(|| bad(word))?,
                "rcode" => msg.header.rcode = parse_rcode(value).ok_or_else(|| bad(word))?.0,
                "class" => set_class(&mut msg, Class::parse(value).ok_or_else(|| bad(word))?),
                "type" => set_type(&mut msg, RecordType::parse(value).ok_or_else(|| bad(word))?),
                "edns" => {
                    edns.get_or_insert_with(Edns::default).version =
                        value.parse().map_err(|_| bad(word))?
                }
                "bufsize" => {
                    edns.get_or_insert_with(Edns::default).udp_size =
                        value.parse().map_err(|_| bad(word))?
                }
                "ednsflags" => {
                    let z = parse_u16(value)
                        .filter(|z| *z <= 0x7fff)
                        .ok_or_else(|| bad(word))?;
                    edns.get_or_insert_with(Edns::default).z = z;
                }
                "ednsopt" => {
                    let (code, hex) = value.split_once(':').unwrap_or((value, ""));
                    let code = code.parse().map_err(|_| bad(word))?;
                    let data = text::decode_hex(hex).ok_or_else(|| bad(word))?;
                    edns.get_or_insert_with(Edns::default)
                        .options
                        .push((code, data));
                }
                _ => return Err(bad(word)),
            }
        } else if let Some(t) = RecordType::parse(word) {
            set_type(&mut msg, t);
        } else if let Some(c) = Class::parse(word) {
            set_class(&mut msg, c);
        } else {
            return Err(bad(word));
        }
    }
    msg.edns = edns;
    Ok(msg)
}

/// Sets the header bit named as dig names it (`qr aa tc rd ra z ad cd`); false if unknown.
fn set_flag(h: &mut Header, flag: &str) -> bool {
    let bit = match flag {
        "qr" => &mut h.qr,
        "aa" => &mut h.aa,
        "tc" => &mut h.tc,
        "rd" => &mut h.rd,
        "ra" => &mut h.ra,
        "z" => &mut h.z,
        "ad" => &mut h.ad,
        "cd" => &mut h.cd,
        _ => return false,
    };
    *bit = true;
    true
}

fn set_type(msg: &mut Message, t: RecordType) {
    if let Some(q) = msg.questions.first_mut() {
        q.qtype = t;
    }
}

fn set_class(msg: &mut Message, c: Class) {
    if let Some(q) = msg.questions.first_mut() {
        q.qclass = c;
    }
}

fn parse_u16(text: &str) -> Option<u16> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn parse_opcode(text: &str) -> Option<u8> {
    let named = (0..16u8).find(|n| Opcode(*n).to_string().eq_ignore_ascii_case(text));
    named.or_else(|| text.parse().ok()).filter(|n| *n < 16)
}

fn parse_rcode(text: &str) -> Option<Rcode> {
    let named = (0..4096u16).find(|n| Rcode(*n).to_string().eq_ignore_ascii_case(text));
    named
        .or_else(|| text.parse().ok())
        .filter(|n| *n < 4096)
        .map(Rcode)
}

/// Parses `hex …` octets: hex digits with any white space between pairs (`0001 0000`,
/// `00 01`), no `0x`. The caller strips the `hex` keyword.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, PresentationError> {
    let digits: String = text.split_whitespace().collect();
    text::decode_hex(&digits).ok_or_else(|| PresentationError::Hex(text.trim().to_string()))
}

/// The header flags that are set, by their dig names, in header order (RFC 1035 §4.1.1 QR AA
/// TC RD RA Z; RFC 4035 §3.2 AD CD).
pub fn flag_names(h: &Header) -> Vec<&'static str> {
    [
        (h.qr, "qr"),
        (h.aa, "aa"),
        (h.tc, "tc"),
        (h.rd, "rd"),
        (h.ra, "ra"),
        (h.z, "z"),
        (h.ad, "ad"),
        (h.cd, "cd"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

/// Renders a message in the dig-like form of the module docs; every line ends with `\n`.
pub fn render(msg: &Message) -> String {
    let mut out = String::with_capacity(256);
    let h = &msg.header;
    let _ = writeln!(
        out,
        ";; opcode: {}, status: {}, id: {}",
        h.opcode(),
        h.rcode(),
        h.id
    );
    let flags = flag_names(h);
    let _ = writeln!(
        out,
        ";; flags:{}{}; QUERY: {}, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}",
        if flags.is_empty() { "" } else { " " },
        flags.join(" "),
        msg.questions.len(),
        msg.answers.len(),
        msg.authorities.len(),
        msg.additionals.len() + usize::from(msg.edns.is_some()),
    );
    if let Some(e) = &msg.edns {
        out.push_str(";; OPT PSEUDOSECTION:\n");
        let _ = write!(
            out,
            "; EDNS: version: {}, flags:{};",
            e.version,
            if e.dnssec_ok { " do" } else { "" }
        );
        if e.z != 0 {
            let _ = write!(out, " MBZ: {:#06x},", e.z);
        }
        let _ = writeln!(out, " udp: {}", e.udp_size);
        for (code, data) in &e.options {
            let _ = writeln!(out, "; OPT={code}: {}", text::encode_hex(data));
        }
    }
    if !msg.questions.is_empty() {
        out.push_str(";; QUESTION SECTION:\n");
        for q in &msg.questions {
            let _ = writeln!(out, ";{}\t\t{}\t{}", q.name, q.qclass, q.qtype);
        }
    }
    for (title, section) in [
        ("ANSWER", &msg.answers),
        ("AUTHORITY", &msg.authorities),
        ("ADDITIONAL", &msg.additionals),
    ] {
        if section.is_empty() {
            continue;
        }
        let _ = writeln!(out, ";; {title} SECTION:");
        for rec in section {
            out.push_str(&render_record(rec));
            out.push('\n');
        }
    }
    out
}

/// One record as a master-file line: `owner<TAB>ttl<TAB>class<TAB>type<TAB>rdata`.
pub fn render_record(rec: &Record) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}",
        rec.name,
        rec.ttl,
        rec.class,
        rec.rtype(),
        text::format_rdata(&rec.rdata)
    )
}

/// Parses a record line of the form [`render_record`] writes (absolute names).
pub fn parse_record(line: &str) -> Result<Record, PresentationError> {
    parse_record_at(line, 1)
}

fn parse_record_at(line: &str, lineno: usize) -> Result<Record, PresentationError> {
    let err = |error| PresentationError::Record {
        line: lineno,
        error,
    };
    let mut entries = text::tokenize(line).map_err(err)?;
    let tokens: Vec<Token> = entries.pop().map(|e| e.tokens).unwrap_or_default();
    let field = |i: usize| tokens.get(i).map(|t| t.text.as_str()).unwrap_or("");
    let bad = || PresentationError::Line {
        line: lineno,
        text: line.to_string(),
    };
    let name = Name::parse(field(0)).map_err(|error| {
        err(TextError::Name {
            text: field(0).into(),
            error,
        })
    })?;
    let ttl = text::parse_ttl(field(1)).map_err(err)?;
    let class = Class::parse(field(2)).ok_or_else(bad)?;
    let rtype = RecordType::parse(field(3)).ok_or_else(bad)?;
    let rdata = text::parse_rdata(rtype, tokens.get(4..).unwrap_or_default(), None).map_err(err)?;
    Ok(Record {
        name,
        class,
        ttl,
        rdata,
    })
}

/// Parses the form [`render`] writes back into a message. Blank lines are ignored; the count
/// fields of the flags line are optional; `;; opcode:` and `;; flags:` lines may be left out
/// (defaults: QUERY, NOERROR, id 0, no flags).
pub fn parse_message(text: &str) -> Result<Message, PresentationError> {
    let mut msg = Message::default();
    let mut section = "";
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.trim();
        let bad = || PresentationError::Line {
            line: lineno,
            text: raw.to_string(),
        };
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix(";; opcode:") {
            parse_opcode_line(rest, &mut msg.header).ok_or_else(bad)?;
        } else if let Some(rest) = line.strip_prefix(";; flags:") {
            let flags = rest.split(';').next().unwrap_or("");
            for f in flags.split_whitespace() {
                if !set_flag(&mut msg.header, f) {
                    return Err(bad());
                }
            }
        } else if line == ";; OPT PSEUDOSECTION:" {
            section = "OPT";
        } else if let Some(rest) = line.strip_prefix("; EDNS:") {
            msg.edns = Some(parse_edns_line(rest).ok_or_else(bad)?);
        } else if let Some(rest) = line.strip_prefix("; OPT=") {
            let (code, hex) = rest.split_once(':').ok_or_else(bad)?;
            let data = text::decode_hex(hex.trim()).ok_or_else(bad)?;
            let code = code.trim().parse().map_err(|_| bad())?;
            msg.edns
                .as_mut()
                .ok_or_else(bad)?
                .options
                .push((code, data));
        } else if let Some(title) = line
            .strip_prefix(";; ")
            .and_then(|l| l.strip_suffix(" SECTION:"))
        {
            section = match title {
                "QUESTION" | "ANSWER" | "AUTHORITY" | "ADDITIONAL" => title,
                _ => return Err(bad()),
            };
        } else if section == "QUESTION" {
            let q = line.strip_prefix(';').ok_or_else(bad)?;
            let mut w = q.split_whitespace();
            let qname = w.next().ok_or_else(bad)?;
            let name = Name::parse(qname).map_err(|error| PresentationError::Name {
                text: qname.into(),
                error,
            })?;
            let qclass = Class::parse(w.next().ok_or_else(bad)?).ok_or_else(bad)?;
            let qtype = RecordType::parse(w.next().ok_or_else(bad)?).ok_or_else(bad)?;
            msg.questions.push(Question {
                name,
                qtype,
                qclass,
            });
        } else if matches!(section, "ANSWER" | "AUTHORITY" | "ADDITIONAL") && !line.starts_with(';')
        {
            let rec = parse_record_at(line, lineno)?;
            match section {
                "ANSWER" => msg.answers.push(rec),
                "AUTHORITY" => msg.authorities.push(rec),
                _ => msg.additionals.push(rec),
            }
        } else {
            return Err(bad());
        }
    }
    Ok(msg)
}

fn parse_opcode_line(rest: &str, h: &mut Header) -> Option<()> {
    for part in rest.split(',') {
        let (key, value) = part
            .split_once(':')
            .map(|(k, v)| (k.trim(), v.trim()))
            .or_else(|| Some(("opcode", part.trim())))?;
        match key {
            "opcode" => h.opcode = parse_opcode(value)?,
            "status" => h.rcode = parse_rcode(value)?.0,
            "id" => h.id = value.parse().ok()?,
            _ => return None,
        }
    }
    Some(())
}

/// `version: 0, flags: do; MBZ: 0x0005, udp: 1232`
fn parse_edns_line(rest: &str) -> Option<Edns> {
    let mut e = Edns::default();
    for part in rest.split([',', ';']) {
        let Some((key, value)) = part.split_once(':') else {
            if part.trim().is_empty() {
                continue;
            }
            return None;
        };
        let value = value.trim();
        match key.trim() {
            "version" => e.version = value.parse().ok()?,
            "flags" => e.dnssec_ok = value.split_whitespace().any(|f| f == "do"),
            "MBZ" => e.z = parse_u16(value)?,
            "udp" => e.udp_size = value.parse().ok()?,
            _ => return None,
        }
    }
    Some(e)
}

#[cfg(test)]
mod tests;
