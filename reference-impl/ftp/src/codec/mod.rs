//! The FTP codec: bytes <-> typed replies and commands. Total (never panics), bounded, and free
//! of I/O, so the harness, the fuzz targets and the server all share it.
//!
//! * replies ([`decode_reply`], [`Reply`]) per RFC 959 §4.2, multi-line replies and `1xx`
//!   preliminary replies included;
//! * commands ([`Command::decode`], [`Command::encode`]) per RFC 959 §5.3 and the extensions
//!   (RFC 2389, 2428, 3659, 4217);
//! * data-connection addresses ([`parse_pasv`], [`parse_epsv`], [`format_port`],
//!   [`format_eprt`], and their server-side counterparts);
//! * block mode framing of the data connection ([`block`], RFC 959 §3.4.2).

mod address;
pub mod block;
mod command;
mod reply;

pub use address::{format_eprt, format_epsv, format_port, parse_eprt, parse_epsv, parse_pasv, parse_port};
pub use command::{
    Command, CommandError, EpsvArg, FormatControl, ModeCode, ProtLevel, StructureCode, TypeCode, strip_telnet,
};
pub use reply::{Reply, ReplyError, ReplyLimits, decode_reply};
