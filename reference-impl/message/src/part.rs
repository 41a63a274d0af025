//! The MIME entity tree of a message (RFC 2045 §2.4 "entity", RFC 2046 §5), with byte
//! ranges into the original message so that IMAP `BODY[1.2]`, `BODY[1.2.MIME]`,
//! `BODYSTRUCTURE` and friends can be answered from the original bytes.
//!
//! Multipart bodies are split by RFC 2046 §5.1.1: a delimiter is a line that starts with
//! `--boundary` ("it is sufficient that the boundary appear in its entirety following the
//! CRLF"); the CRLF before it belongs to the delimiter, not to the part before; `--` after the
//! boundary makes the close-delimiter; anything before the first delimiter is the preamble,
//! anything after the close-delimiter the epilogue. message/rfc822 bodies in an identity
//! encoding are parsed as messages. Nesting and the number of parts are bounded.

use std::ops::Range;

use crate::encoded_word;
use crate::header::{self, HeaderField, HeaderIssue};
use crate::issues::Issues;
use crate::mime::{self, ContentDisposition, ContentType, MimeError, TransferEncoding};

/// Deeper entities are not split further (each level rescans its body).
pub const MAX_DEPTH: usize = 32;
/// Parts beyond this many in one message are not split out.
pub const MAX_PARTS: usize = 10_000;

/// One MIME entity: a message, a body part, or an encapsulated message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The header section, with the empty line that ends it (IMAP `BODY[x.MIME]`,
    /// `BODY[HEADER]`). Empty for a part with no header fields and no empty line.
    pub header: Range<usize>,
    /// The body (IMAP `BODY[x]` of a leaf part, `BODY[TEXT]` of a message).
    pub body: Range<usize>,
    pub fields: Vec<HeaderField>,
    /// The effective content type (RFC 2045 §5.2 and RFC 2046 §5.1.5 defaults applied).
    pub content_type: ContentType,
    /// Whether a Content-Type field was present and readable.
    pub content_type_explicit: bool,
    /// Content-Transfer-Encoding (default 7bit, RFC 2045 §6.1).
    pub encoding: TransferEncoding,
    /// Content-ID, as written (trimmed).
    pub id: Option<String>,
    /// Content-Description, as written (RFC 2047 words not decoded; see
    /// [`Part::description_decoded`]).
    pub description: Option<String>,
    pub disposition: Option<ContentDisposition>,
    /// Content-Language tags (RFC 3282).
    pub language: Vec<String>,
    /// Content-Location (RFC 2557), as written.
    pub location: Option<String>,
    /// Content-MD5 (RFC 1864), as written.
    pub md5: Option<String>,
    /// LF characters in the body.
    pub line_breaks: usize,
    /// Text lines in the body: line breaks, plus one for a last line without a line break.
    pub lines: usize,
    pub kind: PartKind,
    /// What was wrong in this entity (not in its children).
    pub issues: Issues<PartIssue>,
}

/// What an entity contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartKind {
    /// A discrete body.
    Leaf,
    Multipart(Multipart),
    /// message/rfc822 (or message/global): the encapsulated message.
    Message(Box<Part>),
}

/// A split multipart body (RFC 2046 §5.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multipart {
    pub boundary: String,
    pub parts: Vec<Part>,
    pub preamble: Range<usize>,
    pub epilogue: Range<usize>,
    /// A close-delimiter was found.
    pub closed: bool,
}

/// Something in an entity that is not as RFC 2045/2046 say.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartIssue {
    Header(HeaderIssue),
    /// Content-Type could not be read; the default was assumed (RFC 2045 §5.2).
    BadContentType(MimeError),
    /// A parameter of Content-Type or Content-Disposition could not be read.
    BadParameter(MimeError),
    /// A multipart without a boundary parameter (RFC 2046 §5.1.1: mandatory).
    MissingBoundary,
    /// A boundary that is not 1-70 bchars not ending in space (RFC 2046 §5.1.1).
    InvalidBoundary,
    /// No delimiter line in a multipart body.
    NoDelimiter,
    /// No close-delimiter: the last part runs to the end of the body.
    MissingCloseDelimiter,
    /// Text after the boundary on a delimiter line (other than transport padding).
    DelimiterTrailingText {
        offset: usize,
    },
    /// An entity with neither header fields nor the empty line: taken as all body.
    MissingSeparator,
    /// message/rfc822 in base64 or quoted-printable (RFC 2046 §5.2.1 forbids it): not parsed.
    EncodedMessage,
    /// An unknown Content-Transfer-Encoding.
    UnknownEncoding(String),
    /// Nesting deeper than [`MAX_DEPTH`] or more than [`MAX_PARTS`] parts: not split further.
    LimitReached,
}

