//! SMTP (RFC 5321 and extensions): codec, sans-IO server and client sessions, and (feature server) the tokio server.
#![forbid(unsafe_code)]
