//! SMTP (`wirecheck-smtp`): reply and command decoders, their round trips, and the server
//! session against a model of RFC 5321's command sequencing.

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use wirecheck_smtp::codec::{
    Command, Domain, ForwardPath, Param, Reply, ReplyLimits, ReversePath, decode_command, decode_reply,
};
use wirecheck_smtp::server::{MemorySink, ServerConfig, ServerSession};
use wirecheck_wire::{LineBuffer, LineEvent, Session};

use crate::stream::{self, Ctx, Event, Lazy};
use crate::hex;

/// A session script of this protocol.
pub type Script = stream::Script<Action>;

// ---------------------------------------------------------------------------------------------
// Decoders

/// Reply limits chosen by the input's first byte, small ones included so the bounds are hit.
fn reply_limits(selector: u8) -> ReplyLimits {
    match selector % 4 {
        0 => ReplyLimits::default(),
        1 => ReplyLimits {
            max_line: 16,
            max_lines: 3,
        },
        2 => ReplyLimits {
            max_line: 512,
            max_lines: 1,
        },
        _ => ReplyLimits {
            max_line: 1,
            max_lines: 1000,
        },
    }
}

/// `decode_reply` on any bytes: never panics, stays within its limits, reports the bytes it
/// used exactly, and what it accepts encodes to a reply that decodes to the same code and
/// lines (RFC 5321 §4.2).
pub fn decode_reply_target(data: &[u8]) {
    let Some((&sel, buf)) = data.split_first() else { return };
    let limits = reply_limits(sel);
    let Ok(Some((used, reply))) = decode_reply(buf, &limits) else {
        return;
    };
    assert!(used > 0 && used <= buf.len(), "used {used} of {}", buf.len());
    assert_eq!(reply.raw, buf[..used], "raw is the bytes used");
    assert!(reply.lines.len() <= limits.max_lines, "more lines than the limit");
    assert!(
        reply.lines.iter().all(|l| l.len() <= limits.max_line),
        "line over the limit"
    );
    assert!((200..600).contains(&reply.code), "code {} outside 2xx-5xx", reply.code);
    let again = decode_reply(&reply.encode(), &limits);
    match again {
        Ok(Some((_, r))) => assert_eq!(
            (r.code, &r.lines),
            (reply.code, &reply.lines),
            "decode(encode(decode({}))) differs",
            hex(buf)
        ),
        other => panic!("encode of a decoded reply does not decode: {other:?} ({})", hex(buf)),
    }
}

/// `decode_command` on any line: never panics; an accepted command encodes to exactly one
/// line (no CR or LF inside: no command smuggling) that decodes to the same command.
pub fn decode_command_target(line: &[u8]) {
    let Ok(cmd) = decode_command(line) else { return };
    check_command_round_trip(&cmd, line);
}

