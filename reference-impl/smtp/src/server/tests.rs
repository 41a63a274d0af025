//! Session tests: feed bytes, read replies (in-memory, no sockets).

use super::*;
use crate::codec::{ReplyLimits, decode_reply};
use base64::Engine;

struct T {
    s: ServerSession<MemorySink>,
    closed: bool,
    starttls: bool,
}

fn cfg() -> ServerConfig {
    ServerConfig {
        hostname: "mx.test".into(),
        ..ServerConfig::default()
    }
}

impl T {
    fn new(cfg: ServerConfig) -> T {
        let mut sink = MemorySink::new("example.org");
        sink.credentials.push(("alice".into(), "secret".into()));
        let peer = "127.0.0.1:40000".parse().ok();
        let mut t = T {
            s: ServerSession::new(Arc::new(cfg), sink, peer),
            closed: false,
            starttls: false,
        };
        let g = t.send(b"");
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].code, 220);
        t
    }

    /// Feed `input`, return every reply produced.
    fn send(&mut self, input: &[u8]) -> Vec<Reply> {
        self.s.handle_input(input);
        let mut bytes = Vec::new();
        while let Some(o) = self.s.poll_output() {
            match o {
                Output::Send(b) => bytes.extend_from_slice(&b),
                Output::StartTls => self.starttls = true,
                Output::Close => self.closed = true,
            }
        }
        parse(&bytes)
    }

    fn codes(&mut self, input: &[u8]) -> Vec<u16> {
        self.send(input).iter().map(|r| r.code).collect()
    }

    fn ehlo(cfg: ServerConfig) -> T {
        let mut t = T::new(cfg);
        assert_eq!(t.codes(b"EHLO client.test\r\n"), [250]);
        t
    }

    fn delivered(&self) -> &[Delivered] {
        &self.s.sink().delivered
    }
}

fn parse(mut bytes: &[u8]) -> Vec<Reply> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (n, r) = decode_reply(bytes, &ReplyLimits::default())
            .unwrap()
            .unwrap();
        out.push(r);
        bytes = &bytes[n..];
    }
    out
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// The message body as delivered, without the Received header the session prepends.
fn body(d: &Delivered) -> &[u8] {
    let m = &d.message;
    let end = m
        .windows(2)
        .enumerate()
        .skip(1)
        .find(|(i, w)| w == b"\r\n" && m.get(i + 2) != Some(&b'\t'))
        .unwrap()
        .0;
    &m[end + 2..]
}

#[test]
fn ehlo_lists_extensions_and_helo_does_not() {
    let mut t = T::new(ServerConfig {
        starttls: true,
        auth: true,
        ..cfg()
    });
    let r = t.send(b"EHLO client.test\r\n");
    let text = r[0].text();
    for kw in [
        "PIPELINING",
        "SIZE 10485760",
        "8BITMIME",
        "ENHANCEDSTATUSCODES",
        "SMTPUTF8",
        "CHUNKING",
        "BINARYMIME",
        "DSN",
        "STARTTLS",
        "HELP",
    ] {
        assert!(text.lines().any(|l| l == kw), "{kw} missing in {text}");
    }
    assert!(
        !text.contains("AUTH"),
        "AUTH is only offered over TLS by default"
    );
    assert_eq!(t.send(b"NOOP\r\n")[0].text(), "2.0.0 Ok");
    let r = t.send(b"HELO client.test\r\n");
    assert_eq!(r[0].lines.len(), 1);
    // RFC 2034 §4: enhanced codes regardless of whether EHLO was used.
    assert_eq!(
        t.send(b"NOOP\r\n")[0].text(),
        "2.0.0 Ok",
        "enhanced codes after HELO too"
    );
}

