//! IMAP (`wirecheck-imap`): command and response framing, the server session on a tmpfs
//! store against a model of RFC 9051's states, and differential targets against imap-codec.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use imap_codec::decode::{CommandDecodeError, Decoder, ResponseDecodeError};
use imap_codec::{CommandCodec, ResponseCodec};
use wirecheck_imap::codec::{
    CommandDecode, CommandError, CommandLimits, Response, ResponseKind, ResponseLimits, Status, decode_command,
    decode_response,
};
use wirecheck_imap::session::{ServerConfig, ServerSession};
use wirecheck_imap::types::CommandBody;
use wirecheck_store::Store;
use wirecheck_wire::Session;

use crate::pop3::{fixture_dir, fresh_store};
use crate::stream::{self, Ctx, Event, Lazy};
use crate::{disagree, hex};

/// A session script of this protocol.
pub type Script = stream::Script<Action>;

// ---------------------------------------------------------------------------------------------
// Decoders

fn command_limits(sel: u8) -> CommandLimits {
    match sel % 3 {
        0 => CommandLimits::default(),
        1 => CommandLimits {
            max_line: 64,
            max_literal: 16,
            max_total: 200,
        },
        _ => CommandLimits {
            max_line: 8,
            max_literal: 1 << 20,
            max_total: 1 << 20,
        },
    }
}

/// `decode_command`: never panics; a complete command used bytes within the buffer and the
/// limits; a literal announcement points inside the buffer; an error says how much to drop
/// within the buffer.
pub fn decode_command_target(data: &[u8]) {
    let Some((&sel, buf)) = data.split_first() else { return };
    let limits = command_limits(sel);
    match decode_command(buf, &limits) {
        Ok(CommandDecode::Complete(n, cmd)) => {
            assert!(
                n > 0 && n <= buf.len() && n <= limits.max_total,
                "used {n} of {}",
                buf.len()
            );
            assert!(buf[..n].ends_with(b"\r\n"), "a command ends with CRLF");
            assert!(!cmd.tag.is_empty() && !cmd.tag.contains('+'), "bad tag {:?}", cmd.tag);
            // The same bytes, with anything after them, decode to the same command.
            let mut longer = buf[..n].to_vec();
            longer.extend_from_slice(b"x NOOP\r\n");
            assert_eq!(
                decode_command(&longer, &limits),
                Ok(CommandDecode::Complete(n, cmd)),
                "{}",
                hex(buf)
            );
        }
        Ok(CommandDecode::LiteralFound { at, length, .. }) => {
            assert!(
                at <= buf.len() && length <= limits.max_literal,
                "literal at {at} length {length}"
            );
            assert!(
                buf.len() < at.saturating_add(length as usize),
                "the literal is not all here"
            );
        }
        Ok(CommandDecode::Incomplete) => {}
        Err(e) => {
            let consumed = match e {
                CommandError::LineTooLong { consumed, .. } => consumed,
                CommandError::LiteralTooLarge { consumed, .. } => Some(consumed),
                CommandError::Syntax { consumed, .. } => Some(consumed),
                _ => None,
            };
            if let Some(c) = consumed {
                assert!(c > 0 && c <= buf.len(), "consumed {c} of {}", buf.len());
            }
        }
    }
}

/// `decode_response`: never panics; the response is the bytes used, within the limits, and
/// decoding those bytes alone gives the same response.
pub fn decode_response_target(data: &[u8]) {
    let Some((&sel, buf)) = data.split_first() else { return };
    let limits = match sel % 3 {
        0 => ResponseLimits::default(),
        1 => ResponseLimits {
            max_line: 32,
            max_literal: 8,
            max_total: 100,
        },
        _ => ResponseLimits {
            max_line: 1 << 16,
            max_literal: 0,
            max_total: 1 << 16,
        },
    };
    if let Ok(Some((n, r))) = decode_response(buf, &limits) {
        assert!(n > 0 && n <= buf.len() && n <= limits.max_total);
        assert_eq!(r.raw, buf[..n]);
        assert!(r.raw.ends_with(b"\r\n"));
        let again = decode_response(&buf[..n], &limits);
        assert_eq!(again, Ok(Some((n, r))), "{}", hex(buf));
    }
}