fn check_command_round_trip(cmd: &Command, origin: &[u8]) {
    let wire = cmd.encode();
    let body = wire.strip_suffix(b"\r\n").expect("encode ends in CRLF");
    assert!(
        !body.iter().any(|&b| b == b'\r' || b == b'\n'),
        "encoded command holds CR or LF: {:?} (from {})",
        String::from_utf8_lossy(&wire),
        hex(origin)
    );
    match decode_command(body) {
        Ok(back) => assert_eq!(&back, cmd, "round trip of {} changed it", hex(origin)),
        Err(e) => panic!(
            "encoded {:?} does not decode: {e} (from {})",
            String::from_utf8_lossy(body),
            hex(origin)
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips from Arbitrary values

/// A reply code `%x32-35 %x30-35 %x30-39` (RFC 5321 §4.2) and its lines.
#[derive(Debug, Arbitrary)]
pub struct ReplySpec {
    class: u8,
    category: u8,
    detail: u8,
    lines: Vec<Vec<u8>>,
}

/// An arbitrary reply: `decode(encode(r))` has r's code and lines.
pub fn reply_round_trip(spec: ReplySpec) {
    let code = u16::from(2 + spec.class % 4) * 100 + u16::from(spec.category % 6) * 10 + u16::from(spec.detail % 10);
    // Reply text is any octets but LF (which would end the line).
    let lines: Vec<Vec<u8>> = spec
        .lines
        .into_iter()
        .take(50)
        .map(|l| l.into_iter().filter(|&b| b != b'\n').collect())
        .collect();
    let reply = Reply::new(code, &lines);
    let wire = reply.encode();
    match decode_reply(&wire, &ReplyLimits::default()) {
        Ok(Some((used, back))) => {
            assert_eq!(used, wire.len(), "the whole encoding is one reply: {}", hex(&wire));
            assert_eq!((back.code, &back.lines), (reply.code, &reply.lines), "{}", hex(&wire));
        }
        other => panic!("encoded reply {} does not decode: {other:?}", hex(&wire)),
    }
}

/// The parts of a command, each made into the codec's type through its own parser.
#[derive(Debug, Arbitrary)]
pub enum CommandSpec {
    Ehlo(String),
    Helo(String),
    Mail(String, Vec<String>),
    Rcpt(String, Vec<String>),
    Data,
    Rset,
    Vrfy(String),
    Expn(String),
    Help(Option<String>),
    Noop(Option<String>),
    Quit,
    StartTls,
    Auth(String, Option<Vec<u8>>),
    Bdat(u64, bool),
}

/// A printable-ASCII word (no SP): what `String` / `sasl-mech` arguments are made of.
fn word(s: &str) -> Option<String> {
    let w: String = s.chars().filter(|c| c.is_ascii_graphic()).take(64).collect();
    (!w.is_empty()).then_some(w)
}

/// An arbitrary command built from valid parts: `decode(encode(c)) == c`.
pub fn command_round_trip(spec: CommandSpec) {
    let params = |ps: Vec<String>| -> Option<Vec<Param>> { ps.iter().take(8).map(|p| Param::parse(p).ok()).collect() };
    let cmd = match spec {
        CommandSpec::Ehlo(d) => match Domain::parse(&d) {
            Ok(x) => Command::Ehlo(x),
            Err(_) => return,
        },
        CommandSpec::Helo(d) => match Domain::parse(&d) {
            Ok(x) => Command::Helo(x),
            Err(_) => return,
        },
        CommandSpec::Mail(p, ps) => match (ReversePath::parse(&p), params(ps)) {
            (Ok(from), Some(params)) => Command::Mail { from, params },
            _ => return,
        },
        CommandSpec::Rcpt(p, ps) => match (ForwardPath::parse(&p), params(ps)) {
            (Ok(to), Some(params)) => Command::Rcpt { to, params },
            _ => return,
        },
        CommandSpec::Data => Command::Data,
        CommandSpec::Rset => Command::Rset,
        CommandSpec::Vrfy(s) => match word(&s) {
            Some(w) => Command::Vrfy(w),
            None => return,
        },
        CommandSpec::Expn(s) => match word(&s) {
            Some(w) => Command::Expn(w),
            None => return,
        },
        CommandSpec::Help(s) => Command::Help(s.as_deref().and_then(word)),
        CommandSpec::Noop(s) => Command::Noop(s.as_deref().and_then(word)),
        CommandSpec::Quit => Command::Quit,
        CommandSpec::StartTls => Command::StartTls,
        CommandSpec::Auth(m, ir) => {
            let mechanism: String = m
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .take(20)
                .collect::<String>()
                .to_ascii_uppercase();
            if mechanism.is_empty() {
                return;
            }
            let initial_response = ir.map(|b| {
                if b.is_empty() {
                    "=".to_string()
                } else {
                    wirecheck_message::base64::encode(&b)
                }
            });
            Command::Auth {
                mechanism,
                initial_response,
            }
        }
        CommandSpec::Bdat(size, last) => Command::Bdat { size, last },
    };
    // F6 (fixed): `Domain::parse` and local parts refuse C1 controls (RFC 6531 §3.3 U-labels,
    // RFC 5892 §2.3), so every command built from validated parts can be sent.
    assert!(!cmd.to_string().chars().any(char::is_control), "control character in {cmd}");
    check_command_round_trip(&cmd, b"");
}

// ---------------------------------------------------------------------------------------------
// The server session

/// One thing the client does.
#[derive(Debug, Arbitrary)]
pub enum Action {
    Ehlo(Host),
    Helo(Host),
    Mail(Path, Vec<MailParam>),
    Rcpt(Path, Vec<MailParam>),
    Data,
    /// Content lines, then (if `end`) the `.` line.
    Body(Vec<BodyLine>, bool),
    /// `BDAT <len> [LAST]` and the chunk; `lie` makes the announced size differ.
    Bdat {
        chunk: Vec<u8>,
        last: bool,
        lie: Option<u8>,
    },
    Rset,
    Noop,
    Help,
    Vrfy(Path),
    Expn,
    Quit,
    StartTls,
    Auth(Mechanism, Option<Credential>),
    AuthResponse(Credential),
    /// Any one line.
    Line(Vec<u8>),
    /// Any bytes at all.
    Bytes(Vec<u8>),
    /// The client closes.
    Eof,
    /// The client says nothing for the idle timeout.
    Timeout,
}

#[derive(Debug, Arbitrary)]
pub enum Host {
    Known(bool),
    Literal([u8; 4]),
    Text(String),
}

#[derive(Debug, Arbitrary)]
pub enum Path {
    Null,
    Postmaster,
    Local(bool, bool),
    Text(String),
}

#[derive(Debug, Arbitrary)]
pub enum MailParam {
    Size(u32),
    Body(u8),
    SmtpUtf8,
    Ret(bool),
    Envid,
    Notify(u8),
    Orcpt,
    Text(String),
}

#[derive(Debug, Arbitrary)]
pub enum BodyLine {
    Text(String),
    Dot,
    Stuffed,
    Long(u16),
    BareLf,
    Raw(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
pub enum Mechanism {
    Plain,
    Login,
    Other(String),
}

#[derive(Debug, Arbitrary)]
pub enum Credential {
    /// base64 of `\0alice\0secret`, `alice`, `secret`, `\0alice\0wrong`, `bob\0alice\0secret`.
    Known(u8),
    Cancel,
    Empty,
    Text(String),
}

const DOMAIN: &str = "example.org";

fn configs() -> &'static [Arc<ServerConfig>; 3] {
    static CONFIGS: OnceLock<[Arc<ServerConfig>; 3]> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        [
            Arc::new(ServerConfig {
                hostname: "mx.example.org".into(),
                ..ServerConfig::default()
            }),
            Arc::new(ServerConfig {
                hostname: "mx.example.org".into(),
                auth: true,
                auth_requires_tls: false,
                starttls: true,
                ..ServerConfig::default()
            }),
            // Tiny limits, so every bound is reached.
            Arc::new(ServerConfig {
                hostname: "mx.example.org".into(),
                max_message_size: 200,
                max_recipients: 2,
                max_command_line: 64,
                max_auth_line: 80,
                max_data_line: 40,
                max_errors: 4,
                auth: true,
                auth_requires_tls: true,
                starttls: true,
                require_auth: true,
                ..ServerConfig::default()
            }),
        ]
    })
}

impl Host {
    fn render(&self) -> String {
        match self {
            Host::Known(true) => "client.example.test".into(),
            Host::Known(false) => "[127.0.0.1]".into(),
            Host::Literal(a) => format!("[{}.{}.{}.{}]", a[0], a[1], a[2], a[3]),
            Host::Text(t) => t.clone(),
        }
    }
}

impl Path {
    fn render(&self) -> String {
        match self {
            Path::Null => "<>".into(),
            Path::Postmaster => "<Postmaster>".into(),
            Path::Local(user, local) => format!(
                "<{}@{}>",
                if *user { "alice" } else { "\"b b\"" },
                if *local { DOMAIN } else { "elsewhere.test" }
            ),
            Path::Text(t) => t.clone(),
        }
    }
}

impl MailParam {
    fn render(&self) -> String {
        match self {
            MailParam::Size(n) => format!("SIZE={n}"),
            MailParam::Body(b) => format!("BODY={}", ["7BIT", "8BITMIME", "BINARYMIME", "x"][usize::from(b % 4)]),
            MailParam::SmtpUtf8 => "SMTPUTF8".into(),
            MailParam::Ret(full) => format!("RET={}", if *full { "FULL" } else { "HDRS" }),
            MailParam::Envid => "ENVID=QQ+2B1".into(),
            MailParam::Notify(n) => format!(
                "NOTIFY={}",
                ["NEVER", "SUCCESS,FAILURE", "DELAY", "NEVER,DELAY"][usize::from(n % 4)]
            ),
            MailParam::Orcpt => "ORCPT=rfc822;bob@example.org".into(),
            MailParam::Text(t) => t.clone(),
        }
    }
}

impl Credential {
    fn render(&self) -> String {
        match self {
            Credential::Known(k) => {
                let plain: &[u8] = [
                    &b"\0alice\0secret"[..],
                    b"alice",
                    b"secret",
                    b"\0alice\0wrong",
                    b"bob\0alice\0secret",
                ][usize::from(k % 5)];
                wirecheck_message::base64::encode(plain)
            }
            Credential::Cancel => "*".into(),
            Credential::Empty => "=".into(),
            Credential::Text(t) => t.clone(),
        }
    }
}

impl Action {
    /// The bytes the client sends (empty for Eof / Timeout).
    fn render(&self) -> Vec<u8> {
        let line = |s: String| stream::crlf(&stream::one_line(s.as_bytes()));
        let with_params = |verb: &str, p: &Path, ps: &[MailParam]| {
            let mut s = format!("{verb}{}", p.render());
            for x in ps.iter().take(6) {
                s.push(' ');
                s.push_str(&x.render());
            }
            line(s)
        };
        match self {
            Action::Ehlo(h) => line(format!("EHLO {}", h.render())),
            Action::Helo(h) => line(format!("HELO {}", h.render())),
            Action::Mail(p, ps) => with_params("MAIL FROM:", p, ps),
            Action::Rcpt(p, ps) => with_params("RCPT TO:", p, ps),
            Action::Data => line("DATA".into()),
            Action::Body(lines, end) => {
                let mut v = Vec::new();
                for l in lines.iter().take(40) {
                    match l {
                        BodyLine::Text(t) => v.extend(stream::crlf(&stream::one_line(t.as_bytes()))),
                        BodyLine::Dot => v.extend_from_slice(b".\r\n"),
                        BodyLine::Stuffed => v.extend_from_slice(b"..\r\n"),
                        BodyLine::Long(n) => {
                            v.extend(std::iter::repeat_n(b'x', usize::from(*n % 2100)));
                            v.extend_from_slice(b"\r\n");
                        }
                        BodyLine::BareLf => v.extend_from_slice(b"a\n.\nb\r\n"),
                        BodyLine::Raw(r) => v.extend(stream::crlf(&stream::one_line(r))),
                    }
                }
                if *end {
                    v.extend_from_slice(b".\r\n");
                }
                v
            }
            Action::Bdat { chunk, last, lie } => {
                let chunk = &chunk[..chunk.len().min(300)];
                let announced = match lie {
                    Some(d) => chunk.len() + usize::from(*d % 4),
                    None => chunk.len(),
                };
                let mut v = format!("BDAT {announced}{}\r\n", if *last { " LAST" } else { "" }).into_bytes();
                v.extend_from_slice(chunk);
                v
            }
            Action::Rset => line("RSET".into()),
            Action::Noop => line("NOOP".into()),
            Action::Help => line("HELP".into()),
            Action::Vrfy(p) => line(format!("VRFY {}", p.render())),
            Action::Expn => line("EXPN staff".into()),
            Action::Quit => line("QUIT".into()),
            Action::StartTls => line("STARTTLS".into()),
            Action::Auth(m, c) => {
                let mech = match m {
                    Mechanism::Plain => "PLAIN".to_string(),
                    Mechanism::Login => "LOGIN".to_string(),
                    Mechanism::Other(o) => o.clone(),
                };
                match c {
                    Some(c) => line(format!("AUTH {mech} {}", c.render())),
                    None => line(format!("AUTH {mech}")),
                }
            }
            Action::AuthResponse(c) => line(c.render()),
            Action::Line(l) => stream::crlf(&stream::one_line(l)),
            Action::Bytes(b) => b.clone(),
            Action::Eof | Action::Timeout => Vec::new(),
        }
    }
}

/// What the model knows about the mail transaction (RFC 5321 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tx {
    None,
    /// MAIL accepted, this many recipients accepted.
    Open(usize),
    /// After a BDAT outcome the model does not follow: no assertion depends on it.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Command,
    Data,
    Auth,
    Bdat { remaining: u64, last: bool },
    Closed,
}

/// The session's output, decoded.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Reply(Reply),
    StartTls,
    Close,
}

