//! FTP (RFC 959, 2389, 2428, 3659, 4217): codec, sans-IO control session, and (feature
//! `server`) the tokio server with data connections.
//!
//! The [`codec`] turns bytes into replies and commands and back; it has no I/O and never
//! panics, so the harness frames FTP replies with [`codec::decode_reply`]:
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

pub mod codec;
