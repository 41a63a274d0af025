//! In-memory session tests: a session on a temporary store, driven by hand.

use super::*;
use crate::codec::{BodyLimits, decode_body, decode_status};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

struct Pair {
    _dir: tempfile::TempDir,
    store: Store,
}

const TS: &str = "<1896.697170952@localhost>";

impl Pair {
    fn new() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let users = wirecheck_store::Users::from_pairs(&[("alice", "secret"), ("bob", "tanstaaf")]).unwrap();
        let store = Store::open(dir.path(), users).unwrap();
        Pair { _dir: dir, store }
    }

    fn with_messages(msgs: &[&[u8]]) -> Pair {
        let p = Pair::new();
        for m in msgs {
            p.store.deliver("alice", "INBOX", m).unwrap();
        }
        p
    }

    fn session(&self, cfg: ServerConfig) -> Client {
        let apop = cfg.apop;
        let mut c = Client { s: ServerSession::new(self.store.clone(), Arc::new(cfg), TS.into()), events: Vec::new() };
        let greeting = String::from_utf8(c.drain()).unwrap();
        assert!(greeting.starts_with("+OK localhost POP3 server ready"), "{greeting}");
        // RFC 1939 §7: with APOP the timestamp is in the greeting.
        assert_eq!(greeting.ends_with(&format!(" {TS}\r\n")), apop, "{greeting}");
        c
    }

    fn alice(&self) -> Client {
        let mut c = self.session(ServerConfig::default());
        c.ok("USER alice");
        c.ok("PASS secret");
        c
    }
}

struct Client {
    s: ServerSession,
    /// Non-Send outputs seen, in order.
    events: Vec<Output>,
}

impl Client {
    fn drain(&mut self) -> Vec<u8> {
        let mut wire = Vec::new();
        while let Some(o) = self.s.poll_output() {
            match o {
                Output::Send(b) => wire.extend(b),
                other => self.events.push(other),
            }
        }
        wire
    }

    fn send(&mut self, raw: &[u8]) -> Vec<u8> {
        self.s.handle_input(raw);
        self.drain()
    }

    fn cmd(&mut self, line: &str) -> String {
        String::from_utf8(self.send(format!("{line}\r\n").as_bytes())).unwrap()
    }

    fn ok(&mut self, line: &str) -> String {
        let r = self.cmd(line);
        assert!(r.starts_with("+OK"), "{line} -> {r}");
        r
    }

    fn err(&mut self, line: &str) -> String {
        let r = self.cmd(line);
        assert!(r.starts_with("-ERR"), "{line} -> {r}");
        r
    }

    /// A multi-line answer: the status text and the body's lines, un-stuffed.
    fn multi(&mut self, line: &str) -> (String, Vec<String>) {
        let r = self.send(format!("{line}\r\n").as_bytes());
        let (n, st) = decode_status(&r, 510).unwrap().unwrap();
        assert!(st.ok, "{line} -> {}", String::from_utf8_lossy(&r));
        let (m, body) = decode_body(&r[n..], &BodyLimits::default()).unwrap().unwrap();
        assert_eq!(n + m, r.len(), "nothing after the body");
        assert!(body.violations.is_empty());
        let lines = body.lines.iter().map(|l| String::from_utf8(l.clone()).unwrap()).collect();
        (String::from_utf8(st.text).unwrap(), lines)
    }

    fn closed(&self) -> bool {
        self.events.contains(&Output::Close)
    }
}

