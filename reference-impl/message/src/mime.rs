//! MIME header fields: Content-Type (RFC 2045 §5) with its parameters, RFC 2231 parameter
//! continuations, charsets and languages, Content-Transfer-Encoding (RFC 2045 §6),
//! Content-Disposition (RFC 2183) and Content-Language (RFC 3282).
//!
//! Type, subtype and parameter names are case-insensitive and kept in lower case; parameter
//! values keep their case. Comments are allowed between the tokens (RFC 2045 §5.1: the
//! fields are structured, RFC 822 lexical rules apply).

use std::fmt;

use thiserror::Error;

use crate::base64::{self, Base64Issue};
use crate::charset::Charset;
use crate::issues::Issues;
use crate::qp::{self, QpIssue};
use crate::syntax::{self, Cursor, SyntaxError};

/// Why a MIME field could not be read (entirely or from some parameter on).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MimeError {
    #[error(transparent)]
    Syntax(#[from] SyntaxError),
    #[error("expected {0} (RFC 2045 §5.1)")]
    Expected(&'static str),
    #[error("RFC 2231 parameter {0:?} has a missing or repeated section (RFC 2231 §3)")]
    BadContinuation(String),
    #[error("RFC 2231 parameter {0:?} is not charset'language'value (RFC 2231 §4)")]
    BadExtendedValue(String),
    #[error("parameter {0:?} appears twice (RFC 2045 §5.1)")]
    DuplicateParameter(String),
}

/// RFC 2045 §5.1 `token`: CHAR except SPACE, CTLs and tspecials.
pub fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c)
}

/// One parameter, after RFC 2231 sections are joined and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// Lower case, without RFC 2231 `*n` / `*` suffixes.
    pub name: String,
    /// The value: unquoted, and for RFC 2231 values percent-decoded and charset-decoded.
    pub value: String,
    /// RFC 2231 charset, if the value was extended.
    pub charset: Option<String>,
    /// RFC 2231 language, if given.
    pub language: Option<String>,
}

/// A parameter as written, before RFC 2231 processing (name lower-cased, value unquoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawParameter {
    pub name: String,
    pub value: String,
}

/// The parameters of a field, and the first problem met reading them (the ones before it
/// are kept).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parameters {
    pub params: Vec<Parameter>,
    pub raw: Vec<RawParameter>,
    pub errors: Vec<MimeError>,
}

impl Parameters {
    /// The value of a parameter (name case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|p| p.name.eq_ignore_ascii_case(name)).map(|p| p.value.as_str())
    }
}

/// RFC 2045 §5 Content-Type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// Lower case, e.g. `text`.
    pub media_type: String,
    /// Lower case, e.g. `plain`.
    pub subtype: String,
    pub params: Parameters,
}

impl ContentType {
    /// A type with no parameters.
    pub fn new(media_type: &str, subtype: &str) -> Self {
        ContentType {
            media_type: media_type.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            params: Parameters::default(),
        }
    }

    /// Add a parameter (builder style).
    pub fn with_param(mut self, name: &str, value: &str) -> Self {
        self.params.raw.push(RawParameter { name: name.to_ascii_lowercase(), value: value.to_string() });
        self.params.params.push(Parameter {
            name: name.to_ascii_lowercase(),
            value: value.to_string(),
            charset: None,
            language: None,
        });
        self
    }

    /// RFC 2045 §5.2: `text/plain; charset=us-ascii`, the default.
    pub fn default_text() -> Self {
        ContentType::new("text", "plain").with_param("charset", "us-ascii")
    }

    /// RFC 2046 §5.1.5: the default inside multipart/digest.
    pub fn default_digest_part() -> Self {
        ContentType::new("message", "rfc822")
    }

    pub fn is(&self, media_type: &str, subtype: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(media_type) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    pub fn is_multipart(&self) -> bool {
        self.media_type == "multipart"
    }

    /// message/rfc822 (and RFC 6532's message/global): an encapsulated message.
    pub fn is_message(&self) -> bool {
        self.media_type == "message" && (self.subtype == "rfc822" || self.subtype == "global")
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name)
    }

