//! Every requirement of DESIGN.md's "The notation must be able to say", run end to end
//! against small fake servers on 127.0.0.1.

mod common;

use common::{case, dump, fake, run, run_with, transcript};
use wirecheck::runner::{Fixtures, RunOptions};
use wirecheck::target::TargetSpec;
use wirecheck_reports::Outcome;

fn assert_outcome(r: &wirecheck_reports::TargetReport, id: &str, want: Outcome) {
    let c = case(r, id);
    assert_eq!(c.outcome, want, "{}", dump(c));
}

const FAST: &str = "step-timeout = \"2s\"";

#[tokio::test]
async fn exact_glob_regex_codes_classes_alternatives() {
    let addr = fake::smtp(Default::default()).await;
    let ts = vec![
        transcript(
            "smtp.n.glob",
            "smtp",
            "",
            "S: 220 fake.example.test *\nC: QUIT\nS: 221 *",
        ),
        transcript(
            "smtp.n.class",
            "smtp",
            "",
            "S: 2xx *\nC: NOOP\nS: 25x *\nC: QUIT\nS: 2xx|421 *",
        ),
        transcript(
            "smtp.n.alternatives",
            "smtp",
            "",
            "S: 220|554 *\nC: VRFY bob\nS: 252|502 *",
        ),
        transcript(
            "smtp.n.exact",
            "smtp",
            "",
            "S: = 220 fake.example.test ESMTP ready\nC: NOOP\nS: = 250 2.0.0 ok",
        ),
        transcript(
            "smtp.n.regex",
            "smtp",
            "",
            "S: *\nC: EHLO c\nS: ~ (?m)^250[ -]PIPELINING$\nS! *\nC: QUIT\nS: 221 *",
        ),
        transcript(
            "smtp.n.lines",
            "smtp",
            "",
            "S: *\nC: EHLO c\nS: 250 fake.*\nS| 250-PIPELINING\nS| 250 SIZE *\nS| *\nS| ?50-AUTH PLAIN\nS| 250 8BITMIME",
        ),
        transcript(
            "smtp.n.wrong-code",
            "smtp",
            "",
            "S: 220 *\nC: RCPT TO:<b@example.test>\nS: 250 *",
        ),
        transcript(
            "smtp.n.wrong-line-count",
            "smtp",
            "",
            "S: *\nC: EHLO c\nS: 250 *\nS| 250 *",
        ),
    ];
    let r = run(&ts, addr).await;
    for id in [
        "smtp.n.glob",
        "smtp.n.class",
        "smtp.n.alternatives",
        "smtp.n.exact",
        "smtp.n.regex",
        "smtp.n.lines",
    ] {
        assert_outcome(&r, id, Outcome::Pass);
    }
    let c = case(&r, "smtp.n.wrong-code");
    assert_eq!(c.outcome, Outcome::Fail, "{}", dump(c));
    assert_eq!(c.expected.as_deref(), Some("S: 250 *"));
    assert!(
        c.actual.as_deref().unwrap_or("").starts_with("503 5.5.1"),
        "{}",
        dump(c)
    );
    assert_eq!(c.line, Some(10), "the script's line in the file");
    assert!(
        c.exchange.iter().any(|e| e.data.contains("RCPT TO")),
        "the whole exchange is kept"
    );
    let c = case(&r, "smtp.n.wrong-line-count");
    assert!(
        c.message
            .as_deref()
            .unwrap_or("")
            .contains("expected 2 lines, got 6"),
        "{}",
        dump(c)
    );
}