// ---------------------------------------------------------------------------------------------
// Differential: imap-codec

/// The command word of a command line (after the tag), for naming disagreement classes.
fn verb_of(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line).to_ascii_uppercase();
    let mut words = text.split([' ', '\r', '\n']).skip(1);
    let first = words.next().unwrap_or("").to_string();
    if first == "UID" {
        format!("UID {}", words.next().unwrap_or(""))
    } else {
        first.chars().filter(|c| c.is_ascii_alphanumeric()).take(16).collect()
    }
}

/// Disagreement classes with imap-codec 1.0 that `docs/fuzzing.md` records (with the RFC
/// clause that decides each); inputs in them are not reported again.
fn known_command_class(line: &[u8], we_accept: bool) -> Option<&'static str> {
    let text = String::from_utf8_lossy(line).to_ascii_uppercase();
    let verb = verb_of(line);
    let has = |w: &str| text.contains(w);
    if we_accept {
        // I1: extensions imap-codec 1.0 does not implement: NAMESPACE (RFC 2342), UID
        // EXPUNGE (RFC 4315), SEARCHRES `$` (RFC 5182), ESEARCH RETURN (RFC 4731),
        // LIST-EXTENDED (RFC 5258), BINARY (RFC 3516), STATUS SIZE (RFC 8438).
        if verb == "NAMESPACE"
            || verb == "UID EXPUNGE"
            || has(" $")
            || has(",$")
            || has("RETURN")
            || has("BINARY")
            || has("~{")
            || (verb == "STATUS" && has("SIZE"))
            || (verb == "LIST" && has("("))
        {
            return Some("imap-codec-lacks-extension");
        }
        // F7 (fixed): RFC 9051 §9 charset = atom / quoted, no longer an astring; F2 (fixed):
        // the initial response is whole base64; F8 (fixed): quoted strings are UTF-8. Inputs
        // in these classes now fail as new disagreements.
        if line.iter().any(|&b| b >= 0x80) && std::str::from_utf8(line).is_ok() {
            // I4: imap-codec 1.0 is IMAP4rev1 (RFC 3501 §4.3: 7-bit quoted strings);
            // RFC 9051 §9 QUOTED-CHAR takes UTF-8.
            return Some("imap-codec-no-utf8");
        }
    } else {
        if std::str::from_utf8(line).is_err() {
            // I5: octets that are not UTF-8 in a mailbox name or string (here in a literal):
            // we refuse, RFC 9051 §5.1 mailbox names are UTF-8 (RFC 3501 §5.1.3: 7-bit
            // modified UTF-7); imap-codec takes any literal octets.
            return Some("imap-codec-any-octets");
        }
        if has("()") {
            // I2: RFC 9051 §9 fetch / status need at least one item: "(" x *(SP x) ")".
            return Some("imap-codec-empty-list");
        }
        if verb == "AUTHENTICATE" && text.trim_end_matches(['\r', '\n']).ends_with(' ') {
            // I3: an empty initial response after SP; RFC 4959 §3 / RFC 9051 §6.2.2 send "=".
            return Some("imap-codec-empty-initial-response");
        }
    }
    None
}