#[test]
fn a_whole_transaction_delivers_unstuffed_content_with_received() {
    let mut t = T::ehlo(cfg());
    assert_eq!(t.codes(b"MAIL FROM:<bob@sender.test> SIZE=100\r\n"), [250]);
    assert_eq!(
        t.codes(b"RCPT TO:<alice@example.org> NOTIFY=SUCCESS,FAILURE\r\n"),
        [250]
    );
    assert_eq!(t.codes(b"DATA\r\n"), [354]);
    let r = t.send(b"Subject: hi\r\n\r\n..dot\r\n.\r\n");
    assert_eq!(r[0].code, 250);
    assert_eq!(r[0].text(), "2.0.0 Ok: queued as M1");
    let d = &t.delivered()[0];
    assert_eq!(body(d), b"Subject: hi\r\n\r\n.dot\r\n");
    let head = String::from_utf8_lossy(&d.message);
    assert!(head.starts_with(
        "Received: from client.test ([127.0.0.1])\r\n\tby mx.test with ESMTP\r\n\tfor <alice@example.org>;\r\n\tMon, 1 Jan 2024 00:00:00 +0000\r\n"
    ), "{head}");
    assert_eq!(
        d.envelope.recipients[0].notify.map(|n| n.success),
        Some(true)
    );
    assert_eq!(d.envelope.declared_size, Some(100));
    // The transaction is over: RCPT needs a new MAIL.
    assert_eq!(t.codes(b"RCPT TO:<alice@example.org>\r\n"), [503]);
    assert_eq!(t.codes(b"QUIT\r\n"), [221]);
    assert!(t.closed);
    assert!(t.s.is_closed());
}

#[test]
fn sequence_errors() {
    let mut t = T::new(cfg());
    assert_eq!(t.codes(b"MAIL FROM:<a@b.test>\r\n"), [503], "before EHLO");
    assert_eq!(
        t.codes(b"EHLO c.test\r\nRCPT TO:<alice@example.org>\r\n"),
        [250, 503]
    );
    assert_eq!(t.codes(b"DATA\r\n"), [503]);
    assert_eq!(t.codes(b"BDAT 0 LAST\r\n"), [503]);
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test>\r\nMAIL FROM:<a@b.test>\r\n"),
        [250, 503]
    );
    assert_eq!(t.codes(b"DATA\r\n"), [554], "no valid recipients");
    assert_eq!(
        t.codes(b"RSET\r\nRCPT TO:<alice@example.org>\r\n"),
        [250, 503]
    );
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test>\r\nEHLO c.test\r\nRCPT TO:<alice@example.org>\r\n"),
        [250, 250, 503],
        "EHLO resets"
    );
}

#[test]
fn syntax_and_unimplemented() {
    let mut t = T::ehlo(cfg());
    assert_eq!(t.codes(b"FOO\r\n"), [500]);
    assert_eq!(t.codes(b"TURN\r\n"), [502]);
    assert_eq!(t.codes(b"EXPN staff\r\n"), [502]);
    assert_eq!(t.codes(b"MAIL FROM: <a@b.test>\r\n"), [501]);
    assert_eq!(t.codes(b"MAIL FROM:<a@@b.test>\r\n"), [501]);
    assert_eq!(t.codes(b"MAIL FROM:<a@b.test> X-UNKNOWN=1\r\n"), [555]);
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test> NOTIFY=NEVER\r\n"),
        [555],
        "RCPT-only parameter"
    );
    assert_eq!(t.codes(b"MAIL FROM:<a@b.test> SIZE=1 SIZE=2\r\n"), [501]);
    assert_eq!(t.codes(b"MAIL FROM:<a@b.test> SIZE=99999999999\r\n"), [552]);
    assert_eq!(t.codes(b"DATA now\r\n"), [501]);
    assert_eq!(t.codes(b"VRFY alice\r\n"), [252]);
    assert_eq!(t.codes(b"HELP\r\n"), [214]);
    assert_eq!(t.codes(b"NOOP hello\r\n"), [250]);
    assert_eq!(t.codes(b"RCPT TO:<Postmaster>\r\n"), [503]);
}

