//! DNS (RFC 1035 and friends) for wirecheck: the message codec, the dig-like presentation form
//! the transcripts use, master (zone) files, an authoritative server and a caching resolver.
//!
//! # Layers
//!
//! * Codec: [`codec`] (wire bytes <-> [`Message`]; [`codec::decode`] is total and bounded, and
//!   compression pointers may only point backwards), [`presentation`] (one-line queries like
//!   `example.test. MX +rd id=4242`, dig-shaped renderings, `hex …`), [`text`] and [`zone`]
//!   (master files).
//! * Sessions, sans-IO: [`auth`] (the authoritative answer from a prebuilt [`zone::Zones`]
//!   index), [`tcp`] (RFC 7766 framing as a `wirecheck_wire::Session`), [`resolver`] (iterative
//!   resolution as a state machine that emits queries and takes responses and `now`),
//!   [`cache`], [`recursive`] (the stub-facing rules), [`hierarchy`] (the loopback layout).
//! * Drivers, feature `server` (tokio): `server::AuthServer`, `client::Resolver` with
//!   `lookup_mx` / `lookup_ip`, `client::RecursiveServer`, `hierarchy::Hierarchy::start`.
//!
//! Everything but the drivers builds without tokio (`--no-default-features`): the fuzz targets
//! and the harness's framing use only that. `DESIGN.md` next to `Cargo.toml` explains the hot
//! path, the hierarchy's one-port design and the safety rules (loopback only, no NOTIFY).
//!
//! ```
//! use wirecheck_dns::{codec, presentation};
//! let query = presentation::parse_query("example.test. MX +rd id=4242").unwrap();
//! let wire = codec::encode(&query);
//! assert_eq!(codec::decode(&wire).unwrap(), query);
//! assert!(presentation::render(&query).starts_with(";; opcode: QUERY, status: NOERROR, id: 4242\n"));
//! ```
#![forbid(unsafe_code)]

pub mod auth;
pub mod cache;
pub mod codec;
pub mod hierarchy;
pub mod message;
pub mod name;
pub mod presentation;
pub mod resolver;
pub mod tcp;
pub mod text;
pub mod zone;

pub mod recursive;

#[cfg(feature = "server")]
pub mod client;
#[cfg(feature = "server")]
pub mod server;

#[cfg(test)]
mod testutil;

pub use message::{
    Class, Edns, Header, Message, Opcode, Question, RData, Rcode, Record, RecordType, Soa,
};
pub use name::{Name, NameError};
