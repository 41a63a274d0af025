//! RFC 5322 / MIME (2045-2049) / base64 (4648) / quoted-printable codecs: the message-format oracle.
#![forbid(unsafe_code)]

pub mod base64;
pub mod charset;
pub mod qp;

#[cfg(test)]
mod testutil;