/// The model of one connection: it frames the client's bytes as the RFC says and pairs each
/// unit that needs an answer with the session's next reply.
struct Model {
    cfg: Arc<ServerConfig>,
    lines: LineBuffer,
    mode: Mode,
    greeted: bool,
    tx: Tx,
    /// 250 replies to end of data (or BDAT LAST): each must be a delivered message.
    accepted_messages: usize,
    /// The session's answers to the current step, in order.
    events: std::collections::VecDeque<Answer>,
    /// STARTTLS was answered with 220 in this step: the rest of the step is dropped.
    tls_started: bool,
}

impl Model {
    fn new(cfg: Arc<ServerConfig>) -> Model {
        let max = cfg.max_command_line.max(cfg.max_auth_line).saturating_sub(2);
        Model {
            cfg,
            lines: LineBuffer::new(max),
            mode: Mode::Command,
            greeted: false,
            tx: Tx::None,
            accepted_messages: 0,
            events: Default::default(),
            tls_started: false,
        }
    }

    fn set_mode(&mut self, mode: Mode) {
        let max = match mode {
            Mode::Data => self.cfg.max_data_line,
            Mode::Auth => self.cfg.max_auth_line,
            _ => self.cfg.max_command_line.max(self.cfg.max_auth_line),
        };
        self.lines.set_max_line(max.saturating_sub(2));
        self.mode = mode;
    }

