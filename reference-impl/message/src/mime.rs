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
pub use crate::params::{Parameter, Parameters, RawParameter};
use crate::params::{parse_parameters, write_params};
use crate::qp::{self, QpIssue};
use crate::syntax::{Cursor, SyntaxError};

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
    #[error("more than {MAX_PARAMETERS} parameters")]
    TooManyParameters,
}

/// Parameters beyond this many are not read (bounded work on hostile input).
pub const MAX_PARAMETERS: usize = 256;

/// RFC 2045 §5.1 `token`: CHAR except SPACE, CTLs and tspecials.
pub fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c)
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
        self.params.raw.push(RawParameter {
            name: name.to_ascii_lowercase(),
            value: value.to_string(),
        });
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
        self.media_type.eq_ignore_ascii_case(media_type)
            && self.subtype.eq_ignore_ascii_case(subtype)
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

/// Parse a Content-Type field body. Fails only when `type/subtype` cannot be read; a bad
/// parameter ends the parameter list and is recorded in `params.errors`.
pub fn parse_content_type(value: &str) -> Result<ContentType, MimeError> {
    let mut c = Cursor::new(value);
    let media_type = read_token(&mut c, "a media type")?;
    c.skip_cfws()?;
    if !c.eat('/') {
        return Err(MimeError::Expected("'/' after the media type"));
    }
    let subtype = read_token(&mut c, "a subtype")?;
    Ok(ContentType {
        media_type,
        subtype,
        params: parse_parameters(&mut c),
    })
}

/// Skip CFWS and read a non-empty token, lower-cased (the case-insensitive names of MIME).
pub(crate) fn read_token(c: &mut Cursor<'_>, what: &'static str) -> Result<String, MimeError> {
    c.skip_cfws()?;
    let token = c.take_while(is_token_char).to_ascii_lowercase();
    if token.is_empty() {
        Err(MimeError::Expected(what))
    } else {
        Ok(token)
    }
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
    let kind = read_token(&mut c, "a disposition type")?;
    Ok(ContentDisposition {
        kind,
        params: parse_parameters(&mut c),
    })
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
        matches!(
            self,
            TransferEncoding::SevenBit | TransferEncoding::EightBit | TransferEncoding::Binary
        )
    }

    /// Decode a body in this encoding. Unknown encodings leave the data as it is and say so.
    pub fn decode(&self, body: &[u8]) -> DecodedBody {
        match self {
            TransferEncoding::Base64 => {
                let d = base64::decode_mime(body);
                DecodedBody {
                    data: d.data,
                    base64_issues: d.issues,
                    ..Default::default()
                }
            }
            TransferEncoding::QuotedPrintable => {
                let d = qp::decode(body);
                DecodedBody {
                    data: d.data,
                    qp_issues: d.issues,
                    ..Default::default()
                }
            }
            TransferEncoding::Other(_) => DecodedBody {
                data: body.to_vec(),
                unknown_encoding: true,
                ..Default::default()
            },
            _ => DecodedBody {
                data: body.to_vec(),
                ..Default::default()
            },
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
        assert_eq!(
            ct.as_ref().ok().and_then(|c| c.boundary()),
            Some("gc0pJq0M:08jU534c0p")
        );
        // RFC 2046 §5.1.1: an unquoted ':' is not valid; the bad parameter is reported.
        let ct = parse_content_type("multipart/mixed; boundary=gc0pJq0M:08jU534c0p");
        let ct = ct.unwrap_or_else(|_| ContentType::default_text());
        assert_eq!(
            ct.params.errors,
            vec![MimeError::Expected("';' before a parameter")]
        );
        // RFC 2045 §5.1 example: comments are allowed; all these are the same.
        for v in [
            "text/plain; charset=us-ascii (Plain text)",
            "text/plain; charset=\"us-ascii\"",
            "TEXT/PLAIN; CHARSET=us-ascii",
        ] {
            let ct = parse_content_type(v).unwrap_or_else(|_| ContentType::new("x", "y"));
            assert!(ct.is("text", "plain"), "{v}");
            assert_eq!(ct.charset(), Some(Charset::UsAscii), "{v}");
        }
        assert_eq!(
            parse_content_type("text"),
            Err(MimeError::Expected("'/' after the media type"))
        );
        assert_eq!(
            parse_content_type(""),
            Err(MimeError::Expected("a media type"))
        );
        assert!(parse_content_type("text/plain;").is_ok_and(|c| c.params.errors.is_empty()));
    }

    #[test]
    fn encodings_dispositions_languages() {
        assert_eq!(
            TransferEncoding::parse(" Base64 "),
            TransferEncoding::Base64
        );
        assert_eq!(
            TransferEncoding::parse("quoted-printable (comment)"),
            TransferEncoding::QuotedPrintable
        );
        assert_eq!(
            TransferEncoding::parse("x-uuencode"),
            TransferEncoding::Other("x-uuencode".into())
        );
        assert_eq!(
            TransferEncoding::Base64.decode(b"Zm9v\r\nYmFy").data,
            b"foobar"
        );
        assert_eq!(
            TransferEncoding::QuotedPrintable.decode(b"a=3Db").data,
            b"a=b"
        );
        assert!(
            TransferEncoding::Other("x".into())
                .decode(b"z")
                .unknown_encoding
        );
        let cd = parse_content_disposition("inline (shown); filename=\"a b.txt\"; size=12");
        assert_eq!(
            cd.as_ref().map(|d| (d.kind.as_str(), d.filename())),
            Ok(("inline", Some("a b.txt")))
        );
        assert_eq!(
            cd.map(|d| d.to_string()).as_deref(),
            Ok("inline; filename=\"a b.txt\"; size=12")
        );
        assert_eq!(
            parse_content_language("en-US, fr (French)"),
            vec!["en-US", "fr"]
        );
        assert_eq!(
            ContentType::new("Multipart", "Report")
                .with_param("report-type", "delivery-status")
                .with_param("boundary", "a:b")
                .to_string(),
            "multipart/report; report-type=delivery-status; boundary=\"a:b\""
        );
    }
}
