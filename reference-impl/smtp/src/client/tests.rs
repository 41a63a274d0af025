//! Client tests against the server session, in memory (rustls-test's `make_pair` style).

use std::sync::Arc;

use super::*;
use crate::codec::{ForwardPath, Mailbox};
use crate::server::{Extensions, MemorySink, ServerConfig, ServerSession};

/// Pump bytes between the two until both are quiet; returns everything the client sent.
fn pump(c: &mut ClientSession, s: &mut ServerSession<MemorySink>) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut server_closed = false;
    for _ in 0..10_000 {
        let mut progressed = false;
        while let Some(o) = s.poll_output() {
            progressed = true;
            match o {
                Output::Send(b) => c.handle_input(&b),
                Output::StartTls => {
                    s.handle_tls(TlsInfo::default());
                    c.handle_tls(TlsInfo::default());
                }
                Output::Close => server_closed = true,
            }
        }
        while let Some(o) = c.poll_output() {
            progressed = true;
            match o {
                Output::Send(b) => {
                    wire.extend_from_slice(&b);
                    s.handle_input(&b);
                }
                // The server already asked for TLS; the pair upgrades both at once.
                Output::StartTls => {}
                Output::Close => {
                    s.handle_eof();
                }
            }
        }
        if server_closed && !c.is_done() {
            c.handle_eof();
        }
        if !progressed {
            return wire;
        }
    }
    panic!("client and server did not settle");
}

fn rcpt(s: &str) -> Recipient {
    Recipient {
        path: ForwardPath::Mailbox(Mailbox::parse(s).unwrap()),
        notify: None,
        orcpt: None,
    }
}

fn message(rcpts: &[&str], content: &[u8]) -> OutgoingMessage {
    OutgoingMessage {
        from: ReversePath::Mailbox(Mailbox::parse("sender@relay.test").unwrap()),
        recipients: rcpts.iter().map(|r| rcpt(r)).collect(),
        ret: None,
        envid: None,
        content: content.to_vec(),
    }
}

fn server(cfg: ServerConfig) -> ServerSession<MemorySink> {
    let mut sink = MemorySink::new("example.org");
    sink.users = vec!["alice".into(), "bob".into()];
    sink.credentials = vec![("relay".into(), "pw".into())];
    ServerSession::new(Arc::new(cfg), sink, None)
}

fn client(msgs: Vec<OutgoingMessage>) -> ClientSession {
    ClientSession::new(
        ClientConfig::new(Domain::parse("relay.test").unwrap()),
        msgs,
    )
}

fn statuses(c: &ClientSession) -> Vec<Vec<RcptStatus>> {
    c.outcomes()
        .iter()
        .map(|m| m.iter().map(|o| o.as_ref().unwrap().status).collect())
        .collect()
}

#[test]
fn delivers_with_pipelining_and_reports_each_recipient() {
    let mut s = server(ServerConfig::default());
    let mut c = client(vec![
        message(
            &["alice@example.org", "nobody@example.org", "bob@example.org"],
            b"Subject: x\r\n\r\n.hidden\r\nbody",
        ),
        message(&["carol@elsewhere.test"], b"second"),
    ]);
    let wire = pump(&mut c, &mut s);
    assert!(c.is_done());
    assert_eq!(
        statuses(&c),
        [
            vec![
                RcptStatus::Delivered,
                RcptStatus::Permanent,
                RcptStatus::Delivered
            ],
            vec![RcptStatus::Permanent]
        ]
    );
    let bad = c.outcomes()[0][1].as_ref().unwrap();
    assert_eq!(bad.reply.code, 550);
    assert!(bad.reply.text().contains("5.1.1"));
    // One group: MAIL, the three RCPTs and DATA went out before any reply was read.
    let text = String::from_utf8_lossy(&wire);
    assert!(
        text.contains("MAIL FROM:<sender@relay.test> SIZE=27\r\nRCPT TO:<alice@example.org>\r\n"),
        "{text}"
    );
    let d = &s.sink().delivered;
    assert_eq!(d.len(), 1);
    assert!(
        d[0].message.ends_with(b"\r\n\r\n.hidden\r\nbody\r\n"),
        "dot-stuffing undone, CRLF added"
    );
    assert!(text.contains("\r\n..hidden\r\n"));
    assert!(text.ends_with("QUIT\r\n"));
}

#[test]
fn without_pipelining_commands_go_one_by_one() {
    let cfg = ServerConfig {
        extensions: Extensions {
            pipelining: false,
            ..Extensions::default()
        },
        ..ServerConfig::default()
    };
    let mut s = server(cfg);
    let mut c = client(vec![
        message(&["nobody@example.org"], b"x"),
        message(&["bob@example.org"], b"y"),
    ]);
    pump(&mut c, &mut s);
    assert_eq!(
        statuses(&c),
        [vec![RcptStatus::Permanent], vec![RcptStatus::Delivered]]
    );
    assert_eq!(s.sink().delivered.len(), 1);
}

