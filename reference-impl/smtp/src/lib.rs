//! SMTP (RFC 5321 and extensions) for wirecheck: the oracle's codec, sans-IO server and
//! client sessions, and (feature `server`) the thin tokio server.
//!
//! Layers, bottom up:
//! * [`codec`]: bytes <-> [`codec::Reply`] / [`codec::Command`]; total, never panics,
//!   bounded by explicit limits. The harness frames SMTP replies with
//!   [`codec::decode_reply`].
#![forbid(unsafe_code)]

pub mod client;
pub mod codec;
pub mod server;