    /// Split the session's output of one step into replies and control events.
    fn load(&mut self, events: Vec<Event>, ctx: Ctx) {
        self.events.clear();
        for e in events {
            match e {
                Event::Send(bytes) => {
                    let mut rest = &bytes[..];
                    while !rest.is_empty() {
                        match decode_reply(rest, &ReplyLimits::default()) {
                            Ok(Some((n, r))) => {
                                assert!(
                                    (200..600).contains(&r.code),
                                    "reply code {} outside 2xx-5xx ({ctx})",
                                    r.code
                                );
                                self.events.push_back(Answer::Reply(r));
                                rest = &rest[n..];
                            }
                            other => panic!(
                                "the session wrote a malformed or partial reply {:?}: {other:?} ({ctx})",
                                String::from_utf8_lossy(rest)
                            ),
                        }
                    }
                }
                Event::StartTls => self.events.push_back(Answer::StartTls),
                Event::Close => self.events.push_back(Answer::Close),
            }
        }
    }

    fn next_reply(&mut self, ctx: Ctx) -> Reply {
        match self.events.pop_front() {
            Some(Answer::Reply(r)) => r,
            other => panic!("expected a reply, got {other:?} ({ctx})"),
        }
    }

    /// After a reply: a `421` and a close may follow (too many errors, RFC 5321 §3.8).
    fn maybe_too_many_errors(&mut self, ctx: Ctx) {
        if let Some(Answer::Reply(r)) = self.events.front()
            && r.code == 421
        {
            self.events.pop_front();
            assert_eq!(
                self.events.pop_front(),
                Some(Answer::Close),
                "421 without close ({ctx})"
            );
            self.mode = Mode::Closed;
        }
    }