#[tokio::test]
async fn levels_extensions_and_requirements() {
    let addr = fake::smtp(Default::default()).await;
    let script = "S: 220 *\nC: VRFY bob\nS: 250 *";
    let ts = vec![
        transcript("smtp.l.must", "smtp", "", script),
        transcript("smtp.l.should", "smtp", "level = \"SHOULD\"", script),
        transcript("smtp.l.may", "smtp", "level = \"MAY\"", script),
        transcript("smtp.l.extension", "smtp", "extension = \"VRFY\"", script),
        transcript(
            "smtp.l.requires",
            "smtp",
            "requires = [\"mailbox:2\"]",
            script,
        ),
    ];
    let r = run(&ts, addr).await;
    assert_outcome(&r, "smtp.l.must", Outcome::Fail);
    assert_outcome(&r, "smtp.l.should", Outcome::NonStrict);
    assert_outcome(&r, "smtp.l.may", Outcome::Informational);
    assert_outcome(&r, "smtp.l.extension", Outcome::Unimplemented);
    assert_outcome(&r, "smtp.l.requires", Outcome::Skipped);
    assert!(
        case(&r, "smtp.l.requires")
            .message
            .as_deref()
            .unwrap_or("")
            .contains("--mailbox-count")
    );
    let opts = RunOptions {
        fixtures: Fixtures {
            mailbox_count: Some(2),
            ..Fixtures::default()
        },
        ..RunOptions::default()
    };
    let r = run_with(&ts[4..], &TargetSpec::addr(addr.to_string()), &opts).await;
    assert_outcome(&r, "smtp.l.requires", Outcome::Fail);
}

#[tokio::test]
async fn captures_variables_helpers_and_checks() {
    let addr = fake::smtp(Default::default()).await;
    let data = r#"S: 220 $(greeting) ESMTP *
check greeting == "fake.example.test"
C: EHLO ${lower("CLIENT.")}${domain}
S: 250 *
C: AUTH PLAIN ${base64("\0" + user + "\0" + pass)}
S: 235 *
C: MAIL FROM:<${user}@${domain}>
S: 250 *
C: RCPT TO:<bob@${domain}>
S: 250 *
C: DATA
S: 354 *
C: Subject: ${repeat("x", 3)}
C:
C: hello
C: .
S: 250 * queued as $(qid)
check qid ~ ^Q[0-9]+$
set saved = "id " + qid
check saved != qid
check _reply ~ queued as (?P<again>Q\d+)
check again == qid
C: QUIT
S: 221 *
expect close"#;
    let ts = vec![
        transcript("smtp.c.flow", "smtp", "", data),
        transcript(
            "smtp.c.bad-auth",
            "smtp",
            "vars = { pass = \"wrong\" }",
            "S: 220 *\nC: AUTH PLAIN ${base64(\"\\0\" + user + \"\\0\" + pass)}\nS: 235 *",
        ),
        transcript(
            "smtp.c.check-fails",
            "smtp",
            "",
            "S: 220 $(g) *\ncheck g == \"other\"",
        ),
        transcript(
            "smtp.c.undefined",
            "smtp",
            "",
            "S: 220 *\nC: HELO ${nowhere}",
        ),
    ];
    let r = run(&ts, addr).await;
    assert_outcome(&r, "smtp.c.flow", Outcome::Pass);
    assert_outcome(&r, "smtp.c.bad-auth", Outcome::Fail);
    let c = case(&r, "smtp.c.check-fails");
    assert_eq!(
        (c.outcome, c.expected.as_deref(), c.actual.as_deref()),
        (Outcome::Fail, Some("other"), Some("fake.example.test"))
    );
    let c = case(&r, "smtp.c.undefined");
    assert_eq!(c.outcome, Outcome::Error);
    assert!(
        c.message
            .as_deref()
            .unwrap_or("")
            .contains("undefined variable `nowhere`"),
        "{}",
        dump(c)
    );
}

#[tokio::test]
async fn raw_bytes_split_writes_and_pipelining() {
    let addr = fake::smtp(Default::default()).await;
    let ts = vec![
        // One write holding three commands: the replies come back in order.
        transcript(
            "smtp.r.batch",
            "smtp",
            "",
            "S: 220 *\nC> MAIL FROM:<a@example.test>\\r\\nRCPT TO:<b@example.test>\\r\\nNOOP\\r\\n\nS: 250 2.1.0 *\nS: 250 2.1.5 *\nS: 250 2.0.0 *",
        ),
        // Consecutive C: lines are a pipelined batch too.
        transcript(
            "smtp.r.pipelined",
            "smtp",
            "",
            "S: 220 *\nC: NOOP\nC: NOOP\nC: QUIT\nS: 250 *\nS: 250 *\nS: 221 *",
        ),
        // A split write: the command in two packets.
        transcript(
            "smtp.r.split",
            "smtp",
            "",
            "S: 220 *\nC> NO\npause 100ms\nC> OP\\r\\n\nS: 250 *",
        ),
        // A bare LF does not end a line: no reply until the CRLF.
        transcript(
            "smtp.r.bare-lf",
            "smtp",
            FAST,
            "S: 220 *\nC> NOOP\\n\nexpect silence 300ms\nC> \\r\\n\nS: 500 *",
        ),
        // NUL and 8-bit bytes go through as written.
        transcript(
            "smtp.r.bytes",
            "smtp",
            "",
            "S: 220 *\nC: HELO \\x00\\xff\nS: 250 *",
        ),
    ];
    let r = run(&ts, addr).await;
    for c in &r.cases {
        assert_eq!(c.outcome, Outcome::Pass, "{}", dump(c));
    }
    let c = case(&r, "smtp.r.bytes");
    assert!(
        c.exchange
            .iter()
            .any(|e| e.data.contains("HELO \\x00\\xff")),
        "{}",
        dump(c)
    );
}

