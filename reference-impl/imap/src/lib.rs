//! IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051): codec, sans-IO server session and (feature
//! `server`) the tokio server. This is wirecheck's IMAP oracle.
//!
//! Layers, each usable without the next (the first two build without tokio and rustls:
//! `--no-default-features`):
//!
//! * [`codec`]: framing of server responses ([`codec::decode_response`], what the harness
//!   frames IMAP with) and of client commands ([`codec::decode_command`], literals
//!   included: a synchronizing literal is reported as
//!   [`codec::CommandDecode::LiteralFound`] so the server can answer `+`, as imap-codec
//!   does), the command grammar into [`types::Command`], and string encoding
//!   ([`codec::encode`]). Every decoder is total and bounded.
//! * [`session`]: [`session::ServerSession`], a state machine implementing
//!   `wirecheck_wire::Session` on the shared `wirecheck-store` (INBOX is the POP3
//!   maildrop). Message structure (MIME tree, ENVELOPE data, transfer decodings, dates) comes
//!   from `wirecheck-message`; this crate only writes IMAP syntax for it. Other sessions'
//!   changes are found through the store's change counter and reported where RFC 3501 §7.4.1
//!   allows (never EXPUNGE while answering FETCH, STORE or SEARCH).
//! * `server` (feature `server`): accept loop and a thin per-connection driver (STARTTLS,
//!   implicit TLS, autologout), which also wakes a session in IDLE to push updates.
//!
//! Sizes: messages are served with CRLF line ends (bare LFs in stored messages become CRLF),
//! so `RFC822.SIZE` equals the store's `crlf_size` and the length of `BODY[]`.
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