    /// The charset parameter, if it names a charset the oracle knows.
    pub fn charset(&self) -> Option<Charset> {
        self.param("charset").and_then(Charset::from_name)
    }

    pub fn boundary(&self) -> Option<&str> {
        self.param("boundary")
    }
}

/// `type/subtype; name=value; ...` with values quoted where they must be.
impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.media_type, self.subtype)?;
        write_params(f, &self.params)
    }
}

fn write_params(f: &mut fmt::Formatter<'_>, params: &Parameters) -> fmt::Result {
    for p in &params.params {
        if !p.value.is_empty() && p.value.chars().all(is_token_char) {
            write!(f, "; {}={}", p.name, p.value)?;
        } else {
            write!(f, "; {}={}", p.name, syntax::quote(&p.value))?;
        }
    }
    Ok(())
}

/// Parse a Content-Type field body. Fails only when `type/subtype` cannot be read; a bad
/// parameter ends the parameter list and is recorded in `params.errors`.
pub fn parse_content_type(value: &str) -> Result<ContentType, MimeError> {
    let mut c = Cursor::new(value);
    c.skip_cfws()?;
    let media_type = c.take_while(is_token_char).to_ascii_lowercase();
    if media_type.is_empty() {
        return Err(MimeError::Expected("a media type"));
    }
    c.skip_cfws()?;
    if !c.eat('/') {
        return Err(MimeError::Expected("'/' after the media type"));
    }
    c.skip_cfws()?;
    let subtype = c.take_while(is_token_char).to_ascii_lowercase();
    if subtype.is_empty() {
        return Err(MimeError::Expected("a subtype"));
    }
    Ok(ContentType { media_type, subtype, params: parse_parameters(&mut c) })
}

/// RFC 2183 Content-Disposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDisposition {
    /// Lower case: `inline`, `attachment`, or an extension token.
    pub kind: String,
    pub params: Parameters,
}

impl ContentDisposition {
    pub fn filename(&self) -> Option<&str> {
        self.params.get("filename")
    }
}

impl fmt::Display for ContentDisposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        write_params(f, &self.params)
    }
}

/// Parse a Content-Disposition field body (RFC 2183 §2).
pub fn parse_content_disposition(value: &str) -> Result<ContentDisposition, MimeError> {
    let mut c = Cursor::new(value);
    c.skip_cfws()?;
    let kind = c.take_while(is_token_char).to_ascii_lowercase();
    if kind.is_empty() {
        return Err(MimeError::Expected("a disposition type"));
    }
    Ok(ContentDisposition { kind, params: parse_parameters(&mut c) })
}

/// RFC 3282 Content-Language: a comma-separated list of language tags, comments removed.
pub fn parse_content_language(value: &str) -> Vec<String> {
    let mut c = Cursor::new(value);
    let mut tags = Vec::new();
    loop {
        if c.skip_cfws().is_err() {
            break;
        }
        let tag = c.take_while(|ch| ch.is_ascii_alphanumeric() || ch == '-');
        if !tag.is_empty() {
            tags.push(tag.to_string());
        }
        if c.skip_cfws().is_err() || !c.eat(',') {
            break;
        }
    }
    tags
}

/// `*(";" parameter)` up to the end of the field.
fn parse_parameters(c: &mut Cursor<'_>) -> Parameters {
    let mut out = Parameters::default();
    if let Err(e) = read_raw_parameters(c, &mut out.raw) {
        out.errors.push(e);
    }
    combine_rfc2231(&mut out);
    out
}

fn read_raw_parameters(c: &mut Cursor<'_>, raw: &mut Vec<RawParameter>) -> Result<(), MimeError> {
    loop {
        c.skip_cfws()?;
        if c.is_at_end() {
            return Ok(());
        }
        if !c.eat(';') {
            return Err(MimeError::Expected("';' before a parameter"));
        }
        c.skip_cfws()?;
        // A trailing ';' (common, harmless) ends the list.
        if c.is_at_end() {
            return Ok(());
        }
        let name = c.take_while(is_token_char).to_ascii_lowercase();
        if name.is_empty() {
            return Err(MimeError::Expected("a parameter name"));
        }
        c.skip_cfws()?;
        if !c.eat('=') {
            return Err(MimeError::Expected("'=' after a parameter name"));
        }
        c.skip_cfws()?;
        let value = if c.peek() == Some('"') {
            c.quoted_string()?
        } else {
            let token = c.take_while(is_token_char);
            if token.is_empty() {
                return Err(MimeError::Expected("a token or quoted string as parameter value"));
            }
            token.to_string()
        };
        raw.push(RawParameter { name, value });
    }
}