    /// Walk the bytes of one step as the session must frame them.
    fn feed(&mut self, mut data: &[u8], ctx: Ctx) {
        while !data.is_empty() {
            match self.mode {
                Mode::Closed => return,
                Mode::Bdat { remaining, last } => {
                    let n = usize::try_from(remaining).unwrap_or(usize::MAX).min(data.len());
                    data = &data[n..];
                    let remaining = remaining - n as u64;
                    self.mode = Mode::Bdat { remaining, last };
                    if remaining == 0 {
                        self.end_of_chunk(last, ctx);
                    }
                    continue;
                }
                _ => {}
            }
            let cut = data.iter().position(|&b| b == b'\n').map_or(data.len(), |i| i + 1);
            self.lines.push(&data[..cut]);
            data = &data[cut..];
            while let Some(ev) = self.lines.next_line() {
                self.unit(ev, ctx);
                if self.tls_started {
                    self.lines.clear();
                    return;
                }
                if matches!(self.mode, Mode::Bdat { .. } | Mode::Closed) {
                    break;
                }
            }
        }
    }

    fn unit(&mut self, ev: LineEvent, ctx: Ctx) {
        match self.mode {
            Mode::Command => {
                self.set_mode(Mode::Command);
                self.command(ev, ctx);
            }
            Mode::Data => {
                if ev == LineEvent::Line(b".".to_vec()) {
                    self.set_mode(Mode::Command);
                    let r = self.next_reply(ctx);
                    assert!(
                        !matches!(r.code, 220 | 221 | 334 | 354),
                        "{} at end of data ({ctx})",
                        r.code
                    );
                    if r.code == 250 {
                        self.accepted_messages += 1;
                    }
                    // RFC 5321 §4.1.1.4: the end of data ends the transaction, whatever the reply.
                    self.tx = Tx::None;
                    self.maybe_too_many_errors(ctx);
                }
            }
            Mode::Auth => {
                self.set_mode(Mode::Command);
                let r = self.next_reply(ctx);
                match r.code {
                    334 => self.set_mode(Mode::Auth),
                    220 | 221 | 354 => panic!("{} to a SASL response ({ctx})", r.code),
                    _ => self.maybe_too_many_errors(ctx),
                }
            }
            Mode::Bdat { .. } | Mode::Closed => {}
        }
    }

