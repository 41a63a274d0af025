//! Session tests as in-memory client/server pairs on a temporary store (rustls-test
//! `make_pair` style): bytes in, bytes out, no sockets.

use std::sync::Arc;

use wirecheck_store::{Store, Users};
use wirecheck_wire::{Output, Session};

use super::{ServerConfig, ServerSession, State};

/// The peers' fixture (shared/peers/_lib.sh write_msg), with LF line ends as delivered.
pub(crate) fn fixture_message(n: u32) -> Vec<u8> {
    let day = if n == 1 { "Mon" } else { "Tue" };
    format!(
        "Return-Path: <bob@example.test>\nFrom: Bob <bob@example.test>\nTo: Alice <alice@example.test>\nSubject: Test message {n}\nDate: {day}, 0{n} Jan 2024 10:00:00 +0000\nMessage-ID: <test{n}@example.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\nHello Alice, this is test message number {n}.\nLine two of message {n}.\n"
    )
    .into_bytes()
}

pub(crate) struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Store,
}

pub(crate) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let users = Users::from_pairs(&[("alice", "secret"), ("bob", "hunter2")]).unwrap();
    let store = Store::open(dir.path(), users).unwrap();
    for n in 1..=2 {
        store.deliver("alice", "INBOX", &fixture_message(n)).unwrap();
    }
    Fixture { dir, store }
}

/// A client end: sends lines, collects everything the server wrote.
pub(crate) struct Client {
    pub s: ServerSession,
    pub closed: bool,
    pub starttls: bool,
}

impl Client {
    pub fn new(store: &Store, cfg: ServerConfig) -> Client {
        let mut c = Client { s: ServerSession::new(Arc::new(cfg), store.clone()), closed: false, starttls: false };
        let greeting = c.read();
        assert!(greeting.starts_with("* OK [CAPABILITY IMAP4rev1"), "{greeting}");
        c
    }