#[test]
fn user_pass_stat_list_uidl() {
    let p = Pair::with_messages(&[b"Subject: a\r\n\r\nhello\r\n", b"Subject: b\n\nbare lf\n"]);
    let mut c = p.session(ServerConfig::default());
    assert_eq!(c.ok("USER alice"), "+OK send PASS\r\n");
    assert_eq!(c.ok("PASS secret"), "+OK alice's maildrop has 2 messages (44 octets)\r\n");
    assert!(c.s.is_authenticated());
    assert_eq!(c.ok("STAT"), "+OK 2 44\r\n");
    // RFC 1939 §11: sizes count CRLF line ends, even for a message stored with bare LFs.
    let (text, lines) = c.multi("LIST");
    assert_eq!(text, "2 messages (44 octets)");
    assert_eq!(lines, vec!["1 21", "2 23"]);
    assert_eq!(c.ok("LIST 2"), "+OK 2 23\r\n");
    assert_eq!(c.err("LIST 3"), "-ERR no such message, only 2 messages in maildrop\r\n");
    assert!(c.err("LIST 0").starts_with("-ERR no such message"));
    let v = p.store.folder("alice", "INBOX").unwrap().uidvalidity();
    let (_, ids) = c.multi("UIDL");
    assert_eq!(ids, vec![format!("1 {v}.1"), format!("2 {v}.2")]);
    assert_eq!(c.ok("UIDL 2"), format!("+OK 2 {v}.2\r\n"));
    assert_eq!(c.ok("NOOP"), "+OK\r\n");
    assert_eq!(c.ok("QUIT"), "+OK localhost POP3 server signing off (2 messages left)\r\n");
    assert!(c.closed());
}

#[test]
fn retr_sends_crlf_lines_byte_stuffed_and_its_size() {
    let p = Pair::with_messages(&[b"Subject: dots\n\n.leading dot\n..two\n.\nend"]);
    let mut c = p.alice();
    let raw = c.send(b"RETR 1\r\n");
    let sent_without_stuffing = b"Subject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\nend\r\n".len();
    assert!(raw.starts_with(format!("+OK {sent_without_stuffing} octets\r\n").as_bytes()));
    assert!(raw.ends_with(b"Subject: dots\r\n\r\n..leading dot\r\n...two\r\n..\r\nend\r\n.\r\n"));
    let (_, lines) = c.multi("RETR 1");
    assert_eq!(lines, vec!["Subject: dots", "", ".leading dot", "..two", ".", "end"]);
}

