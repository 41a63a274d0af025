//! RFC 5322 / MIME (2045-2049) / base64 (4648) / quoted-printable codecs: the message-format oracle.
//!
//! (Being built: see the crate owner's notes in docs/ARCHITECTURE.md.)
#![forbid(unsafe_code)]
