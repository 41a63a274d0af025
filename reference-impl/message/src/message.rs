//! [`Message`]: the original bytes, kept for byte-exact reproduction, and parsed views of
//! them (header fields, the MIME entity tree, structured fields on demand).

use std::ops::Range;

use crate::address::{self, AddressList, Mailbox};
use crate::charset::Charset;
use crate::datetime::{self, DateTime};
use crate::encoded_word;
use crate::header::HeaderField;
use crate::mime::DecodedBody;
use crate::msg_id::{self, MessageId};
use crate::part::{self, Part};

/// An RFC 5322 message. Parsing never fails and never panics: whatever is wrong is kept in
/// the parts' `issues` and reported by [`Message::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    raw: Vec<u8>,
    root: Part,
}

/// Parse a message (copies the bytes). Total: any input gives a `Message`.
pub fn parse(bytes: &[u8]) -> Message {
    Message::from_bytes(bytes.to_vec())
}

impl Message {
    /// Parse a message, taking ownership of its bytes.
    pub fn from_bytes(raw: Vec<u8>) -> Message {
        let root = part::parse_entity(&raw, 0..raw.len());
        Message { raw, root }
    }

    /// The message exactly as it was given.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    pub fn into_raw(self) -> Vec<u8> {
        self.raw
    }

    /// The top-level entity: header fields, body, MIME tree.
    pub fn root(&self) -> &Part {
        &self.root
    }

    /// The bytes of a range from a [`Part`] (empty if it is not within the message).
    pub fn bytes(&self, range: &Range<usize>) -> &[u8] {
        self.raw.get(range.clone()).unwrap_or_default()
    }

    /// The header section, with the empty line that ends it.
    pub fn header_bytes(&self) -> &[u8] {
        self.bytes(&self.root.header)
    }

    /// The body (everything after the empty line).
    pub fn body_bytes(&self) -> &[u8] {
        self.bytes(&self.root.body)
    }

    /// All header fields, in order.
    pub fn fields(&self) -> &[HeaderField] {
        &self.root.fields
    }

    /// The first field with this name (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&HeaderField> {
        self.root.field(name)
    }

    /// Every field with this name, in order.
    pub fn fields_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a HeaderField> + 'a {
        self.root.fields.iter().filter(move |f| f.is(name))
    }

    /// The trimmed, unfolded value of the first field with this name.
    pub fn value(&self, name: &str) -> Option<String> {
        self.field(name).map(HeaderField::value)
    }

    /// An entity by IMAP section number (RFC 3501 §6.4.5); `[]` is the message itself.
    pub fn section(&self, path: &[u32]) -> Option<&Part> {
        self.root.section(path)
    }

    /// Subject, RFC 2047 words decoded.
    pub fn subject(&self) -> Option<String> {
        self.value("Subject")
            .map(|s| encoded_word::decode_text(&s).text)
    }

    /// The Date field, if present and valid (obsolete forms accepted).
    pub fn date(&self) -> Option<DateTime> {
        self.value("Date").and_then(|d| datetime::parse(&d).ok())
    }

    /// An address field (From, To, Cc, Bcc, Reply-To, Sender, Resent-...), leniently parsed;
    /// empty if the field is absent.
    pub fn addresses(&self, name: &str) -> AddressList {
        self.value(name)
            .map(|v| address::parse_address_list(&v))
            .unwrap_or_default()
    }

    /// The From mailboxes (lenient).
    pub fn from(&self) -> Vec<Mailbox> {
        self.addresses("From").mailboxes().cloned().collect()
    }

    /// Message-ID, if present and valid.
    pub fn message_id(&self) -> Option<MessageId> {
        self.value("Message-ID")
            .and_then(|v| msg_id::parse_msg_id(&v).ok())
    }

    /// A part's body with its Content-Transfer-Encoding removed.
    pub fn decoded_body(&self, part: &Part) -> DecodedBody {
        part.encoding.decode(self.bytes(&part.body))
    }

    /// A text part's content as text: transfer encoding removed, charset decoded (unknown
    /// charsets are read as UTF-8, invalid bytes as U+FFFD). `None` for non-text parts.
    pub fn text(&self, part: &Part) -> Option<String> {
        if part.content_type.media_type != "text" {
            return None;
        }
        let charset = part.content_type.charset().unwrap_or(Charset::Utf8);
        Some(charset.decode(&self.decoded_body(part).data).text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A11: &[u8] = include_bytes!("../tests/data/rfc5322_a1_1a.eml");
    const A13: &[u8] = include_bytes!("../tests/data/rfc5322_a1_3.eml");

    #[test]
    fn canonical_message_views() {
        let m = parse(A11);
        assert_eq!(m.raw(), A11);
        assert_eq!(m.subject().as_deref(), Some("Saying Hello"));
        assert_eq!(
            m.from().iter().map(Mailbox::addr_spec).collect::<Vec<_>>(),
            ["jdoe@machine.example"]
        );
        assert_eq!(
            m.date().map(|d| d.to_string()).as_deref(),
            Some("Fri, 21 Nov 1997 09:55:06 -0600")
        );
        assert_eq!(
            m.message_id().map(|i| i.to_string()).as_deref(),
            Some("<1234@local.machine.example>")
        );
        assert_eq!(
            m.body_bytes(),
            b"This is a message just to say hello.\r\nSo, \"Hello\".\r\n"
        );
        assert_eq!([m.header_bytes(), m.body_bytes()].concat(), A11);
        assert_eq!(m.fields().len(), 5);
        assert_eq!(m.root().lines, 2);
        let root = m.root();
        assert_eq!(
            m.text(root).as_deref(),
            Some("This is a message just to say hello.\r\nSo, \"Hello\".\r\n")
        );
        assert_eq!(
            m.section(&[1]).map(|p| p.body.clone()),
            Some(root.body.clone())
        );
    }

    #[test]
    fn group_message_views() {
        let m = parse(A13);
        assert_eq!(m.addresses("To").mailboxes().count(), 3);
        assert_eq!(m.addresses("Cc").addresses.len(), 1);
        assert!(m.addresses("Bcc").addresses.is_empty());
        assert_eq!(m.date().map(|d| d.year), Some(1969));
    }

    #[test]
    fn decodes_bodies_by_encoding_and_charset() {
        let raw = b"Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: base64\r\n\r\n8NLJ18XU\r\n";
        let m = parse(raw);
        assert_eq!(m.text(m.root()).as_deref(), Some("Привет"));
        let raw = b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9=\r\n!";
        let m = parse(raw);
        assert_eq!(m.text(m.root()).as_deref(), Some("café!"));
        let m = parse(b"Content-Type: image/png\r\n\r\nxx");
        assert_eq!(m.text(m.root()), None);
    }
}
