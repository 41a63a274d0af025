//! Compose messages: header fields folded (RFC 5322 §2.2.3), non-ASCII text in RFC 2047
//! encoded words, MIME parts with a transfer encoding chosen to fit their content
//! (RFC 2045 §2.7, §2.8, §6.4) and multiparts with boundaries that cannot occur in their
//! content (RFC 2046 §5.1.1). Everything is written with CRLF line ends.
//!
//! Nothing here reads a clock or a random source: dates and ids are passed in, boundaries are
//! deterministic (`=_` prefixed, which quoted-printable and base64 output cannot contain, and
//! checked against the content they enclose).
//!
//! ```
//! use wirecheck_message::builder::{MessageBuilder, PartBuilder};
//! let bytes = MessageBuilder::new()
//!     .field("From", "postmaster@example.test")
//!     .subject("Undelivered Mail")
//!     .body(PartBuilder::multipart("report", vec![
//!         PartBuilder::text("plain", "Your message could not be delivered.\n"),
//!         PartBuilder::bytes("message", "delivery-status", b"Reporting-MTA: dns; example.test\r\n".to_vec()),
//!     ]).param("report-type", "delivery-status"))
//!     .build()
//!     .unwrap();
//! assert!(wirecheck_message::parse(&bytes).root().children().len() == 2);
//! ```

use thiserror::Error;

use crate::address::{self, Address, Mailbox};
use crate::base64;
use crate::charset::Charset;
use crate::datetime::DateTime;
use crate::encoded_word::{self, WordEncoding};
use crate::header::{self, FieldError, MAX_LINE_LEN};
use crate::mime::{ContentType, TransferEncoding};
use crate::msg_id::MessageId;
use crate::qp::{self, QpMode};

/// Why a message could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("content cannot be sent as {0} (RFC 2045 §2.7, §2.8)")]
    EncodingUnsuitable(String),
    #[error("message/rfc822 must be 7bit, 8bit or binary (RFC 2046 §5.2.1)")]
    EncodedMessage,
    #[error("no boundary found that does not occur in the content (RFC 2046 §5.1.1)")]
    NoBoundary,
}

/// A message under construction.
#[derive(Debug, Clone, Default)]
pub struct MessageBuilder {
    fields: Vec<(String, String)>,
    body: Option<PartBuilder>,
}

impl MessageBuilder {
    pub fn new() -> Self {
        MessageBuilder::default()
    }

    /// Add a field with a value that is already a valid field body (unfolded; it is folded
    /// on output).
    pub fn field(mut self, name: &str, value: impl Into<String>) -> Self {
        self.fields.push((name.to_string(), value.into()));
        self
    }

    /// Add an unstructured field (Subject, Comments...), RFC 2047-encoding it if needed.
    pub fn text_field(self, name: &str, text: &str) -> Self {
        let value = encode_header_text(text);
        self.field(name, value)
    }

    pub fn subject(self, text: &str) -> Self {
        self.text_field("Subject", text)
    }

    /// Add an address field (From, To, Cc, Reply-To...).
    pub fn addresses<'a>(self, name: &str, list: impl IntoIterator<Item = &'a Address>) -> Self {
        let value = address::render_address_list(list);
        self.field(name, value)
    }

    /// Add a mailbox field (From, Sender) from mailboxes.
    pub fn mailboxes<'a>(self, name: &str, list: impl IntoIterator<Item = &'a Mailbox>) -> Self {
        let value = list
            .into_iter()
            .map(Mailbox::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        self.field(name, value)
    }

    pub fn date(self, date: &DateTime) -> Self {
        self.field("Date", date.to_string())
    }

    pub fn message_id(self, id: &MessageId) -> Self {
        self.field("Message-ID", id.to_string())
    }

    /// The body. Without one the message is header fields and an empty body.
    pub fn body(mut self, part: PartBuilder) -> Self {
        self.body = Some(part);
        self
    }

    /// Write the message.
    pub fn build(&self) -> Result<Vec<u8>, BuildError> {
        let mut out = Vec::new();
        for (name, value) in &self.fields {
            header::write_field(name, value, &mut out)?;
        }
        match &self.body {
            None => out.extend_from_slice(b"\r\n"),
            Some(body) => {
                if !self
                    .fields
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("MIME-Version"))
                {
                    header::write_field("MIME-Version", "1.0", &mut out)?;
                }
                body.write(&mut out, 0)?;
            }
        }
        Ok(out)
    }
}

/// RFC 2047 encoding for a header text: UTF-8, B when most of it is not ASCII, Q otherwise.
fn encode_header_text(text: &str) -> String {
    let non_ascii = text.chars().filter(|c| !c.is_ascii()).count();
    let encoding = if non_ascii * 3 > text.chars().count() {
        WordEncoding::B
    } else {
        WordEncoding::Q
    };
    // UTF-8 represents every character, so this cannot fail.
    encoded_word::encode_text(text, Charset::Utf8, encoding).unwrap_or_else(|_| text.to_string())
}

