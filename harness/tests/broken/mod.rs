//! A deliberately broken SMTP server for the `diff` and `netfuzz` tests: the oracle's own
//! SMTP session (configured like the reference MTA's MX port, with the fixture's users)
//! behind a wrapper that plants two classic bugs:
//!
//! 1. **bare-LF end of data** (SMTP smuggling, RFC 5321 §4.1.1.4 / §2.3.8): inside DATA a
//!    line `.` ended by a bare LF (`\n.\n`) ends the message, so what follows is read as
//!    commands;
//! 2. **RCPT before MAIL** (RFC 5321 §4.1.4 says 503): answered `250 2.1.5 OK`.
//!
//! Everything else is the reference's behaviour, so a differential run should find these
//! two and little else.
//!
//! And a broken POP3 server, the reference's POP3 session behind a wrapper with two bugs of
//! its own:
//!
//! 1. **STAT counts octets with LF line ends** (RFC 1939 §5 counts the message as sent, CRLF):
//!    the size is 10 octets per message short;
//! 2. **LIST of a message that does not exist** (RFC 1939 §5 says `-ERR`): `+OK n 0`.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::net::TcpListener;
use wirecheck_smtp::server::{
    BareNewline, Envelope, Extensions, MailSink, RcptVerdict, Recipient, ServerConfig,
    ServerSession,
};
use wirecheck_wire::driver::{DriverConfig, TlsSide, drive};
use wirecheck_wire::{Output, Session, TlsInfo};

/// The fixture's mail policy, as the reference MTA applies it on its MX port.
struct FixtureSink;

impl MailSink for FixtureSink {
    fn check_rcpt(&mut self, _envelope: &Envelope, rcpt: &Recipient) -> RcptVerdict {
        let Some(m) = rcpt.path.mailbox() else {
            return RcptVerdict::Local;
        };
        if !m.domain().as_str().eq_ignore_ascii_case("example.test") {
            return RcptVerdict::RelayDenied;
        }
        let local = m.local_part_unquoted().to_ascii_lowercase();
        if ["alice", "postmaster", "abuse"].contains(&local.as_str()) {
            RcptVerdict::Local
        } else {
            RcptVerdict::UnknownUser
        }
    }

    fn deliver(
        &mut self,
        _envelope: &Envelope,
        _message: &[u8],
    ) -> Result<String, wirecheck_smtp::server::DeliveryError> {
        Ok("BROKEN1".into())
    }

    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The wrapper: lines in, the reference session behind it.
struct BrokenSmtp {
    inner: ServerSession<FixtureSink>,
    out: VecDeque<Output>,
    partial: Vec<u8>,
    /// A MAIL was accepted in this transaction.
    mail: bool,
    /// Inside DATA (after the inner session's 354).
    data: bool,
}

impl BrokenSmtp {
    fn feed(&mut self, bytes: &[u8]) -> Vec<u16> {
        self.inner.handle_input(bytes);
        let mut codes = Vec::new();
        while let Some(o) = self.inner.poll_output() {
            if let Output::Send(b) = &o
                && let Some(code) = std::str::from_utf8(b.get(..3).unwrap_or_default())
                    .ok()
                    .and_then(|c| c.parse().ok())
            {
                codes.push(code);
            }
            self.out.push_back(o);
        }
        codes
    }

    fn line(&mut self, line: Vec<u8>) {
        if self.data {
            if line == b".\n" {
                // Bug 1: a bare-LF dot line ends the data.
                self.feed(b"\r\n.\r\n");
                self.data = false;
                self.mail = false;
                return;
            }
            if !self.feed(&line).is_empty() {
                self.data = false;
                self.mail = false;
            }
            return;
        }
        let verb: String = String::from_utf8_lossy(
            line.split(|b| b.is_ascii_whitespace())
                .next()
                .unwrap_or_default(),
        )
        .to_ascii_uppercase();
        if verb == "RCPT" && !self.mail {
            // Bug 2: no sequence check.
            self.out
                .push_back(Output::Send(b"250 2.1.5 OK\r\n".to_vec()));
            return;
        }
        let codes = self.feed(&line);
        match (verb.as_str(), codes.first()) {
            ("MAIL", Some(250)) => self.mail = true,
            ("RSET" | "EHLO" | "HELO", Some(250)) => self.mail = false,
            ("DATA", Some(354)) => self.data = true,
            _ => {}
        }
    }
}

impl Session for BrokenSmtp {
    fn handle_input(&mut self, data: &[u8]) {
        self.partial.extend_from_slice(data);
        while let Some(i) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=i).collect();
            self.line(line);
        }
        if self.partial.len() > 64 * 1024 {
            let rest = std::mem::take(&mut self.partial);
            self.feed(&rest);
        }
    }

    fn handle_eof(&mut self) {
        self.inner.handle_eof();
        while let Some(o) = self.inner.poll_output() {
            self.out.push_back(o);
        }
    }

    fn handle_timeout(&mut self) -> Vec<Output> {
        self.inner.handle_timeout()
    }

    fn handle_tls(&mut self, info: TlsInfo) {
        self.inner.handle_tls(info);
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }
}

