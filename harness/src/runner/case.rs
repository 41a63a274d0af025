//! One case: its connections, variables and steps, and the [`CaseResult`] it ends in.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::time::Instant;
use wirecheck_reports::{CaseResult, Level, Outcome, escape_bytes};
use wirecheck_wire::driver::{MaybeTls, TlsSide};

use super::conn::{self, Conn, ReadError};
use super::record::Recorder;
use super::{CaseEnv, CaseTarget};
use crate::protocol::{self, FrameError, Protocol, Transport, Unit};
use crate::target::{Process, substitute};
use crate::transcript::script::framing_protocol;
use crate::transcript::template::unhex;
use crate::transcript::{CheckOp, ConnectKind, Role, SendMode, Step, StepKind, Transcript, Vars};

/// Why a case stopped before its end.
#[derive(Debug, Clone, Default)]
pub(crate) struct Failure {
    pub line: u32,
    pub message: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub hint: Option<String>,
    /// The unit that did not match said "not implemented".
    pub not_implemented: bool,
}

/// A stopped case: the target broke the transcript, or the harness could not go on.
#[derive(Debug, Clone)]
pub(crate) enum Stop {
    Mismatch(Failure),
    Error(Failure),
}

/// Escape at most this many bytes of what arrived into a report.
const SHOWN: usize = 2048;

/// Bytes as the report shows them (escaped, cut at [`SHOWN`]).
pub(crate) fn shown(b: &[u8]) -> String {
    if b.len() <= SHOWN {
        escape_bytes(b)
    } else {
        format!("{}… ({} bytes in all)", escape_bytes(&b[..SHOWN]), b.len())
    }
}

struct Listener {
    tcp: TcpListener,
    protocol: String,
}

/// The state of a running case.
pub(crate) struct Exec<'a> {
    pub t: &'a Transcript,
    pub env: &'a CaseEnv<'a>,
    pub conns: BTreeMap<String, Conn>,
    listeners: BTreeMap<String, Listener>,
    pub current: String,
    pub vars: Vars,
    pub step_timeout: Duration,
    pub skip_untagged: bool,
    pub rec: Recorder,
    pub last_data_reply: Option<(Unit, SocketAddr)>,
    pub line: u32,
    client: Option<Process>,
}

pub(crate) fn base_result(t: &Transcript, outcome: Outcome) -> CaseResult {
    CaseResult {
        id: t.meta.id.clone(),
        title: t.meta.title.clone(),
        protocol: if t.meta.protocol == "scenarios" {
            "scenario".into()
        } else {
            t.meta.protocol.clone()
        },
        rfc: t.rfc_strings(),
        level: t.meta.level,
        tags: t.meta.tags.clone(),
        points: t.meta.points,
        outcome,
        message: None,
        line: None,
        expected: None,
        actual: None,
        hint: None,
        exchange: Vec::new(),
        duration_ms: 0,
        file: t.file.display().to_string(),
    }
}

/// A case that could not run at all.
pub(crate) fn error_result(t: &Transcript, message: &str) -> CaseResult {
    CaseResult {
        message: Some(message.to_string()),
        ..base_result(t, Outcome::Error)
    }
}

/// A case whose requirements the target does not meet.
pub(crate) fn skipped_result(t: &Transcript, reason: &str) -> CaseResult {
    CaseResult {
        message: Some(reason.to_string()),
        ..base_result(t, Outcome::Skipped)
    }
}

/// The outcome of a mismatch, by level and extension (docs/transcripts.md "Outcomes").
pub(crate) fn mismatch_outcome(level: Level, extension: bool, not_implemented: bool) -> Outcome {
    if extension && not_implemented {
        return Outcome::Unimplemented;
    }
    match level {
        Level::Must => Outcome::Fail,
        Level::Should => Outcome::NonStrict,
        Level::May => Outcome::Informational,
    }
}

