//! POP3 (`wirecheck-pop3`): command and response decoders, command and body round trips, and
//! the server session on a real (tmpfs) maildrop against a model of RFC 1939's states.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use wirecheck_pop3::codec::{
    BodyLimits, Command, StatusKind, decode_body, decode_command, decode_status, encode_body, encode_message,
};
use wirecheck_pop3::{MAX_COMMAND_LINE, MAX_SASL_LINE, ServerConfig, ServerSession, md5_hex};
use wirecheck_store::{Store, Users};
use wirecheck_wire::{LineBuffer, LineEvent, Session};

use crate::stream::{self, Ctx, Event, Lazy};
use crate::hex;

/// A session script of this protocol.
pub type Script = stream::Script<Action>;

// ---------------------------------------------------------------------------------------------
// Decoders and round trips

/// `decode_command`: never panics; what it accepts encodes to one line that decodes to the
/// same command (RFC 1939 §3).
pub fn decode_command_target(line: &[u8]) {
    if let Ok(cmd) = decode_command(line) {
        check_command(&cmd, line);
    }
}

fn check_command(cmd: &Command, origin: &[u8]) {
    let wire = cmd.encode();
    let body = wire.strip_suffix(b"\r\n").expect("encode ends in CRLF");
    assert!(
        !body.windows(2).any(|w| w == b"\r\n"),
        "encoded command is more than one line: {:?} (from {})",
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

/// RFC 1939 §3 arguments: printable ASCII without SP (PASS: any printable text).
fn valid_arg(s: &str, spaces: bool) -> bool {
    !s.is_empty() && s.len() <= 40 && s.bytes().all(|b| b.is_ascii_graphic() || (spaces && b == b' '))
}

/// An arbitrary [`Command`] (the crate's own `Arbitrary`): when its arguments are valid
/// RFC 1939 / RFC 5034 arguments, `decode(encode(c)) == c`.
pub fn command_round_trip(cmd: Command) {
    let ok = match &cmd {
        Command::User(u) => valid_arg(u, false),
        Command::Pass(p) => valid_arg(p, true),
        Command::Apop { name, digest } => valid_arg(name, false) && valid_arg(digest, false),
        Command::Auth {
            mechanism: None,
            initial: Some(_),
        } => false,
        Command::Auth { mechanism, initial } => {
            mechanism.as_deref().is_none_or(|m| valid_arg(m, false))
                && initial.as_deref().is_none_or(|i| valid_arg(i, false))
        }
        _ => true,
    };
    if ok {
        check_command(&cmd, b"");
    }
}

/// `decode_status` and `decode_body` on any bytes: never panic, respect their limits, and
/// report the bytes used exactly.
pub fn decode_response_target(data: &[u8]) {
    let Some((&sel, buf)) = data.split_first() else { return };
    let max_line = [510usize, 8, 64 * 1024][usize::from(sel % 3)];
    if let Ok(Some((used, st))) = decode_status(buf, max_line) {
        assert!(used <= buf.len() && st.raw == buf[..used]);
        assert!(st.raw.len() <= max_line + 2, "status line over the limit");
        assert_eq!(st.ok, st.kind == StatusKind::Ok);
    }
    let limits = BodyLimits {
        max_line,
        max_total: [1 << 20, 100, 4096][usize::from(sel / 3 % 3)],
    };
    if let Ok(Some((used, body))) = decode_body(buf, &limits) {
        assert!(used <= buf.len() && body.raw == buf[..used] && used <= limits.max_total);
        assert!(body.raw.ends_with(b".\r\n"), "a body ends with its terminator");
        // Re-encoding the un-stuffed lines gives a body that decodes to the same lines.
        let mut again = Vec::new();
        encode_body(&body.lines, &mut again);
        let (_, back) = decode_body(&again, &BodyLimits::default())
            .ok()
            .flatten()
            .expect("re-encoded body decodes");
        assert_eq!(back.lines, body.lines, "{}", hex(buf));
        assert!(back.violations.is_empty());
    }
}

/// The two ways a server writes a body: lines (LIST, UIDL, CAPA) and a stored message
/// (RETR/TOP). What the client un-stuffs is exactly what was meant (RFC 1939 §3).
#[derive(Debug, arbitrary::Arbitrary)]
pub struct BodySpec {
    lines: Vec<Vec<u8>>,
    message: Vec<u8>,
    top: Option<u8>,
}

pub fn body_round_trip(spec: BodySpec) {
    let lines: Vec<Vec<u8>> = spec.lines.iter().map(|l| stream::one_line(l)).collect();
    let mut wire = Vec::new();
    encode_body(&lines, &mut wire);
    let (used, body) = decode_body(&wire, &BodyLimits::default())
        .ok()
        .flatten()
        .expect("encoded body decodes");
    assert_eq!(used, wire.len());
    assert_eq!(body.lines, lines, "{}", hex(&wire));
    assert!(
        body.violations.is_empty(),
        "our own stuffing violates RFC 1939 §3: {}",
        hex(&wire)
    );

    let mut wire = Vec::new();
    encode_message(&spec.message, spec.top.map(usize::from), &mut wire);
    let (used, body) = decode_body(&wire, &BodyLimits::default())
        .ok()
        .flatten()
        .expect("encoded message decodes");
    assert_eq!(
        used,
        wire.len(),
        "the terminator comes last only: {}",
        hex(&spec.message)
    );
    assert!(body.violations.is_empty());
    if spec.top.is_none() {
        assert_eq!(
            body.lines,
            message_lines(&spec.message),
            "RETR changed the message {}",
            hex(&spec.message)
        );
    }
}

/// A stored message as RETR must send it: lines split at LF, a CR before the LF dropped.
fn message_lines(m: &[u8]) -> Vec<Vec<u8>> {
    if m.is_empty() {
        return Vec::new();
    }
    let m = m.strip_suffix(b"\n").unwrap_or(m);
    m.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The maildrop fixture

/// The maildrop every session opens: `alice` / `secret`, three messages (one with lines that
/// need stuffing, one stored with bare LF).
pub const MESSAGES: [&[u8]; 3] = [
    b"From: bob@example.org\r\nSubject: one\r\n\r\nhello\r\n.dot line\r\n..two dots\r\n.\r\n",
    b"Subject: two\n\nbare LF body\nline 2\n",
    b"Subject: three\r\n\r\n",
];

/// A directory for a store fixture: on tmpfs when there is one (fsync is then free), named
/// after the process so parallel fuzzers do not share it; left-overs of dead processes are
/// removed.
pub(crate) fn fixture_dir(what: &str) -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    if let Ok(entries) = std::fs::read_dir(&base) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("wirecheck-fuzz-").and_then(|r| r.split('-').next())
                && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    base.join(format!("wirecheck-fuzz-{}-{what}", std::process::id()))
}

pub(crate) fn fresh_store(dir: &std::path::Path, messages: &[&[u8]]) -> Store {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("fixture dir");
    let users = Users::from_pairs(&[("alice", "secret")]).expect("users");
    let store = Store::open(dir, users).expect("store");
    for m in messages {
        store.deliver("alice", "INBOX", m).expect("deliver");
    }
    store
}

struct Fixture {
    dir: PathBuf,
    store: Store,
    /// A session on it did not finish (it panicked): rebuild before the next one.
    in_use: bool,
}

thread_local! {
    static FIXTURE: std::cell::RefCell<Option<Fixture>> = const { std::cell::RefCell::new(None) };
}

/// The fixture store, rebuilt when the last session changed it.
fn with_store<R>(f: impl FnOnce(&Store) -> (R, bool)) -> R {
    FIXTURE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let fx = slot.get_or_insert_with(|| {
            let dir = fixture_dir("pop3");
            let store = fresh_store(&dir, &MESSAGES);
            Fixture {
                dir,
                store,
                in_use: false,
            }
        });
        if fx.in_use {
            fx.store = fresh_store(&fx.dir, &MESSAGES);
        }
        fx.in_use = true;
        let (r, dirty) = f(&fx.store);
        if dirty {
            fx.store = fresh_store(&fx.dir, &MESSAGES);
        }
        fx.in_use = false;
        r
    })
}

