//! The SMTP client session (the MTA's relay side), sans-IO: greeting, EHLO (HELO when EHLO
//! gets 5xx, RFC 5321 §3.2), opportunistic or required STARTTLS (RFC 3207), optional AUTH
//! PLAIN (RFC 4954), then each message's MAIL / RCPT / DATA (pipelined when PIPELINING is
//! offered, RFC 2920), and QUIT. Each recipient ends with an outcome carrying the server's
//! reply; a `421` at any point (RFC 5321 §3.8) fails everything still open, temporarily.
//!
//! Replies are matched to commands through a queue of what was sent, so pipelined groups
//! are checked reply by reply (RFC 2920 §3.1 "MUST check ALL statuses").

use std::collections::VecDeque;

use base64::Engine;
use wirecheck_wire::{Output, Session, TlsInfo};

use crate::codec::{
    Body, Command, Domain, Param, Reply, ReplyLimits, Ret, ReversePath, decode_reply,
};
use crate::server::Recipient;

/// When to use STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsPolicy {
    /// Never.
    Never,
    /// When offered; carry on in clear text when not (RFC 3207 §4.1).
    #[default]
    Opportunistic,
    /// Fail the delivery (temporarily) when TLS cannot be started.
    Required,
}

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Our name for EHLO / HELO.
    pub helo: Domain,
    /// STARTTLS policy (the driver must have a TLS client config for anything but Never).
    pub tls: TlsPolicy,
    /// `(user, password)` for AUTH PLAIN, used when the server offers it.
    pub auth: Option<(String, String)>,
    /// Bounds on the server's replies.
    pub reply_limits: ReplyLimits,
}

impl ClientConfig {
    /// Opportunistic TLS, no AUTH, default reply limits.
    pub fn new(helo: Domain) -> Self {
        ClientConfig {
            helo,
            tls: TlsPolicy::Opportunistic,
            auth: None,
            reply_limits: ReplyLimits::default(),
        }
    }
}

/// One message to relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// MAIL FROM.
    pub from: ReversePath,
    /// RCPT TO, with DSN parameters sent when the server offers DSN.
    pub recipients: Vec<Recipient>,
    /// `RET=` when DSN is offered.
    pub ret: Option<Ret>,
    /// `ENVID=` (xtext) when DSN is offered.
    pub envid: Option<String>,
    /// The message; line ends are normalised to CRLF and it is dot-stuffed on the wire.
    pub content: Vec<u8>,
}

/// What happened to one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RcptStatus {
    /// The server took responsibility (`250` after DATA).
    Delivered,
    /// 4yz, a lost connection, a timeout: try again later.
    Temporary,
    /// 5yz: bounce.
    Permanent,
}

/// The outcome of one recipient, with the reply that decided it (a locally made reply, code
/// 421 or 5xx, when the connection failed or the server lacked a needed extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcptOutcome {
    /// Delivered, temporary or permanent.
    pub status: RcptStatus,
    /// The deciding reply.
    pub reply: Reply,
}

/// What a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    Auth,
    Mail(usize),
    Rcpt(usize, usize),
    Data(usize),
    Content(usize),
    /// RSET, or a lone "." after an unwanted 354 (RFC 2920 §3.1): the reply only
    /// resynchronises (without PIPELINING the next MAIL waits for it).
    Resync,
    Quit,
}

/// The relay side of one SMTP connection.
pub struct ClientSession {
    cfg: ClientConfig,
    messages: Vec<OutgoingMessage>,
    outcomes: Vec<Vec<Option<RcptOutcome>>>,
    /// Per message: the RCPT replies said yes to at least one.
    accepted: Vec<bool>,
    /// Per message: MAIL was refused.
    mail_failed: Vec<bool>,
    buf: Vec<u8>,
    out: VecDeque<Output>,
    pending: VecDeque<Pending>,
    /// EHLO keywords (upper case) with their parameters.
    extensions: Vec<(String, String)>,
    esmtp: bool,
    tls: Option<TlsInfo>,
    authenticated: bool,
    next_message: usize,
    done: bool,
}