#[tokio::test]
async fn starttls_and_implicit_tls() {
    let addr = fake::smtp(Default::default()).await;
    let starttls = "S: 220 *\nC: EHLO c\nS: ~ STARTTLS\nC: STARTTLS\nS: 220 *\ntls\nC: EHLO c\nS: 250 *\nC: QUIT\nS: 221 *";
    let ts = vec![transcript("smtp.t.starttls", "smtp", "", starttls)];
    let insecure = RunOptions {
        insecure: true,
        ..RunOptions::default()
    };
    let r = run_with(&ts, &TargetSpec::addr(addr.to_string()), &insecure).await;
    assert_outcome(&r, "smtp.t.starttls", Outcome::Pass);
    assert!(
        case(&r, "smtp.t.starttls")
            .exchange
            .iter()
            .any(|e| e.data.contains("TLS established"))
    );
    // Without --insecure the self-signed certificate is refused: an error, with a hint.
    let r = run(&ts, addr).await;
    let c = case(&r, "smtp.t.starttls");
    assert_eq!(c.outcome, Outcome::Error, "{}", dump(c));
    assert!(
        c.hint.as_deref().unwrap_or("").contains("--insecure"),
        "{}",
        dump(c)
    );

    // Implicit TLS: a server that starts TLS at once.
    let tls_addr = fake::serve(|s| async move {
        let mut c = fake::LineConn::new(s);
        if c.starttls().await {
            c.send(b"220 secure hello\r\n").await;
            let _ = c.line().await;
            c.send(b"221 bye\r\n").await;
        }
    })
    .await;
    let mut target = TargetSpec::addr(addr.to_string());
    target.services.insert("smtps".into(), tls_addr.to_string());
    let t = transcript(
        "scenario.t.implicit",
        "scenarios",
        "",
        "connect main tls smtp to ${smtps}\nS: 220 secure *\nC: QUIT\nS: 221 *",
    );
    let r = run_with(&[t], &target, &insecure).await;
    assert_outcome(&r, "scenario.t.implicit", Outcome::Pass);
}

#[tokio::test]
async fn several_connections_close_and_silence() {
    let addr = fake::smtp(Default::default()).await;
    let script = "S: 220 *
connect second
second: S: 220 *
use second
C: NOOP
S: 250 *
use main
C: QUIT
S: 221 *
expect close
second: expect silence 200ms
second: C: QUIT
second: S: 221 *
second: close";
    let ts = vec![
        transcript("smtp.k.two", "smtp", "", script),
        transcript(
            "smtp.k.not-closed",
            "smtp",
            "step-timeout = \"500ms\"",
            "S: 220 *\nexpect close",
        ),
        transcript(
            "smtp.k.not-silent",
            "smtp",
            "",
            "S: 220 *\nC: NOOP\nexpect silence 500ms",
        ),
        transcript(
            "smtp.k.half-close",
            "smtp",
            "",
            "S: 220 *\nC: QUIT\nshutdown\nS: 221 *\nexpect close",
        ),
    ];
    let r = run(&ts, addr).await;
    assert_outcome(&r, "smtp.k.two", Outcome::Pass);
    assert_outcome(&r, "smtp.k.half-close", Outcome::Pass);
    let c = case(&r, "smtp.k.not-closed");
    assert_eq!(c.outcome, Outcome::Fail, "{}", dump(c));
    assert!(c.message.as_deref().unwrap_or("").contains("still open"));
    assert_outcome(&r, "smtp.k.not-silent", Outcome::Fail);
}