/// RFC 2231 §3 and §4: join `name*0`, `name*1*`... sections in order, decode `name*` values
/// (`charset'language'percent-encoded`). A plain parameter and an extended one of the same
/// name: the extended one wins. Sections beyond 999 are ignored (bounded work).
fn combine_rfc2231(out: &mut Parameters) {
    struct Section<'a> {
        index: u32,
        extended: bool,
        value: &'a str,
    }
    let mut groups: Vec<(String, Vec<Section<'_>>)> = Vec::new();
    let mut plain: Vec<Parameter> = Vec::new();
    for raw in &out.raw {
        let (base, index, extended) = split_section(&raw.name);
        match index {
            None if !extended => {
                if plain.iter().any(|p| p.name == base) {
                    out.errors.push(MimeError::DuplicateParameter(base.to_string()));
                } else {
                    plain.push(Parameter { name: base.to_string(), value: raw.value.clone(), charset: None, language: None });
                }
            }
            _ => {
                let section = Section { index: index.unwrap_or(0), extended, value: &raw.value };
                match groups.iter_mut().find(|(name, _)| name == base) {
                    Some((_, sections)) => sections.push(section),
                    None => groups.push((base.to_string(), vec![section])),
                }
            }
        }
    }
    for (name, mut sections) in groups {
        sections.retain(|s| s.index < 1000);
        sections.sort_by_key(|s| s.index);
        if sections.iter().enumerate().any(|(i, s)| s.index as usize != i) {
            out.errors.push(MimeError::BadContinuation(name.clone()));
            // Keep the contiguous run from 0.
            let run = sections.iter().enumerate().take_while(|(i, s)| s.index as usize == *i).count();
            sections.truncate(run);
        }
        if sections.is_empty() {
            continue;
        }
        let (mut charset, mut language) = (None, None);
        let mut bytes = Vec::new();
        for (i, s) in sections.iter().enumerate() {
            let mut text = s.value;
            if s.extended && i == 0 {
                let mut parts = text.splitn(3, '\'');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(cs), Some(lang), Some(rest)) => {
                        charset = Some(cs.to_string()).filter(|c| !c.is_empty());
                        language = Some(lang.to_string()).filter(|l| !l.is_empty());
                        text = rest;
                    }
                    _ => out.errors.push(MimeError::BadExtendedValue(name.clone())),
                }
            }
            if s.extended {
                percent_decode(text, &mut bytes);
            } else {
                bytes.extend_from_slice(text.as_bytes());
            }
        }
        let value = match charset.as_deref().and_then(Charset::from_name) {
            Some(cs) => cs.decode(&bytes).text,
            None => String::from_utf8_lossy(&bytes).into_owned(),
        };
        plain.retain(|p| p.name != name);
        plain.push(Parameter { name, value, charset, language });
    }
    out.params = plain;
}

/// `name*2*` -> (`name`, Some(2), true); `name*` -> (`name`, None, true).
fn split_section(name: &str) -> (&str, Option<u32>, bool) {
    let (rest, extended) = match name.strip_suffix('*') {
        Some(r) => (r, true),
        None => (name, false),
    };
    if let Some((base, digits)) = rest.rsplit_once('*') {
        if !digits.is_empty() && digits.len() <= 4 && digits.bytes().all(|b| b.is_ascii_digit()) {
            return (base, digits.parse().ok(), extended);
        }
    }
    (rest, None, extended)
}