/// Run one transcript.
pub(crate) async fn run_case(t: &Transcript, env: &CaseEnv<'_>) -> CaseResult {
    let start = Instant::now();
    let opts = env.options;
    let mut vars = Vars::new();
    for (k, v) in [
        ("user", &opts.fixtures.user),
        ("pass", &opts.fixtures.pass),
        ("domain", &opts.fixtures.domain),
    ] {
        vars.insert(k.into(), v.clone().into_bytes());
    }
    for (k, v) in env.services {
        vars.insert(k.clone(), v.clone().into_bytes());
    }
    vars.extend(t.meta.vars.clone());
    let mut x = Exec {
        t,
        env,
        conns: BTreeMap::new(),
        listeners: BTreeMap::new(),
        current: "main".into(),
        vars,
        step_timeout: opts.step_timeout.unwrap_or(t.meta.step_timeout),
        skip_untagged: framing_protocol(&t.meta.protocol) == "imap",
        rec: Recorder::new(start.into_std(), opts.record_cap),
        last_data_reply: None,
        line: t.meta.script_line,
        client: None,
    };
    // The whole-case limit (a longer --timeout for every step stretches it).
    let limit = match opts.step_timeout {
        Some(st) => t.meta.timeout.max(st),
        None => t.meta.timeout,
    };
    let stop = match tokio::time::timeout(limit, x.run()).await {
        Ok(r) => r.err(),
        Err(_) => Some(Stop::Error(Failure {
            line: x.line,
            message: format!(
                "the transcript did not finish within {}",
                humantime::format_duration(limit)
            ),
            ..Failure::default()
        })),
    };
    x.finish().await;
    let mut r = base_result(t, Outcome::Pass);
    if let Some(stop) = stop {
        let (outcome, f) = match stop {
            Stop::Mismatch(f) => (
                mismatch_outcome(t.meta.level, t.meta.extension.is_some(), f.not_implemented),
                f,
            ),
            Stop::Error(f) => (Outcome::Error, f),
        };
        r.outcome = outcome;
        r.message = Some(f.message);
        r.line = Some(f.line);
        r.expected = f.expected;
        r.actual = f.actual;
        r.hint = f.hint;
    }
    r.exchange = x.rec.finish();
    r.duration_ms = start.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
    r
}

fn error(line: u32, message: impl Into<String>) -> Stop {
    Stop::Error(Failure {
        line,
        message: message.into(),
        ..Failure::default()
    })
}

fn mismatch(line: u32, message: impl Into<String>) -> Stop {
    Stop::Mismatch(Failure {
        line,
        message: message.into(),
        ..Failure::default()
    })
}

impl<'a> Exec<'a> {
    async fn run(&mut self) -> Result<(), Stop> {
        self.open_main().await?;
        let steps: &'a [Step] = &self.t.steps;
        for step in steps {
            self.line = step.line;
            let conn = step.conn.clone().unwrap_or_else(|| self.current.clone());
            self.step(step, &conn).await?;
        }
        self.check_trailing_must_not()
    }

    pub fn deadline(&self) -> Instant {
        Instant::now() + self.step_timeout
    }

    fn protocol(&self, name: &str) -> Result<Arc<dyn Protocol>, Stop> {
        protocol::by_name(name)
            .ok_or_else(|| error(self.line, format!("no protocol adapter for `{name}`")))
    }

    fn framer(
        &self,
        p: &dyn Protocol,
        transport: Transport,
    ) -> Result<Box<dyn protocol::Framer>, Stop> {
        let r = match self.t.meta.role {
            Role::Client => p.reply_framer(transport),
            Role::Server => p.command_framer(transport),
        };
        r.map_err(|e| error(self.line, e.to_string()))
    }

    pub fn conn(&mut self, name: &str) -> Result<&mut Conn, Stop> {
        let line = self.line;
        self.conns.get_mut(name).ok_or_else(|| {
            error(
                line,
                format!("no open connection `{name}` (it was closed, or never opened)"),
            )
        })
    }

