//! IMAP4rev1/rev2 (RFC 3501, 9051): codec, sans-IO server session, and (feature server) the tokio server.
//!
//! (Being built: see the crate owner's notes in docs/ARCHITECTURE.md.)
#![forbid(unsafe_code)]