/// A running broken server; dropping it stops accepting.
pub struct Broken {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Broken {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The wrapper around the reference POP3 session.
struct BrokenPop3 {
    inner: wirecheck_pop3::ServerSession,
    out: VecDeque<Output>,
    partial: Vec<u8>,
}

impl BrokenPop3 {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.inner.handle_input(bytes);
        let mut sent = Vec::new();
        while let Some(o) = self.inner.poll_output() {
            match o {
                Output::Send(b) => sent.push(b),
                other => {
                    for b in sent.drain(..) {
                        self.out.push_back(Output::Send(b));
                    }
                    self.out.push_back(other);
                }
            }
        }
        sent
    }

    fn line(&mut self, line: Vec<u8>) {
        let text = String::from_utf8_lossy(&line).into_owned();
        let words: Vec<&str> = text.split_ascii_whitespace().collect();
        let verb = words
            .first()
            .map(|w| w.to_ascii_uppercase())
            .unwrap_or_default();
        let mut sent = self.feed(&line);
        if let Some(first) = sent.first_mut() {
            let status = String::from_utf8_lossy(first).into_owned();
            match (verb.as_str(), words.len()) {
                // Bug 1: sizes counted with LF line ends.
                ("STAT", 1) if status.starts_with("+OK ") => {
                    let nums: Vec<u64> = status[4..]
                        .split_ascii_whitespace()
                        .filter_map(|w| w.parse().ok())
                        .collect();
                    if let [n, size] = nums[..] {
                        *first =
                            format!("+OK {n} {}\r\n", size.saturating_sub(10 * n)).into_bytes();
                    }
                }
                // Bug 2: no such message, but +OK.
                ("LIST", 2) if status.starts_with("-ERR") && !status.contains('[') => {
                    *first = format!("+OK {} 0\r\n", words[1]).into_bytes();
                }
                _ => {}
            }
        }
        self.out.extend(sent.into_iter().map(Output::Send));
    }
}

impl Session for BrokenPop3 {
    fn handle_input(&mut self, data: &[u8]) {
        self.partial.extend_from_slice(data);
        // The reference reads CRLF lines only; so does the wrapper.
        while let Some(i) = self.partial.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = self.partial.drain(..i + 2).collect();
            self.line(line);
        }
        if self.partial.len() > 64 * 1024 {
            let rest = std::mem::take(&mut self.partial);
            let sent = self.feed(&rest);
            self.out.extend(sent.into_iter().map(Output::Send));
        }
    }

    fn handle_eof(&mut self) {
        self.inner.handle_eof();
        while let Some(o) = self.inner.poll_output() {
            self.out.push_back(o);
        }
    }

    fn handle_timeout(&mut self) -> Vec<Output> {
        self.inner.handle_timeout()
    }

    fn handle_tls(&mut self, info: TlsInfo) {
        self.inner.handle_tls(info);
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }
}

/// Start the broken POP3 server on an ephemeral loopback port, over the fixture's maildrop
/// (in `dir`).
pub async fn pop3(dir: &std::path::Path) -> Broken {
    use wirecheck_store::{Store, fixture};
    let store = Store::open(dir, fixture::peer_users().expect("users")).expect("store");
    fixture::seed(&store).expect("seed");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let tls = wirecheck_wire::tls::SelfSigned::generate(&["localhost"]).expect("certificate");
    let driver = Arc::new(DriverConfig {
        tls: Some(TlsSide::Server(tls.server_config().expect("tls"))),
        blocking: true,
        ..DriverConfig::default()
    });
    let cfg = Arc::new(wirecheck_pop3::ServerConfig {
        hostname: "localhost".into(),
        stls: true,
        ..Default::default()
    });
    let task = tokio::spawn(async move {
        let mut n = 0u64;
        while let Ok((tcp, _)) = listener.accept().await {
            n += 1;
            let stamp = wirecheck_pop3::apop_timestamp(std::process::id(), n, "localhost");
            let mut session = BrokenPop3 {
                inner: wirecheck_pop3::ServerSession::new(store.clone(), cfg.clone(), stamp),
                out: VecDeque::new(),
                partial: Vec::new(),
            };
            // The greeting.
            let greeting = session.feed(b"");
            session.out.extend(greeting.into_iter().map(Output::Send));
            let driver = driver.clone();
            tokio::spawn(async move {
                let _ = drive(tcp, session, &driver).await;
            });
        }
    });
    Broken { addr, task }
}

/// Start the broken SMTP server on an ephemeral loopback port.
pub async fn smtp() -> Broken {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let tls = wirecheck_wire::tls::SelfSigned::generate(&["localhost"]).expect("certificate");
    let driver = Arc::new(DriverConfig {
        tls: Some(TlsSide::Server(tls.server_config().expect("tls"))),
        ..DriverConfig::default()
    });
    let cfg = Arc::new(ServerConfig {
        hostname: "mail.example.test".into(),
        starttls: true,
        auth: true,
        auth_requires_tls: true,
        bare_newline: BareNewline::Reject,
        extensions: Extensions {
            binarymime: false,
            ..Extensions::default()
        },
        ..ServerConfig::default()
    });
    let task = tokio::spawn(async move {
        while let Ok((tcp, peer)) = listener.accept().await {
            let mut session = BrokenSmtp {
                inner: ServerSession::new(cfg.clone(), FixtureSink, Some(peer)),
                out: VecDeque::new(),
                partial: Vec::new(),
                mail: false,
                data: false,
            };
            // The greeting.
            session.feed(b"");
            let driver = driver.clone();
            tokio::spawn(async move {
                let _ = drive(tcp, session, &driver).await;
            });
        }
    });
    Broken { addr, task }
}