struct Context {
    parts: usize,
}

/// Parse `bytes[range]` as an entity (a message, or a body part taken out of one): header
/// fields, MIME fields, and the tree under it.
pub fn parse_entity(bytes: &[u8], range: Range<usize>) -> Part {
    let range = range.start.min(bytes.len())..range.end.min(bytes.len());
    let range = range.start.min(range.end)..range.end;
    build(bytes, range, false, 0, &mut Context { parts: 0 })
}

fn build(bytes: &[u8], range: Range<usize>, digest: bool, depth: usize, ctx: &mut Context) -> Part {
    let within = bytes.get(..range.end).unwrap_or(bytes);
    let mut section = header::parse_header_section(within, range.start);
    let mut issues = Issues::default();
    if !section.has_separator && section.fields.is_empty() && !range.is_empty() {
        // No field and no empty line: the entity is all body (e.g. a part whose blank line
        // after the delimiter is missing).
        issues.push(PartIssue::MissingSeparator);
        section.body_start = range.start;
    } else {
        for issue in &section.issues {
            issues.push(PartIssue::Header(issue.clone()));
        }
    }
    let fields = section.fields;
    let field = |name: &str| fields.iter().find(|f| f.is(name)).map(HeaderField::value);
    let (content_type, content_type_explicit) =
        match field("Content-Type").map(|v| mime::parse_content_type(&v)) {
            Some(Ok(ct)) => {
                for e in &ct.params.errors {
                    issues.push(PartIssue::BadParameter(e.clone()));
                }
                (ct, true)
            }
            other => {
                if let Some(Err(e)) = other {
                    issues.push(PartIssue::BadContentType(e));
                }
                let default = if digest {
                    ContentType::default_digest_part()
                } else {
                    ContentType::default_text()
                };
                (default, false)
            }
        };
    let encoding = field("Content-Transfer-Encoding")
        .map_or(TransferEncoding::SevenBit, |v| TransferEncoding::parse(&v));
    if let TransferEncoding::Other(name) = &encoding {
        issues.push(PartIssue::UnknownEncoding(name.clone()));
    }
    let disposition =
        field("Content-Disposition").and_then(|v| mime::parse_content_disposition(&v).ok());
    for e in disposition.iter().flat_map(|d| &d.params.errors) {
        issues.push(PartIssue::BadParameter(e.clone()));
    }
    let header_range = range.start..section.body_start.clamp(range.start, range.end);
    let body = header_range.end..range.end;
    let body_bytes = bytes.get(body.clone()).unwrap_or_default();
    let line_breaks = body_bytes.iter().filter(|&&b| b == b'\n').count();
    let lines = line_breaks + usize::from(body_bytes.last().is_some_and(|&b| b != b'\n'));
    let mut part = Part {
        header: header_range,
        body: body.clone(),
        id: field("Content-ID"),
        description: field("Content-Description"),
        language: field("Content-Language")
            .map(|v| mime::parse_content_language(&v))
            .unwrap_or_default(),
        location: field("Content-Location"),
        md5: field("Content-MD5"),
        fields: Vec::new(),
        content_type,
        content_type_explicit,
        encoding,
        disposition,
        line_breaks,
        lines,
        kind: PartKind::Leaf,
        issues,
    };
    part.fields = fields;
    ctx.parts += 1;
    let limited = depth >= MAX_DEPTH || ctx.parts >= MAX_PARTS;
    if part.content_type.is_multipart() {
        match part.content_type.boundary().map(str::to_string) {
            None => part.issues.push(PartIssue::MissingBoundary),
            Some(_) if limited => part.issues.push(PartIssue::LimitReached),
            Some(boundary) => {
                if !is_valid_boundary(&boundary) {
                    part.issues.push(PartIssue::InvalidBoundary);
                }
                if !boundary.is_empty() {
                    let digest = part.content_type.subtype == "digest";
                    part.kind = PartKind::Multipart(split(
                        bytes,
                        body,
                        boundary,
                        digest,
                        depth,
                        ctx,
                        &mut part.issues,
                    ));
                }
            }
        }
    } else if part.content_type.is_message() {
        if !part.encoding.is_identity() {
            part.issues.push(PartIssue::EncodedMessage);
        } else if limited {
            part.issues.push(PartIssue::LimitReached);
        } else {
            part.kind = PartKind::Message(Box::new(build(bytes, body, false, depth + 1, ctx)));
        }
    }
    part
}