/// `%XX` to bytes; a `%` not followed by two hex digits stays as it is.
fn percent_decode(text: &str, out: &mut Vec<u8>) {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(&byte) = b.get(i) {
        if byte == b'%' {
            let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(byte);
        i += 1;
    }
}

/// RFC 2045 §6 Content-Transfer-Encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferEncoding {
    SevenBit,
    EightBit,
    Binary,
    QuotedPrintable,
    Base64,
    /// An `x-` token or anything else (lower case).
    Other(String),
}

impl TransferEncoding {
    /// Parse a field body (case-insensitive, comments allowed).
    pub fn parse(value: &str) -> TransferEncoding {
        let mut c = Cursor::new(value);
        let _ = c.skip_cfws();
        let token = c.take_while(is_token_char).to_ascii_lowercase();
        match token.as_str() {
            "7bit" => TransferEncoding::SevenBit,
            "8bit" => TransferEncoding::EightBit,
            "binary" => TransferEncoding::Binary,
            "quoted-printable" => TransferEncoding::QuotedPrintable,
            "base64" => TransferEncoding::Base64,
            _ => TransferEncoding::Other(token),
        }
    }

    /// The canonical (lower-case) name.
    pub fn as_str(&self) -> &str {
        match self {
            TransferEncoding::SevenBit => "7bit",
            TransferEncoding::EightBit => "8bit",
            TransferEncoding::Binary => "binary",
            TransferEncoding::QuotedPrintable => "quoted-printable",
            TransferEncoding::Base64 => "base64",
            TransferEncoding::Other(s) => s,
        }
    }

    /// 7bit, 8bit and binary leave the data as it is (RFC 2045 §6.2).
    pub fn is_identity(&self) -> bool {
        matches!(self, TransferEncoding::SevenBit | TransferEncoding::EightBit | TransferEncoding::Binary)
    }

    /// Decode a body in this encoding. Unknown encodings leave the data as it is and say so.
    pub fn decode(&self, body: &[u8]) -> DecodedBody {
        match self {
            TransferEncoding::Base64 => {
                let d = base64::decode_mime(body);
                DecodedBody { data: d.data, base64_issues: d.issues, ..Default::default() }
            }
            TransferEncoding::QuotedPrintable => {
                let d = qp::decode(body);
                DecodedBody { data: d.data, qp_issues: d.issues, ..Default::default() }
            }
            TransferEncoding::Other(_) => DecodedBody { data: body.to_vec(), unknown_encoding: true, ..Default::default() },
            _ => DecodedBody { data: body.to_vec(), ..Default::default() },
        }
    }
}

impl fmt::Display for TransferEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A body with its transfer encoding removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecodedBody {
    pub data: Vec<u8>,
    pub base64_issues: Issues<Base64Issue>,
    pub qp_issues: Issues<QpIssue>,
    /// The encoding was not one of RFC 2045's: the data is the body as it is.
    pub unknown_encoding: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_of_the_rfcs() {
        let ct = parse_content_type("multipart/mixed; boundary=gc0p4Jq0M2Yt08j34c0p");
        let ct = ct.unwrap_or_else(|_| ContentType::default_text());
        assert!(ct.is("multipart", "mixed") && ct.is_multipart());
        assert_eq!(ct.boundary(), Some("gc0p4Jq0M2Yt08j34c0p"));
        let ct = parse_content_type("Multipart/Mixed; Boundary=\"gc0pJq0M:08jU534c0p\"");
        assert_eq!(ct.as_ref().ok().and_then(|c| c.boundary()), Some("gc0pJq0M:08jU534c0p"));
        // RFC 2046 §5.1.1: an unquoted ':' is not valid; the bad parameter is reported.
        let ct = parse_content_type("multipart/mixed; boundary=gc0pJq0M:08jU534c0p");
        let ct = ct.unwrap_or_else(|_| ContentType::default_text());
        assert_eq!(ct.params.errors, vec![MimeError::Expected("';' before a parameter")]);
        // RFC 2045 §5.1 example: comments are allowed; all these are the same.
        for v in ["text/plain; charset=us-ascii (Plain text)", "text/plain; charset=\"us-ascii\"", "TEXT/PLAIN; CHARSET=us-ascii"] {
            let ct = parse_content_type(v).unwrap_or_else(|_| ContentType::new("x", "y"));
            assert!(ct.is("text", "plain"), "{v}");
            assert_eq!(ct.charset(), Some(Charset::UsAscii), "{v}");
        }
        assert_eq!(parse_content_type("text"), Err(MimeError::Expected("'/' after the media type")));
        assert_eq!(parse_content_type(""), Err(MimeError::Expected("a media type")));
        assert!(parse_content_type("text/plain;").is_ok_and(|c| c.params.errors.is_empty()));
    }

