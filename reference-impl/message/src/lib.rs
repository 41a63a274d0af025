//! The message-format oracle: RFC 5322 messages, MIME (RFC 2045-2049), RFC 2047 encoded
//! words, RFC 2231 parameters, base64 (RFC 4648) and quoted-printable, written from the RFCs.
//!
//! # Design
//!
//! Everything here is a pure function of its input: no I/O, no clock, no randomness. Every
//! entry point is total: it accepts any bytes, never panics, and bounds its work and its
//! output (nesting depth, number of MIME parts, number of issues kept). What a lenient
//! decoder had to repair is reported, typed, next to what it produced, so the same code
//! serves a server (which must accept what it can) and a conformance checker (which must say
//! what is wrong, with the clause).
//!
//! A [`Message`] keeps its original bytes: every parsed view (header fields, MIME entities,
//! their header and body ranges) points into them, so a message is reproduced byte for byte
//! and IMAP `BODY[1.2]`, `BODY[1.2.MIME]`, `BODYSTRUCTURE` and `ENVELOPE` are answered from
//! the original. Structured fields are parsed on demand from the unfolded field bodies.
//!
//! Module map, bottom up:
//!
//! * [`base64`], [`qp`]: transfer encodings; [`charset`]: the charsets and their tables;
//!   [`encoded_word`]: RFC 2047.
//! * [`syntax`]: RFC 5322 §3.2 lexical tokens; [`address`], [`datetime`], [`msg_id`]: the
//!   structured fields; [`header`]: fields, folding, the header/body split.
//! * [`mime`]: Content-Type & co; [`part`]: the entity tree; [`message`]: [`Message`];
//!   [`validate`]: [`Message::validate`]; [`envelope`]: IMAP ENVELOPE; [`builder`]:
//!   composing messages (DSNs among them).
//!
//! ```
//! let raw = b"From: John Doe <jdoe@machine.example>\r\n\
//!             To: Mary Smith <mary@example.net>\r\n\
//!             Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\n\
//!             Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n\
//!             Message-ID: <1234@local.machine.example>\r\n\
//!             \r\n\
//!             This is a message just to say hello.\r\n";
//! let message = wirecheck_message::parse(raw);
//! assert_eq!(message.subject().as_deref(), Some("Grüße"));
//! assert_eq!(message.raw(), raw);
//! assert!(message.validate().is_empty());
//! ```
#![forbid(unsafe_code)]

pub mod address;
pub mod base64;
pub mod builder;
pub mod charset;
pub mod datetime;
pub mod encoded_word;
pub mod envelope;
pub mod header;
pub mod issues;
pub mod message;
pub mod mime;
pub mod msg_id;
pub mod params;
pub mod part;
pub mod qp;
pub mod syntax;
pub mod validate;

#[cfg(test)]
mod testutil;

pub use address::{Address, AddressList, Group, Mailbox};
pub use builder::{BuildError, MessageBuilder, PartBuilder};
pub use charset::Charset;
pub use datetime::DateTime;
pub use envelope::{Envelope, EnvelopeAddress};
pub use header::HeaderField;
pub use message::{Message, parse};
pub use mime::{ContentDisposition, ContentType, TransferEncoding};
pub use msg_id::MessageId;
pub use part::{Multipart, Part, PartKind};
pub use validate::{Level, Violation, ViolationKind};