    fn command(&mut self, ev: LineEvent, ctx: Ctx) {
        let cmd = match &ev {
            LineEvent::Line(l) => {
                let is_auth = l.get(..5).is_some_and(|v| v.eq_ignore_ascii_case(b"AUTH "));
                if !is_auth && l.len() + 2 > self.cfg.max_command_line {
                    None
                } else {
                    decode_command(l).ok()
                }
            }
            LineEvent::TooLong => None,
        };
        // BDAT is answered once its chunk is read (RFC 3030 §2).
        if let Some(Command::Bdat { size, last }) = cmd {
            self.mode = Mode::Bdat { remaining: size, last };
            if size == 0 {
                self.end_of_chunk(last, ctx);
            }
            return;
        }
        let r = self.next_reply(ctx);
        let code = r.code;
        let what = cmd.as_ref().map_or("an invalid line", |c| c.verb());
        let ctx = &Lazy(|| format!("{what} answered {code}: {ctx}"));
        match (&cmd, code) {
            (Some(Command::Quit), 221) => {
                assert_eq!(
                    self.events.pop_front(),
                    Some(Answer::Close),
                    "221 without close ({ctx})"
                );
                self.mode = Mode::Closed;
                return;
            }
            (_, 221) => panic!("221 to something other than QUIT ({ctx})"),
            (Some(Command::StartTls), 220) => {
                assert_eq!(
                    self.events.pop_front(),
                    Some(Answer::StartTls),
                    "220 without StartTls ({ctx})"
                );
                // RFC 3207 §4.2: the server discards all knowledge obtained from the client.
                self.greeted = false;
                self.tx = Tx::None;
                self.tls_started = true;
                return;
            }
            (_, 220) => panic!("220 to something other than STARTTLS ({ctx})"),
            (Some(Command::Data), 354) => {
                // RFC 5321 §3.3: DATA needs MAIL and at least one accepted RCPT.
                assert!(self.greeted, "354 before EHLO/HELO ({ctx})");
                assert!(
                    !matches!(self.tx, Tx::None | Tx::Open(0)),
                    "354 without a recipient, tx {:?} ({ctx})",
                    self.tx
                );
                self.set_mode(Mode::Data);
                return;
            }
            (_, 354) => panic!("354 to something other than DATA ({ctx})"),
            (Some(Command::Auth { .. }), 334) => {
                self.set_mode(Mode::Auth);
                return;
            }
            (_, 334) => panic!("334 to something other than AUTH ({ctx})"),
            (_, 421) => panic!("421 as the answer to a command ({ctx})"),
            (Some(Command::Ehlo(_) | Command::Helo(_)), 250) => {
                // RFC 5321 §4.1.4: EHLO / HELO reset the transaction like RSET.
                self.greeted = true;
                self.tx = Tx::None;
            }
            (Some(Command::Mail { .. }), 250) => {
                // RFC 5321 §4.1.4: greeting first; §3.3: no MAIL inside a transaction (503).
                assert!(self.greeted, "MAIL accepted before EHLO/HELO ({ctx})");
                assert!(!matches!(self.tx, Tx::Open(_)), "nested MAIL accepted ({ctx})");
                self.tx = Tx::Open(0);
            }
            (Some(Command::Rcpt { .. }), 250 | 251) => {
                assert!(self.tx != Tx::None, "RCPT accepted outside a transaction ({ctx})");
                if let Tx::Open(n) = self.tx {
                    assert!(n < self.cfg.max_recipients, "more than max_recipients accepted ({ctx})");
                    self.tx = Tx::Open(n + 1);
                }
            }
            (Some(Command::Rset), 250) => self.tx = Tx::None,
            _ => {}
        }
        self.maybe_too_many_errors(ctx);
    }