#[tokio::test]
async fn imap_untagged_literals_unordered_and_must_not() {
    let addr = fake::imap().await;
    let ts = vec![
        transcript(
            "imap.u.unordered",
            "imap",
            "",
            "S: * OK *\nC: a1 SELECT INBOX\nunordered {\n S: * OK [UIDVALIDITY $(uv)] *\n S: * 2 EXISTS\n S: * FLAGS *\n S: * 0 RECENT\n}\nS: a1 OK *\ncheck uv == \"42\"",
        ),
        transcript(
            "imap.u.skip",
            "imap",
            "",
            "S: * OK *\nC: a1 SELECT INBOX\nS: a1 OK [READ-WRITE] *",
        ),
        transcript(
            "imap.u.strict",
            "imap",
            "",
            "S: * OK *\nstrict-untagged\nC: a1 SELECT INBOX\nS: a1 OK *",
        ),
        transcript(
            "imap.u.literal",
            "imap",
            "",
            "S: * OK *\nC: a2 FETCH 1 BODY[]\nS: * 1 FETCH (BODY[] {5}\\r\\nhello)\nS: a2 OK done",
        ),
        transcript(
            "imap.u.literal-lines",
            "imap",
            "",
            "S: * OK *\nC: a2 FETCH 1 BODY[]\nS: * 1 FETCH (BODY[] {5}\nS| hello)\nS: = a2 OK done",
        ),
        transcript(
            "imap.u.must-not",
            "imap",
            "",
            "S: * OK *\nC: a3 NOOP\nS! * * EXISTS\nS: a3 OK *",
        ),
        transcript(
            "imap.u.optional",
            "imap",
            "",
            "S: * OK *\nC: a4 NOOP\nS? * 9 EXISTS\nS? * 3 EXISTS\nS: a4 OK *",
        ),
        transcript(
            "imap.u.bad",
            "imap",
            "extension = \"XFOO\"",
            "S: * OK *\nC: a5 XFOO\nS: a5 OK *",
        ),
    ];
    let r = run(&ts, addr).await;
    for id in [
        "imap.u.unordered",
        "imap.u.skip",
        "imap.u.literal",
        "imap.u.literal-lines",
        "imap.u.optional",
    ] {
        assert_outcome(&r, id, Outcome::Pass);
    }
    assert_outcome(&r, "imap.u.strict", Outcome::Fail);
    let c = case(&r, "imap.u.must-not");
    assert_eq!(c.outcome, Outcome::Fail, "{}", dump(c));
    assert!(
        c.message.as_deref().unwrap_or("").contains("must not"),
        "{}",
        dump(c)
    );
    assert_outcome(&r, "imap.u.bad", Outcome::Unimplemented);
}

#[tokio::test]
async fn ftp_data_connections_passive_and_active() {
    let addr = fake::ftp().await;
    let passive = "S: 220 *
C: USER anonymous
S: 331 *
C: PASS x
S: 230 *
C: PASV
S: 227 *
connect data passive
C: RETR hello.txt
S: 150 *
data: recv-all into file
S: 226 *
check file == \"hello, world\\r\\n\"
C: EPSV
S: 229 *
connect data2 passive
C: RETR hello.txt
S: 1xx *
data2: recv-all
S: 2xx *
check _data == file";
    let active = "S: 220 *
listen act
C: PORT ${act.port-arg}
S: 200 *
C: RETR hello.txt
S: 150 *
accept act
act: recv-all
S: 226 *
check _data ~ ^hello
C: QUIT
S: 221 *";
    let ts = vec![
        transcript("ftp.d.passive", "ftp", "", passive),
        transcript("ftp.d.active", "ftp", "", active),
    ];
    let r = run(&ts, addr).await;
    assert_outcome(&r, "ftp.d.passive", Outcome::Pass);
    assert_outcome(&r, "ftp.d.active", Outcome::Pass);
}