#[test]
fn recipients_policy_and_limit() {
    let mut t = T::ehlo(ServerConfig {
        max_recipients: 2,
        ..cfg()
    });
    t.s.sink_mut().users = vec!["alice".into(), "bob".into()];
    assert_eq!(t.codes(b"MAIL FROM:<>\r\n"), [250]);
    assert_eq!(t.codes(b"RCPT TO:<nobody@example.org>\r\n"), [550]);
    assert_eq!(
        t.codes(b"RCPT TO:<x@elsewhere.test>\r\n"),
        [554],
        "relay denied"
    );
    assert_eq!(t.codes(b"RCPT TO:<Postmaster>\r\n"), [250]);
    assert_eq!(t.codes(b"RCPT TO:<alice@EXAMPLE.org>\r\n"), [250]);
    let r = t.send(b"RCPT TO:<bob@example.org>\r\n");
    assert_eq!(r[0].code, 452);
    assert_eq!(r[0].enhanced(), Some((4, 5, 3)));
}

/// SMTP smuggling: only <CRLF>.<CRLF> ends DATA (RFC 5321 §4.1.1.4); what looks like an end
/// with bare CR or LF, and the commands after it, are content.
#[test]
fn smuggling_variants_do_not_end_data() {
    for fake_end in [
        &b"\n.\n"[..],
        b"\n.\r\n",
        b"\r.\r\n",
        b"\r\n\x00.\r\n",
        b"\r\n.\n",
        b"\r\n.\r",
        b"\n.\r\n\r\n",
    ] {
        for policy in [BareNewline::Reject, BareNewline::Accept] {
            let mut t = T::ehlo(ServerConfig {
                bare_newline: policy,
                ..cfg()
            });
            assert_eq!(
                t.codes(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n"),
                [250, 250, 354]
            );
            let mut msg = b"Subject: one\r\n\r\nbody".to_vec();
            msg.extend_from_slice(fake_end);
            msg.extend_from_slice(
                b"MAIL FROM:<evil@b.test>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n",
            );
            // Nothing is answered: we are still in DATA.
            assert_eq!(t.codes(&msg), Vec::<u16>::new(), "{fake_end:?}");
            let r = t.codes(b"smuggled\r\n.\r\n");
            let bare = has_bare_newline(&msg);
            match (policy, bare) {
                (BareNewline::Reject, true) => {
                    assert_eq!(r, [554], "{fake_end:?}");
                    assert!(t.delivered().is_empty());
                }
                _ => {
                    assert_eq!(r, [250], "{fake_end:?} {policy:?}");
                    assert_eq!(t.delivered().len(), 1);
                    let b = body(&t.delivered()[0]);
                    assert!(
                        b.windows(8).any(|w| w == b"evil@b.t"),
                        "the smuggled text stays content"
                    );
                }
            }
            // One transaction only: the smuggled MAIL never opened a second one.
            assert_eq!(t.codes(b"RCPT TO:<alice@example.org>\r\n"), [503]);
        }
    }
}

fn has_bare_newline(b: &[u8]) -> bool {
    b.iter().enumerate().any(|(i, &c)| {
        (c == b'\r' && b.get(i + 1) != Some(&b'\n'))
            || (c == b'\n' && (i == 0 || b[i - 1] != b'\r'))
    })
}

#[test]
fn pipelined_commands_get_replies_in_order() {
    let mut t = T::new(cfg());
    let r = t.codes(
        b"EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<x@nowhere.test>\r\nDATA\r\nhello\r\n.\r\nNOOP\r\nQUIT\r\n",
    );
    assert_eq!(r, [250, 250, 250, 554, 354, 250, 250, 221]);
    assert_eq!(t.delivered().len(), 1);
    assert!(t.closed);
}

#[test]
fn pipelined_input_split_at_every_byte_gives_the_same_replies() {
    let input = b"EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nx\r\n.\r\nBDAT 3\r\nxyz";
    let mut whole = T::new(cfg());
    let want = whole.codes(input);
    let mut bytewise = T::new(cfg());
    let mut got = Vec::new();
    for b in input {
        got.extend(bytewise.codes(&[*b]));
    }
    assert_eq!(got, want);
    assert_eq!(want, [250, 250, 250, 354, 250, 503]);
}

#[test]
fn starttls_discards_input_sent_before_the_handshake() {
    let mut t = T::ehlo(ServerConfig {
        starttls: true,
        auth: true,
        ..cfg()
    });
    // A man in the middle appends a command after STARTTLS (RFC 3207 §4.2, CVE-2011-0411).
    let r = t.send(b"STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].code, 220);
    assert!(t.starttls);
    t.s.handle_tls(TlsInfo {
        version: "TLSv1_3".into(),
        cipher: "x".into(),
    });
    // State was reset: EHLO is needed again.
    assert_eq!(t.codes(b"MAIL FROM:<a@b.test>\r\n"), [503]);
    let r = t.send(b"EHLO c.test\r\n");
    let text = r[0].text();
    assert!(!text.contains("STARTTLS"));
    assert!(text.contains("AUTH PLAIN LOGIN"));
    // The injected MAIL was never executed: this MAIL is not "nested".
    assert_eq!(t.codes(b"MAIL FROM:<a@b.test>\r\n"), [250]);
    assert_eq!(
        t.codes(b"RSET\r\nSTARTTLS\r\n"),
        [250, 503],
        "TLS already active"
    );
}

#[test]
fn starttls_refusals() {
    let mut t = T::ehlo(cfg());
    assert_eq!(t.codes(b"STARTTLS\r\n"), [502], "not offered");
    let mut t = T::ehlo(ServerConfig {
        starttls: true,
        ..cfg()
    });
    assert_eq!(t.codes(b"STARTTLS now\r\n"), [501]);
    assert_eq!(t.codes(b"MAIL FROM:<a@b.test>\r\nSTARTTLS\r\n"), [250, 503]);
    assert!(!t.starttls);
}

fn tls_auth_session() -> T {
    let mut t = T::new(ServerConfig {
        starttls: true,
        auth: true,
        ..cfg()
    });
    t.s.handle_tls(TlsInfo::default());
    assert_eq!(t.codes(b"EHLO c.test\r\n"), [250]);
    t
}

#[test]
fn auth_plain_and_login() {
    let mut t = tls_auth_session();
    let ir = b64(b"\0alice\0secret");
    assert_eq!(t.codes(format!("AUTH PLAIN {ir}\r\n").as_bytes()), [235]);
    assert_eq!(t.s.client().authenticated.as_deref(), Some("alice"));
    assert_eq!(
        t.codes(format!("AUTH PLAIN {ir}\r\n").as_bytes()),
        [503],
        "only once"
    );
    // Authenticated clients may relay.
    assert_eq!(
        t.codes(b"MAIL FROM:<alice@example.org> AUTH=<>\r\nRCPT TO:<x@elsewhere.test>\r\n"),
        [250, 250]
    );

    let mut t = tls_auth_session();
    let r = t.send(b"AUTH PLAIN\r\n");
    assert_eq!(r[0].code, 334);
    assert_eq!(r[0].raw, b"334 \r\n");
    assert_eq!(
        t.codes(format!("{}\r\n", b64(b"\0alice\0wrong")).as_bytes()),
        [535]
    );
    let r = t.send(b"AUTH LOGIN\r\n");
    assert_eq!(r[0].text(), "VXNlcm5hbWU6");
    assert_eq!(t.codes(format!("{}\r\n", b64(b"alice")).as_bytes()), [334]);
    assert_eq!(t.codes(format!("{}\r\n", b64(b"secret")).as_bytes()), [235]);
}

#[test]
fn auth_refusals() {
    let mut t = T::ehlo(ServerConfig {
        starttls: true,
        auth: true,
        ..cfg()
    });
    assert_eq!(t.codes(b"AUTH PLAIN\r\n"), [530], "TLS required first");
    let mut t = tls_auth_session();
    assert_eq!(t.codes(b"AUTH CRAM-MD5\r\n"), [504]);
    assert_eq!(t.codes(b"AUTH PLAIN\r\n*\r\n"), [334, 501]);
    assert_eq!(t.codes(b"AUTH PLAIN\r\n!!!!\r\n"), [334, 501]);
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test>\r\nAUTH PLAIN\r\n"),
        [250, 503],
        "not during a transaction"
    );
    let mut t = T::ehlo(cfg());
    assert_eq!(t.codes(b"AUTH PLAIN\r\n"), [502], "not offered");
    let mut t = T::ehlo(ServerConfig {
        auth: true,
        auth_requires_tls: false,
        require_auth: true,
        ..cfg()
    });
    assert_eq!(t.codes(b"MAIL FROM:<a@b.test>\r\n"), [530]);
    let long = format!("AUTH PLAIN\r\n{}\r\n", "A".repeat(20000));
    assert_eq!(t.codes(long.as_bytes()), [334, 500]);
}

#[test]
fn bdat_chunks_are_raw_and_exact() {
    let mut t = T::ehlo(cfg());
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test> BODY=BINARYMIME\r\nRCPT TO:<alice@example.org>\r\n"),
        [250, 250]
    );
    // Chunk content that looks like commands and end-of-data is just bytes.
    let chunk1 = b"x\r\n.\r\nQUIT\r\n\n.\n";
    let mut input = format!("BDAT {}\r\n", chunk1.len()).into_bytes();
    input.extend_from_slice(chunk1);
    let long = vec![b'z'; 20_000];
    input.extend_from_slice(format!("BDAT {} LAST\r\n", long.len()).as_bytes());
    input.extend_from_slice(&long);
    let r = t.send(&input);
    assert_eq!(r.iter().map(|r| r.code).collect::<Vec<_>>(), [250, 250]);
    assert!(!t.closed);
    let mut want = chunk1.to_vec();
    want.extend_from_slice(&long);
    let d = &t.delivered()[0];
    assert!(d.message.ends_with(&want));
    assert!(d.message.starts_with(b"Received: "));
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test> BODY=BINARYMIME\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n"),
        [250, 250, 503]
    );
}

