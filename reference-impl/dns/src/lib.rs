//! DNS (RFC 1035 and friends): message codec, presentation format, zone files, authoritative server, caching resolver.
//!
//! (Being built: see the crate owner's notes in docs/ARCHITECTURE.md.)
#![forbid(unsafe_code)]