/// The same command bytes into our decoder and imap-codec's: both accept (with the same tag,
/// command name and length) or both refuse. Classes of disagreement are in `docs/fuzzing.md`.
pub fn diff_command(buf: &[u8]) {
    let limits = CommandLimits {
        max_line: 1 << 16,
        max_literal: 1 << 16,
        max_total: 1 << 20,
    };
    let ours = decode_command(buf, &limits);
    let theirs = CommandCodec::default().decode(buf);
    match (&ours, &theirs) {
        (Ok(CommandDecode::Complete(n, c)), Ok((rest, cmd))) => {
            let their_n = buf.len() - rest.len();
            let (tag, name) = (&c.tag, c.body.name());
            if *n != their_n || tag.as_str() != cmd.tag.inner() || !name.eq_ignore_ascii_case(cmd.body.name()) {
                let class = format!("reads differently: {}", verb_of(buf));
                disagree(known_command_class(buf, true), &class, || {
                    format!(
                        "imap-codec reads {} as {} {} ({their_n} octets), we as {tag} {name} ({n} octets)",
                        hex(buf),
                        cmd.tag.inner(),
                        cmd.body.name()
                    )
                });
            }
        }
        (Ok(CommandDecode::Complete(n, c)), Err(e))
            if !matches!(
                e,
                CommandDecodeError::Incomplete | CommandDecodeError::LiteralFound { .. }
            ) =>
        {
            let class = format!("we accept: {}", c.body.name());
            disagree(known_command_class(&buf[..*n], true), &class, || {
                format!(
                    "we accept {} as {} {}, imap-codec refuses it: {e:?}",
                    hex(&buf[..*n]),
                    c.tag,
                    c.body.name()
                )
            });
        }
        (Err(CommandError::Syntax { reason, .. }), Ok((rest, cmd))) => {
            let n = buf.len() - rest.len();
            let class = format!("they accept: {}", cmd.body.name());
            disagree(known_command_class(&buf[..n], false), &class, || {
                format!(
                    "imap-codec accepts {} as {} {}, we refuse it: {reason}",
                    hex(&buf[..n]),
                    cmd.tag.inner(),
                    cmd.body.name()
                )
            });
        }
        _ => {}
    }
}

/// Server responses into our framing and imap-codec's parser: whatever imap-codec parses as
/// one response, we frame as one response of the same length.
pub fn diff_response(buf: &[u8]) {
    let Ok((rest, _)) = ResponseCodec::default().decode(buf) else {
        return;
    };
    let their_n = buf.len() - rest.len();
    match decode_response(buf, &ResponseLimits::default()) {
        Ok(Some((n, _))) if n == their_n => {}
        other => disagree(None, "response framing", || {
            format!(
                "imap-codec parses {} ({their_n} octets), we frame {other:?}",
                hex(&buf[..their_n])
            )
        }),
    }
    let _ = ResponseDecodeError::Incomplete;
}

// ---------------------------------------------------------------------------------------------
// The server session

/// INBOX with three messages, and an `Archive` folder.
const MESSAGES: [&[u8]; 3] = [
    b"From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: one\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\nMessage-ID: <1@example.org>\r\n\r\nhello\r\n",
    b"Subject: two\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\npart 1\r\n--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+aGk8L2I+\r\n--b--\r\n",
    b"Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\n",
];

struct Fixture {
    dir: std::path::PathBuf,
    store: Store,
    /// A session on it did not finish (it panicked): rebuild before the next one.
    in_use: bool,
}

thread_local! {
    static FIXTURE: std::cell::RefCell<Option<Fixture>> = const { std::cell::RefCell::new(None) };
}

/// The fixture still has its folders and messages (flags may differ: nothing checks them).
fn pristine(store: &Store) -> bool {
    let count = |name: &str| {
        store
            .folder("alice", name)
            .and_then(|f| f.messages())
            .map(|m| m.len())
            .ok()
    };
    store.list_folders("alice").is_ok_and(|f| f.len() == 2)
        && count("INBOX") == Some(MESSAGES.len())
        && count("Archive") == Some(0)
}

fn build(dir: &std::path::Path) -> Store {
    let store = fresh_store(dir, &MESSAGES);
    store.create_folder("alice", "Archive").expect("Archive");
    store
}

/// One thing the client does.
#[derive(Debug, Arbitrary)]
pub enum Action {
    /// A command from the templates below.
    Command {
        which: u8,
        set: u8,
        mailbox: u8,
        literal: u8,
    },
    Line(Vec<u8>),
    Bytes(Vec<u8>),
    Eof,
    Timeout,
}

const SETS: &[&str] = &["1", "1:*", "*", "2,3", "4", "1:2", "3:1", "$", "0"];
const MAILBOXES: &[&str] = &[
    "INBOX",
    "Archive",
    "missing",
    "inbox",
    "new",
    "Archive/sub",
    "\"a b\"",
    "&AMk-",
];

