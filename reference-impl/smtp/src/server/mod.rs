//! The SMTP server session (RFC 5321 and the extensions it advertises), sans-IO.
//!
//! [`ServerSession`] implements [`wirecheck_wire::Session`]: bytes in, replies out, no
//! sockets and no clock (time comes from [`MailSink::now`]). Policy and storage live
//! behind [`MailSink`]. Every buffer is bounded: command lines by
//! [`ServerConfig::max_command_line`] (AUTH lines by `max_auth_line`), text lines by
//! `max_data_line`, messages by `max_message_size`, recipients by `max_recipients`, and
//! a session that keeps making errors is closed after `max_errors`.
//!
//! Choices where the RFCs leave room, each documented where it is made:
//! * bare CR / LF in DATA: never a line end (RFC 5321 §4.1.1.4 "MUST NOT"); by default
//!   the message is refused at end of data with `554 5.5.2` ([`BareNewline`]);
//! * an over-long DATA line: the message is refused at end of data with `500 5.5.2 Line
//!   too long` (RFC 5321 §4.5.3.1.9);
//! * AUTH before TLS when TLS is required: `530 5.7.0` (RFC 4954 deprecates 538);
//! * VRFY: `252` unless the sink knows better; EXPN: `502` (no mailing lists).

mod auth;
mod commands;
mod data;
mod sink;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use wirecheck_wire::{LineBuffer, LineEvent, Output, Session, TlsInfo};

use crate::codec::{Body, Reply, parse_enhanced};

pub use data::rfc5322_date;
pub use sink::{
    ClientInfo, Delivered, DeliveryError, Envelope, MailSink, MailVerdict, MemorySink, RcptVerdict,
    Recipient, VerifyVerdict,
};

#[cfg(feature = "server")]
mod serve;
#[cfg(feature = "server")]
pub use serve::{ServeConfig, ServeError, ServeHandle, serve};

/// What to do with a bare CR or LF inside DATA (RFC 5321 §2.3.8: they "MUST NOT" be sent
/// except as CRLF; §4.1.1.4: `<LF>.<LF>` "MUST NOT be treated as equivalent to
/// <CRLF>.<CRLF>").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BareNewline {
    /// Refuse the message at end of data with `554 5.5.2` (like Postfix's
    /// `smtpd_forbid_bare_newline = reject`): a relay must not pass smuggling payloads on
    /// to servers that would mis-frame them.
    #[default]
    Reject,
    /// Keep them as content (they still never end a line or the data).
    Accept,
}

/// Which EHLO extensions are offered (all by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extensions {
    /// PIPELINING (RFC 2920).
    pub pipelining: bool,
    /// 8BITMIME (RFC 6152).
    pub eightbitmime: bool,
    /// ENHANCEDSTATUSCODES (RFC 2034).
    pub enhanced_status_codes: bool,
    /// SMTPUTF8 (RFC 6531).
    pub smtputf8: bool,
    /// CHUNKING (RFC 3030 BDAT).
    pub chunking: bool,
    /// BINARYMIME (RFC 3030 §3; needs chunking).
    pub binarymime: bool,
    /// DSN (RFC 3461).
    pub dsn: bool,
}

impl Default for Extensions {
    fn default() -> Self {
        Extensions {
            pipelining: true,
            eightbitmime: true,
            enhanced_status_codes: true,
            smtputf8: true,
            chunking: true,
            binarymime: true,
            dsn: true,
        }
    }
}

/// How a server session behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Our host name, in the greeting, EHLO reply and `Received: by`.
    pub hostname: String,
    /// Largest message accepted (RFC 1870 SIZE, advertised in EHLO).
    pub max_message_size: u64,
    /// Recipients per transaction (RFC 5321 §4.5.3.1.8: at least 100); more get `452`.
    pub max_recipients: usize,
    /// Longest command line, including CRLF. RFC 5321 §4.5.3.1.4 requires at least 512;
    /// extensions add to it (RFC 1870 +26, RFC 6531 +10, RFC 4954 AUTH= +500, RFC 3461 §5.4
    /// "at least 1036"), so the default is 2048.
    pub max_command_line: usize,
    /// Longest AUTH command or SASL response line, including CRLF (RFC 4954 §4: 12288).
    pub max_auth_line: usize,
    /// Longest text line in DATA, including CRLF (RFC 5321 §4.5.3.1.6: 1000).
    pub max_data_line: usize,
    /// Protocol errors (500-504, 535, 555) before the session answers `421` and closes.
    pub max_errors: usize,
    /// Offer STARTTLS (the driver must have TLS configured).
    pub starttls: bool,
    /// Offer AUTH PLAIN LOGIN.
    pub auth: bool,
    /// Offer and accept AUTH only over TLS (RFC 4954 §4, RFC 4616 §6).
    pub auth_requires_tls: bool,
    /// MAIL needs a successful AUTH first: `530 5.7.0` (submission, RFC 6409 §4.3).
    pub require_auth: bool,
    /// Bare CR / LF in DATA.
    pub bare_newline: BareNewline,
    /// Extensions offered.
    pub extensions: Extensions,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: "localhost".into(),
            max_message_size: 10 * 1024 * 1024,
            max_recipients: 100,
            max_command_line: 2048,
            max_auth_line: 12288,
            max_data_line: 1000,
            max_errors: 20,
            starttls: false,
            auth: false,
            auth_requires_tls: true,
            require_auth: false,
            bare_newline: BareNewline::Reject,
            extensions: Extensions::default(),
        }
    }
}

