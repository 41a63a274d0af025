//! Protocol adapters: how one reply unit is framed, in each protocol.
//!
//! The harness never frames a protocol's replies itself: every adapter is a thin call into
//! the codec of the protocol's crate in `reference-impl` (see docs/ARCHITECTURE.md, "The
//! codec API the harness frames replies with"). An adapter whose codec is not there yet
//! answers [`FrameError::Unavailable`] and only the cases that need it end as `error`.
//!
//! A [`Protocol`] gives a per-connection [`Framer`] (POP3 must remember which command each
//! status answers, to know whether a dot-terminated body follows) and turns a framed reply
//! into a protocol-neutral [`Unit`] that patterns match.

use std::net::SocketAddr;
use std::sync::Arc;

mod dns;
mod ftp;
mod imap;
mod lines;
mod pop3;
mod smtp;

pub use lines::Lines;

/// The size caps every framer respects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest line (without its terminator).
    pub max_line: usize,
    /// The largest unit (a whole multi-line reply, a POP3 body, an IMAP response with its
    /// literals, a DNS message).
    pub max_reply: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_reply: 1024 * 1024,
        }
    }
}

impl Limits {
    /// The most continuation lines a reply may have: bounded by the unit cap.
    pub fn max_lines(&self) -> usize {
        (self.max_reply / 4).max(1)
    }
}

/// A POP3 status (RFC 1939 §3), or the SASL continuation `+ ` (RFC 5034 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `+OK`.
    Ok,
    /// `-ERR`.
    Err,
    /// `+ ` (a SASL challenge).
    Continuation,
}

/// What kind of unit this is (IMAP distinguishes them; `skip-untagged` relies on it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum UnitKind {
    /// A reply / status / message: the only kind for most protocols.
    #[default]
    Reply,
    /// IMAP `* …`.
    Untagged,
    /// IMAP `+ …`.
    Continuation,
    /// IMAP `TAG …`.
    Tagged(String),
}

/// One line of a unit, for `S|` matching.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitLine {
    /// The line as it was on the wire, without its CRLF (`250-PIPELINING`).
    pub wire: Vec<u8>,
    /// smtp/ftp: the line's code.
    pub code: Option<u16>,
    /// smtp/ftp: the text after `NNN-`/`NNN `; pop3 status line: the text after the status.
    pub text: Vec<u8>,
    /// pop3: the status of the status line.
    pub status: Option<Status>,
}

/// One complete reply unit, framed by a protocol's codec, in the form patterns match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unit {
    /// The bytes it used on the wire.
    pub raw: Vec<u8>,
    /// Its whole text (`S: ~`, `S: =`, and globs with no code or status head).
    pub text: Vec<u8>,
    /// What the glob after a code or status matches: smtp/ftp the lines' texts joined with
    /// `\n`; pop3 the rest of the status line.
    pub subject: Vec<u8>,
    /// Its lines, for `S|`.
    pub lines: Vec<UnitLine>,
    /// smtp/ftp: the reply code.
    pub code: Option<u16>,
    /// pop3: the status.
    pub status: Option<Status>,
    /// imap: untagged, continuation or tagged.
    pub kind: UnitKind,
    /// The target answered "not implemented" (SMTP/FTP 502/504, POP3 -ERR, IMAP BAD/NO,
    /// DNS NOTIMP): with an `extension` key, a mismatch here is `unimplemented`.
    pub not_implemented: bool,
    /// pop3: the un-stuffed body, CRLF line ends (`${_body}`).
    pub body: Option<Vec<u8>>,
    /// Protocol violations the codec found inside an otherwise framed unit (POP3 byte
    /// stuffing): any makes the expectation fail.
    pub violations: Vec<String>,
}

/// Why no unit could be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The protocol's codec is not available yet (its crate does not export it).
    #[error("framing for {0} not available yet")]
    Unavailable(&'static str),
    /// The peer's bytes are not a valid unit (the codec's error, in words).
    #[error("malformed {protocol} reply: {reason}")]
    Malformed {
        /// The protocol.
        protocol: &'static str,
        /// The codec's reason.
        reason: String,
    },
    /// A size cap was hit (line, unit, number of lines).
    #[error("{0}")]
    TooLarge(String),
    /// Something to send could not be encoded (a DNS query in presentation form).
    #[error("cannot encode: {0}")]
    Encode(String),
}

/// The transport of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A byte stream (TCP, with or without TLS).
    Stream,
    /// Datagrams (UDP).
    Datagram,
}