    /// A connection and the recorder, borrowed together.
    pub fn conn_rec(&mut self, name: &str) -> Result<(&mut Conn, &mut Recorder), Stop> {
        let line = self.line;
        match self.conns.get_mut(name) {
            Some(c) => Ok((c, &mut self.rec)),
            None => Err(error(
                line,
                format!("no open connection `{name}` (it was closed, or never opened)"),
            )),
        }
    }

    /// Open `main`: connect to the target (client role) or wait for the client (server role).
    async fn open_main(&mut self) -> Result<(), Stop> {
        let proto_name = framing_protocol(&self.t.meta.protocol);
        match (&self.env.target, self.t.meta.role) {
            (_, Role::Server) => self.accept_client(proto_name).await,
            (CaseTarget::Addr(addr), Role::Client) => {
                let (host, port) = addr.rsplit_once(':').unwrap_or((addr.as_str(), ""));
                self.vars.insert(
                    "host".into(),
                    host.trim_matches(['[', ']']).as_bytes().to_vec(),
                );
                self.vars.insert("port".into(), port.as_bytes().to_vec());
                if self.t.meta.protocol == "scenarios" {
                    return Ok(());
                }
                let p = self.protocol(proto_name)?;
                let kind = if p.default_transport() == Transport::Datagram {
                    ConnectKind::Udp
                } else {
                    ConnectKind::Tcp
                };
                let addr = addr.clone();
                self.connect("main", kind, &addr, p).await
            }
            (CaseTarget::ClientCmd(_), Role::Client) => Err(error(
                self.line,
                "a client-role case needs a target address",
            )),
        }
    }