/// RFC 2046 §5.1.1: `boundary := 0*69<bchars> bcharsnospace`.
pub fn is_valid_boundary(boundary: &str) -> bool {
    let bchar = |c: char| c.is_ascii_alphanumeric() || "'()+_,-./:=? ".contains(c);
    (1..=70).contains(&boundary.len()) && boundary.chars().all(bchar) && !boundary.ends_with(' ')
}

/// Split a multipart body into parts (RFC 2046 §5.1.1).
fn split(
    bytes: &[u8],
    body: Range<usize>,
    boundary: String,
    digest: bool,
    depth: usize,
    ctx: &mut Context,
    issues: &mut Issues<PartIssue>,
) -> Multipart {
    let dash: Vec<u8> = [b"--".as_slice(), boundary.as_bytes()].concat();
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let mut preamble = body.start..body.end;
    let mut epilogue = body.end..body.end;
    let mut closed = false;
    let mut part_start: Option<usize> = None;
    let mut line_start = body.start;
    while line_start < body.end {
        let line_end = bytes[line_start..body.end]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(body.end, |i| line_start + i + 1);
        let line = &bytes[line_start..line_end];
        if line.starts_with(&dash) {
            // The CRLF (or LF) before the delimiter belongs to it.
            let delimiter_start = if line_start == body.start {
                line_start
            } else if line_start >= body.start + 2 && bytes.get(line_start - 2) == Some(&b'\r') {
                line_start - 2
            } else {
                line_start - 1
            };
            let after = &line[dash.len()..];
            let is_close = after.starts_with(b"--");
            let padding = if is_close { &after[2..] } else { after };
            if !padding
                .iter()
                .all(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            {
                issues.push(PartIssue::DelimiterTrailingText {
                    offset: line_start + dash.len(),
                });
            }
            match part_start {
                None => preamble = body.start..delimiter_start,
                Some(start) => ranges.push(start..delimiter_start.max(start)),
            }
            if is_close {
                closed = true;
                epilogue = line_end..body.end;
                part_start = None;
                break;
            }
            part_start = Some(line_end);
            if ctx.parts + ranges.len() + 1 >= MAX_PARTS {
                issues.push(PartIssue::LimitReached);
                break;
            }
        }
        line_start = line_end;
    }
    match part_start {
        Some(start) => {
            if !closed {
                issues.push(PartIssue::MissingCloseDelimiter);
            }
            ranges.push(start..body.end);
        }
        None if ranges.is_empty() && !closed => issues.push(PartIssue::NoDelimiter),
        None => {}
    }
    let parts = ranges
        .into_iter()
        .map(|r| build(bytes, r, digest, depth + 1, ctx))
        .collect();
    Multipart {
        boundary,
        parts,
        preamble,
        epilogue,
        closed,
    }
}

impl Part {
    /// The child parts of a multipart (empty otherwise).
    pub fn children(&self) -> &[Part] {
        match &self.kind {
            PartKind::Multipart(m) => &m.parts,
            _ => &[],
        }
    }

    /// The encapsulated message of a message/rfc822 part.
    pub fn message(&self) -> Option<&Part> {
        match &self.kind {
            PartKind::Message(m) => Some(m),
            _ => None,
        }
    }

    /// Body size in octets (IMAP body-fld-octets).
    pub fn size(&self) -> usize {
        self.body.len()
    }

    /// The first header field with this name.
    pub fn field(&self, name: &str) -> Option<&HeaderField> {
        self.fields.iter().find(|f| f.is(name))
    }

    /// Content-Description with RFC 2047 words decoded.
    pub fn description_decoded(&self) -> Option<String> {
        self.description
            .as_deref()
            .map(|d| encoded_word::decode_text(d).text)
    }

    /// IMAP part numbering (RFC 3501 §6.4.5) from this entity, which is a message: `[]` is
    /// the entity itself; `[n]` is the n-th part of a multipart body, or `[1]` the body of a
    /// single-part message; a message/rfc822 part continues into its encapsulated message.
    pub fn section(&self, path: &[u32]) -> Option<&Part> {
        let Some((&n, rest)) = path.split_first() else {
            return Some(self);
        };
        let part = match &self.kind {
            PartKind::Multipart(m) => m.parts.get(usize::try_from(n).ok()?.checked_sub(1)?)?,
            _ if n == 1 => self,
            _ => return None,
        };
        part.descend(rest)
    }

    fn descend(&self, path: &[u32]) -> Option<&Part> {
        let Some((&n, rest)) = path.split_first() else {
            return Some(self);
        };
        match &self.kind {
            PartKind::Multipart(m) => m
                .parts
                .get(usize::try_from(n).ok()?.checked_sub(1)?)?
                .descend(rest),
            PartKind::Message(inner) => inner.section(path),
            PartKind::Leaf => None,
        }
    }

    /// Visit this entity and every entity under it, depth first, with its IMAP section path.
    /// An encapsulated message is visited with the path of its message/rfc822 part.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&[u32], &'a Part)) {
        fn go<'a>(part: &'a Part, path: &mut Vec<u32>, visit: &mut dyn FnMut(&[u32], &'a Part)) {
            visit(path, part);
            match &part.kind {
                PartKind::Multipart(m) => {
                    for (i, child) in m.parts.iter().enumerate() {
                        path.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                        go(child, path, visit);
                        path.pop();
                    }
                }
                PartKind::Message(inner) => go(inner, path, visit),
                PartKind::Leaf => {}
            }
        }
        go(self, &mut Vec::new(), visit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC2046: &[u8] = include_bytes!("../tests/data/rfc2046_5_1_1.eml");
    const RFC2049: &[u8] = include_bytes!("../tests/data/rfc2049_appendix_a.eml");

    fn text(bytes: &[u8], r: &Range<usize>) -> String {
        String::from_utf8_lossy(&bytes[r.clone()]).into_owned()
    }

    #[test]
    fn rfc2046_simple_boundary_example() {
        let root = parse_entity(RFC2046, 0..RFC2046.len());
        assert!(root.issues.is_empty(), "{:?}", root.issues);
        let PartKind::Multipart(m) = &root.kind else {
            panic!("{:?}", root.kind)
        };
        assert!(m.closed);
        assert_eq!(m.boundary, "simple boundary");
        assert!(text(RFC2046, &m.preamble).starts_with("This is the preamble."));
        assert!(text(RFC2046, &m.preamble).ends_with("non-MIME conformant readers.\r\n"));
        assert_eq!(
            text(RFC2046, &m.epilogue),
            "\r\nThis is the epilogue.  It is also to be ignored.\r\n"
        );
        let [first, second] = &m.parts[..] else {
            panic!("{} parts", m.parts.len())
        };
        // The implicitly typed part: no fields, text/plain us-ascii by default, no final CRLF.
        assert!(!first.content_type_explicit && first.content_type.is("text", "plain"));
        assert_eq!(first.content_type.param("charset"), Some("us-ascii"));
        assert_eq!(text(RFC2046, &first.header), "\r\n");
        assert_eq!(
            text(RFC2046, &first.body),
            "This is implicitly typed plain US-ASCII text.\r\nIt does NOT end with a linebreak."
        );
        assert_eq!((first.line_breaks, first.lines), (1, 2));
        assert!(second.content_type_explicit);
        assert_eq!(
            text(RFC2046, &second.header),
            "Content-type: text/plain; charset=us-ascii\r\n\r\n"
        );
        assert_eq!(
            text(RFC2046, &second.body),
            "This is explicitly typed plain US-ASCII text.\r\nIt DOES end with a linebreak.\r\n"
        );
        assert_eq!(second.size(), second.body.len());
        assert_eq!(
            root.section(&[2]).map(|p| p.body.clone()),
            Some(second.body.clone())
        );
        assert_eq!(root.section(&[3]), None);
        assert_eq!(root.section(&[0]), None);
    }

    #[test]
    fn rfc2049_complex_example() {
        let root = parse_entity(RFC2049, 0..RFC2049.len());
        assert_eq!(root.children().len(), 5);
        let parallel = root
            .section(&[3])
            .map(|p| (p.content_type.subtype.clone(), p.children().len()));
        assert_eq!(parallel, Some(("parallel".to_string(), 2)));
        let jpeg = root.section(&[3, 2]);
        assert_eq!(
            jpeg.map(|p| (p.content_type.to_string(), p.encoding.clone())),
            Some(("image/jpeg".to_string(), TransferEncoding::Base64))
        );
        assert_eq!(
            jpeg.map(|p| text(RFC2049, &p.body)).as_deref(),
            Some("  ... base64-encoded image data goes here ...\r\n")
        );
        assert!(
            root.section(&[4])
                .is_some_and(|p| p.content_type.is("text", "enriched"))
        );
        // message/rfc822: 5 is the part, 5.1 the body of the single-part encapsulated message.
        let msg = root.section(&[5]).and_then(Part::message);
        assert!(msg.is_some_and(
            |m| m.field("Subject").is_some() && m.encoding == TransferEncoding::QuotedPrintable
        ));
        let inner = root.section(&[5, 1]);
        assert_eq!(
            inner.map(|p| text(RFC2049, &p.body)).as_deref(),
            Some("  ... Additional text in ISO-8859-1 goes here ...\r\n")
        );
        assert_eq!(root.section(&[5, 2]), None);
        assert_eq!(root.section(&[1, 1]), None);
        let mut paths = Vec::new();
        root.walk(&mut |path, part| paths.push((path.to_vec(), part.content_type.subtype.clone())));
        let subtypes: Vec<&str> = paths.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            subtypes,
            [
                "mixed", "plain", "plain", "parallel", "basic", "jpeg", "enriched", "rfc822",
                "plain"
            ]
        );
        assert_eq!(paths[5].0, vec![3, 2]);
    }

    #[test]
    fn nested_multipart_and_digest_defaults() {
        let msg = b"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: one\r\n\r\nbody one\r\n--d\r\nContent-Type: text/plain\r\n\r\nplain\r\n--d--\r\n";
        let root = parse_entity(msg, 0..msg.len());
        let first = root.section(&[1]);
        assert!(first.is_some_and(|p| p.content_type.is("message", "rfc822") && !p.content_type_explicit));
        assert_eq!(
            root.section(&[1, 1]).map(|p| text(msg, &p.body)).as_deref(),
            Some("body one")
        );
        assert!(
            root.section(&[2])
                .is_some_and(|p| p.content_type.is("text", "plain"))
        );
    }

    #[test]
    fn broken_multiparts_are_reported() {
        let msg = b"Content-Type: multipart/mixed; boundary=b\r\n\r\npreamble only\r\n";
        let root = parse_entity(msg, 0..msg.len());
        assert_eq!(root.issues.as_slice(), [PartIssue::NoDelimiter]);
        assert!(root.children().is_empty());
        let msg = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b junk\r\n\r\nx\r\n--b\r\nno header line\r\n";
        let root = parse_entity(msg, 0..msg.len());
        assert_eq!(
            root.issues.as_slice(),
            [
                PartIssue::DelimiterTrailingText { offset: 48 },
                PartIssue::MissingCloseDelimiter
            ]
        );
        assert_eq!(root.children().len(), 2);
        let second = &root.children()[1];
        assert_eq!(second.issues.as_slice(), [PartIssue::MissingSeparator]);
        assert_eq!(text(msg, &second.body), "no header line\r\n");
        let msg = b"Content-Type: multipart/mixed\r\n\r\n--b\r\n";
        assert_eq!(
            parse_entity(msg, 0..msg.len()).issues.as_slice(),
            [PartIssue::MissingBoundary]
        );
        let msg =
            b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n";
        assert_eq!(
            parse_entity(msg, 0..msg.len()).issues.as_slice(),
            [PartIssue::EncodedMessage]
        );
        let msg = b"Content-Type: text/\r\n\r\nx";
        let root = parse_entity(msg, 0..msg.len());
        assert!(matches!(
            root.issues.as_slice(),
            [PartIssue::BadContentType(_)]
        ));
        assert!(root.content_type.is("text", "plain"));
        // Bare LF line ends are accepted.
        let msg = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b--\n";
        let root = parse_entity(msg, 0..msg.len());
        assert_eq!(
            root.section(&[1]).map(|p| text(msg, &p.body)).as_deref(),
            Some("one")
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut msg = Vec::new();
        for i in 0..100 {
            msg.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        let root = parse_entity(&msg, 0..msg.len());
        let mut depth = 0;
        let mut limited = false;
        root.walk(&mut |path, part| {
            depth = depth.max(path.len());
            limited |= part.issues.iter().any(|i| *i == PartIssue::LimitReached);
        });
        assert_eq!(depth, MAX_DEPTH);
        assert!(limited);
        let many = [
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n".as_slice(),
            &b"--b\r\n".repeat(MAX_PARTS + 50),
        ]
        .concat();
        let root = parse_entity(&many, 0..many.len());
        assert!(root.children().len() < MAX_PARTS);
        assert!(root.issues.iter().any(|i| *i == PartIssue::LimitReached));
    }

    #[test]
    fn valid_boundaries() {
        assert!(is_valid_boundary("simple boundary"));
        assert!(is_valid_boundary("gc0pJq0M:08jU534c0p"));
        assert!(!is_valid_boundary("ends with space "));
        assert!(!is_valid_boundary(""));
        assert!(!is_valid_boundary(&"x".repeat(71)));
        assert!(!is_valid_boundary("semi;colon"));
    }
}
