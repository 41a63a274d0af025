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

/// A reference session behind a wrapper that sees every input line first: [`Bugs::line`]
/// feeds it on (or not) and may rewrite what comes out.
struct Wrapper<S, B> {
    inner: S,
    out: VecDeque<Output>,
    partial: Vec<u8>,
    bugs: B,
}

/// The planted bugs of one server.
trait Bugs<S: Session> {
    /// Where input lines end (the SMTP wrapper is sloppy: any LF).
    const LINE_END: &'static [u8];
    /// One input line (with its end).
    fn line(&mut self, io: &mut Io<'_, S>, line: Vec<u8>);
}

/// The inner session and the output queue, for [`Bugs::line`].
struct Io<'a, S> {
    inner: &'a mut S,
    out: &'a mut VecDeque<Output>,
}

impl<S: Session> Io<'_, S> {
    /// Feed `bytes` to the inner session; its output, not queued yet.
    fn feed(&mut self, bytes: &[u8]) -> Vec<Output> {
        self.inner.handle_input(bytes);
        std::iter::from_fn(|| self.inner.poll_output()).collect()
    }

    fn emit(&mut self, outs: impl IntoIterator<Item = Output>) {
        self.out.extend(outs);
    }
}

/// The reply code of an SMTP output.
fn code(o: &Output) -> Option<u16> {
    let Output::Send(b) = o else { return None };
    std::str::from_utf8(b.get(..3)?).ok()?.parse().ok()
}

impl<S: Session, B: Bugs<S>> Wrapper<S, B> {
    fn new(inner: S, bugs: B) -> Self {
        let mut w = Wrapper {
            inner,
            out: VecDeque::new(),
            partial: Vec::new(),
            bugs,
        };
        // The greeting.
        let mut io = Io {
            inner: &mut w.inner,
            out: &mut w.out,
        };
        let greeting = io.feed(b"");
        io.emit(greeting);
        w
    }
}

impl<S: Session, B: Bugs<S>> Session for Wrapper<S, B> {
    fn handle_input(&mut self, data: &[u8]) {
        self.partial.extend_from_slice(data);
        let end = B::LINE_END;
        while let Some(i) = self.partial.windows(end.len()).position(|w| w == end) {
            let line: Vec<u8> = self.partial.drain(..i + end.len()).collect();
            self.bugs.line(
                &mut Io {
                    inner: &mut self.inner,
                    out: &mut self.out,
                },
                line,
            );
        }
        if self.partial.len() > 64 * 1024 {
            let rest = std::mem::take(&mut self.partial);
            let mut io = Io {
                inner: &mut self.inner,
                out: &mut self.out,
            };
            let outs = io.feed(&rest);
            io.emit(outs);
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

/// The SMTP bugs' state.
#[derive(Default)]
struct SmtpBugs {
    /// A MAIL was accepted in this transaction.
    mail: bool,
    /// Inside DATA (after the inner session's 354).
    data: bool,
}

impl Bugs<ServerSession<FixtureSink>> for SmtpBugs {
    const LINE_END: &'static [u8] = b"\n";

    fn line(&mut self, io: &mut Io<'_, ServerSession<FixtureSink>>, line: Vec<u8>) {
        if self.data {
            // Bug 1: a bare-LF dot line ends the data.
            let bytes: &[u8] = if line == b".\n" { b"\r\n.\r\n" } else { &line };
            let outs = io.feed(bytes);
            if line == b".\n" || outs.iter().any(|o| code(o).is_some()) {
                self.data = false;
                self.mail = false;
            }
            io.emit(outs);
            return;
        }
        let first = line
            .split(|b| b.is_ascii_whitespace())
            .next()
            .unwrap_or_default();
        let verb = String::from_utf8_lossy(first).to_ascii_uppercase();
        if verb == "RCPT" && !self.mail {
            // Bug 2: no sequence check.
            io.emit([Output::Send(b"250 2.1.5 OK\r\n".to_vec())]);
            return;
        }
        let outs = io.feed(&line);
        match (verb.as_str(), outs.first().and_then(code)) {
            ("MAIL", Some(250)) => self.mail = true,
            ("RSET" | "EHLO" | "HELO", Some(250)) => self.mail = false,
            ("DATA", Some(354)) => self.data = true,
            _ => {}
        }
        io.emit(outs);
    }
}

/// The POP3 bugs (no state).
struct Pop3Bugs;

impl Bugs<wirecheck_pop3::ServerSession> for Pop3Bugs {
    // The reference reads CRLF lines only; so does this wrapper.
    const LINE_END: &'static [u8] = b"\r\n";

    fn line(&mut self, io: &mut Io<'_, wirecheck_pop3::ServerSession>, line: Vec<u8>) {
        let text = String::from_utf8_lossy(&line).into_owned();
        let words: Vec<&str> = text.split_ascii_whitespace().collect();
        let verb = words
            .first()
            .map(|w| w.to_ascii_uppercase())
            .unwrap_or_default();
        let mut outs = io.feed(&line);
        if let Some(Output::Send(first)) = outs.first_mut() {
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
        io.emit(outs);
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
            let inner = wirecheck_pop3::ServerSession::new(store.clone(), cfg.clone(), stamp);
            let session = Wrapper::new(inner, Pop3Bugs);
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
            let inner = ServerSession::new(cfg.clone(), FixtureSink, Some(peer));
            let session = Wrapper::new(inner, SmtpBugs::default());
            let driver = driver.clone();
            tokio::spawn(async move {
                let _ = drive(tcp, session, &driver).await;
            });
        }
    });
    Broken { addr, task }
}
