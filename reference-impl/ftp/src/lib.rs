//! FTP (RFC 959, 2389, 2428, 3659, 4217): codec, sans-IO control session, and (feature server) the tokio server with data connections.
//!
//! (Being built: see the crate owner's notes in docs/ARCHITECTURE.md.)
#![forbid(unsafe_code)]