#[test]
fn refused_bdat_chunk_is_still_consumed() {
    let mut t = T::ehlo(cfg());
    assert_eq!(t.codes(b"BDAT 6\r\nQUIT\r\nNOOP\r\n"), [503, 250]);
    assert!(!t.closed, "the QUIT inside the chunk was not executed");
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.org>\r\nBDAT 1\r\nxDATA\r\n"),
        [250, 250, 250, 503]
    );
}

#[test]
fn size_limits() {
    let mut t = T::ehlo(ServerConfig {
        max_message_size: 100,
        ..cfg()
    });
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n"),
        [250, 250, 354]
    );
    let big = "x".repeat(90);
    let r = t.send(format!("{big}\r\n{big}\r\n.\r\n").as_bytes());
    assert_eq!(r[0].code, 552);
    assert_eq!(r[0].enhanced(), Some((5, 3, 4)));
    assert!(t.delivered().is_empty());
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.org>\r\nBDAT 60\r\n"),
        [250, 250]
    );
    assert_eq!(t.codes(&[b'y'; 60]), [250]);
    assert_eq!(t.codes(b"BDAT 60 LAST\r\n"), []);
    assert_eq!(t.codes(&[b'y'; 60]), [552]);
    assert_eq!(t.codes(b"BDAT 0 LAST\r\n"), [503], "transaction failed");
}