#[tokio::test]
async fn dns_over_udp_with_presentation_and_hex() {
    let addr = fake::dns_udp().await;
    let ts = vec![
        transcript(
            "dns.q.mx",
            "dns",
            "rfc = \"1035#4.1.1\"",
            "C: example.test. MX +rd id=4242\nS: ~ id: 4242\ncheck _reply ~ (?m)^;; flags: qr aa rd",
        ),
        transcript(
            "dns.q.hex",
            "dns",
            "",
            "C> hex 1234 0100 0001 0000 0000 0000 0765 7861 6d70 6c65 0474 6573 7400 0001 0001\nS: ~ id: 4660",
        ),
        transcript("dns.q.garbage", "dns", FAST, "C> hex 01\nS: *"),
    ];
    let r = run(&ts, addr).await;
    assert_outcome(&r, "dns.q.mx", Outcome::Pass);
    assert_outcome(&r, "dns.q.hex", Outcome::Pass);
    let c = case(&r, "dns.q.garbage");
    assert_eq!(
        c.outcome,
        Outcome::Fail,
        "an echoed 1-byte message is malformed: {}",
        dump(c)
    );
}

#[tokio::test]
async fn server_role_plays_the_server_for_a_client_command() {
    // A shell client: read the greeting, send EHLO and QUIT.
    let client = r#"bash -c 'exec 3<>/dev/tcp/{host}/{port}; read -r l <&3; printf "EHLO me.example.test\r\n" >&3; read -r l <&3; printf "QUIT\r\n" >&3; read -r l <&3'"#;
    let script = "S: 220 wirecheck.example.test ESMTP
C: EHLO $(helo)
S: 250 hello ${helo}
C: QUIT
S: 221 bye
expect close
check helo == \"me.example.test\"";
    let meta = format!("role = \"server\"\ntarget-cmd = '''{client}'''");
    let ts = vec![
        transcript("smtp.s.client", "smtp", &meta, script),
        transcript("smtp.s.wrong", "smtp", &meta, "S: 220 hi\nC: HELO *"),
        transcript("smtp.s.no-cmd", "smtp", "role = \"server\"", "S: 220 hi"),
    ];
    let r = run(&ts, "127.0.0.1:9".parse().unwrap()).await;
    assert_outcome(&r, "smtp.s.client", Outcome::Pass);
    assert_outcome(&r, "smtp.s.wrong", Outcome::Fail);
    assert_outcome(&r, "smtp.s.no-cmd", Outcome::Skipped);
    // --client-cmd gives the client to the cases that do not name one.
    let mut target = TargetSpec::addr("127.0.0.1:9");
    target.client_cmd = Some(client.to_string());
    let t = transcript(
        "smtp.s.given",
        "smtp",
        "role = \"server\"",
        "S: 220 hi\nC: EHLO *\nS: 250 ok\nC: QUIT\nS: 221 bye",
    );
    let r = run_with(&[t], &target, &RunOptions::default()).await;
    assert_outcome(&r, "smtp.s.given", Outcome::Pass);
}

#[tokio::test]
async fn step_and_transcript_timeouts() {
    let addr = fake::smtp(Default::default()).await;
    let ts = vec![
        transcript(
            "smtp.o.step",
            "smtp",
            "",
            "S: 220 *\ntimeout 300ms\nC: NOOP\nS: 250 *\nS: 250 *",
        ),
        transcript(
            "smtp.o.whole",
            "smtp",
            "timeout = \"1s\"",
            "S: 220 *\npause 5s\nC: QUIT",
        ),
    ];
    let r = run(&ts, addr).await;
    let c = case(&r, "smtp.o.step");
    assert_eq!(c.outcome, Outcome::Error, "{}", dump(c));
    assert!(
        c.message.as_deref().unwrap_or("").contains("300ms"),
        "{}",
        dump(c)
    );
    let c = case(&r, "smtp.o.whole");
    assert_eq!(c.outcome, Outcome::Error, "{}", dump(c));
    assert_eq!(c.line, Some(9), "the step that was running: {}", dump(c));
}

