//! One case: its connections, variables and steps, and the [`CaseResult`] it ends in.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::time::Instant;
use wirecheck_reports::{CaseResult, Level, Outcome, escape_bytes};

use super::conn::{Conn, ReadError};
use super::record::Recorder;
use super::{CaseEnv, CaseTarget};
use crate::protocol::{self, FrameError, Protocol, Transport, Unit};
use crate::target::Process;
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

/// A `listen NAME`: TCP, or a UDP socket that `accept NAME` turns into a connection.
pub(super) struct Listener {
    pub tcp: Option<TcpListener>,
    pub udp: Option<tokio::net::UdpSocket>,
    pub protocol: String,
}

/// The state of a running case.
pub(crate) struct Exec<'a> {
    pub t: &'a Transcript,
    pub env: &'a CaseEnv<'a>,
    pub conns: BTreeMap<String, Conn>,
    pub listeners: BTreeMap<String, Listener>,
    pub current: String,
    pub vars: Vars,
    pub step_timeout: Duration,
    pub skip_untagged: bool,
    pub rec: Recorder,
    pub last_data_reply: Option<(Unit, SocketAddr)>,
    pub line: u32,
    pub client: Option<Process>,
    /// Scenarios: `main` is opened to the target when a step first uses it.
    pub lazy_main: bool,
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
        lazy_main: false,
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
    let mut stop = stop;
    // Server role: a client that died explains a silent connection.
    if let (Some(Stop::Error(f) | Stop::Mismatch(f)), Some(client)) =
        (stop.as_mut(), x.client.as_mut())
        && let Some(status) = client.exited()
    {
        let tail = client.stderr_tail();
        f.hint = Some(format!(
            "the client exited ({status}); its stderr ends with: {}",
            tail.trim()
        ));
    }
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

pub(super) fn error(line: u32, message: impl Into<String>) -> Stop {
    Stop::Error(Failure {
        line,
        message: message.into(),
        ..Failure::default()
    })
}

pub(super) fn mismatch(line: u32, message: impl Into<String>) -> Stop {
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
            if self.lazy_main
                && conn == "main"
                && !self.conns.contains_key("main")
                && uses_connection(&step.kind)
            {
                self.open_main_to_target(framing_protocol(&self.t.meta.protocol))
                    .await?;
            }
            if matches!(&step.kind, StepKind::Connect { name, .. } if name == "main") {
                self.lazy_main = false;
            }
            self.step(step, &conn).await?;
        }
        self.check_trailing_must_not()
    }

    pub fn deadline(&self) -> Instant {
        Instant::now() + self.step_timeout
    }

    pub(super) fn protocol(&self, name: &str) -> Result<Arc<dyn Protocol>, Stop> {
        protocol::by_name(name)
            .ok_or_else(|| error(self.line, format!("no protocol adapter for `{name}`")))
    }

    pub(super) fn framer(
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
            SendMode::Line if server => c
                .protocol
                .encode_server_line(&text)
                .map_err(|e| error(line, e.to_string()))?,
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

/// Does this step act on its connection (so a lazily opened `main` must exist)?
fn uses_connection(k: &StepKind) -> bool {
    !matches!(
        k,
        StepKind::Connect { .. }
            | StepKind::Listen { .. }
            | StepKind::Accept { .. }
            | StepKind::Set { .. }
            | StepKind::Check { .. }
            | StepKind::Pause(_)
            | StepKind::StepTimeout(_)
            | StepKind::SkipUntagged(_)
            | StepKind::Use { .. }
    )
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