#[test]
fn line_limits() {
    let mut t = T::ehlo(cfg());
    let long = format!("NOOP {}\r\nNOOP\r\n", "x".repeat(3000));
    assert_eq!(t.codes(long.as_bytes()), [500, 250]);
    let huge = format!("NOOP {}\r\nNOOP\r\n", "x".repeat(100_000));
    assert_eq!(t.codes(huge.as_bytes()), [500, 250]);
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n"),
        [250, 250, 354]
    );
    let r = t.send(format!("short\r\n{}\r\n.\r\n", "y".repeat(1200)).as_bytes());
    assert_eq!(r[0].code, 500);
    assert!(t.delivered().is_empty());
    let path = format!("MAIL FROM:<{}@b.test>\r\n", "a".repeat(300));
    assert_eq!(t.codes(path.as_bytes()), [501]);
}

#[test]
fn smtputf8_addresses() {
    let mut t = T::ehlo(cfg());
    assert_eq!(t.codes("MAIL FROM:<用户@例子.test>\r\n".as_bytes()), [550]);
    assert_eq!(
        t.codes("MAIL FROM:<a@b.test>\r\nRCPT TO:<用户@example.org>\r\nRSET\r\n".as_bytes()),
        [250, 553, 250]
    );
    assert_eq!(
        t.codes("MAIL FROM:<用户@例子.test> SMTPUTF8\r\nRCPT TO:<用户@example.org>\r\n".as_bytes()),
        [250, 250]
    );
    assert_eq!(t.codes(b"DATA\r\nx\r\n.\r\n"), [354, 250]);
    assert!(
        t.delivered()[0]
            .message
            .windows(8)
            .any(|w| w == b"UTF8SMTP")
    );
}