    /// Server role: listen, start the client under test, accept it as `main`.
    async fn accept_client(&mut self, proto_name: &str) -> Result<(), Stop> {
        let p = self.protocol(proto_name)?;
        if p.default_transport() == Transport::Datagram {
            return Err(error(
                self.line,
                "the server role over UDP (dns) is not supported yet",
            ));
        }
        let l = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| error(self.line, format!("cannot listen: {e}")))?;
        let addr = l
            .local_addr()
            .map_err(|e| error(self.line, e.to_string()))?;
        self.vars.insert("host".into(), b"127.0.0.1".to_vec());
        self.vars
            .insert("port".into(), addr.port().to_string().into_bytes());
        let CaseTarget::ClientCmd(user_cmd) = &self.env.target else {
            return Err(error(
                self.line,
                "a server-role case needs a client to test: --target-cmd (or the transcript's target-cmd)",
            ));
        };
        let Some(cmd) = user_cmd.clone().or_else(|| self.t.meta.target_cmd.clone()) else {
            return Err(error(
                self.line,
                "a server-role case needs a client command: --target-cmd or the transcript's `target-cmd`",
            ));
        };
        let cmd = substitute(&cmd, "127.0.0.1", addr.port());
        self.rec.note(
            "main",
            format!("listening on {addr}; starting the client: {cmd}"),
        );
        let mut client = Process::spawn(&cmd).map_err(|e| error(self.line, e.to_string()))?;
        let deadline = Instant::now() + self.env.options.startup_timeout.max(self.step_timeout);
        let accepted = loop {
            let tick = (Instant::now() + Duration::from_millis(100)).min(deadline);
            match tokio::time::timeout_at(tick, l.accept()).await {
                Ok(Ok(a)) => break Ok(a),
                Ok(Err(e)) => break Err(format!("accept failed: {e}")),
                Err(_) if Instant::now() >= deadline => {
                    break Err("the client did not connect in time".to_string());
                }
                Err(_) => {
                    if let Some(st) = client.exited() {
                        break Err(format!(
                            "the client exited ({st}) without connecting; its stderr: {}",
                            client.stderr_tail().trim()
                        ));
                    }
                }
            }
        };
        self.client = Some(client);
        let (tcp, peer) = accepted.map_err(|m| error(self.line, m))?;
        let _ = tcp.set_nodelay(true);
        self.rec
            .note("main", format!("client connected from {peer}"));
        let framer = self.framer(p.as_ref(), Transport::Stream)?;
        self.conns.insert(
            "main".into(),
            Conn::stream("main", MaybeTls::Plain(tcp), peer, "localhost", p, framer),
        );
        Ok(())
    }

    async fn connect(
        &mut self,
        name: &str,
        kind: ConnectKind,
        addr: &str,
        p: Arc<dyn Protocol>,
    ) -> Result<(), Stop> {
        let line = self.line;
        let deadline = Instant::now() + self.env.options.connect_timeout;
        let refused = |m: String| {
            Stop::Error(Failure {
                line,
                hint: Some(format!("is the server running and listening on {addr}?")),
                message: m,
                ..Failure::default()
            })
        };
        let host = addr
            .rsplit_once(':')
            .map_or(addr, |(h, _)| h)
            .trim_matches(['[', ']'])
            .to_string();
        let c = if kind == ConnectKind::Udp {
            let (sock, peer) = conn::connect_udp(addr).await.map_err(refused)?;
            let framer = self.framer(p.as_ref(), Transport::Datagram)?;
            Conn::datagram(name, sock, peer, p, framer)
        } else {
            let (tcp, peer) = conn::connect_tcp(addr, deadline).await.map_err(refused)?;
            let framer = self.framer(p.as_ref(), Transport::Stream)?;
            Conn::stream(name, MaybeTls::Plain(tcp), peer, &host, p, framer)
        };
        self.rec.note(name, format!("connected to {addr}"));
        self.conns.insert(name.to_string(), c);
        if kind == ConnectKind::Tls {
            self.tls(name).await?;
        }
        Ok(())
    }

    async fn tls(&mut self, name: &str) -> Result<(), Stop> {
        let line = self.line;
        let side = match self.t.meta.role {
            Role::Client => {
                let host = self.conn(name)?.host.clone();
                let sni = if host.is_empty() {
                    "localhost".to_string()
                } else {
                    host
                };
                let sn = wirecheck_wire::tls::server_name(&sni)
                    .map_err(|e| error(line, e.to_string()))?;
                TlsSide::Client(self.env.tls.client.clone(), sn)
            }
            Role::Server => {
                let cfg = self
                    .env
                    .tls
                    .server
                    .get_or_try_init(|| async { wirecheck_wire::tls::self_signed_server_config() })
                    .await
                    .map_err(|e| error(line, format!("TLS set-up: {e}")))?;
                TlsSide::Server(cfg.clone())
            }
        };
        let deadline = self.deadline();
        let c = self
            .conns
            .get_mut(name)
            .ok_or_else(|| error(line, format!("no open connection `{name}`")))?;
        c.upgrade(&side, deadline, &mut self.rec).await.map_err(|m| {
            let cert = m.contains("certificate") || m.contains("UnknownIssuer");
            let hint = cert.then(|| "the certificate could not be verified: pass --insecure for a self-signed one".to_string());
            let f = Failure { line, message: m, hint, ..Failure::default() };
            if cert { Stop::Error(f) } else { Stop::Mismatch(f) }
        })
    }

    async fn step(&mut self, step: &'a Step, conn: &str) -> Result<(), Stop> {
        let line = step.line;
        match &step.kind {
            StepKind::Send { data, mode } => self.send(conn, data, *mode).await,
            StepKind::Expect(e) => self.expect(conn, e, &step.source).await,
            StepKind::MustNot(p) => {
                self.conn(conn)?.must_not.push((line, p.clone()));
                Ok(())
            }
            StepKind::Optional(p) => self.optional(conn, p, &step.source).await,
            StepKind::Unordered(list) => self.unordered(conn, list).await,
            StepKind::SkipUntagged(on) => {
                self.skip_untagged = *on;
                Ok(())
            }
            StepKind::ExpectClose => self.expect_close(conn, &step.source).await,
            StepKind::ExpectSilence(d) => self.expect_silence(conn, *d, &step.source).await,
            StepKind::Close => {
                if let Some(mut c) = self.conns.remove(conn) {
                    c.close(&mut self.rec).await;
                }
                Ok(())
            }
            StepKind::Shutdown => {
                let c = self
                    .conns
                    .get_mut(conn)
                    .ok_or_else(|| error(line, format!("no open connection `{conn}`")))?;
                c.shutdown(&mut self.rec).await;
                Ok(())
            }
            StepKind::Pause(d) => {
                tokio::time::sleep(*d).await;
                Ok(())
            }
            StepKind::StepTimeout(d) => {
                self.step_timeout = *d;
                Ok(())
            }
            StepKind::Connect {
                name,
                kind,
                to,
                protocol,
            } => {
                let p = self.protocol(protocol)?;
                let addr = match (kind, to) {
                    (ConnectKind::Passive, _) => self.passive_address()?.to_string(),
                    (_, Some(t)) => String::from_utf8_lossy(
                        &t.render(&self.vars)
                            .map_err(|e| error(line, e.to_string()))?,
                    )
                    .into_owned(),
                    (_, None) => match &self.env.target {
                        CaseTarget::Addr(a) => a.clone(),
                        CaseTarget::ClientCmd(_) => {
                            return Err(error(line, "`connect` without `to` in the server role"));
                        }
                    },
                };
                if let Some(mut old) = self.conns.remove(name) {
                    old.close(&mut self.rec).await;
                }
                self.connect(name, *kind, &addr, p).await
            }
            StepKind::Listen {
                name,
                udp,
                at,
                protocol,
            } => self.listen(name, *udp, at.as_ref(), protocol).await,
            StepKind::Accept { name } => self.accept(name).await,
            StepKind::Use { name } => {
                self.conn(name)?;
                self.current = name.clone();
                Ok(())
            }
            StepKind::Tls => self.tls(conn).await,
            StepKind::RecvAll { into } => self.recv_all(conn, into).await,
            StepKind::Set { name, expr } => {
                let v = expr
                    .eval(&self.vars)
                    .map_err(|e| error(line, e.to_string()))?;
                self.vars.insert(name.clone(), v);
                Ok(())
            }
            StepKind::Check { lhs, op } => self.check(lhs, op, &step.source),
        }
    }

    async fn send(
        &mut self,
        conn: &str,
        data: &crate::transcript::Template,
        mode: SendMode,
    ) -> Result<(), Stop> {
        let line = self.line;
        let text = data
            .render(&self.vars)
            .map_err(|e| error(line, e.to_string()))?;
        let server = self.t.meta.role == Role::Server;
        let deadline = self.deadline();
        let c = self.conn(conn)?;
        let mut bytes = match mode {
            SendMode::Line if server => [text.as_slice(), b"\r\n"].concat(),
            SendMode::Line => c
                .protocol
                .encode_line(&text)
                .map_err(|e| error(line, e.to_string()))?,
            SendMode::Raw => text,
            SendMode::Hex | SendMode::RawHex => {
                unhex(&text).map_err(|e| error(line, format!("`C> hex`: {e}")))?
            }
        };
        if c.protocol.length_prefixed()
            && c.transport() == Transport::Stream
            && mode != SendMode::RawHex
        {
            let len = u16::try_from(bytes.len())
                .map_err(|_| error(line, "a DNS message longer than 65535 bytes"))?;
            bytes.splice(0..0, len.to_be_bytes());
        }
        let Some(c) = self.conns.get_mut(conn) else {
            return Err(error(line, format!("no open connection `{conn}`")));
        };
        c.send(&bytes, deadline, &mut self.rec).await.map_err(|m| {
            Stop::Mismatch(Failure {
                line,
                message: m,
                hint: Some("the peer stopped reading or closed the connection".into()),
                ..Failure::default()
            })
        })
    }

    fn passive_address(&self) -> Result<SocketAddr, Stop> {
        let line = self.line;
        let (unit, control) = self.last_data_reply.as_ref().ok_or_else(|| {
            error(
                line,
                "`connect NAME passive`: no 227 (PASV) or 229 (EPSV) reply before",
            )
        })?;
        let ftp = protocol::by_name("ftp").ok_or_else(|| error(line, "no ftp adapter"))?;
        match ftp.data_address(unit, *control) {
            Ok(Some(a)) => Ok(a),
            Ok(None) => Err(Stop::Mismatch(Failure {
                line,
                message: "the 227/229 reply holds no address wirecheck can read".into(),
                actual: Some(shown(&unit.text)),
                ..Failure::default()
            })),
            Err(e) => Err(error(line, e.to_string())),
        }
    }

    async fn listen(
        &mut self,
        name: &str,
        udp: bool,
        at: Option<&crate::transcript::Template>,
        protocol: &str,
    ) -> Result<(), Stop> {
        let line = self.line;
        if udp {
            return Err(error(line, "`listen NAME udp` is not supported yet"));
        }
        let at = match at {
            Some(t) => String::from_utf8_lossy(
                &t.render(&self.vars)
                    .map_err(|e| error(line, e.to_string()))?,
            )
            .into_owned(),
            None => "127.0.0.1:0".into(),
        };
        let tcp = TcpListener::bind(&at)
            .await
            .map_err(|e| error(line, format!("cannot listen on {at}: {e}")))?;
        let addr = tcp.local_addr().map_err(|e| error(line, e.to_string()))?;
        self.vars
            .insert(format!("{name}.port"), addr.port().to_string().into_bytes());
        self.vars
            .insert(format!("{name}.addr"), addr.to_string().into_bytes());
        if let Some(ftp) = protocol::by_name("ftp")
            && let Ok(args) = ftp.port_args(addr)
        {
            for (k, v) in args {
                self.vars.insert(format!("{name}.{k}"), v.into_bytes());
            }
        }
        self.rec.note(name, format!("listening on {addr}"));
        self.listeners.insert(
            name.to_string(),
            Listener {
                tcp,
                protocol: protocol.to_string(),
            },
        );
        Ok(())
    }

    async fn accept(&mut self, name: &str) -> Result<(), Stop> {
        let line = self.line;
        let deadline = self.deadline();
        let l = self
            .listeners
            .get(name)
            .ok_or_else(|| error(line, format!("no listener `{name}`")))?;
        let (tcp, peer) = match tokio::time::timeout_at(deadline, l.tcp.accept()).await {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return Err(error(line, format!("accept on `{name}` failed: {e}"))),
            Err(_) => {
                return Err(mismatch(
                    line,
                    format!("nothing connected to listener `{name}` in time"),
                ));
            }
        };
        let p = self.protocol(&l.protocol.clone())?;
        let framer = p
            .reply_framer(Transport::Stream)
            .map_err(|e| error(line, e.to_string()))?;
        self.rec
            .note(name, format!("accepted a connection from {peer}"));
        self.conns.insert(
            name.to_string(),
            Conn::stream(name, MaybeTls::Plain(tcp), peer, "localhost", p, framer),
        );
        Ok(())
    }

    async fn recv_all(&mut self, conn: &str, into: &str) -> Result<(), Stop> {
        let line = self.line;
        let deadline = self.deadline();
        let cap = self.env.options.limits.max_reply;
        let c = self
            .conns
            .get_mut(conn)
            .ok_or_else(|| error(line, format!("no open connection `{conn}`")))?;
        match c.recv_all(deadline, cap, &mut self.rec).await {
            Ok(data) => {
                self.vars.insert(into.to_string(), data);
                Ok(())
            }
            Err(ReadError::Timeout { partial }) => Err(Stop::Mismatch(Failure {
                line,
                message: format!(
                    "`recv-all`: connection `{conn}` not closed within {}",
                    humantime::format_duration(self.step_timeout)
                ),
                actual: Some(shown(&partial)),
                ..Failure::default()
            })),
            Err(e) => Err(self.read_failure(e, line, "recv-all", conn)),
        }
    }

    fn check(
        &mut self,
        lhs: &crate::transcript::Expr,
        op: &CheckOp,
        source: &str,
    ) -> Result<(), Stop> {
        let line = self.line;
        let l = lhs
            .eval(&self.vars)
            .map_err(|e| error(line, e.to_string()))?;
        let ok = match op {
            CheckOp::Eq(r) => l == r.eval(&self.vars).map_err(|e| error(line, e.to_string()))?,
            CheckOp::Ne(r) => l != r.eval(&self.vars).map_err(|e| error(line, e.to_string()))?,
            CheckOp::Matches(p) => {
                let unit = Unit {
                    text: l.clone(),
                    subject: l.clone(),
                    ..Unit::default()
                };
                match p
                    .match_unit(&unit, &self.vars)
                    .map_err(|e| error(line, e.to_string()))?
                {
                    Some(caps) => {
                        self.vars.extend(caps);
                        true
                    }
                    None => false,
                }
            }
        };
        if ok {
            return Ok(());
        }
        let shown_rhs = match op {
            CheckOp::Eq(r) | CheckOp::Ne(r) => {
                r.eval(&self.vars).map(|v| shown(&v)).unwrap_or_default()
            }
            CheckOp::Matches(p) => p.source.clone(),
        };
        Err(Stop::Mismatch(Failure {
            line,
            message: format!("check failed: `{source}`"),
            expected: Some(shown_rhs),
            actual: Some(shown(&l)),
            ..Failure::default()
        }))
    }

    /// Close everything and stop the client we started.
    async fn finish(&mut self) {
        for (_, mut c) in std::mem::take(&mut self.conns) {
            c.close(&mut self.rec).await;
        }
        if let Some(client) = self.client.take() {
            client.stop(Duration::from_secs(1)).await;
        }
    }

    /// Turn a read that failed into the case's end.
    pub fn read_failure(&self, e: ReadError, line: u32, expected: &str, conn: &str) -> Stop {
        let after = humantime::format_duration(self.step_timeout);
        let first = self.conns.get(conn).is_none_or(|c| c.units_read == 0);
        let f = |message: String, partial: &[u8]| Failure {
            line,
            message,
            expected: Some(expected.to_string()),
            actual: (!partial.is_empty()).then(|| shown(partial)),
            hint: hint_for(partial),
            ..Failure::default()
        };
        match e {
            ReadError::Timeout { partial } if partial.is_empty() => Stop::Error(Failure {
                hint: first.then(|| "nothing at all arrived: does the server answer (send its greeting) when a client connects?".into()),
                ..f(format!("timed out after {after}: nothing arrived"), &partial)
            }),
            ReadError::Timeout { partial } => Stop::Mismatch(f(format!("timed out after {after} with an incomplete reply"), &partial)),
            ReadError::Closed { partial, how } => Stop::Mismatch(f(format!("connection `{conn}` {how} while waiting"), &partial)),
            ReadError::Unexpected { partial } => Stop::Mismatch(f("data arrived where none was expected".into(), &partial)),
            ReadError::Frame { error: e @ FrameError::Unavailable(_), .. } => Stop::Error(f(e.to_string(), &[])),
            ReadError::Frame { error, partial } => Stop::Mismatch(f(error.to_string(), &partial)),
        }
    }
}

/// A plain-words hint for what arrived, when one applies.
pub(crate) fn hint_for(partial: &[u8]) -> Option<String> {
    let bare_lf = partial
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || partial[i - 1] != b'\r'));
    bare_lf.then(|| "a line ends in a bare LF: lines must end with CRLF (\\r\\n)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_by_level_and_extension() {
        assert_eq!(mismatch_outcome(Level::Must, false, true), Outcome::Fail);
        assert_eq!(
            mismatch_outcome(Level::Should, false, false),
            Outcome::NonStrict
        );
        assert_eq!(
            mismatch_outcome(Level::May, false, false),
            Outcome::Informational
        );
        assert_eq!(
            mismatch_outcome(Level::Must, true, true),
            Outcome::Unimplemented
        );
        assert_eq!(mismatch_outcome(Level::Must, true, false), Outcome::Fail);
    }

    #[test]
    fn hints() {
        assert!(hint_for(b"220 hi\n").is_some());
        assert!(hint_for(b"220 hi\r\n").is_none());
    }
}