#[test]
fn ehlo_refused_falls_back_to_helo() {
    // A server that does not know EHLO: answer 500 to it, then behave.
    let mut c = client(vec![message(&["alice@example.org"], b"x")]);
    c.handle_input(b"220 old.test\r\n");
    let Some(Output::Send(b)) = c.poll_output() else {
        panic!()
    };
    assert_eq!(b, b"EHLO relay.test\r\n");
    c.handle_input(b"500 what?\r\n");
    let Some(Output::Send(b)) = c.poll_output() else {
        panic!()
    };
    assert_eq!(b, b"HELO relay.test\r\n");
    c.handle_input(b"250 old.test\r\n");
    let Some(Output::Send(b)) = c.poll_output() else {
        panic!()
    };
    assert_eq!(
        b, b"MAIL FROM:<sender@relay.test>\r\n",
        "no parameters without EHLO"
    );
}

#[test]
fn starttls_is_used_when_offered_and_ehlo_repeated() {
    let mut s = server(ServerConfig {
        starttls: true,
        auth: true,
        ..ServerConfig::default()
    });
    let mut cfg = ClientConfig::new(Domain::parse("relay.test").unwrap());
    cfg.auth = Some(("relay".into(), "pw".into()));
    let mut c = ClientSession::new(cfg, vec![message(&["x@elsewhere.test"], b"relayed")]);
    let wire = String::from_utf8_lossy(&pump(&mut c, &mut s)).into_owned();
    assert!(c.tls().is_some());
    assert_eq!(wire.matches("EHLO relay.test").count(), 2);
    assert!(wire.contains("AUTH PLAIN "), "authenticated after TLS");
    assert_eq!(
        statuses(&c),
        [vec![RcptStatus::Delivered]],
        "relaying allowed once authenticated"
    );
}

#[test]
fn required_tls_not_offered_fails_temporarily() {
    let mut s = server(ServerConfig::default());
    let mut cfg = ClientConfig::new(Domain::parse("relay.test").unwrap());
    cfg.tls = TlsPolicy::Required;
    let mut c = ClientSession::new(cfg, vec![message(&["alice@example.org"], b"x")]);
    pump(&mut c, &mut s);
    assert_eq!(statuses(&c), [vec![RcptStatus::Temporary]]);
    assert!(s.sink().delivered.is_empty());
}

#[test]
fn a_421_fails_everything_open_temporarily() {
    let mut c = client(vec![
        message(&["a@x.test", "b@x.test"], b"x"),
        message(&["c@x.test"], b"y"),
    ]);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
    while c.poll_output().is_some() {}
    c.handle_input(b"250 ok\r\n250 ok\r\n421 4.3.2 shutting down\r\n");
    assert!(c.is_done());
    assert_eq!(
        statuses(&c),
        [
            vec![RcptStatus::Temporary, RcptStatus::Temporary],
            vec![RcptStatus::Temporary]
        ]
    );
    assert_eq!(c.outcomes()[0][1].as_ref().unwrap().reply.code, 421);
    assert_eq!(c.poll_output(), Some(Output::Close), "no QUIT after 421");
}

#[test]
fn data_refused_is_temporary_or_permanent_by_class() {
    let mut s = server(ServerConfig::default());
    s.sink_mut().fail_delivery = Some(crate::server::DeliveryError::Temporary("disk".into()));
    let mut c = client(vec![
        message(&["alice@example.org"], b"x"),
        message(&["bob@example.org"], b"x"),
    ]);
    pump(&mut c, &mut s);
    assert_eq!(
        statuses(&c),
        [vec![RcptStatus::Temporary], vec![RcptStatus::Temporary]]
    );
    assert_eq!(c.outcomes()[0][0].as_ref().unwrap().reply.code, 451);
}

#[test]
fn malformed_reply_or_eof_aborts() {
    let mut c = client(vec![message(&["a@x.test"], b"x")]);
    c.handle_input(b"220 mx\r\nhello\r\n");
    assert!(c.is_done());
    assert_eq!(statuses(&c), [vec![RcptStatus::Temporary]]);
    let mut c = client(vec![message(&["a@x.test"], b"x")]);
    c.handle_eof();
    assert_eq!(statuses(&c), [vec![RcptStatus::Temporary]]);
}

#[test]
fn smtputf8_needed_but_not_offered_is_permanent() {
    let cfg = ServerConfig {
        extensions: Extensions {
            smtputf8: false,
            ..Extensions::default()
        },
        ..ServerConfig::default()
    };
    let mut s = server(cfg);
    let mut c = client(vec![
        message(&["用户@example.org"], b"x"),
        message(&["alice@example.org"], b"x"),
    ]);
    pump(&mut c, &mut s);
    assert_eq!(
        statuses(&c),
        [vec![RcptStatus::Permanent], vec![RcptStatus::Delivered]]
    );
}

#[test]
fn stuffing_normalises_line_ends_so_nothing_is_smuggled() {
    assert_eq!(stuff(b"a\n.\nb"), b"a\r\n..\r\nb\r\n.\r\n");
    assert_eq!(stuff(b"a\r.\r\n"), b"a\r\n..\r\n.\r\n");
    assert_eq!(stuff(b".x\r\n"), b"..x\r\n.\r\n");
    assert_eq!(stuff(b""), b".\r\n");
}