/// Command templates: `{set}`, `{mbox}` and `{lit}` (a literal, synchronizing or not) are
/// filled in; IDLE and AUTHENTICATE carry the line that ends their exchange.
const TEMPLATES: &[&str] = &[
    "CAPABILITY",
    "NOOP",
    "LOGOUT",
    "STARTTLS",
    "LOGIN alice secret",
    "LOGIN {lit} \"secret\"",
    "LOGIN alice wrong",
    "AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==",
    "AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==",
    "AUTHENTICATE PLAIN\r\n*",
    "ENABLE IMAP4rev2",
    "SELECT {mbox}",
    "EXAMINE {mbox}",
    "CREATE {mbox}",
    "DELETE {mbox}",
    "RENAME {mbox} new",
    "SUBSCRIBE {mbox}",
    "UNSUBSCRIBE {mbox}",
    "LIST \"\" *",
    "LIST (SUBSCRIBED) \"\" % RETURN (CHILDREN STATUS (MESSAGES UNSEEN))",
    "LSUB \"\" *",
    "NAMESPACE",
    "STATUS {mbox} (MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE)",
    "APPEND {mbox} (\\Seen) {lit}",
    "APPEND {mbox} {lit}",
    "IDLE\r\nDONE",
    "IDLE\r\nNOT DONE",
    "CHECK",
    "CLOSE",
    "UNSELECT",
    "EXPUNGE",
    "UID EXPUNGE {set}",
    "SEARCH ALL",
    "SEARCH UNSEEN FROM bob SUBJECT {lit}",
    "UID SEARCH RETURN (MIN MAX COUNT ALL) {set}",
    "SEARCH CHARSET UTF-8 BODY hello",
    "FETCH {set} (FLAGS UID RFC822.SIZE INTERNALDATE)",
    "FETCH {set} (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODYSTRUCTURE ENVELOPE)",
    "FETCH {set} (BODY[1] BODY[2.MIME] BINARY[2] BINARY.SIZE[1])",
    "UID FETCH {set} FAST",
    "FETCH {set} FULL",
    "STORE {set} +FLAGS (\\Deleted)",
    "UID STORE {set} FLAGS.SILENT (\\Seen $Label)",
    "COPY {set} {mbox}",
    "UID MOVE {set} {mbox}",
    "FETCH {set} BODY[]<0.10>",
    "SELECT",
    "FETCH",
];

fn configs() -> &'static [Arc<ServerConfig>; 2] {
    static C: OnceLock<[Arc<ServerConfig>; 2]> = OnceLock::new();
    C.get_or_init(|| {
        [
            Arc::new(ServerConfig {
                hostname: "imap.example.org".into(),
                ..ServerConfig::default()
            }),
            Arc::new(ServerConfig {
                hostname: "imap.example.org".into(),
                starttls: true,
                login_disabled_without_tls: true,
                limits: CommandLimits {
                    max_line: 256,
                    max_literal: 64,
                    max_total: 1024,
                },
                max_errors: 4,
                max_auth_failures: 2,
                ..ServerConfig::default()
            }),
        ]
    })
}

/// A literal: `{n}` or `{n+}` then the octets.
fn literal(kind: u8) -> String {
    let body = ["alice", "", "hello", "Subject: appended\r\n\r\nbody\r\n", "x\0y"][usize::from(kind / 2 % 5)];
    let plus = if kind % 2 == 1 { "+" } else { "" };
    format!("{{{}{plus}}}\r\n{body}", body.len())
}

impl Action {
    fn render(&self, tag: &str) -> Vec<u8> {
        match self {
            Action::Command {
                which,
                set,
                mailbox,
                literal: lit,
            } => {
                let t = TEMPLATES[usize::from(*which) % TEMPLATES.len()];
                let text = t
                    .replace("{set}", SETS[usize::from(*set) % SETS.len()])
                    .replace("{mbox}", MAILBOXES[usize::from(*mailbox) % MAILBOXES.len()])
                    .replace("{lit}", &literal(*lit));
                format!("{tag} {text}\r\n").into_bytes()
            }
            Action::Line(l) => {
                let mut line = stream::one_line(&l[..l.len().min(1000)]);
                // No literal announcement: one line is one unit.
                if line.last() == Some(&b'}') {
                    line.push(b' ');
                }
                let mut v = stream::crlf(&line);
                // Commands that open an exchange get the line that closes it.
                if let Ok(CommandDecode::Complete(_, c)) = decode_command(&v, &CommandLimits::default()) {
                    match c.body {
                        CommandBody::Idle => v.extend_from_slice(b"DONE\r\n"),
                        CommandBody::Authenticate { initial: None, .. } => v.extend_from_slice(b"*\r\n"),
                        _ => {}
                    }
                }
                v
            }
            Action::Bytes(b) => b.clone(),
            Action::Eof | Action::Timeout => Vec::new(),
        }
    }
}

