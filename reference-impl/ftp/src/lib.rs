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
