//! FTP (RFC 959, 2389, 2428, 3659, 4217): codec, sans-IO control session, and (feature
//! `server`) the tokio server with data connections.
//!
//! The layers, bottom up:
//!
//! * [`codec`]: bytes <-> replies and commands, and the PORT/PASV/EPRT/EPSV address forms.
//!   No I/O, never panics; the harness frames FTP replies with [`codec::decode_reply`].
//! * [`vfs`]: the file store behind a [`vfs::VirtualFs`] trait; [`vfs::RealFs`] serves a real
//!   directory and refuses every path that would leave it before opening anything.
//! * [`session`]: [`FtpSession`], the control connection as a state machine
//!   ([`wirecheck_wire::Session`]: bytes in, replies out), which asks its driver for data
//!   connections with [`Action`]s and hears back through [`DataEvent`]s.
//! * [`ascii`] and [`listing`]: TYPE A line-end conversion and listing formats.
//! * `server` (feature `server`): the tokio driver, data connections, TLS.
//!
//! What RFC 959 leaves optional, and what this server does about it:
//!
//! * `MODE B` (RFC 959 §3.4.2 block mode) is provided for every transfer, listings included:
//!   [`codec::block`] frames the data, the file ends with an EOF block (the data connection is
//!   still closed after it), and a restart marker in an upload is answered
//!   `110 MARK yyyy = mmmm` (§3.5, §4.2), `mmmm` being the file position that `REST mmmm`
//!   resumes from. Transcripts `ftp.mode-b.*` pin this.
//! * `MODE C` and `STRU R` / `STRU P` are `504` ("Command not implemented for that
//!   parameter", RFC 959 §4.2, one of the replies §5.4 lists for MODE and STRU). The minimum
//!   implementation is MODE S and STRU F (RFC 959 §5.1; RFC 1123 §4.1.2.13 requires STRU R
//!   only of hosts with record-structured files, which a Unix file tree is not), and
//!   compression buys nothing the transport does not. Transcript
//!   `ftp.syntax.mode-stru-unsupported-504` pins this.
//! * `TYPE E` and `TYPE L` other than 8 are `504` (RFC 1123 §4.1.2.13 requires A, I, L 8).
//! * `SMNT` is `502`, and so are the RFC 2228 security verbs other than `AUTH`/`PBSZ`/`PROT`.
//!
//! ```
//! use wirecheck_ftp::codec::{decode_reply, ReplyLimits};
//! let (used, reply) = decode_reply(b"211-Features:\r\n SIZE\r\n211 End\r\n", &ReplyLimits::default())
//!     .unwrap()
//!     .unwrap();
//! assert_eq!((used, reply.code), (31, 211));
//! assert_eq!(reply.text(), "Features:\n SIZE\nEnd");
//! ```
#![forbid(unsafe_code)]

pub mod ascii;
pub mod codec;
pub mod fixtures;
pub mod listing;
pub mod session;
pub mod vfs;

#[cfg(feature = "server")]
pub mod server;
pub use session::{
    Action, ConnInfo, DataConnection, DataEvent, FtpConfig, FtpSession, Payload, Transfer, TransferFailure,
};