/// RFC 9051 §3 connection states, as the model follows them from the tagged responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NotAuthenticated,
    Authenticated,
    Selected,
    Logout,
}

#[derive(Debug)]
enum Answer {
    Resp(Response),
    StartTls,
    Close,
}

/// One command the client sent, in order.
struct Sent {
    tag: Option<String>,
    body: Option<CommandBody>,
    /// Synchronizing literals in it (each may get a `+` before the command completes).
    sync_literals: usize,
    /// For IDLE and AUTHENTICATE without an initial response: the line after the command,
    /// which ends the exchange if the server opened one (`+`), and is a command if not.
    follow: Option<Vec<u8>>,
}

/// Units of a step's bytes as the server must frame them (the step is whole commands).
fn units(bytes: &[u8], limits: &CommandLimits) -> Vec<Sent> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match decode_command(rest, limits) {
            Ok(CommandDecode::Complete(n, c)) => {
                let sync_literals = count_sync_literals(&rest[..n]);
                rest = &rest[n..];
                let follow = if matches!(
                    c.body,
                    CommandBody::Idle | CommandBody::Authenticate { initial: None, .. }
                ) {
                    let i = rest.windows(2).position(|w| w == b"\r\n").map_or(rest.len(), |i| i + 2);
                    let line = rest[..i].to_vec();
                    rest = &rest[i..];
                    Some(line)
                } else {
                    None
                };
                out.push(Sent {
                    tag: Some(c.tag.clone()),
                    body: Some(c.body),
                    sync_literals,
                    follow,
                });
            }
            Err(e) => {
                let n = match &e {
                    CommandError::Syntax { consumed, .. } | CommandError::LiteralTooLarge { consumed, .. } => *consumed,
                    CommandError::LineTooLong { consumed: Some(c), .. } => *c,
                    _ => rest.len(),
                };
                // A command refused after its literals were read still had its `+`s.
                let sync_literals = count_sync_literals(&rest[..n.min(rest.len())]);
                out.push(Sent {
                    tag: e.tag().map(str::to_string),
                    body: None,
                    sync_literals,
                    follow: None,
                });
                rest = &rest[n.min(rest.len()).max(1)..];
            }
            Ok(_) => break,
        }
    }
    out
}

fn count_sync_literals(cmd: &[u8]) -> usize {
    let mut n = 0;
    let mut rest = cmd;
    while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
        let line = &rest[..i];
        if line.ends_with(b"}") && !line.ends_with(b"+}") && line.contains(&b'{') {
            n += 1;
        }
        rest = &rest[i + 2..];
    }
    n
}

struct Model {
    state: State,
    answers: VecDeque<Answer>,
    /// Some command changed the store in a way the next session would see.
    dirty: bool,
    /// STARTTLS was accepted in this step: what followed it in the clear is dropped.
    tls_started: bool,
}

impl Model {
    fn load(&mut self, events: Vec<Event>, ctx: Ctx) {
        self.answers.clear();
        for e in events {
            match e {
                Event::Send(b) => {
                    let mut rest = &b[..];
                    while !rest.is_empty() {
                        match decode_response(rest, &ResponseLimits::default()) {
                            Ok(Some((n, r))) => {
                                self.answers.push_back(Answer::Resp(r));
                                rest = &rest[n..];
                            }
                            other => panic!(
                                "malformed response {:?}: {other:?} ({ctx})",
                                String::from_utf8_lossy(rest)
                            ),
                        }
                    }
                }
                Event::StartTls => self.answers.push_back(Answer::StartTls),
                Event::Close => self.answers.push_back(Answer::Close),
            }
        }
    }