    pub fn read(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(o) = self.s.poll_output() {
            match o {
                Output::Send(b) => out.extend_from_slice(&b),
                Output::Close => self.closed = true,
                Output::StartTls => self.starttls = true,
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Send raw bytes and return what came back.
    pub fn raw(&mut self, bytes: &[u8]) -> String {
        self.s.handle_input(bytes);
        self.read()
    }

    /// Send a command line.
    pub fn cmd(&mut self, line: &str) -> String {
        self.raw(format!("{line}\r\n").as_bytes())
    }

    pub fn login(&mut self) {
        let r = self.cmd("l1 LOGIN alice secret");
        assert!(r.starts_with("l1 OK"), "{r}");
    }

    pub fn select(&mut self) -> String {
        self.login();
        let r = self.cmd("s1 SELECT INBOX");
        assert!(r.contains("s1 OK [READ-WRITE]"), "{r}");
        r
    }
}

fn client(f: &Fixture) -> Client {
    Client::new(&f.store, ServerConfig::default())
}

#[test]
fn capability_and_logout() {
    let f = fixture();
    let mut c = client(&f);
    let r = c.cmd("a CAPABILITY");
    assert!(r.starts_with("* CAPABILITY IMAP4rev1 IMAP4rev2 "), "{r}");
    assert!(r.contains("AUTH=PLAIN") && r.ends_with("a OK CAPABILITY completed\r\n"));
    let r = c.cmd("b LOGOUT");
    assert_eq!(r, "* BYE Logging out\r\nb OK LOGOUT completed\r\n");
    assert!(c.closed);
    assert_eq!(c.s.state(), State::Logout);
}

#[test]
fn login_failures_and_states() {
    let f = fixture();
    let mut c = client(&f);
    assert!(c.cmd("a SELECT INBOX").starts_with("a BAD"));
    assert_eq!(c.cmd("b LOGIN alice wrong"), "b NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
    c.login();
    assert_eq!(c.s.user(), Some("alice"));
    assert!(c.cmd("c LOGIN alice secret").starts_with("c BAD"));
    assert!(c.cmd("d FETCH 1 FLAGS").starts_with("d BAD"), "FETCH needs a selected mailbox");
}

#[test]
fn authenticate_plain_with_and_without_initial_response() {
    let f = fixture();
    let mut c = client(&f);
    // "\0alice\0secret"
    assert_eq!(c.cmd("a AUTHENTICATE PLAIN"), "+ \r\n");
    let r = c.cmd("AGFsaWNlAHNlY3JldA==");
    assert!(r.starts_with("a OK [CAPABILITY"), "{r}");
    let mut c = client(&f);
    let r = c.cmd("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==");
    assert!(r.starts_with("a OK"), "{r}");
    let mut c = client(&f);
    c.cmd("a AUTHENTICATE PLAIN");
    assert_eq!(c.cmd("*"), "a BAD Authentication cancelled\r\n");
    assert_eq!(c.cmd("b AUTHENTICATE CRAM-MD5"), "b NO Unsupported authentication mechanism\r\n");
}

/// RFC 9051 §6.2.2 / RFC 4648 §4: a continuation line that is not base64 (wrong length,
/// misplaced padding) gets a tagged BAD, and so does `*`; the session is usable afterwards.
/// The same for an initial response (RFC 9051 §9 `initial-resp`, F2 in docs/fuzzing.md).
#[test]
fn authenticate_refuses_what_is_not_base64() {
    let f = fixture();
    for line in ["AIN", "AGFsaWNlAHNlY3JldA=", "AGFsaWNlAHNlY3JldA=x", "AG=FsaWNlAHNlY3JldA=", "*"] {
        let mut c = client(&f);
        assert_eq!(c.cmd("a AUTHENTICATE PLAIN"), "+ \r\n");
        let r = c.cmd(line);
        assert!(r.starts_with("a BAD "), "{line}: {r}");
        assert_eq!(c.cmd("b NOOP"), "b OK NOOP completed\r\n", "{line}");
        assert_eq!(c.s.state(), State::NotAuthenticated);
    }
    for initial in ["AIN", "AGFsaWNlAHNlY3JldA", "A===", "AB=C"] {
        let mut c = client(&f);
        let r = c.cmd(&format!("a AUTHENTICATE PLAIN {initial}"));
        assert!(r.starts_with("a BAD "), "{initial}: {r}");
        assert_eq!(c.s.state(), State::NotAuthenticated);
    }
}

/// RFC 3501 §9 (IMAP4rev1: quoted strings are 7-bit, CHARSET is an astring) until
/// `ENABLE IMAP4rev2`, then RFC 9051 §9 (UTF-8 quoted strings, `charset = atom / quoted`);
/// octets that are not UTF-8 are BAD in both (F7, F8 in docs/fuzzing.md).
#[test]
fn grammar_follows_enable_imap4rev2() {
    let f = fixture();
    let mut c = client(&f);
    c.select();
    let utf8 = "u SEARCH CHARSET UTF-8 SUBJECT \"caf\u{e9}\"\r\n".as_bytes();
    assert!(c.raw(utf8).starts_with("u BAD "));
    assert!(c.raw(b"v SEARCH SUBJECT \"\xfa\"\r\n").starts_with("v BAD "));
    assert_eq!(c.cmd("w SEARCH CHARSET A]B ALL"), "w NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset\r\n");
    c.cmd("e ENABLE IMAP4rev2");
    assert_eq!(c.raw(utf8), "* ESEARCH (TAG \"u\")\r\nu OK SEARCH completed\r\n");
    assert!(c.raw(b"v SEARCH SUBJECT \"\xfa\"\r\n").starts_with("v BAD "));
    assert!(c.cmd("w SEARCH CHARSET A]B ALL").starts_with("w BAD "));
    assert_eq!(c.cmd("x SEARCH CHARSET \"UTF-8\" ALL"), "* ESEARCH (TAG \"x\") ALL 1:2\r\nx OK SEARCH completed\r\n");
}

/// Nothing after the close (RFC 9051 §7.1.5 BYE): when the selected mailbox vanishes while
/// a command syncs it, the session says BYE and closes, and the command gets no tagged
/// response after that (found by `imap_session`: `W8 OK NOOP completed` after the close).
#[test]
fn nothing_follows_the_close() {
    let f = fixture();
    let mut c = client(&f);
    c.login();
    assert!(c.cmd("c CREATE Archive").starts_with("c OK"));
    assert!(c.cmd("s SELECT Archive").contains("s OK"));
    assert_eq!(c.cmd("r RENAME Archive New"), "r OK RENAME completed\r\n");
    assert_eq!(c.cmd("n NOOP"), "* BYE Selected mailbox was deleted\r\n");
    assert!(c.closed);
    assert_eq!(c.cmd("m NOOP"), "");
}

#[test]
fn login_disabled_before_tls() {
    let f = fixture();
    let cfg = ServerConfig { starttls: true, login_disabled_without_tls: true, ..Default::default() };
    let mut c = Client::new(&f.store, cfg);
    let r = c.cmd("a CAPABILITY");
    assert!(r.contains("LOGINDISABLED") && r.contains("STARTTLS") && !r.contains("AUTH=PLAIN"), "{r}");
    assert!(c.cmd("b LOGIN alice secret").starts_with("b NO [PRIVACYREQUIRED]"));
    // STARTTLS discards what was pipelined after it.
    let r = c.raw(b"c STARTTLS\r\nd LOGIN alice secret\r\n");
    assert_eq!(r, "c OK Begin TLS negotiation now\r\n");
    assert!(c.starttls);
    c.s.handle_tls(Default::default());
    let r = c.cmd("e CAPABILITY");
    assert!(!r.contains("STARTTLS") && !r.contains("LOGINDISABLED") && r.contains("AUTH=PLAIN"), "{r}");
    c.login();
}

#[test]
fn select_rev1_responses() {
    let f = fixture();
    let mut c = client(&f);
    let r = c.select();
    assert!(r.contains("* 2 EXISTS\r\n* 2 RECENT\r\n* OK [UNSEEN 1]"), "{r}");
    assert!(r.contains("* OK [UIDVALIDITY ") && r.contains("* OK [UIDNEXT 3]"), "{r}");
    assert!(r.contains("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)]"), "{r}");
    // A second session sees no \Recent: the first one claimed them.
    let mut d = client(&f);
    let r = d.select();
    assert!(r.contains("* 0 RECENT"), "{r}");
}

#[test]
fn rev2_select_and_search() {
    let f = fixture();
    let mut c = client(&f);
    c.login();
    assert_eq!(c.cmd("e ENABLE IMAP4rev2"), "* ENABLED IMAP4rev2\r\ne OK ENABLE completed\r\n");
    let r = c.cmd("s SELECT inbox");
    assert!(!r.contains("RECENT") && r.contains("* LIST () \"/\" INBOX"), "{r}");
    assert_eq!(c.cmd("t SEARCH ALL"), "* ESEARCH (TAG \"t\") ALL 1:2\r\nt OK SEARCH completed\r\n");
}

#[test]
fn fetch_items() {
    let f = fixture();
    let mut c = client(&f);
    c.select();
    let r = c.cmd("f FETCH 1 (FLAGS RFC822.SIZE UID)");
    let size = mime_size(1);
    assert_eq!(r, format!("* 1 FETCH (UID 1 FLAGS (\\Recent) RFC822.SIZE {size})\r\nf OK FETCH completed\r\n"));
    let r = c.cmd("g FETCH 2 BODY.PEEK[HEADER.FIELDS (subject)]");
    assert_eq!(
        r,
        "* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {27}\r\nSubject: Test message 2\r\n\r\n)\r\ng OK FETCH completed\r\n"
    );
    let r = c.cmd("h FETCH 1 BODY[TEXT]<0.5>");
    assert_eq!(r, "* 1 FETCH (BODY[TEXT]<0> {5}\r\nHello FLAGS (\\Seen \\Recent))\r\nh OK FETCH completed\r\n");
    let r = c.cmd("i FETCH 1 ENVELOPE");
    assert!(
        r.starts_with("* 1 FETCH (ENVELOPE (\"Mon, 01 Jan 2024 10:00:00 +0000\" \"Test message 1\" ((\"Bob\" NIL \"bob\" \"example.test\"))"),
        "{r}"
    );
    let r = c.cmd("j FETCH 1:* BODYSTRUCTURE");
    assert!(r.contains("* 2 FETCH (BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 69 2 NIL NIL NIL NIL))"), "{r}");
    assert!(c.cmd("k FETCH 3 FLAGS").starts_with("k BAD"), "out of range");
    let r = c.cmd("l UID FETCH 5:* FLAGS");
    assert_eq!(
        r, "* 2 FETCH (UID 2 FLAGS (\\Recent))\r\nl OK FETCH completed\r\n",
        "RFC 3501 §6.4.8: n:* includes the last"
    );
    let r = c.cmd("m FETCH 2 (BODY[] BINARY.SIZE[1])");
    assert!(
        r.contains(&format!("BODY[] {{{}}}\r\nReturn-Path:", mime_size(2))) && r.contains("BINARY.SIZE[1] 69"),
        "{r}"
    );
}

fn mime_size(n: u32) -> usize {
    crate::mime::to_crlf(fixture_message(n)).len()
}

#[test]
fn store_and_expunge() {
    let f = fixture();
    let mut c = client(&f);
    c.select();
    assert_eq!(
        c.cmd("a STORE 1 +FLAGS (\\Deleted)"),
        "* 1 FETCH (FLAGS (\\Deleted \\Recent))\r\na OK STORE completed\r\n"
    );
    assert_eq!(c.cmd("b STORE 2 FLAGS.SILENT (\\Seen $Work)"), "b OK STORE completed\r\n");
    assert_eq!(
        c.cmd("c UID STORE 2 -FLAGS ($Work)"),
        "* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent))\r\nc OK STORE completed\r\n"
    );
    assert!(c.cmd("d STORE 1 +FLAGS (\\Recent)").starts_with("d BAD"));
    assert_eq!(c.cmd("e EXPUNGE"), "* 1 EXPUNGE\r\ne OK EXPUNGE completed\r\n");
    let r = c.cmd("f FETCH 1 UID");
    assert_eq!(r, "* 1 FETCH (UID 2)\r\nf OK FETCH completed\r\n");
    assert_eq!(c.cmd("g SEARCH ALL"), "* SEARCH 1\r\ng OK SEARCH completed\r\n");
}

#[test]
fn search_keys() {
    let f = fixture();
    let mut c = client(&f);
    c.select();
    assert_eq!(c.cmd("a SEARCH SUBJECT \"message 2\""), "* SEARCH 2\r\na OK SEARCH completed\r\n");
    assert_eq!(c.cmd("b UID SEARCH FROM bob BODY \"number 1\""), "* SEARCH 1\r\nb OK SEARCH completed\r\n");
    assert_eq!(c.cmd("c SEARCH OR 1 SENTON 2-Jan-2024"), "* SEARCH 1 2\r\nc OK SEARCH completed\r\n");
    assert_eq!(c.cmd("d SEARCH NOT RECENT"), "* SEARCH\r\nd OK SEARCH completed\r\n");
    assert_eq!(
        c.cmd("e SEARCH SENTBEFORE 2-Jan-2024 HEADER Message-ID test1"),
        "* SEARCH 1\r\ne OK SEARCH completed\r\n"
    );
    assert_eq!(c.cmd("f SEARCH CHARSET KOI8-R ALL"), "f NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset\r\n");
    assert_eq!(c.cmd("g SEARCH RETURN (SAVE) SUBJECT \"1\""), "g OK SEARCH completed\r\n");
    assert_eq!(c.cmd("h FETCH $ UID"), "* 1 FETCH (UID 1)\r\nh OK FETCH completed\r\n");
    assert_eq!(
        c.cmd("i SEARCH RETURN (COUNT MAX) LARGER 10"),
        "* ESEARCH (TAG \"i\") COUNT 2 MAX 2\r\ni OK SEARCH completed\r\n"
    );
}

#[test]
fn literals_synchronizing_and_not() {
    let f = fixture();
    let mut c = client(&f);
    assert_eq!(c.raw(b"a LOGIN {5}\r\n"), "+ Ready for literal data\r\n");
    assert_eq!(c.raw(b"ali"), "", "no second + for the same literal");
    assert_eq!(c.raw(b"ce {6+}\r\nsec"), "");
    let r = c.raw(b"ret\r\n");
    assert!(r.starts_with("a OK"), "{r}");
    // APPEND with a synchronizing literal, split anyhow.
    assert_eq!(c.raw(b"b APPEND INBOX (\\Seen) {12}\r\n"), "+ Ready for literal data\r\n");
    let r = c.raw(b"Subject: x\r\n\r\n");
    assert!(r.starts_with("b OK [APPENDUID ") && r.contains(" 3] APPEND completed"), "{r}");
}

#[test]
fn too_long_and_too_large() {
    let f = fixture();
    let mut cfg = ServerConfig::default();
    cfg.limits.max_line = 100;
    cfg.limits.max_literal = 10;
    let mut c = Client::new(&f.store, cfg);
    let long = format!("a NOOP {}", "x".repeat(300));
    let r = c.raw(long.as_bytes());
    assert_eq!(r, "a BAD Command line too long\r\n");
    let r = c.raw(b"yyyy\r\nb NOOP\r\n");
    assert_eq!(r, "b OK NOOP completed\r\n", "the rest of the long line is dropped");
    assert_eq!(c.raw(b"c LOGIN {20}\r\n"), "c BAD [TOOBIG] Literal too large\r\n");
    // A non-synchronizing one is read and dropped with the rest of its command.
    let r = c.raw(b"d LOGIN {20+}\r\n01234567890123456789 x\r\ne NOOP\r\n");
    assert_eq!(r, "d BAD [TOOBIG] Literal too large\r\ne OK NOOP completed\r\n");
    assert_eq!(c.raw(b"\r\n"), "* BAD Empty command line\r\n");
    assert!(c.raw(b"f FROBNICATE\r\n").starts_with("f BAD Syntax error"));
}

#[test]
fn mailbox_management_and_list() {
    let f = fixture();
    let mut c = client(&f);
    c.login();
    assert_eq!(c.cmd("a CREATE Archive/2024"), "a OK CREATE completed\r\n");
    assert!(c.cmd("b CREATE Archive").starts_with("b NO [ALREADYEXISTS]"));
    let r = c.cmd("c LIST \"\" *");
    assert_eq!(
        r,
        "* LIST (\\HasChildren) \"/\" Archive\r\n* LIST (\\HasNoChildren) \"/\" Archive/2024\r\n* LIST (\\HasNoChildren) \"/\" INBOX\r\nc OK LIST completed\r\n"
    );
    assert_eq!(
        c.cmd("d LIST \"\" %"),
        "* LIST (\\HasChildren) \"/\" Archive\r\n* LIST (\\HasNoChildren) \"/\" INBOX\r\nd OK LIST completed\r\n"
    );
    assert_eq!(c.cmd("e LIST \"\" \"\""), "* LIST (\\Noselect) \"/\" \"\"\r\ne OK LIST completed\r\n");
    assert_eq!(c.cmd("f SUBSCRIBE Archive"), "f OK SUBSCRIBE completed\r\n");
    assert_eq!(c.cmd("g LSUB \"\" *"), "* LSUB () \"/\" Archive\r\ng OK LSUB completed\r\n");
    assert_eq!(
        c.cmd("h LIST (SUBSCRIBED) \"\" * RETURN (STATUS (MESSAGES))"),
        "* LIST (\\HasChildren \\Subscribed) \"/\" Archive\r\n* STATUS Archive (MESSAGES 0)\r\nh OK LIST completed\r\n"
    );
    assert_eq!(c.cmd("i RENAME Archive Old"), "i OK RENAME completed\r\n");
    assert_eq!(
        c.cmd("j STATUS Old/2024 (MESSAGES UIDNEXT)"),
        "* STATUS Old/2024 (MESSAGES 0 UIDNEXT 1)\r\nj OK STATUS completed\r\n"
    );
    assert!(c.cmd("k DELETE INBOX").starts_with("k NO"));
    assert_eq!(c.cmd("l DELETE Old/2024"), "l OK DELETE completed\r\n");
    assert!(c.cmd("m SELECT Old/2024").starts_with("m NO [NONEXISTENT]"));
    assert_eq!(c.cmd("n NAMESPACE"), "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\nn OK NAMESPACE completed\r\n");
}

#[test]
fn copy_and_move_with_uidplus() {
    let f = fixture();
    let mut c = client(&f);
    c.select();
    assert!(c.cmd("a COPY 1 Nowhere").starts_with("a NO [TRYCREATE]"));
    c.cmd("b CREATE Saved");
    let r = c.cmd("c COPY 1:2 Saved");
    assert!(r.starts_with("c OK [COPYUID ") && r.ends_with(" 1:2 1:2] COPY completed\r\n"), "{r}");
    let r = c.cmd("d UID MOVE 2 Saved");
    assert!(r.starts_with("* OK [COPYUID ") && r.contains(" 2 3] Moved\r\n* 2 EXPUNGE\r\nd OK MOVE completed"), "{r}");
    let r = c.cmd("e STATUS Saved (MESSAGES)");
    assert!(r.starts_with("* STATUS Saved (MESSAGES 3)"), "{r}");
}

#[test]
fn two_sessions_see_each_others_changes() {
    let f = fixture();
    let mut a = client(&f);
    let mut b = client(&f);
    a.select();
    b.select();
    // b flags and expunges message 1; a learns at its next NOOP, but not during FETCH.
    b.cmd("x STORE 1 +FLAGS (\\Deleted)");
    b.cmd("y EXPUNGE");
    let r = a.cmd("f FETCH 1:2 UID");
    assert!(!r.contains("EXPUNGE"), "RFC 3501 §7.4.1: no EXPUNGE during FETCH: {r}");
    assert!(r.contains("* 2 FETCH (UID 2)"), "{r}");
    let r = a.cmd("n NOOP");
    assert_eq!(r, "* 1 EXPUNGE\r\nn OK NOOP completed\r\n");
    // A delivery shows as EXISTS (and RECENT in rev1) on the next command.
    f.store.deliver("alice", "INBOX", &fixture_message(3)).unwrap();
    let r = a.cmd("m NOOP");
    assert_eq!(r, "* 2 EXISTS\r\n* 2 RECENT\r\nm OK NOOP completed\r\n");
    // Flag changes by b arrive as FETCH FLAGS.
    b.cmd("z NOOP");
    b.cmd("w STORE 2 +FLAGS (\\Flagged)");
    let r = a.cmd("o CHECK");
    assert_eq!(r, "* 2 FETCH (FLAGS (\\Flagged \\Recent))\r\no OK CHECK completed\r\n");
}

#[test]
fn idle_pushes_updates() {
    let f = fixture();
    let mut a = client(&f);
    a.select();
    assert_eq!(a.cmd("i IDLE"), "+ idling\r\n");
    assert!(a.s.idling());
    f.store.deliver("alice", "INBOX", &fixture_message(3)).unwrap();
    a.s.poll_changes();
    assert_eq!(a.read(), "* 3 EXISTS\r\n* 3 RECENT\r\n", "RECENT counts every \\Recent message");
    a.s.poll_changes();
    assert_eq!(a.read(), "", "nothing new, nothing sent");
    assert_eq!(a.cmd("DONE"), "i OK IDLE terminated\r\n");
}

#[test]
fn examine_is_read_only() {
    let f = fixture();
    let mut c = client(&f);
    c.login();
    let r = c.cmd("a EXAMINE INBOX");
    assert!(
        r.contains("* 2 RECENT")
            && r.contains("[PERMANENTFLAGS ()]")
            && r.ends_with("a OK [READ-ONLY] EXAMINE completed\r\n"),
        "{r}"
    );
    assert!(c.cmd("b STORE 1 +FLAGS (\\Seen)").starts_with("b NO [READ-ONLY]"));
    let r = c.cmd("c FETCH 1 BODY[]");
    assert!(!r.contains("\\Seen"), "EXAMINE never sets \\Seen: {r}");
    assert_eq!(c.cmd("d CLOSE"), "d OK CLOSE completed\r\n");
    assert_eq!(c.s.state(), State::Authenticated);
}

#[test]
fn uidvalidity_and_uidnext_persist_across_restarts() {
    let f = fixture();
    let mut c = client(&f);
    let r = c.select();
    let uv = r.split("UIDVALIDITY ").nth(1).and_then(|s| s.split(']').next()).unwrap().to_string();
    c.cmd("a STORE 2 +FLAGS (\\Deleted)");
    c.cmd("b EXPUNGE");
    drop(c);
    let users = Users::from_pairs(&[("alice", "secret")]).unwrap();
    let store = Store::open(f.dir.path(), users).unwrap();
    let mut c = Client::new(&store, ServerConfig::default());
    let r = c.select();
    assert!(r.contains(&format!("[UIDVALIDITY {uv}]")) && r.contains("[UIDNEXT 3]"), "{r}");
}

#[test]
fn bad_commands_end_the_session_eventually() {
    let f = fixture();
    let cfg = ServerConfig { max_errors: 3, ..Default::default() };
    let mut c = Client::new(&f.store, cfg);
    c.cmd("a FOO");
    c.cmd("b FOO");
    let r = c.cmd("c FOO");
    assert!(r.ends_with("* BYE Too many invalid commands\r\n"), "{r}");
    assert!(c.closed);
}

#[test]
fn autologout_says_bye() {
    let f = fixture();
    let mut c = client(&f);
    c.login();
    let out = c.s.handle_timeout();
    assert_eq!(out.first(), Some(&Output::Send(b"* BYE Autologout; idle for too long\r\n".to_vec())));
    assert_eq!(out.last(), Some(&Output::Close));
    assert_eq!(c.s.state(), State::Logout);
}

/// A small deterministic generator (xorshift64*): the session must survive any input.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Fragments that reach every state and most of the grammar, glued at random, plus raw noise.
const FRAGMENTS: &[&str] = &[
    "a LOGIN alice secret\r\n",
    "b SELECT INBOX\r\n",
    "c EXAMINE INBOX\r\n",
    "d FETCH 1:* (FLAGS BODY[] ENVELOPE BODYSTRUCTURE)\r\n",
    "e FETCH 1 BODY.PEEK[1.2.MIME]<0.3>\r\n",
    "f STORE 1:* +FLAGS (\\Deleted $kw)\r\n",
    "g EXPUNGE\r\n",
    "h SEARCH OR NOT ALL (UID 1:*) TEXT x\r\n",
    "i APPEND INBOX {5}\r\n",
    "hello\r\n",
    "j IDLE\r\n",
    "DONE\r\n",
    "k UID MOVE 1:* Trash\r\n",
    "l CREATE Trash\r\n",
    "m COPY 1 Trash\r\n",
    "n LIST \"\" *\r\n",
    "o STATUS INBOX (MESSAGES SIZE DELETED)\r\n",
    "p AUTHENTICATE PLAIN\r\n",
    "*\r\n",
    "q ENABLE IMAP4rev2\r\n",
    "r UID EXPUNGE 1:*\r\n",
    "s CLOSE\r\n",
    "t SEARCH RETURN (SAVE) ALL\r\n",
    "u FETCH $ UID\r\n",
    "v BINARY.PEEK[1]\r\n",
    "{3+}\r\n",
    "w LOGIN {5}\r\n",
    "x RENAME Trash Old\r\n",
    "y DELETE Old\r\n",
    "z LSUB \"\" %\r\n",
    "\r\n",
    "\"",
    "(",
    ")",
    "{",
    "}",
    "~{2}\r\n\0\0",
];

#[test]
fn random_input_never_panics() {
    let f = fixture();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cfg = ServerConfig {
        limits: crate::codec::CommandLimits { max_line: 200, max_literal: 64, max_total: 400 },
        max_errors: 1000,
        ..Default::default()
    };
    for _ in 0..60 {
        let mut c = Client::new(&f.store, cfg.clone());
        for _ in 0..40 {
            let mut input = Vec::new();
            if rng.below(4) == 0 {
                let n = rng.below(300);
                input.extend((0..n).map(|_| rng.next() as u8));
            } else {
                for _ in 0..=rng.below(3) {
                    input.extend_from_slice(FRAGMENTS[rng.below(FRAGMENTS.len())].as_bytes());
                }
            }
            // Split the input at a random point: framing must not depend on read sizes.
            let cut = rng.below(input.len() + 1);
            c.raw(&input[..cut]);
            c.raw(&input[cut..]);
            c.s.poll_changes();
            c.read();
            if c.closed {
                break;
            }
        }
    }
}
