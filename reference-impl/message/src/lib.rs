//! RFC 5322 / MIME (2045-2049) / base64 (4648) / quoted-printable codecs: the message-format oracle.
#![forbid(unsafe_code)]

pub mod address;
pub mod base64;
pub mod issues;
pub mod mime;
pub mod msg_id;
pub mod part;
pub mod charset;
pub mod datetime;
pub mod encoded_word;
pub mod header;
pub mod qp;
pub mod syntax;

#[cfg(test)]
mod testutil;