    /// Skip untagged responses (any may come, RFC 9051 §7); a `BYE` means the close follows.
    fn skip_untagged(&mut self, ctx: Ctx) {
        while let Some(Answer::Resp(r)) = self.answers.front() {
            if r.kind != ResponseKind::Untagged {
                break;
            }
            if r.status == Some(Status::Bye) {
                self.answers.pop_front();
                // RFC 9051 §7.1.5: BYE, then (LOGOUT's tagged OK, then) the close.
                if let Some(Answer::Resp(t)) = self.answers.front()
                    && matches!(t.kind, ResponseKind::Tagged(_))
                {
                    return;
                }
                assert!(
                    matches!(self.answers.pop_front(), Some(Answer::Close)),
                    "BYE without close ({ctx})"
                );
                self.state = State::Logout;
                return;
            }
            self.answers.pop_front();
        }
    }

    fn is_continuation(&self) -> bool {
        matches!(self.answers.front(), Some(Answer::Resp(r)) if r.kind == ResponseKind::Continuation)
    }

    /// Pair one command with its responses.
    fn command(&mut self, sent: &Sent, limits: &CommandLimits, ctx: Ctx) {
        self.skip_untagged(ctx);
        if self.state == State::Logout {
            return;
        }
        let mut pluses = 0;
        while pluses < sent.sync_literals && self.is_continuation() {
            self.answers.pop_front();
            pluses += 1;
            self.skip_untagged(ctx);
        }
        let mut later = Vec::new();
        if let Some(line) = &sent.follow {
            if self.is_continuation() {
                // The exchange is open: the line ends it (RFC 2177 §3, RFC 9051 §6.2.2).
                self.answers.pop_front();
                self.skip_untagged(ctx);
            } else {
                // Refused at once: the line is the next command.
                later = units(line, limits);
            }
        }
        self.pair(sent, ctx);
        for u in &later {
            if self.state == State::Logout || self.tls_started {
                break;
            }
            self.command(u, limits, ctx);
        }
    }

    /// The tagged response of one command and the transition it makes.
    fn pair(&mut self, sent: &Sent, ctx: Ctx) {
        if self.state == State::Logout {
            return;
        }
        let Some(tag) = &sent.tag else {
            // No tag: the server answers `* BAD` (already skipped as untagged).
            return;
        };
        let r = match self.answers.pop_front() {
            Some(Answer::Resp(r)) => r,
            other => panic!("expected the tagged response of {tag}, got {other:?} ({ctx})"),
        };
        assert_eq!(
            r.tag(),
            Some(tag.as_str()),
            "tagged responses out of order: {:?} ({ctx})",
            r.text()
        );
        let status = r.status.expect("a tagged response has a status");
        assert!(
            matches!(status, Status::Ok | Status::No | Status::Bad),
            "tagged {status:?} ({ctx})"
        );
        let Some(body) = &sent.body else {
            assert_eq!(status, Status::Bad, "a command that does not parse gets BAD ({ctx})");
            return;
        };
        let state = self.state;
        let ctx = &Lazy(|| format!("{} {} -> {:?} in {state:?}: {ctx}", tag, body.name(), r.text()));
        self.transition(body, status, ctx);
    }

    /// RFC 9051 §3 / §6: which commands may succeed in which state, and where they lead.
    fn transition(&mut self, body: &CommandBody, status: Status, ctx: Ctx) {
        use CommandBody as C;
        let any_auth = matches!(self.state, State::Authenticated | State::Selected);
        if status != Status::Ok {
            // RFC 9051 §6.3.2: a failed SELECT/EXAMINE leaves no mailbox selected.
            if matches!(body, C::Select(_) | C::Examine(_)) && status == Status::No && any_auth {
                self.state = State::Authenticated;
            }
            return;
        }
        match body {
            C::Capability | C::Noop => {}
            C::Logout => {
                assert!(
                    matches!(self.answers.pop_front(), Some(Answer::Close)),
                    "LOGOUT OK without close ({ctx})"
                );
                self.state = State::Logout;
            }
            C::StartTls => {
                assert_eq!(self.state, State::NotAuthenticated, "STARTTLS after login ({ctx})");
                assert!(
                    matches!(self.answers.pop_front(), Some(Answer::StartTls)),
                    "STARTTLS OK without TLS ({ctx})"
                );
                self.tls_started = true;
            }
            C::Login { .. } | C::Authenticate { .. } => {
                assert_eq!(self.state, State::NotAuthenticated, "login twice ({ctx})");
                self.state = State::Authenticated;
            }
            C::Select(_) | C::Examine(_) => {
                assert!(any_auth, "SELECT before login ({ctx})");
                self.state = State::Selected;
            }
            C::Close | C::Unselect => {
                assert_eq!(self.state, State::Selected, "CLOSE without a mailbox ({ctx})");
                self.state = State::Authenticated;
                self.dirty = true;
            }
            C::Expunge | C::UidExpunge(_) | C::Copy { .. } | C::Move { .. } => {
                assert_eq!(self.state, State::Selected, "{} without a mailbox ({ctx})", body.name());
                self.dirty = true;
            }
            C::Search { .. } | C::Fetch { .. } | C::Store { .. } | C::Check => {
                assert_eq!(self.state, State::Selected, "{} without a mailbox ({ctx})", body.name());
            }
            C::Create(_) | C::Delete(_) | C::Rename { .. } | C::Append { .. } => {
                assert!(any_auth, "{} before login ({ctx})", body.name());
                self.dirty = true;
            }
            _ => assert!(any_auth, "{} before login ({ctx})", body.name()),
        }
    }
}