/// An open mail transaction (after MAIL FROM, RFC 5321 §3.3).
#[derive(Debug)]
struct Transaction {
    envelope: Envelope,
    /// BDAT was used (RFC 3030 §2: DATA may not follow in the same transaction).
    bdat: Option<data::MessageBuffer>,
}

#[derive(Debug)]
enum State {
    /// Reading command lines.
    Command,
    /// Inside DATA, after `354`.
    Data(data::MessageBuffer),
    /// Reading `remaining` raw octets of a BDAT chunk; `last` was given; `discard` when
    /// the chunk is refused but must still be read (RFC 3030 §2).
    Bdat {
        remaining: u64,
        last: bool,
        discard: Option<Reply>,
    },
    /// In a SASL exchange (RFC 4954 §4).
    Auth(auth::Exchange),
    /// After QUIT, 421, or EOF: input is ignored.
    Closed,
}

/// One SMTP server connection.
pub struct ServerSession<S: MailSink> {
    cfg: Arc<ServerConfig>,
    sink: S,
    client: ClientInfo,
    lines: LineBuffer,
    out: VecDeque<Output>,
    state: State,
    /// ENHANCEDSTATUSCODES in force: the client greeted with EHLO and it is offered.
    tx: Option<Transaction>,
    errors: usize,
    shutdown: Option<Arc<AtomicBool>>,
    /// Drop everything still buffered (after STARTTLS, RFC 3207 §4.2).
    discard_input: bool,
}

impl<S: MailSink> ServerSession<S> {
    /// A session that greets at once with `220 <hostname> ESMTP`. `peer` goes into
    /// `Received:`.
    pub fn new(cfg: Arc<ServerConfig>, sink: S, peer: Option<SocketAddr>) -> Self {
        let max = cfg
            .max_command_line
            .max(cfg.max_auth_line)
            .saturating_sub(2);
        let mut s = ServerSession {
            sink,
            client: ClientInfo {
                peer,
                ..ClientInfo::default()
            },
            lines: LineBuffer::new(max),
            out: VecDeque::new(),
            state: State::Command,
            tx: None,
            errors: 0,
            shutdown: None,
            discard_input: false,
            cfg,
        };
        // RFC 5321 §4.2: the greeting carries no enhanced status code.
        let greeting = format!("{} ESMTP wirecheck", s.cfg.hostname);
        s.send(Reply::single(220, &greeting));
        s
    }

    /// Answer `421 4.3.2` and close at the next command once `flag` is set (graceful
    /// shutdown, RFC 5321 §3.8).
    pub fn with_shutdown(mut self, flag: Arc<AtomicBool>) -> Self {
        self.shutdown = Some(flag);
        self
    }

    /// The sink.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// The sink, mutably.
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// Consume the session, keeping its sink.
    pub fn into_sink(self) -> S {
        self.sink
    }

    /// What the session knows about its client.
    pub fn client(&self) -> &ClientInfo {
        &self.client
    }

