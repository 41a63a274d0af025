//! DNS (RFC 1035 and friends) for wirecheck: the message codec, the dig-like presentation form
//! the transcripts use, master (zone) files, an authoritative server and a caching resolver.
//!
//! # Layers
//!
//! * [`codec`]: wire bytes <-> [`Message`] ([`codec::decode`] is total and bounded; compression
//!   pointers may only point backwards), name compression on encode, truncation to a size limit,
//!   and the RFC 7766 TCP length prefix ([`codec::tcp_frame`]).
//! * [`presentation`]: one-line queries (`example.test. MX +rd id=4242`) and dig-shaped renderings
//!   of whole messages, plus `hex …` for raw ones.
//!
//! Everything above builds without tokio (`--no-default-features`): the fuzz targets and the
//! harness's framing use only these.
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