/// Any bytes as everything one client sends, cut into up to four reads: the same checks as
/// [`session`], for seeds taken from the transcripts.
pub fn session_bytes(data: &[u8]) {
    session(Script::from_bytes(data, Action::Bytes));
}

/// Arbitrary steps into one IMAP session on the fixture store: every command gets exactly one
/// tagged response with its tag, in order (RFC 9051 §2.2.2), after at most one `+` per
/// synchronizing literal (§7.5); every response is well framed; commands succeed only in the
/// states RFC 9051 §6 allows; LOGOUT and BYE close, STARTTLS starts TLS.
pub fn session(script: Script) {
    let cfg = configs()[usize::from(script.config % 2)].clone();
    let limits = cfg.limits;
    FIXTURE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let fx = slot.get_or_insert_with(|| {
            let dir = fixture_dir("imap");
            let store = build(&dir);
            Fixture { dir, store, in_use: false }
        });
        if fx.in_use {
            fx.store = build(&fx.dir);
        }
        fx.in_use = true;
        let mut s = ServerSession::new(cfg, fx.store.clone());
        let mut m = Model { state: State::NotAuthenticated, answers: VecDeque::new(), dirty: false, tls_started: false };
        let mut events = Vec::new();
        stream::drain(&mut s, &mut events);
        m.load(events, &"greeting");
        assert!(
            matches!(m.answers.pop_front(), Some(Answer::Resp(r)) if r.status == Some(Status::Ok) && r.kind == ResponseKind::Untagged),
            "greeting"
        );
        let mut exact = true;
        for (i, step) in script.steps.iter().take(40).enumerate() {
            let tag = format!("W{i}");
            let bytes = step.action.render(&tag);
            let ctx = Lazy(|| format!("step {i} {:?} sent {:?}", step.action, String::from_utf8_lossy(&bytes)));
            match step.action {
                Action::Eof => {
                    s.handle_eof();
                    m.state = State::Logout;
                    continue;
                }
                Action::Timeout => {
                    let _ = s.handle_timeout();
                    m.state = State::Logout;
                    continue;
                }
                _ => {}
            }
            if matches!(step.action, Action::Bytes(_)) {
                exact = false;
            }
            let (events, _) = stream::feed(&mut s, &bytes, step.cuts);
            if m.state == State::Logout {
                assert!(events.is_empty(), "output after the close: {events:?} ({ctx})");
                continue;
            }
            m.load(events, &ctx);
            if exact {
                m.tls_started = false;
                for u in units(&bytes, &limits) {
                    m.command(&u, &limits, &ctx);
                    if m.state == State::Logout || m.tls_started {
                        break;
                    }
                }
                m.skip_untagged(&ctx);
                assert!(m.answers.is_empty(), "responses nobody asked for: {:?} ({ctx})", m.answers);
            } else {
                // Not following the framing any more: still, a close ends the session.
                if m.answers.iter().any(|a| matches!(a, Answer::Close)) {
                    m.state = State::Logout;
                }
                m.dirty = true;
            }
        }
        drop(s);
        if m.dirty && !pristine(&fx.store) {
            fx.store = build(&fx.dir);
        }
        fx.in_use = false;
    });
}