#[test]
fn helo_sessions_take_no_parameters() {
    let mut t = T::new(cfg());
    assert_eq!(
        t.codes(b"HELO c.test\r\nMAIL FROM:<a@b.test> BODY=8BITMIME\r\n"),
        [250, 555]
    );
}

#[test]
fn timeout_and_shutdown_say_421() {
    let mut t = T::ehlo(cfg());
    let out = t.s.handle_timeout();
    assert_eq!(out.last(), Some(&Output::Close));
    let Some(Output::Send(b)) = out.first() else {
        panic!("{out:?}")
    };
    assert!(b.starts_with(b"421 4.4.2"));
    let flag = Arc::new(AtomicBool::new(false));
    let mut t = T::ehlo(cfg());
    t.s = std::mem::replace(
        &mut t.s,
        ServerSession::new(Arc::new(cfg()), MemorySink::new("x"), None),
    )
    .with_shutdown(flag.clone());
    assert_eq!(t.codes(b"NOOP\r\n"), [250]);
    flag.store(true, Ordering::Relaxed);
    assert_eq!(t.codes(b"NOOP\r\nNOOP\r\n"), [421]);
    assert!(t.closed);
}

#[test]
fn too_many_errors_close_the_session() {
    let mut t = T::ehlo(ServerConfig {
        max_errors: 3,
        ..cfg()
    });
    assert_eq!(t.codes(b"A\r\nB\r\nC\r\nD\r\n"), [500, 500, 500, 421]);
    assert!(t.closed);
}

#[test]
fn eof_in_data_delivers_nothing() {
    let mut t = T::ehlo(cfg());
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\npartial\r\n"),
        [250, 250, 354]
    );
    t.s.handle_eof();
    assert!(t.delivered().is_empty());
    assert_eq!(t.codes(b".\r\n"), []);
}

#[test]
fn delivery_failure_is_451_and_no_250() {
    let mut t = T::ehlo(cfg());
    t.s.sink_mut().fail_delivery = Some(DeliveryError::Temporary("disk".into()));
    assert_eq!(
        t.codes(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nx\r\n.\r\n"),
        [250, 250, 354, 451]
    );
}