    #[test]
    fn rfc2231_continuations_and_charsets() {
        // RFC 2231 §3 example.
        let ct = parse_content_type(
            "message/external-body; access-type=URL;\r\n URL*0=\"ftp://\";\r\n URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
        );
        let ct = ct.unwrap_or_else(|_| ContentType::default_text());
        assert_eq!(ct.param("url"), Some("ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"));
        assert_eq!(ct.param("access-type"), Some("URL"));
        // RFC 2231 §4 example.
        let ct = parse_content_type("application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A");
        let ct = ct.unwrap_or_else(|_| ContentType::default_text());
        let title = ct.params.params.iter().find(|p| p.name == "title").cloned();
        assert_eq!(title.as_ref().map(|p| p.value.as_str()), Some("This is ***fun***"));
        assert_eq!(title.and_then(|p| p.language), Some("en-us".to_string()));
        // RFC 2231 §4.1 example: mixed extended and plain sections.
        let ct = parse_content_type(
            "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
        );
        assert_eq!(ct.ok().and_then(|c| c.param("title").map(str::to_string)).as_deref(), Some("This is even more ***fun*** isn't it!"));
        let cd = parse_content_disposition("attachment; filename*=UTF-8''%D0%96%C3%A9.txt; filename=\"fallback.txt\"");
        assert_eq!(cd.as_ref().ok().and_then(|d| d.filename()), Some("Жé.txt"));
        let cd = parse_content_disposition("attachment; filename*=windows-1251''%C0.txt");
        assert_eq!(cd.ok().and_then(|d| d.filename().map(str::to_string)).as_deref(), Some("А.txt"));
        let ct = parse_content_type("a/b; x*0=a; x*2=c").unwrap_or_else(|_| ContentType::default_text());
        assert_eq!(ct.param("x"), Some("a"));
        assert_eq!(ct.params.errors, vec![MimeError::BadContinuation("x".into())]);
        let ct = parse_content_type("a/b; x=1; X=2").unwrap_or_else(|_| ContentType::default_text());
        assert_eq!(ct.params.errors, vec![MimeError::DuplicateParameter("x".into())]);
    }

    #[test]
    fn encodings_dispositions_languages() {
        assert_eq!(TransferEncoding::parse(" Base64 "), TransferEncoding::Base64);
        assert_eq!(TransferEncoding::parse("quoted-printable (comment)"), TransferEncoding::QuotedPrintable);
        assert_eq!(TransferEncoding::parse("x-uuencode"), TransferEncoding::Other("x-uuencode".into()));
        assert_eq!(TransferEncoding::Base64.decode(b"Zm9v\r\nYmFy").data, b"foobar");
        assert_eq!(TransferEncoding::QuotedPrintable.decode(b"a=3Db").data, b"a=b");
        assert!(TransferEncoding::Other("x".into()).decode(b"z").unknown_encoding);
        let cd = parse_content_disposition("inline (shown); filename=\"a b.txt\"; size=12");
        assert_eq!(cd.as_ref().map(|d| (d.kind.as_str(), d.filename())), Ok(("inline", Some("a b.txt"))));
        assert_eq!(cd.map(|d| d.to_string()).as_deref(), Ok("inline; filename=\"a b.txt\"; size=12"));
        assert_eq!(parse_content_language("en-US, fr (French)"), vec!["en-US", "fr"]);
        assert_eq!(
            ContentType::new("Multipart", "Report").with_param("report-type", "delivery-status").with_param("boundary", "a:b").to_string(),
            "multipart/report; report-type=delivery-status; boundary=\"a:b\""
        );
    }
}
