//! The reference MTA: MX and submission listeners, on-disk queue, MX lookup, relay with retry and backoff, DSN bounces, local delivery; and the serve configuration.
//!
//! (Being built: see the crate owner's notes in docs/ARCHITECTURE.md.)
#![forbid(unsafe_code)]