#[test]
fn top_sends_headers_blank_line_and_n_lines() {
    let p = Pair::with_messages(&[b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n"]);
    let mut c = p.alice();
    assert_eq!(c.multi("TOP 1 0").1, vec!["A: 1", "B: 2", ""]);
    assert_eq!(c.multi("TOP 1 1").1, vec!["A: 1", "B: 2", "", "l1"]);
    assert_eq!(c.multi("TOP 1 100").1, vec!["A: 1", "B: 2", "", "l1", "l2"]);
    assert_eq!(c.err("TOP 2 1"), "-ERR no such message, only 1 messages in maildrop\r\n");
}

#[test]
fn dele_hides_until_quit_and_rset_restores() {
    let p = Pair::with_messages(&[b"1\r\n", b"22\r\n", b"333\r\n"]);
    let mut c = p.alice();
    assert_eq!(c.ok("DELE 2"), "+OK message 2 deleted\r\n");
    // RFC 1939 §5 DELE example.
    assert_eq!(c.err("DELE 2"), "-ERR message 2 already deleted\r\n");
    assert_eq!(c.err("RETR 2"), "-ERR no such message\r\n");
    assert_eq!(c.err("TOP 2 0"), "-ERR no such message\r\n");
    assert_eq!(c.err("LIST 2"), "-ERR no such message\r\n");
    assert_eq!(c.ok("STAT"), "+OK 2 8\r\n");
    assert_eq!(c.multi("LIST").1, vec!["1 3", "3 5"], "numbers do not shift");
    assert_eq!(c.ok("RSET"), "+OK maildrop has 3 messages (12 octets)\r\n");
    assert_eq!(c.ok("STAT"), "+OK 3 12\r\n");
    c.ok("DELE 1");
    c.ok("DELE 3");
    // Not removed before UPDATE.
    assert_eq!(p.store.folder("alice", "INBOX").unwrap().messages().unwrap().len(), 3);
    assert_eq!(c.ok("QUIT"), "+OK localhost POP3 server signing off (1 message left)\r\n");
    let left = p.store.folder("alice", "INBOX").unwrap().messages().unwrap();
    assert_eq!(left.iter().map(|m| m.uid).collect::<Vec<_>>(), vec![2]);
}

#[test]
fn no_update_without_quit() {
    let p = Pair::with_messages(&[b"1\r\n", b"2\r\n"]);
    let mut c = p.alice();
    c.ok("DELE 1");
    c.s.handle_eof();
    assert!(c.s.is_done());
    drop(c);
    let mut c = p.alice();
    c.ok("DELE 2");
    // RFC 1939 §3: a timed-out session closes without a response and removes nothing.
    assert_eq!(c.s.handle_timeout(), vec![Output::Close]);
    assert!(c.drain().is_empty());
    assert_eq!(p.store.folder("alice", "INBOX").unwrap().messages().unwrap().len(), 2);
    // And the maildrop lock was released both times.
    let mut c = p.alice();
    assert_eq!(c.ok("STAT"), "+OK 2 6\r\n");
}

#[test]
fn quit_deleting_everything_reports_maildrop_empty() {
    let p = Pair::with_messages(&[b"1\r\n"]);
    let mut c = p.alice();
    c.ok("DELE 1");
    assert_eq!(c.ok("QUIT"), "+OK localhost POP3 server signing off (maildrop empty)\r\n");
    assert!(p.store.folder("alice", "INBOX").unwrap().messages().unwrap().is_empty());
}

#[test]
fn maildrop_lock_gives_in_use() {
    let p = Pair::with_messages(&[b"1\r\n"]);
    let mut first = p.alice();
    let mut second = p.session(ServerConfig::default());
    second.ok("USER alice");
    // RFC 2449 §8.1.2.
    assert_eq!(second.err("PASS secret"), "-ERR [IN-USE] maildrop already locked\r\n");
    assert!(!second.s.is_authenticated());
    first.ok("QUIT");
    second.ok("USER alice");
    second.ok("PASS secret");
}

/// RFC 1939 §7 PASS: "may only be given in the AUTHORIZATION state immediately after a
/// successful USER command": any other command in between (a refused one, CAPA, NOOP, an
/// unknown or over-long line) forgets the name (F5 in docs/fuzzing.md).
#[test]
fn pass_must_follow_user_immediately() {
    let p = Pair::new();
    let long = format!("NOOP {}", "x".repeat(300));
    for between in ["AUTH 1", "CAPA", "NOOP", "STAT", "FROB", "APOP alice 0", long.as_str()] {
        let mut c = p.session(ServerConfig::default());
        c.ok("USER alice");
        c.send(format!("{between}\r\n").as_bytes());
        assert_eq!(c.err("PASS secret"), "-ERR send USER first\r\n", "after {between:.12}");
        assert!(!c.s.is_authenticated());
        c.ok("USER alice");
        c.ok("PASS secret");
        assert!(c.s.is_authenticated(), "USER then PASS still works after {between:.12}");
    }
    let mut c = p.session(ServerConfig::default());
    c.ok("USER bob");
    c.ok("USER alice");
    c.ok("PASS secret");
    assert!(c.s.is_authenticated(), "a second USER replaces the first");
}

#[test]
fn failed_logins_answer_auth_and_finally_close() {
    let p = Pair::new();
    let mut c = p.session(ServerConfig { max_auth_failures: 2, ..ServerConfig::default() });
    assert_eq!(c.err("PASS secret"), "-ERR send USER first\r\n");
    c.ok("USER nobody"); // RFC 1939 §7 allows +OK for an unknown name; we never reveal it.
    assert_eq!(c.err("PASS secret"), "-ERR [AUTH] invalid user name or password\r\n");
    assert_eq!(c.err("PASS secret"), "-ERR send USER first\r\n", "a failed PASS forgets the USER");
    c.ok("USER alice");
    c.err("PASS wrong");
    assert!(c.closed(), "closed after max_auth_failures");
    assert!(c.send(b"USER alice\r\n").is_empty(), "nothing after close");
}

#[test]
fn apop_checks_the_digest_of_the_timestamp() {
    let p = Pair::new();
    let mut c = p.session(ServerConfig::default());
    // RFC 1939 §7 example secret "tanstaaf", our timestamp.
    let digest = md5_hex(format!("{TS}tanstaaf").as_bytes());
    assert!(c.err("APOP bob 00000000000000000000000000000000").starts_with("-ERR [AUTH]"));
    assert!(c.ok(&format!("APOP bob {digest}")).starts_with("+OK bob's maildrop has 0 messages"));
    let p = Pair::new();
    let mut c = p.session(ServerConfig { apop: false, ..ServerConfig::default() });
    c.err(&format!("APOP bob {digest}"));
}

#[test]
fn commands_are_refused_in_the_wrong_state() {
    let p = Pair::with_messages(&[b"1\r\n"]);
    let mut c = p.session(ServerConfig::default());
    for cmd in ["STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "TOP 1 1", "UIDL"] {
        assert_eq!(c.err(cmd), "-ERR command not valid in the AUTHORIZATION state\r\n", "{cmd}");
    }
    c.ok("USER alice");
    c.ok("PASS secret");
    for cmd in ["USER alice", "PASS secret", "APOP a b", "AUTH PLAIN", "STLS"] {
        assert_eq!(c.err(cmd), "-ERR command not valid in the TRANSACTION state\r\n", "{cmd}");
    }
    assert_eq!(c.err("XTND XMIT"), "-ERR unknown command\r\n");
    assert_eq!(c.err("RETR one"), "-ERR RETR: bad number\r\n");
}

#[test]
fn over_long_command_lines_get_err_and_the_session_goes_on() {
    let p = Pair::new();
    let mut c = p.session(ServerConfig::default());
    // 253 octets + CRLF = 255: allowed (RFC 2449 §4); one more is not.
    let ok = format!("USER {}", "a".repeat(248));
    assert_eq!(ok.len(), 253);
    c.ok(&ok);
    let long = format!("USER {}", "a".repeat(249));
    assert_eq!(c.err(&long), "-ERR line too long (255 octets at most, RFC 2449)\r\n");
    // Answered as soon as the bound is passed, once; the rest of the line is dropped.
    let huge = vec![b'x'; 100_000];
    assert!(String::from_utf8(c.send(&huge)).unwrap().starts_with("-ERR line too long"));
    assert!(c.send(&huge).is_empty());
    assert!(String::from_utf8(c.send(b"\r\nCAPA\r\n")).unwrap().starts_with("+OK Capability list follows"));
}

#[test]
fn capa_lists_capabilities_per_state() {
    let p = Pair::new();
    let mut c = p.session(ServerConfig { stls: true, ..ServerConfig::default() });
    let (_, caps) = c.multi("CAPA");
    for want in ["TOP", "UIDL", "USER", "SASL PLAIN LOGIN", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS"] {
        assert!(caps.iter().any(|c| c == want), "{want} in {caps:?}");
    }
    assert!(caps.iter().any(|c| c.starts_with("IMPLEMENTATION ")));
    c.ok("USER alice");
    c.ok("PASS secret");
    let (_, caps) = c.multi("CAPA");
    assert!(!caps.iter().any(|c| c == "STLS"), "STLS only in AUTHORIZATION");
    assert!(caps.iter().any(|c| c.starts_with("SASL")), "RFC 5034 §3: SASL stays listed");
}

#[test]
fn stls_discards_pipelined_input_and_restarts_authorization() {
    let p = Pair::with_messages(&[b"1\r\n"]);
    let mut c = p.session(ServerConfig::default());
    assert_eq!(c.err("STLS"), "-ERR STLS not available\r\n");
    let mut c = p.session(ServerConfig { stls: true, ..ServerConfig::default() });
    c.ok("USER alice");
    // RFC 2595 §4 / the STARTTLS command-injection attack: what follows STLS in the same
    // packet must not be acted on.
    let r = c.send(b"STLS\r\nPASS secret\r\n");
    assert_eq!(r, b"+OK Begin TLS negotiation\r\n");
    assert_eq!(c.events, vec![Output::StartTls]);
    c.s.handle_tls(TlsInfo::default());
    assert_eq!(c.err("PASS secret"), "-ERR send USER first\r\n", "USER from before TLS is forgotten");
    assert_eq!(c.err("STLS"), "-ERR command not permitted when TLS active\r\n");
    let (_, caps) = c.multi("CAPA");
    assert!(!caps.iter().any(|c| c == "STLS"));
    c.ok("USER alice");
    c.ok("PASS secret");
}

#[test]
fn plaintext_can_require_tls() {
    let p = Pair::new();
    let cfg = ServerConfig { stls: true, require_tls_for_plaintext: true, ..ServerConfig::default() };
    let mut c = p.session(cfg);
    let (_, caps) = c.multi("CAPA");
    assert!(!caps.iter().any(|c| c == "USER" || c.starts_with("SASL")), "{caps:?}");
    assert!(c.err("USER alice").starts_with("-ERR [AUTH]"));
    assert!(c.err("AUTH PLAIN AGFsaWNlAHNlY3JldA==").starts_with("-ERR [AUTH]"));
    c.ok("STLS");
    c.s.handle_tls(TlsInfo::default());
    c.ok("USER alice");
    c.ok("PASS secret");
}

#[test]
fn auth_plain_with_and_without_initial_response() {
    let p = Pair::new();
    let creds = B64.encode(b"\0alice\0secret");
    let mut c = p.session(ServerConfig::default());
    assert!(c.ok(&format!("AUTH PLAIN {creds}")).starts_with("+OK alice's maildrop"));
    c.ok("QUIT");
    let mut c = p.session(ServerConfig::default());
    // RFC 5034 §4: an empty challenge is "+" and one space.
    assert_eq!(c.cmd("AUTH plain"), "+ \r\n");
    c.ok(&creds);
    c.ok("QUIT");
    let mut c = p.session(ServerConfig::default());
    assert_eq!(c.cmd("AUTH PLAIN"), "+ \r\n");
    assert_eq!(c.err(&B64.encode(b"\0alice\0wrong")), "-ERR [AUTH] invalid user name or password\r\n");
    assert_eq!(c.err("AUTH PLAIN ="), "-ERR [AUTH] invalid user name or password\r\n");
    assert_eq!(c.err("AUTH PLAIN %%%"), "-ERR [AUTH] invalid base64\r\n");
    assert_eq!(c.err("AUTH CRAM-MD5"), "-ERR unsupported SASL mechanism\r\n");
    // A long base64 response line is accepted inside the exchange (RFC 5034 §4).
    assert_eq!(c.cmd("AUTH PLAIN"), "+ \r\n");
    let long = B64.encode(format!("\0alice\0{}", "x".repeat(400)));
    assert!(long.len() > 255);
    assert!(c.err(&long).starts_with("-ERR [AUTH]"));
}

#[test]
fn auth_login_and_cancel() {
    let p = Pair::new();
    let mut c = p.session(ServerConfig::default());
    assert_eq!(c.cmd("AUTH LOGIN"), "+ VXNlcm5hbWU6\r\n");
    assert_eq!(c.cmd(&B64.encode("alice")), "+ UGFzc3dvcmQ6\r\n");
    // RFC 5034 §4: "*" cancels, answered with -ERR; the session is as before AUTH.
    assert_eq!(c.err("*"), "-ERR [AUTH] authentication cancelled\r\n");
    assert_eq!(c.err("STAT"), "-ERR command not valid in the AUTHORIZATION state\r\n");
    assert_eq!(c.cmd(&format!("AUTH LOGIN {}", B64.encode("alice"))), "+ UGFzc3dvcmQ6\r\n");
    assert_eq!(c.err("not base64!"), "-ERR [AUTH] invalid base64\r\n");
    assert_eq!(c.cmd("AUTH LOGIN"), "+ VXNlcm5hbWU6\r\n");
    c.cmd(&B64.encode("alice"));
    c.ok(&B64.encode("secret"));
    assert!(c.s.is_authenticated());
    let (_, mechs) = {
        let p2 = Pair::new();
        let mut d = p2.session(ServerConfig::default());
        d.multi("AUTH")
    };
    assert_eq!(mechs, vec!["PLAIN", "LOGIN"]);
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let p = Pair::with_messages(&[b"x\r\n"]);
    let mut c = p.session(ServerConfig::default());
    let r = c.send(b"USER alice\r\nPASS secret\r\nSTAT\r\nLIST 1\r\nQUIT\r\nSTAT\r\n");
    let r = String::from_utf8(r).unwrap();
    let lines: Vec<&str> = r.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 5, "{r}");
    assert_eq!(lines[2], "+OK 1 3");
    assert_eq!(lines[3], "+OK 1 3");
    assert!(lines[4].starts_with("+OK localhost POP3 server signing off"));
}

#[test]
fn output_backlog_holds_pipelined_commands_until_drained() {
    let big = vec![b'y'; 10_000];
    let p = Pair::with_messages(&[&big]);
    let mut c = p.session(ServerConfig { max_pending_output: 4096, ..ServerConfig::default() });
    c.ok("USER alice");
    c.ok("PASS secret");
    c.s.handle_input(b"RETR 1\r\nRETR 1\r\nRETR 1\r\nNOOP\r\n");
    // Only the first RETR ran in handle_input; the rest run as the output drains.
    assert_eq!(c.s.out.len(), 1);
    let all = c.drain();
    assert_eq!(all.windows(9).filter(|w| w == b"+OK 10002").count(), 3);
    assert!(all.ends_with(b"+OK\r\n"));
}

#[test]
fn unique_ids_persist_across_sessions() {
    let p = Pair::with_messages(&[b"1\r\n", b"2\r\n"]);
    let mut c = p.alice();
    let (_, first) = c.multi("UIDL");
    c.ok("DELE 1");
    c.ok("QUIT");
    p.store.deliver("alice", "INBOX", b"3\r\n").unwrap();
    let mut c = p.alice();
    let (_, second) = c.multi("UIDL");
    let id = |l: &str| l.split(' ').nth(1).unwrap().to_string();
    assert_eq!(id(&second[0]), id(&first[1]), "message 2's id survives and is now message 1's");
    assert_ne!(id(&second[1]), id(&first[0]), "a new message never reuses an id");
}

#[test]
fn the_maildrop_is_a_snapshot_and_survives_concurrent_removal() {
    let p = Pair::with_messages(&[b"1\r\n", b"2\r\n"]);
    let mut c = p.alice();
    p.store.deliver("alice", "INBOX", b"new\r\n").unwrap();
    assert_eq!(c.ok("STAT"), "+OK 2 6\r\n", "deliveries during the session are not seen");
    // Another client (IMAP) removes message 1 meanwhile.
    p.store.folder("alice", "INBOX").unwrap().remove(&[1]).unwrap();
    assert!(c.err("RETR 1").starts_with("-ERR [SYS/PERM]"));
    c.ok("RETR 2");
    c.ok("DELE 1");
    c.ok("QUIT");
    assert_eq!(p.store.folder("alice", "INBOX").unwrap().messages().unwrap().len(), 2);
}