/// A MIME entity under construction.
#[derive(Debug, Clone)]
pub struct PartBuilder {
    content_type: ContentType,
    fields: Vec<(String, String)>,
    content: Content,
    encoding: Option<TransferEncoding>,
}

#[derive(Debug, Clone)]
enum Content {
    Bytes(Vec<u8>),
    Multipart(Vec<PartBuilder>),
    Message(Vec<u8>),
}

impl PartBuilder {
    /// A text part: line ends normalised to CRLF (the canonical form, RFC 2049 §4), charset
    /// us-ascii or utf-8.
    pub fn text(subtype: &str, text: &str) -> Self {
        let normalised = text
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .replace('\n', "\r\n");
        let charset = if normalised.is_ascii() {
            "us-ascii"
        } else {
            "utf-8"
        };
        PartBuilder::bytes("text", subtype, normalised.into_bytes()).param("charset", charset)
    }

    /// A discrete part of any type with its content as it is.
    pub fn bytes(media_type: &str, subtype: &str, data: Vec<u8>) -> Self {
        PartBuilder {
            content_type: ContentType::new(media_type, subtype),
            fields: Vec::new(),
            content: Content::Bytes(data),
            encoding: None,
        }
    }

    /// A multipart of `subtype` (mixed, alternative, report, ...).
    pub fn multipart(subtype: &str, parts: Vec<PartBuilder>) -> Self {
        PartBuilder {
            content_type: ContentType::new("multipart", subtype),
            fields: Vec::new(),
            content: Content::Multipart(parts),
            encoding: None,
        }
    }

    /// A message/rfc822 part enclosing `message` as it is.
    pub fn message(message: Vec<u8>) -> Self {
        PartBuilder {
            content_type: ContentType::new("message", "rfc822"),
            fields: Vec::new(),
            content: Content::Message(message),
            encoding: None,
        }
    }

    /// Add a Content-Type parameter.
    pub fn param(mut self, name: &str, value: &str) -> Self {
        self.content_type = self.content_type.with_param(name, value);
        self
    }

    /// Add a header field to the part (Content-Disposition, Content-ID, ...).
    pub fn field(mut self, name: &str, value: impl Into<String>) -> Self {
        self.fields.push((name.to_string(), value.into()));
        self
    }

    /// Content-Description, RFC 2047-encoded if needed.
    pub fn description(self, text: &str) -> Self {
        let value = encode_header_text(text);
        self.field("Content-Description", value)
    }

    /// Force a transfer encoding instead of the one chosen from the content.
    pub fn encoding(mut self, encoding: TransferEncoding) -> Self {
        self.encoding = Some(encoding);
        self
    }

