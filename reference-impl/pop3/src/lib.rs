//! POP3 (RFC 1939, 2449, 2595, 5034): codec, sans-IO server session, and (feature `server`)
//! the tokio server.
#![forbid(unsafe_code)]

pub mod codec;
