//! POP3 (RFC 1939, 2449, 2595, 5034): codec, sans-IO server session, and (feature `server`)
//! the tokio server.
//!
//! * [`codec`]: bytes <-> commands, status lines and dot-terminated bodies; the harness frames
//!   POP3 replies with it. No I/O, never panics.
//! * [`ServerSession`]: the RFC 1939 state machine as a [`wirecheck_wire::Session`]. It opens
//!   the maildrop (the user's INBOX in [`wirecheck_store`]) under the store's exclusive
//!   maildrop lock, so its driver runs it with `blocking: true`. The APOP timestamp is passed
//!   in ([`apop_timestamp`]); the session reads no clock.
//! * [`server`] (feature `server`, on by default): `serve()` accepts connections and drives one
//!   session per connection through `wirecheck_wire::driver::drive`, with STLS and implicit
//!   TLS (POP3S, RFC 8314).
//!
//! ```
//! use std::sync::Arc;
//! use wirecheck_pop3::{ServerConfig, ServerSession};
//! use wirecheck_store::{Store, Users};
//! use wirecheck_wire::{Output, Session};
//! # let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path(), Users::from_pairs(&[("alice", "secret")]).unwrap()).unwrap();
//! store.deliver("alice", "INBOX", b"Subject: hi\r\n\r\nhello\r\n").unwrap();
//! let mut s = ServerSession::new(store, Arc::new(ServerConfig::default()), "<1.2@localhost>".into());
//! s.handle_input(b"USER alice\r\nPASS secret\r\nSTAT\r\n");
//! let mut wire = Vec::new();
//! while let Some(Output::Send(b)) = s.poll_output() { wire.extend(b); }
//! assert!(wire.ends_with(b"+OK 1 22\r\n"));
//! ```
#![forbid(unsafe_code)]

pub mod codec;
mod md5;
mod sasl;
mod session;

#[cfg(feature = "server")]
pub mod server;

pub use md5::{md5, md5_hex};
pub use sasl::Mechanism;
pub use session::{MAX_COMMAND_LINE, MAX_SASL_LINE, ServerConfig, ServerSession, apop_timestamp};