impl ClientSession {
    /// A session that will send `messages` once the server greets.
    pub fn new(cfg: ClientConfig, messages: Vec<OutgoingMessage>) -> Self {
        let outcomes = messages
            .iter()
            .map(|m| vec![None; m.recipients.len()])
            .collect();
        let n = messages.len();
        ClientSession {
            cfg,
            messages,
            outcomes,
            accepted: vec![false; n],
            mail_failed: vec![false; n],
            buf: Vec::new(),
            out: VecDeque::new(),
            pending: VecDeque::from([Pending::Greeting]),
            extensions: Vec::new(),
            esmtp: false,
            tls: None,
            authenticated: false,
            next_message: 0,
            done: false,
        }
    }

    /// Per message, per recipient: the outcome, `None` while undecided.
    pub fn outcomes(&self) -> &[Vec<Option<RcptOutcome>>] {
        &self.outcomes
    }

    /// True once the session has closed (every recipient then has an outcome).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The server's EHLO keyword, if offered, with its parameter text.
    pub fn extension(&self, keyword: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(keyword))
            .map(|(_, v)| v.as_str())
    }

    /// TLS, once started.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    fn send(&mut self, cmd: &Command, expect: Pending) {
        self.out.push_back(Output::Send(cmd.encode()));
        self.pending.push_back(expect);
    }

    fn on_reply(&mut self, r: Reply) {
        let Some(p) = self.pending.pop_front() else {
            // An unsolicited reply: only 421 means something (RFC 5321 §3.8).
            if r.code == 421 {
                self.abort(&r);
            }
            return;
        };
        if r.code == 421 && p != Pending::Quit {
            // RFC 5321 §3.8: the server is closing; the client must not send QUIT.
            return self.abort(&r);
        }
        match p {
            Pending::Greeting if r.code == 220 => self.ehlo(),
            // RFC 5321 §3.1: a 554 greeting still wants QUIT.
            Pending::Greeting => self.fail_all_and_quit(&r),
            Pending::Ehlo if r.code == 250 => {
                self.esmtp = true;
                self.extensions = r
                    .lines
                    .iter()
                    .skip(1)
                    .map(|l| {
                        let l = String::from_utf8_lossy(l);
                        let (k, v) = l.split_once(' ').unwrap_or((&l, ""));
                        (k.to_ascii_uppercase(), v.to_string())
                    })
                    .collect();
                self.after_ehlo();
            }
            // RFC 5321 §3.2: fall back to HELO when EHLO is not recognised.
            Pending::Ehlo if r.is_permanent() => {
                self.send(&Command::Helo(self.cfg.helo.clone()), Pending::Helo)
            }
            Pending::Helo if r.code == 250 => {
                self.esmtp = false;
                self.extensions.clear();
                self.after_ehlo();
            }
            Pending::Ehlo | Pending::Helo => self.fail_all_and_quit(&r),
            Pending::StartTls if r.code == 220 => {
                // RFC 3207 §4.2: anything buffered from before the handshake is dropped.
                self.buf.clear();
                self.out.push_back(Output::StartTls);
            }
            Pending::StartTls if self.cfg.tls == TlsPolicy::Required => self.fail_all_and_quit(&r),
            Pending::StartTls => self.after_tls(),
            Pending::Auth if r.code == 235 => {
                self.authenticated = true;
                self.next_transaction();
            }
            Pending::Auth => self.fail_all_and_quit(&r),
            Pending::Mail(m) => {
                if !r.is_positive() {
                    self.mail_failed[m] = true;
                    self.decide(m, &r);
                }
                if !self.pipelining() {
                    self.after_mail(m);
                }
            }
            Pending::Rcpt(m, i) => {
                if r.is_positive() && !self.mail_failed[m] {
                    self.accepted[m] = true;
                } else if let Some(o) = self.outcomes[m].get_mut(i).filter(|o| o.is_none()) {
                    *o = Some(outcome(&r));
                }
                if !self.pipelining() {
                    self.after_rcpt(m, i);
                }
            }
            Pending::Data(m) if r.code == 354 => {
                if self.accepted[m] && !self.mail_failed[m] {
                    let content = stuff(&self.messages[m].content);
                    self.out.push_back(Output::Send(content));
                    self.pending.push_back(Pending::Content(m));
                } else {
                    // RFC 2920 §3.1: DATA accepted although no RCPT was: send a single dot.
                    self.out.push_back(Output::Send(b".\r\n".to_vec()));
                    self.pending.push_back(Pending::Resync);
                    self.finish_message(m, None);
                }
            }
            Pending::Data(m) => self.finish_message(m, Some(&r)),
            Pending::Content(m) => self.finish_message(m, Some(&r)),
            Pending::Resync if !self.pipelining() => self.next_transaction(),
            Pending::Resync => {}
            Pending::Quit => self.close(),
        }
    }

    fn ehlo(&mut self) {
        self.send(&Command::Ehlo(self.cfg.helo.clone()), Pending::Ehlo);
    }

    fn pipelining(&self) -> bool {
        self.extension("PIPELINING").is_some()
    }

    fn after_ehlo(&mut self) {
        if self.tls.is_none() && self.cfg.tls != TlsPolicy::Never {
            if self.extension("STARTTLS").is_some() {
                return self.send(&Command::StartTls, Pending::StartTls);
            }
            if self.cfg.tls == TlsPolicy::Required {
                return self.fail_all_and_quit(&Reply::single(
                    421,
                    "4.7.10 STARTTLS required but not offered",
                ));
            }
        }
        self.after_tls();
    }

    fn after_tls(&mut self) {
        let offers_plain = self
            .extension("AUTH")
            .is_some_and(|m| m.split(' ').any(|m| m.eq_ignore_ascii_case("PLAIN")));
        if let Some((user, pass)) = self.cfg.auth.clone()
            && !self.authenticated
            && offers_plain
        {
            let ir = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
            return self.send(
                &Command::Auth {
                    mechanism: "PLAIN".into(),
                    initial_response: Some(ir),
                },
                Pending::Auth,
            );
        }
        self.next_transaction();
    }

    /// Start the next message, or QUIT when there is none.
    fn next_transaction(&mut self) {
        while self.next_message < self.messages.len() {
            let m = self.next_message;
            self.next_message += 1;
            match self.mail_params(m) {
                Ok(params) => {
                    let from = self.messages[m].from.clone();
                    self.send(&Command::Mail { from, params }, Pending::Mail(m));
                    if self.pipelining() {
                        // RFC 2920 §3.1: MAIL, every RCPT and DATA in one group.
                        for i in 0..self.messages[m].recipients.len() {
                            self.send_rcpt(m, i);
                        }
                        self.send(&Command::Data, Pending::Data(m));
                    }
                    return;
                }
                Err(r) => self.decide(m, &r),
            }
        }
        self.send(&Command::Quit, Pending::Quit);
    }

    fn after_mail(&mut self, m: usize) {
        if self.mail_failed[m] {
            self.next_transaction();
        } else if self.messages[m].recipients.is_empty() {
            self.send(&Command::Rset, Pending::Resync);
        } else {
            self.send_rcpt(m, 0);
        }
    }

    fn after_rcpt(&mut self, m: usize, i: usize) {
        if i + 1 < self.messages[m].recipients.len() {
            self.send_rcpt(m, i + 1);
        } else if self.accepted[m] {
            self.send(&Command::Data, Pending::Data(m));
        } else {
            self.send(&Command::Rset, Pending::Resync);
        }
    }

    fn send_rcpt(&mut self, m: usize, i: usize) {
        let Some(r) = self.messages[m].recipients.get(i) else {
            return;
        };
        let mut params = Vec::new();
        if self.extension("DSN").is_some() {
            if let Some(n) = r.notify {
                params.push(Param::Notify(n));
            }
            if let Some((t, a)) = &r.orcpt {
                params.push(Param::Orcpt {
                    addr_type: t.clone(),
                    addr: a.clone(),
                });
            }
        }
        let to = r.path.clone();
        self.send(&Command::Rcpt { to, params }, Pending::Rcpt(m, i));
    }

    /// MAIL parameters for what the server offers, or the local reply that fails the message.
    fn mail_params(&self, m: usize) -> Result<Vec<Param>, Reply> {
        let msg = &self.messages[m];
        let mut params = Vec::new();
        if self.extension("SIZE").is_some() {
            params.push(Param::Size(msg.content.len() as u64));
        }
        if !msg.content.is_ascii() && self.extension("8BITMIME").is_some() {
            params.push(Param::Body(Body::EightBitMime));
        }
        let utf8_addr = msg.from.mailbox().is_some_and(|b| !b.is_ascii())
            || msg
                .recipients
                .iter()
                .any(|r| r.path.mailbox().is_some_and(|b| !b.is_ascii()));
        if utf8_addr {
            if self.extension("SMTPUTF8").is_none() {
                // RFC 6531 §3.2: such a message cannot be relayed to this server.
                return Err(Reply::single(553, "5.6.7 Server does not offer SMTPUTF8"));
            }
            params.push(Param::SmtpUtf8);
        }
        if self.extension("DSN").is_some() {
            if let Some(r) = msg.ret {
                params.push(Param::Ret(r));
            }
            if let Some(e) = &msg.envid {
                params.push(Param::EnvId(e.clone()));
            }
        }
        Ok(params)
    }

    /// Give every open recipient of message `m` the outcome of `r`.
    fn decide(&mut self, m: usize, r: &Reply) {
        for o in self.outcomes[m].iter_mut().filter(|o| o.is_none()) {
            *o = Some(outcome(r));
        }
    }

    /// The reply to DATA or to the content ends message `m` (`None`: after a lone dot).
    fn finish_message(&mut self, m: usize, r: Option<&Reply>) {
        if let Some(r) = r {
            if self.accepted[m] || !r.is_positive() {
                self.decide(m, r);
            }
            if !r.is_positive() {
                // A refused DATA or content leaves the transaction to reset.
                self.send(&Command::Rset, Pending::Resync);
            }
        }
        if self.pipelining() || self.pending.is_empty() {
            self.next_transaction();
        }
    }

    fn fail_all_and_quit(&mut self, r: &Reply) {
        self.fail_open(r);
        self.next_message = self.messages.len();
        self.send(&Command::Quit, Pending::Quit);
    }

    fn fail_open(&mut self, r: &Reply) {
        for m in 0..self.outcomes.len() {
            self.decide(m, r);
        }
    }

    /// 421, a malformed reply, EOF or timeout: fail what is open and close without QUIT.
    fn abort(&mut self, r: &Reply) {
        self.fail_open(r);
        self.close();
    }

    fn close(&mut self) {
        if !self.done {
            self.fail_open(&Reply::single(421, "4.4.2 Connection closed"));
            self.done = true;
            self.pending.clear();
            self.out.push_back(Output::Close);
        }
    }
}