#[tokio::test]
async fn scenarios_open_main_to_the_target_only_when_used() {
    let smtp = fake::smtp(Default::default()).await;
    let pop3 = fake::pop3().await;
    let mut target = TargetSpec::addr(smtp.to_string());
    target.services.insert("pop3".into(), pop3.to_string());
    let ts = vec![
        // `main` is the target (SMTP) when the script just uses it…
        transcript(
            "scenario.m.implicit",
            "scenarios",
            "",
            "set x = \"1\"\nS: 220 *\nconnect box to ${pop3}\nbox: S: +OK *\nC: QUIT\nS: 221 *",
        ),
        // …or wherever the script connects it first.
        transcript(
            "scenario.m.explicit",
            "scenarios",
            "",
            "connect main pop3 to ${pop3}\nS: +OK *\nC: STAT\nS: +OK 2 *",
        ),
    ];
    let r = run_with(&ts, &target, &RunOptions::default()).await;
    assert_outcome(&r, "scenario.m.implicit", Outcome::Pass);
    assert_outcome(&r, "scenario.m.explicit", Outcome::Pass);
    let explicit = case(&r, "scenario.m.explicit");
    let smtp_port = format!(":{}", smtp.port());
    assert!(
        !explicit
            .exchange
            .iter()
            .any(|e| e.data.contains(&smtp_port)),
        "{}",
        dump(explicit)
    );
}

#[tokio::test]
async fn udp_listeners_answer_the_last_sender() {
    // wirecheck talks to itself: a UDP listener, and a connection to it.
    let script = "listen u udp line
connect c udp line to ${u.addr}
c: C: ping
accept u
u: S: ping
u: C: pong
c: S: pong
listen t tcp line at 127.0.0.1:0
connect d tcp line to ${t.addr}
accept t
d: C: over tcp
t: S: over tcp";
    let t = transcript("scenario.u.self", "scenarios", "", script);
    let r = run_with(
        &[t],
        &TargetSpec::addr("127.0.0.1:9"),
        &RunOptions::default(),
    )
    .await;
    assert_outcome(&r, "scenario.u.self", Outcome::Pass);
}

#[tokio::test]
async fn each_case_is_framed_by_its_own_protocol() {
    let addr = fake::smtp(Default::default()).await;
    let ts = vec![
        transcript("pop3.x.any", "pop3", "", "S: +OK *"),
        transcript("smtp.x.ok", "smtp", "", "S: 220 *"),
    ];
    let r = run(&ts, addr).await;
    // An SMTP greeting is not a POP3 status line: that case fails, the other passes.
    let c = case(&r, "pop3.x.any");
    assert_eq!(c.outcome, Outcome::Fail, "{}", dump(c));
    assert!(
        c.message
            .as_deref()
            .unwrap_or("")
            .contains("malformed pop3"),
        "{}",
        dump(c)
    );
    assert_outcome(&r, "smtp.x.ok", Outcome::Pass);
}

#[tokio::test]
async fn pop3_status_and_dot_terminated_bodies() {
    let addr = fake::pop3().await;
    let login = "S: +OK *\nC: USER ${user}\nS: +OK\nC: PASS ${pass}\nS: +OK *\n";
    let ts = vec![
        transcript(
            "pop3.b.list",
            "pop3",
            "",
            &format!(
                "{login}C: LIST\nS: +OK *\nS| 1 *\nS| 2 *\nC: STAT\nS: +OK 2 $(size)\ncheck size == \"320\""
            ),
        ),
        transcript(
            "pop3.b.retr",
            "pop3",
            "",
            &format!(
                "{login}C: RETR 1\nS: +OK *\ncheck _body == \"Subject: one\\r\\n\\r\\n.a line that starts with a dot\\r\\n\"\nC: QUIT\nS: +OK *\nexpect close"
            ),
        ),
        transcript(
            "pop3.b.stuffing",
            "pop3",
            "",
            &format!("{login}C: RETR 2\nS: +OK *"),
        ),
        transcript(
            "pop3.b.pipelined",
            "pop3",
            "",
            &format!("{login}C: LIST\nC: STAT\nS: ~ (?m)^2 200$\nS: +OK 2 320"),
        ),
        transcript(
            "pop3.b.capa",
            "pop3",
            "extension = \"CAPA\"",
            "S: +OK *\nC: CAPA\nS: +OK *\nS| *",
        ),
    ];
    let r = run(&ts, addr).await;
    for id in ["pop3.b.list", "pop3.b.retr", "pop3.b.pipelined"] {
        assert_outcome(&r, id, Outcome::Pass);
    }
    let c = case(&r, "pop3.b.stuffing");
    assert_eq!(c.outcome, Outcome::Fail, "{}", dump(c));
    assert!(
        c.message
            .as_deref()
            .unwrap_or("")
            .contains("not byte-stuffed"),
        "{}",
        dump(c)
    );
    assert_outcome(&r, "pop3.b.capa", Outcome::Unimplemented);
}
