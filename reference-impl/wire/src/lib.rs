//! Shared building blocks for every wirecheck protocol implementation.
//!
//! The protocol logic of wirecheck is *sans-IO* (see `docs/ARCHITECTURE.md`): a codec turns
//! bytes into typed values, a session is a state machine that takes bytes in through
//! [`Session::handle_input`] and hands what must happen next out through
//! [`Session::poll_output`]. This crate holds the two pieces every line protocol shares:
//!
//! * [`LineBuffer`]: bounded CRLF line framing with an over-long-line state, raw byte takes
//!   (for literals, `BDAT` chunks) and the discard that STARTTLS needs;
//! * [`Session`] / [`Output`]: the one interface between a session and its driver;
//! * [`ReplyLimits`] / [`ReplyLines`]: the bounded line scan under the coded replies of SMTP
//!   and FTP, whose codecs each keep their own multi-line rule on top.
//!
//! With the `tokio` feature (on by default) it also holds the one generic driver
//! ([`driver::drive`]) that every server uses, and TLS set-up ([`tls`]).
//!
//! ```
//! use wirecheck_wire::{LineBuffer, LineEvent};
//! let mut buf = LineBuffer::new(16);
//! buf.push(b"EHLO a\r\nNOOP");
//! assert_eq!(buf.next_line(), Some(LineEvent::Line(b"EHLO a".to_vec())));
//! assert_eq!(buf.next_line(), None); // "NOOP" is not complete yet
//! ```
#![forbid(unsafe_code)]

mod line;
mod reply;
mod session;

pub use line::{LineBuffer, LineEvent};
pub use reply::{LineEnd, ReplyLimits, ReplyLine, ReplyLines, ReplyLinesError};
pub use session::{Output, Session, TlsInfo};

#[cfg(feature = "tokio")]
pub mod driver;
#[cfg(feature = "tokio")]
pub mod tls;