fn outcome(r: &Reply) -> RcptOutcome {
    let status = match r.class() {
        2 => RcptStatus::Delivered,
        5 => RcptStatus::Permanent,
        _ => RcptStatus::Temporary,
    };
    RcptOutcome {
        status,
        reply: r.clone(),
    }
}

/// The wire form of a message body: every line end made CRLF (a bare CR or LF becomes CRLF,
/// RFC 5321 §2.3.8, so no smuggling payload passes through), lines starting with "." get
/// another (§4.5.2), then `.` CRLF.
pub fn stuff(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + content.len() / 64 + 5);
    let mut at_line_start = true;
    let mut i = 0;
    while let Some(&c) = content.get(i) {
        match c {
            b'\r' | b'\n' => {
                out.extend_from_slice(b"\r\n");
                i += if c == b'\r' && content.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                at_line_start = true;
                continue;
            }
            b'.' if at_line_start => out.extend_from_slice(b".."),
            _ => out.push(c),
        }
        at_line_start = false;
        i += 1;
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

impl Session for ClientSession {
    fn handle_input(&mut self, data: &[u8]) {
        if self.done {
            return;
        }
        self.buf.extend_from_slice(data);
        loop {
            match decode_reply(&self.buf, &self.cfg.reply_limits) {
                Ok(Some((n, r))) => {
                    self.buf.drain(..n.min(self.buf.len()));
                    self.on_reply(r);
                    if self.done {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    return self.abort(&Reply::single(
                        421,
                        &format!("4.5.0 Malformed reply from server: {e}"),
                    ));
                }
            }
        }
    }

    fn handle_eof(&mut self) {
        self.abort(&Reply::single(421, "4.4.2 Connection closed by server"));
    }

    fn handle_timeout(&mut self) -> Vec<Output> {
        self.abort(&Reply::single(421, "4.4.2 Timeout waiting for the server"));
        self.out.drain(..).collect()
    }

    fn handle_tls(&mut self, info: TlsInfo) {
        // RFC 3207 §4.2: forget the first EHLO's answer and ask again.
        self.tls = Some(info);
        self.extensions.clear();
        self.ehlo();
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }
}

#[cfg(test)]
#[path = "client/tests.rs"]
mod tests;