// ---------------------------------------------------------------------------------------------
// The server session

/// One thing the client does.
#[derive(Debug, arbitrary::Arbitrary)]
pub enum Action {
    /// A well-formed command from the crate's own type.
    Command(Command),
    /// Commands with the fixture's names and numbers.
    User(bool),
    Pass(bool),
    Apop(bool),
    Msg(u8, u8),
    Top(u8, u8),
    AuthPlain(Option<bool>),
    AuthLogin,
    SaslResponse(u8),
    Line(Vec<u8>),
    Bytes(Vec<u8>),
    Eof,
    Timeout,
}

const TIMESTAMP: &str = "<1.2@pop.example.org>";

fn configs() -> &'static [Arc<ServerConfig>; 2] {
    static C: OnceLock<[Arc<ServerConfig>; 2]> = OnceLock::new();
    C.get_or_init(|| {
        [
            Arc::new(ServerConfig {
                hostname: "pop.example.org".into(),
                ..ServerConfig::default()
            }),
            Arc::new(ServerConfig {
                hostname: "pop.example.org".into(),
                stls: true,
                require_tls_for_plaintext: true,
                max_auth_failures: 2,
                ..ServerConfig::default()
            }),
        ]
    })
}

impl Action {
    fn render(&self) -> Vec<u8> {
        let b64 = |s: &[u8]| wirecheck_message::base64::encode(s);
        let line = |s: String| stream::crlf(&stream::one_line(s.as_bytes()));
        match self {
            Action::Command(c) => stream::crlf(&stream::one_line(c.encode().strip_suffix(b"\r\n").unwrap_or_default())),
            Action::User(ok) => line(format!("USER {}", if *ok { "alice" } else { "mallory" })),
            Action::Pass(ok) => line(format!("PASS {}", if *ok { "secret" } else { "guess" })),
            Action::Apop(ok) => {
                let secret = if *ok { "secret" } else { "wrong" };
                line(format!(
                    "APOP alice {}",
                    md5_hex(format!("{TIMESTAMP}{secret}").as_bytes())
                ))
            }
            Action::Msg(verb, n) => {
                let verb = [
                    "RETR", "DELE", "LIST", "UIDL", "STAT", "RSET", "NOOP", "QUIT", "CAPA", "LIST", "UIDL",
                ][usize::from(verb % 11)];
                if matches!(verb, "STAT" | "RSET" | "NOOP" | "QUIT" | "CAPA") || *n >= 8 {
                    line(verb.to_string())
                } else {
                    line(format!("{verb} {n}"))
                }
            }
            Action::Top(n, l) => line(format!("TOP {} {}", n % 5, l % 5)),
            Action::AuthPlain(None) => line("AUTH PLAIN".into()),
            Action::AuthPlain(Some(ok)) => line(format!(
                "AUTH PLAIN {}",
                b64(if *ok { b"\0alice\0secret" } else { b"\0alice\0nope" })
            )),
            Action::AuthLogin => line("AUTH LOGIN".into()),
            Action::SaslResponse(k) => match k % 5 {
                0 => line(b64(b"\0alice\0secret")),
                1 => line(b64(b"alice")),
                2 => line(b64(b"secret")),
                3 => line("*".into()),
                _ => line("not base64!".into()),
            },
            Action::Line(l) => stream::crlf(&stream::one_line(l)),
            Action::Bytes(b) => b.clone(),
            Action::Eof | Action::Timeout => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `user`: the last command line was a successful USER (RFC 1939 §7: PASS "may only be
    /// given ... immediately after a successful USER command"; F5, fixed).
    Authorization { user: bool },
    Sasl,
    Transaction,
    Done,
}

/// What the model expects of each line, and what it knows of the maildrop.
struct Model {
    lines: LineBuffer,
    mode: Mode,
    deleted: [bool; 3],
    events: std::collections::VecDeque<Event>,
    out: Vec<u8>,
    /// The store changed (QUIT from TRANSACTION with messages deleted).
    dirty: bool,
    stls: bool,
}

impl Model {
    fn set_mode(&mut self, mode: Mode) {
        self.lines.set_max_line(if mode == Mode::Sasl {
            MAX_SASL_LINE
        } else {
            MAX_COMMAND_LINE - 2
        });
        self.mode = mode;
    }

    /// The next status line of the session's output.
    fn status(&mut self, ctx: Ctx) -> wirecheck_pop3::codec::Status {
        match decode_status(&self.out, 510) {
            Ok(Some((n, s))) => {
                self.out.drain(..n);
                s
            }
            other => panic!(
                "expected a status line, got {other:?} in {:?} ({ctx})",
                String::from_utf8_lossy(&self.out)
            ),
        }
    }

    fn body(&mut self, ctx: Ctx) -> Vec<Vec<u8>> {
        match decode_body(&self.out, &BodyLimits::default()) {
            Ok(Some((n, b))) => {
                self.out.drain(..n);
                assert!(b.violations.is_empty(), "unstuffed '.' line in a body ({ctx})");
                assert_eq!(b.bare_lf, 0, "bare LF in a body ({ctx})");
                b.lines
            }
            other => panic!("expected a body, got {other:?} ({ctx})"),
        }
    }

    /// After the output of a unit: the control event that must follow, if any.
    fn control(&mut self, want: Event, ctx: Ctx) {
        assert!(self.out.is_empty(), "more output before {want:?} ({ctx})");
        assert_eq!(self.events.pop_front(), Some(want), "({ctx})");
        self.next_send();
    }

    /// Move the next `Send` event into `out`.
    fn next_send(&mut self) {
        if self.out.is_empty()
            && let Some(Event::Send(_)) = self.events.front()
            && let Some(Event::Send(b)) = self.events.pop_front()
        {
            self.out = b;
        }
    }

    fn feed(&mut self, piece: &[u8], ctx: Ctx) {
        if self.mode == Mode::Done {
            return;
        }
        self.lines.push(piece);
        while self.mode != Mode::Done {
            let Some(ev) = self.lines.next_line() else { break };
            self.unit(ev, ctx);
            if self.stls {
                return;
            }
        }
    }

    fn unit(&mut self, ev: LineEvent, ctx: Ctx) {
        self.next_send();
        if self.mode == Mode::Sasl {
            let st = self.status(ctx);
            match st.kind {
                StatusKind::Continuation => {}
                StatusKind::Ok => {
                    assert!(
                        matches!(ev, LineEvent::Line(_)),
                        "an over-long SASL line succeeded ({ctx})"
                    );
                    self.set_mode(Mode::Transaction);
                }
                StatusKind::Err => {
                    self.set_mode(Mode::Authorization { user: false });
                    self.maybe_closed(ctx);
                }
            }
            return;
        }
        let cmd = match &ev {
            LineEvent::Line(l) => decode_command(l).ok(),
            LineEvent::TooLong => None,
        };
        let st = self.status(ctx);
        let name = cmd.as_ref().map_or("an invalid line", |c| c.keyword());
        let ctx = &Lazy(|| {
            format!(
                "{name} answered {:?} {:?}: {ctx}",
                st.kind,
                String::from_utf8_lossy(&st.text)
            )
        });
        let pass_had_user = matches!(self.mode, Mode::Authorization { user: true });
        // RFC 1939 §7: PASS only immediately after USER: any other line forgets the USER.
        if let Mode::Authorization { user } = &mut self.mode
            && !matches!(cmd, Some(Command::User(_)))
        {
            *user = false;
        }
        let Some(cmd) = cmd else {
            assert_eq!(st.kind, StatusKind::Err, "({ctx})");
            return;
        };
        if st.kind == StatusKind::Continuation {
            assert!(
                matches!(cmd, Command::Auth { mechanism: Some(_), .. }),
                "continuation outside AUTH ({ctx})"
            );
            assert!(matches!(self.mode, Mode::Authorization { .. }), "({ctx})");
            self.set_mode(Mode::Sasl);
            return;
        }
        if st.kind == StatusKind::Err {
            if let Mode::Authorization { .. } = self.mode {
                // RFC 1939 §7: a failed PASS/APOP/AUTH starts the authorization over; after
                // too many failures the server closes.
                // RFC 3206 §4 [AUTH]: the credentials were wrong; the USER is forgotten.
                if st.text.starts_with(b"[AUTH]") {
                    self.mode = Mode::Authorization { user: false };
                    self.maybe_closed(ctx);
                }
            }
            return;
        }
        if cmd.is_multiline() {
            let lines = self.body(ctx);
            if let Command::Retr(n) = cmd {
                let m = MESSAGES[n as usize - 1];
                assert_eq!(lines, message_lines(m), "RETR {n} is not the stored message ({ctx})");
            }
        }
        let in_tx = self.mode == Mode::Transaction;
        match &cmd {
            Command::Capa | Command::Auth { mechanism: None, .. } => {}
            Command::Quit => {
                if in_tx && self.deleted.iter().any(|&d| d) {
                    self.dirty = true;
                }
                self.mode = Mode::Done;
                self.control(Event::Close, ctx);
            }
            Command::User(_) => {
                assert!(
                    matches!(self.mode, Mode::Authorization { .. }),
                    "USER accepted outside AUTHORIZATION ({ctx})"
                );
                self.mode = Mode::Authorization { user: true };
            }
            Command::Pass(_) => {
                let Mode::Authorization { .. } = self.mode else {
                    panic!("PASS accepted outside AUTHORIZATION ({ctx})");
                };
                // The model forgot the USER at this line (see above): it must have come
                // immediately before, so the mode said `user: true` when PASS arrived.
                assert!(pass_had_user, "PASS accepted, but not immediately after USER ({ctx})");
                self.mode = Mode::Transaction;
            }
            Command::Apop { .. } | Command::Auth { .. } => {
                assert!(matches!(self.mode, Mode::Authorization { .. }), "({ctx})");
                self.mode = Mode::Transaction;
            }
            Command::Stls => {
                assert!(
                    matches!(self.mode, Mode::Authorization { .. }),
                    "STLS accepted after login ({ctx})"
                );
                self.mode = Mode::Authorization { user: false };
                self.stls = true;
                self.control(Event::StartTls, ctx);
            }
            // RFC 1939 §5: the TRANSACTION commands.
            other => {
                assert!(in_tx, "{} accepted outside TRANSACTION ({ctx})", other.keyword());
                self.transaction(other, &st.text, ctx);
            }
        }
    }

    /// RFC 1939 §5: message numbers must name a message not marked as deleted.
    fn transaction(&mut self, cmd: &Command, text: &[u8], ctx: Ctx) {
        let live = |d: &[bool; 3], n: u32| (1..=3).contains(&n) && !d[n as usize - 1];
        match *cmd {
            Command::Retr(n) | Command::List(Some(n)) | Command::Uidl(Some(n)) | Command::Top { msg: n, .. } => {
                assert!(live(&self.deleted, n), "message {n} is not there ({ctx})");
            }
            Command::Dele(n) => {
                assert!(live(&self.deleted, n), "DELE of a missing message {n} ({ctx})");
                self.deleted[n as usize - 1] = true;
            }
            Command::Rset => self.deleted = [false; 3],
            Command::Stat => {
                let n = self.deleted.iter().filter(|&&d| !d).count();
                assert!(
                    text.starts_with(format!("{n} ").as_bytes()),
                    "STAT count, {n} live ({ctx})"
                );
            }
            _ => {}
        }
    }

    /// After a failed authentication the session may close (too many failures).
    fn maybe_closed(&mut self, ctx: Ctx) {
        if self.out.is_empty() && self.events.front() == Some(&Event::Close) {
            self.control(Event::Close, ctx);
            self.mode = Mode::Done;
        }
    }
}

/// Any bytes as everything one client sends, cut into up to four reads: the same checks as
/// [`session`], for seeds taken from the transcripts.
pub fn session_bytes(data: &[u8]) {
    session(Script::from_bytes(data, Action::Bytes));
}

/// Arbitrary steps into one POP3 session on the fixture maildrop: every command line gets
/// exactly one status line (and a dot-terminated body exactly when RFC 1939 §5/§7 says so),
/// bodies are stuffed right, RETR sends the stored message, and AUTHORIZATION -> TRANSACTION
/// -> UPDATE are the only transitions (RFC 1939 §3).
pub fn session(script: Script) {
    let cfg = configs()[usize::from(script.config % 2)].clone();
    with_store(|store| {
        let mut s = ServerSession::new(store.clone(), cfg, TIMESTAMP.into());
        let mut m = Model {
            lines: LineBuffer::new(MAX_COMMAND_LINE - 2),
            mode: Mode::Authorization { user: false },
            deleted: [false; 3],
            events: Default::default(),
            out: Vec::new(),
            dirty: false,
            stls: false,
        };
        let mut events = Vec::new();
        stream::drain(&mut s, &mut events);
        assert!(
            matches!(events.as_slice(), [Event::Send(g)] if g.starts_with(b"+OK ")),
            "greeting {events:?}"
        );
        for (i, step) in script.steps.iter().take(48).enumerate() {
            let ctx = Lazy(|| format!("step {i} {:?}", step.action));
            match step.action {
                Action::Eof => {
                    s.handle_eof();
                    m.mode = Mode::Done;
                    continue;
                }
                Action::Timeout => {
                    // RFC 1939 §3: the autologout timer closes without a response.
                    assert_eq!(s.handle_timeout(), vec![wirecheck_wire::Output::Close]);
                    m.mode = Mode::Done;
                    continue;
                }
                _ => {}
            }
            let bytes = step.action.render();
            let (events, fed) = stream::feed(&mut s, &bytes, step.cuts);
            if m.mode == Mode::Done {
                assert!(events.is_empty(), "output after the end: {events:?} ({ctx})");
                continue;
            }
            m.events = events.into();
            m.out.clear();
            for piece in fed {
                m.feed(piece, &ctx);
                if m.stls {
                    m.lines.clear();
                    break;
                }
            }
            m.stls = false;
            m.next_send();
            assert!(
                m.out.is_empty() && m.events.is_empty(),
                "output nobody asked for: {:?} {:?} ({ctx})",
                String::from_utf8_lossy(&m.out),
                m.events
            );
        }
        drop(s);
        ((), m.dirty)
    });
}
