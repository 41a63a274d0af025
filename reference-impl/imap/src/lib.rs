//! IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051): codec, sans-IO server session and (feature
//! `server`) the tokio server. This is wirecheck's IMAP oracle.
//!
//! Layers, each usable without the next:
//!
//! * [`codec`]: framing of server responses ([`codec::decode_response`], what the harness
//!   frames IMAP with) and of client commands ([`codec::decode_command`], literals
//!   included: a synchronizing literal is reported as
//!   [`codec::CommandDecode::LiteralFound`] so the server can answer `+`), and the command
//!   grammar into [`types::Command`].
//! * [`types`]: the typed commands.
//!
//! ```
//! use wirecheck_imap::codec::{decode_response, ResponseKind, ResponseLimits};
//! let wire = b"* 1 FETCH (BODY[] {5}\r\nhello)\r\na1 OK done\r\n";
//! let (used, r) = decode_response(wire, &ResponseLimits::default()).unwrap().unwrap();
//! assert_eq!(r.kind, ResponseKind::Untagged);
//! assert_eq!(r.text(), "* 1 FETCH (BODY[] {5}\r\nhello)");
//! assert_eq!(used, 31);
//! ```
#![forbid(unsafe_code)]

pub mod codec;
pub(crate) mod date;
pub(crate) mod mime;
#[cfg(feature = "server")]
pub mod server;
pub mod session;
pub mod types;