    /// True after QUIT, a `421`, or EOF.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    fn send(&mut self, r: Reply) {
        self.out.push_back(Output::Send(r.encode()));
    }

    /// A one-line reply; `enh` is the RFC 3463 code, sent when ENHANCEDSTATUSCODES is in
    /// force (RFC 2034 §3) and the class is 2, 4 or 5.
    fn reply(&mut self, code: u16, enh: &str, text: &str) {
        let r = if self.enhanced() && !enh.is_empty() && code / 100 != 3 {
            Reply::single(code, &format!("{enh} {text}"))
        } else {
            Reply::single(code, text)
        };
        self.send(r);
    }

    /// A protocol error reply, counted against `max_errors`.
    fn error(&mut self, code: u16, enh: &str, text: &str) {
        self.reply(code, enh, text);
        self.count_error();
    }

    fn count_error(&mut self) {
        self.errors += 1;
        if self.errors >= self.cfg.max_errors {
            self.reply(
                421,
                "4.7.0",
                &format!("{} Too many errors, closing connection", self.cfg.hostname),
            );
            self.close();
        }
    }

    /// RFC 2034 §4: "Servers supporting this extension must attach enhanced status codes
    /// to their responses regardless of whether or not EHLO is employed by the client"
    /// (the greeting excepted, RFC 5321 §4.2).
    fn enhanced(&self) -> bool {
        self.cfg.extensions.enhanced_status_codes
    }

    /// A reply from the sink: strip enhanced codes when they are not in force.
    fn sink_reply(&mut self, mut r: Reply) {
        if !self.enhanced() {
            for line in &mut r.lines {
                let first = line.split(|&b| b == b' ').next().unwrap_or_default();
                if parse_enhanced(first).is_some() {
                    let cut = (first.len() + 1).min(line.len());
                    line.drain(..cut);
                }
            }
        }
        self.send(r);
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.tx = None;
        self.out.push_back(Output::Close);
    }

    fn set_state(&mut self, state: State) {
        let max = match &state {
            State::Data(_) => self.cfg.max_data_line,
            State::Auth(_) => self.cfg.max_auth_line,
            _ => self.cfg.max_command_line.max(self.cfg.max_auth_line),
        };
        self.lines.set_max_line(max.saturating_sub(2));
        self.state = state;
    }

    fn on_line(&mut self, ev: LineEvent) {
        match std::mem::replace(&mut self.state, State::Command) {
            State::Command => {
                self.lines.set_max_line(
                    self.cfg
                        .max_command_line
                        .max(self.cfg.max_auth_line)
                        .saturating_sub(2),
                );
                match ev {
                    LineEvent::Line(l) => self.command_line(&l),
                    LineEvent::TooLong => self.error(500, "5.5.2", "Line too long"),
                }
            }
            State::Data(mut msg) => {
                let end = match ev {
                    LineEvent::Line(l) => msg.data_line(&l),
                    LineEvent::TooLong => {
                        msg.line_too_long();
                        false
                    }
                };
                if end {
                    self.set_state(State::Command);
                    self.end_of_message(msg);
                } else {
                    self.state = State::Data(msg);
                }
            }
            State::Auth(ex) => {
                self.set_state(State::Command);
                match ev {
                    LineEvent::Line(l) => {
                        let step = auth::respond(ex, &l);
                        self.auth_step(step);
                    }
                    // RFC 4954 §4: a line longer than the authentication buffer fails AUTH.
                    LineEvent::TooLong => {
                        self.error(500, "5.5.6", "Authentication Exchange line is too long")
                    }
                }
            }
            s @ (State::Bdat { .. } | State::Closed) => self.state = s,
        }
    }

    /// Feed raw bytes to the BDAT chunk in progress; returns how many were used.
    fn bdat_bytes(&mut self, data: &[u8]) -> usize {
        let State::Bdat { remaining, .. } = &mut self.state else {
            return 0;
        };
        let n = usize::try_from(*remaining)
            .unwrap_or(usize::MAX)
            .min(data.len());
        *remaining -= n as u64;
        let chunk = data.get(..n).unwrap_or_default();
        let discard = matches!(
            &self.state,
            State::Bdat {
                discard: Some(_),
                ..
            }
        );
        if !discard && let Some(buf) = self.tx.as_mut().and_then(|t| t.bdat.as_mut()) {
            buf.chunk(chunk);
        }
        if matches!(self.state, State::Bdat { remaining: 0, .. }) {
            self.end_of_chunk();
        }
        n
    }
}

impl<S: MailSink> Session for ServerSession<S> {
    fn handle_input(&mut self, mut data: &[u8]) {
        // Lines are pushed one at a time (up to each LF), so after a complete line the
        // line buffer is empty: a BDAT chunk that follows its command is read raw here,
        // and STARTTLS can drop exactly what followed it.
        while !data.is_empty() {
            match self.state {
                State::Closed => return,
                State::Bdat { .. } => {
                    let n = self.bdat_bytes(data);
                    data = data.get(n..).unwrap_or_default();
                    continue;
                }
                _ => {}
            }
            let cut = data
                .iter()
                .position(|&b| b == b'\n')
                .map_or(data.len(), |i| i + 1);
            self.lines.push(data.get(..cut).unwrap_or_default());
            data = data.get(cut..).unwrap_or_default();
            while let Some(ev) = self.lines.next_line() {
                self.on_line(ev);
                if self.discard_input {
                    // RFC 3207 §4.2: nothing the client sent after STARTTLS (before the
                    // handshake) may be acted on.
                    self.discard_input = false;
                    self.lines.clear();
                    data = &[];
                    break;
                }
                if matches!(self.state, State::Bdat { .. } | State::Closed) {
                    break;
                }
            }
        }
    }

    fn handle_eof(&mut self) {
        // A partial message is never delivered.
        self.state = State::Closed;
        self.tx = None;
    }

    fn handle_timeout(&mut self) -> Vec<Output> {
        // RFC 5321 §4.5.3.2: a server that times out "SHOULD" send 421 then close.
        self.reply(
            421,
            "4.4.2",
            &format!("{} Error: timeout exceeded", self.cfg.hostname),
        );
        self.state = State::Closed;
        self.tx = None;
        let mut v: Vec<Output> = self.out.drain(..).collect();
        v.push(Output::Close);
        v
    }

    fn handle_tls(&mut self, info: TlsInfo) {
        self.client.tls = Some(info);
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }
}

/// True when the transaction's body is BINARYMIME (RFC 3030 §3: BDAT only).
fn is_binary(tx: &Transaction) -> bool {
    tx.envelope.body == Some(Body::BinaryMime)
}

fn shutting_down(flag: &Option<Arc<AtomicBool>>) -> bool {
    flag.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests;