    /// Write the entity (header fields, empty line, body).
    fn write(&self, out: &mut Vec<u8>, depth: usize) -> Result<Encoded, BuildError> {
        let (body, encoding, content_type) = self.encode_body(depth)?;
        header::write_field("Content-Type", &content_type.to_string(), out)?;
        if encoding != TransferEncoding::SevenBit {
            header::write_field("Content-Transfer-Encoding", encoding.as_str(), out)?;
        }
        for (name, value) in &self.fields {
            header::write_field(name, value, out)?;
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        Ok(Encoded { encoding })
    }

    /// The encoded body, its encoding, and the content type (with the boundary for
    /// multiparts).
    fn encode_body(
        &self,
        depth: usize,
    ) -> Result<(Vec<u8>, TransferEncoding, ContentType), BuildError> {
        match &self.content {
            Content::Bytes(data) => {
                let encoding = match &self.encoding {
                    Some(e) => e.clone(),
                    None => choose_leaf_encoding(data, self.content_type.media_type == "text"),
                };
                let body = match &encoding {
                    TransferEncoding::Base64 => base64::encode_mime(data).into_bytes(),
                    TransferEncoding::QuotedPrintable => {
                        let mode = if self.content_type.media_type == "text" {
                            QpMode::Text
                        } else {
                            QpMode::Binary
                        };
                        qp::encode(data, mode).into_bytes()
                    }
                    e => {
                        if !fits_identity(data, e) {
                            return Err(BuildError::EncodingUnsuitable(e.to_string()));
                        }
                        data.clone()
                    }
                };
                Ok((body, encoding, self.content_type.clone()))
            }
            Content::Message(data) => {
                let encoding = match &self.encoding {
                    Some(e) if !e.is_identity() => return Err(BuildError::EncodedMessage),
                    Some(e) => e.clone(),
                    None => narrowest_identity(data),
                };
                if !fits_identity(data, &encoding) {
                    return Err(BuildError::EncodingUnsuitable(encoding.to_string()));
                }
                Ok((data.clone(), encoding, self.content_type.clone()))
            }
            Content::Multipart(parts) => {
                let mut encoded = Vec::with_capacity(parts.len());
                let mut widest = TransferEncoding::SevenBit;
                for part in parts {
                    let mut bytes = Vec::new();
                    let e = part.write(&mut bytes, depth + 1)?;
                    widest = wider(widest, e.encoding);
                    encoded.push(bytes);
                }
                let boundary = (0..1000)
                    .map(|k| format!("=_wirecheck_{depth}_{k}"))
                    .find(|b| {
                        let dash = format!("--{b}");
                        !encoded.iter().any(|p| contains(p, dash.as_bytes()))
                    })
                    .ok_or(BuildError::NoBoundary)?;
                let mut body = Vec::new();
                for part in &encoded {
                    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                    body.extend_from_slice(part);
                    body.extend_from_slice(b"\r\n");
                }
                body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
                let encoding = self.encoding.clone().unwrap_or(widest);
                if !encoding.is_identity() {
                    return Err(BuildError::EncodingUnsuitable(encoding.to_string()));
                }
                Ok((
                    body,
                    encoding,
                    self.content_type.clone().with_param("boundary", &boundary),
                ))
            }
        }
    }
}

struct Encoded {
    encoding: TransferEncoding,
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether data can be sent unencoded as 7bit (RFC 2045 §2.7), 8bit (§2.8) or binary.
fn fits_identity(data: &[u8], encoding: &TransferEncoding) -> bool {
    let lines_ok = || {
        let mut prev = 0u8;
        let mut len = 0usize;
        for &b in data {
            match b {
                b'\n' if prev != b'\r' => return false,
                b'\n' => len = 0,
                _ if prev == b'\r' => return false,
                b'\r' => {}
                _ => {
                    len += 1;
                    if len > MAX_LINE_LEN {
                        return false;
                    }
                }
            }
            prev = b;
        }
        prev != b'\r'
    };
    match encoding {
        TransferEncoding::SevenBit => data.iter().all(|&b| b != 0 && b < 128) && lines_ok(),
        TransferEncoding::EightBit => data.iter().all(|&b| b != 0) && lines_ok(),
        TransferEncoding::Binary => true,
        _ => false,
    }
}

fn narrowest_identity(data: &[u8]) -> TransferEncoding {
    [TransferEncoding::SevenBit, TransferEncoding::EightBit]
        .into_iter()
        .find(|e| fits_identity(data, e))
        .unwrap_or(TransferEncoding::Binary)
}

/// 7bit when the data allows it; otherwise quoted-printable for text, base64 for the rest.
fn choose_leaf_encoding(data: &[u8], is_text: bool) -> TransferEncoding {
    if fits_identity(data, &TransferEncoding::SevenBit) {
        TransferEncoding::SevenBit
    } else if is_text {
        TransferEncoding::QuotedPrintable
    } else {
        TransferEncoding::Base64
    }
}

fn rank(e: &TransferEncoding) -> u8 {
    match e {
        TransferEncoding::EightBit => 1,
        TransferEncoding::Binary => 2,
        _ => 0,
    }
}

fn wider(a: TransferEncoding, b: TransferEncoding) -> TransferEncoding {
    if rank(&b) > rank(&a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::parse;
    use crate::validate::Level;

    fn must_violations(bytes: &[u8]) -> Vec<String> {
        parse(bytes)
            .validate()
            .into_iter()
            .filter(|v| v.level == Level::Must)
            .map(|v| v.to_string())
            .collect()
    }

    fn headers() -> MessageBuilder {
        let date = DateTime::from_unix(1_000_000_000, 120).unwrap_or_else(|| unreachable!());
        MessageBuilder::new()
            .mailboxes(
                "From",
                &[Mailbox::new("postmaster", "example.test").with_name("Mail Delivery System")],
            )
            .field("To", "alice@example.test")
            .date(&date)
            .message_id(&MessageId {
                left: "dsn.1".into(),
                right: "example.test".into(),
            })
    }

    #[test]
    fn dsn_multipart_report() {
        let original =
            b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nhello\r\n"
                .to_vec();
        let status = b"Reporting-MTA: dns; example.test\r\n\r\nFinal-Recipient: rfc822; bob@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\n";
        let bytes = headers()
            .subject("Undelivered Mail Returned to Sender")
            .body(
                PartBuilder::multipart(
                    "report",
                    vec![
                        PartBuilder::text("plain", "Your message could not be delivered.\n"),
                        PartBuilder::bytes("message", "delivery-status", status.to_vec()),
                        PartBuilder::message(original.clone()),
                    ],
                )
                .param("report-type", "delivery-status"),
            )
            .build();
        let bytes = bytes.unwrap_or_default();
        assert_eq!(must_violations(&bytes), Vec::<String>::new());
        let m = parse(&bytes);
        let root = m.root();
        assert!(root.content_type.is("multipart", "report"));
        assert_eq!(
            root.content_type.param("report-type"),
            Some("delivery-status")
        );
        assert_eq!(
            m.text(&root.children()[0]).as_deref(),
            Some("Your message could not be delivered.\r\n")
        );
        assert_eq!(m.bytes(&root.children()[1].body), status);
        assert_eq!(m.bytes(&root.children()[2].body), &original[..]);
        assert_eq!(
            m.section(&[3, 1]).map(|p| m.bytes(&p.body).to_vec()),
            Some(b"hello\r\n".to_vec())
        );
        assert_eq!(m.value("MIME-Version").as_deref(), Some("1.0"));
    }

    #[test]
    fn encodings_are_chosen_from_content() {
        let bytes = headers()
            .subject("Grüße aus Köln — Привет")
            .body(PartBuilder::multipart(
                "mixed",
                vec![
                    PartBuilder::text("plain", "plain ascii\n"),
                    PartBuilder::text("plain", "café\n"),
                    PartBuilder::bytes("application", "octet-stream", vec![0, 1, 2, 255, 13, 10])
                        .field("Content-Disposition", "attachment; filename=x.bin"),
                    PartBuilder::text("plain", &"long line ".repeat(200)),
                ],
            ))
            .build()
            .unwrap_or_default();
        assert_eq!(must_violations(&bytes), Vec::<String>::new());
        let m = parse(&bytes);
        assert_eq!(m.subject().as_deref(), Some("Grüße aus Köln — Привет"));
        let encodings: Vec<&str> = m
            .root()
            .children()
            .iter()
            .map(|p| p.encoding.as_str())
            .collect();
        assert_eq!(
            encodings,
            ["7bit", "quoted-printable", "base64", "quoted-printable"]
        );
        let parts = m.root().children();
        assert_eq!(m.text(&parts[1]).as_deref(), Some("café\r\n"));
        assert_eq!(m.decoded_body(&parts[2]).data, vec![0, 1, 2, 255, 13, 10]);
        assert_eq!(m.text(&parts[3]), Some("long line ".repeat(200)));
        assert_eq!(
            parts[2].disposition.as_ref().and_then(|d| d.filename()),
            Some("x.bin")
        );
    }

    #[test]
    fn boundaries_avoid_content_and_nest() {
        let inner = PartBuilder::multipart(
            "alternative",
            vec![
                PartBuilder::text("plain", "--=_wirecheck_1_0\nsneaky"),
                PartBuilder::text("html", "<p>x</p>"),
            ],
        );
        let bytes = MessageBuilder::new()
            .body(PartBuilder::multipart(
                "mixed",
                vec![inner, PartBuilder::text("plain", "--=_wirecheck_0_0 too")],
            ))
            .build()
            .unwrap_or_default();
        let m = parse(&bytes);
        assert_eq!(
            m.section(&[1, 1]).and_then(|p| m.text(p)).as_deref(),
            Some("--=_wirecheck_1_0\r\nsneaky")
        );
        assert_eq!(
            m.section(&[1, 2])
                .map(|p| p.content_type.subtype.clone())
                .as_deref(),
            Some("html")
        );
        assert_eq!(
            m.section(&[2]).and_then(|p| m.text(p)).as_deref(),
            Some("--=_wirecheck_0_0 too")
        );
        assert_ne!(m.root().content_type.boundary(), Some("=_wirecheck_0_0"));
    }

    #[test]
    fn unsuitable_encodings_are_errors() {
        let b = MessageBuilder::new().body(
            PartBuilder::bytes("text", "plain", b"caf\xe9".to_vec())
                .encoding(TransferEncoding::SevenBit),
        );
        assert_eq!(
            b.build(),
            Err(BuildError::EncodingUnsuitable("7bit".into()))
        );
        let b = MessageBuilder::new()
            .body(PartBuilder::message(b"x".to_vec()).encoding(TransferEncoding::Base64));
        assert_eq!(b.build(), Err(BuildError::EncodedMessage));
        let b = MessageBuilder::new().field("Bad Name", "x");
        assert!(matches!(b.build(), Err(BuildError::Field(_))));
        let m = PartBuilder::message(b"Subject: 8bit \xc3\xa9\r\n\r\nx".to_vec());
        let bytes = MessageBuilder::new().body(m).build().unwrap_or_default();
        assert_eq!(parse(&bytes).root().encoding, TransferEncoding::EightBit);
    }
}