    fn end_of_chunk(&mut self, last: bool, ctx: Ctx) {
        self.set_mode(Mode::Command);
        let r = self.next_reply(ctx);
        assert!(
            !matches!(r.code, 220 | 221 | 334 | 354),
            "{} to a BDAT chunk ({ctx})",
            r.code
        );
        if r.code == 250 && last {
            self.accepted_messages += 1;
            self.tx = Tx::None;
        } else if r.code != 250 || last {
            self.tx = Tx::Unknown;
        }
        self.maybe_too_many_errors(ctx);
    }
}

/// Any bytes as everything one client sends, cut into up to four reads: the same checks as
/// [`session`] (the model frames raw bytes exactly), for seeds taken from the transcripts.
pub fn session_bytes(data: &[u8]) {
    session(Script::from_bytes(data, Action::Bytes));
}

/// Arbitrary steps into one server session: no panic; every command line, end of data,
/// SASL response and BDAT chunk gets exactly one reply (RFC 5321 §4.2, RFC 3030 §2); the
/// replies are well formed; only the transitions of RFC 5321 §3.3 / §4.1.4 are taken; every
/// 250 to end of data delivered exactly one message; nothing follows a close.
pub fn session(script: Script) {
    let cfgs = configs();
    let cfg = cfgs[usize::from(script.config) % cfgs.len()].clone();
    let sink = MemorySink {
        credentials: vec![("alice".into(), "secret".into())],
        users: vec!["alice".into(), "b b".into()],
        ..MemorySink::new(DOMAIN)
    };
    let mut s = ServerSession::new(cfg.clone(), sink, None);
    let mut m = Model::new(cfg);
    let mut events = Vec::new();
    stream::drain(&mut s, &mut events);
    match events.as_slice() {
        [Event::Send(g)] if g.starts_with(b"220 ") => {}
        other => panic!("greeting is not one 220 reply: {other:?}"),
    }
    for (i, step) in script.steps.iter().take(64).enumerate() {
        let ctx = Lazy(|| format!("step {i} {:?}", step.action));
        let mut events = Vec::new();
        match step.action {
            Action::Eof => {
                s.handle_eof();
                stream::drain(&mut s, &mut events);
                assert!(events.is_empty(), "output after EOF: {events:?}");
                m.mode = Mode::Closed;
                continue;
            }
            Action::Timeout => {
                if m.mode == Mode::Closed {
                    continue;
                }
                let out = s.handle_timeout();
                // RFC 5321 §4.5.3.2: 421, then close.
                assert!(
                    matches!(out.as_slice(), [wirecheck_wire::Output::Send(b), wirecheck_wire::Output::Close] if b.starts_with(b"421 ")),
                    "timeout answered {out:?}"
                );
                m.mode = Mode::Closed;
                continue;
            }
            _ => {}
        }
        let bytes = step.action.render();
        let (events, _) = stream::feed(&mut s, &bytes, step.cuts);
        if m.mode == Mode::Closed {
            assert!(events.is_empty(), "output after close: {events:?} ({ctx})");
            continue;
        }
        m.load(events, &ctx);
        m.tls_started = false;
        m.feed(&bytes, &ctx);
        assert!(m.events.is_empty(), "replies nobody asked for: {:?} ({ctx})", m.events);
        m.tls_started = false;
    }
    assert_eq!(
        s.sink().delivered.len(),
        m.accepted_messages,
        "messages delivered vs 250 replies to end of data"
    );
}