/// The per-connection framing state.
pub trait Framer: Send {
    /// Bytes written on this connection (POP3 learns which command a status answers).
    fn sent(&mut self, _data: &[u8]) {}

    /// Frame one unit off the front of `buf`: `Ok(None)` needs more bytes; otherwise the
    /// number of bytes used and the unit.
    fn decode(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<(usize, Unit)>, FrameError>;

    /// True when a unit can only be completed by a line end (`\n`): the caller then skips
    /// decoding until one arrives or the line cap is passed, so a long unterminated line is
    /// not re-scanned on every read. False for length-prefixed framing (DNS over TCP).
    fn completes_at_line_end(&self) -> bool {
        true
    }

    /// Frame one datagram (UDP): the whole datagram is one unit.
    fn decode_datagram(&mut self, datagram: &[u8], limits: &Limits) -> Result<Unit, FrameError> {
        match self.decode(datagram, limits)? {
            Some((_, u)) => Ok(u),
            None => Err(FrameError::Malformed {
                protocol: "datagram",
                reason: "incomplete unit".into(),
            }),
        }
    }
}

/// One protocol: framing of its replies (client role) and of its clients' commands (server
/// role), the pattern style, and its few protocol-specific helpers.
pub trait Protocol: Send + Sync {
    /// `smtp`, `pop3`, `imap`, `ftp`, `dns`, `line`.
    fn name(&self) -> &'static str;

    /// How `S:` patterns are read.
    fn style(&self) -> crate::transcript::Style;

    /// A framer for the target's replies on a new connection.
    fn reply_framer(&self, transport: Transport) -> Result<Box<dyn Framer>, FrameError>;

    /// A framer for what a client sends us (server role). Default: CRLF lines.
    fn command_framer(&self, _transport: Transport) -> Result<Box<dyn Framer>, FrameError> {
        Ok(Box::new(lines::LineFramer::new()))
    }

    /// The bytes a `C:` line sends (before any length prefix). Default: the text + CRLF.
    fn encode_line(&self, text: &[u8]) -> Result<Vec<u8>, FrameError> {
        let mut v = text.to_vec();
        v.extend_from_slice(b"\r\n");
        Ok(v)
    }

    /// The bytes an `S:` line sends in the server role. Default: the text + CRLF.
    fn encode_server_line(&self, text: &[u8]) -> Result<Vec<u8>, FrameError> {
        let mut v = text.to_vec();
        v.extend_from_slice(b"\r\n");
        Ok(v)
    }

    /// Whether this protocol's stream transport needs a 2-byte length prefix (DNS over
    /// TCP, RFC 1035 §4.2.2).
    fn length_prefixed(&self) -> bool {
        false
    }

    /// The default transport of the `main` connection (UDP for DNS).
    fn default_transport(&self) -> Transport {
        Transport::Stream
    }

    /// FTP: the data address a `227`/`229` reply announces (`control` is the control
    /// connection's peer, for EPSV).
    fn data_address(
        &self,
        _unit: &Unit,
        _control: SocketAddr,
    ) -> Result<Option<SocketAddr>, FrameError> {
        Ok(None)
    }

    /// FTP: the `PORT` and `EPRT` arguments for a listener at `addr`
    /// (`${NAME.port-arg}`, `${NAME.eprt-arg}`).
    fn port_args(&self, _addr: SocketAddr) -> Result<Vec<(&'static str, String)>, FrameError> {
        Ok(Vec::new())
    }
}

/// The names of the protocols with an adapter.
pub const NAMES: [&str; 6] = ["smtp", "pop3", "imap", "ftp", "dns", "line"];

/// The adapter for `name`.
pub fn by_name(name: &str) -> Option<Arc<dyn Protocol>> {
    Some(match name {
        "smtp" => Arc::new(smtp::Smtp),
        "pop3" => Arc::new(pop3::Pop3),
        "imap" => Arc::new(imap::Imap),
        "ftp" => Arc::new(ftp::Ftp),
        "dns" => Arc::new(dns::Dns),
        "line" => Arc::new(Lines),
        _ => return None,
    })
}

/// Split `buf` at the first CRLF: the line without it and the length used.
pub(crate) fn split_line(buf: &[u8]) -> Option<(&[u8], usize)> {
    buf.windows(2)
        .position(|w| w == b"\r\n")
        .map(|i| (&buf[..i], i + 2))
}
