//! "Alice sends a message to Bob", end to end over loopback sockets: submission with
//! STARTTLS + AUTH PLAIN on alpha.test, queue, MX map, relay to beta.test, delivery into
//! Bob's maildir; then the retry, bounce and restart stories.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use wirecheck_mta::{Clock, MtaHandle, RcptState};
use wirecheck_smtp::client::RcptStatus;
use wirecheck_smtp::codec::{Notify, Ret};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn to_bob() -> Vec<wirecheck_smtp::server::Recipient> {
    vec![rcpt("<bob@beta.test>")]
}

/// Bob's copy is Alice's message byte for byte under the trace fields the two MTAs added:
/// `Return-Path:` (final delivery, RFC 5321 §4.4) and one `Received:` per hop.
fn assert_delivered_intact(stored: &[u8], original: &[u8]) {
    assert!(
        stored.ends_with(original),
        "original bytes not intact:\n{}",
        text(stored)
    );
    let trace = &stored[..stored.len() - original.len()];
    let names = field_names(trace);
    assert_eq!(
        names,
        ["Return-Path", "Received", "Received"],
        "{}",
        text(trace)
    );
    let trace = text(trace);
    assert!(
        trace.starts_with("Return-Path: <alice@alpha.test>\r\n"),
        "{trace}"
    );
    assert!(
        trace.contains("by mx.beta.test with ESMTPS"),
        "relay used TLS: {trace}"
    );
    // The relay connects from alpha's address (`source-address`).
    let from_alpha = format!("Received: from mx.alpha.test ([{}])", ips().0);
    assert!(trace.contains(&from_alpha), "{trace}");
    assert!(
        trace.contains("by mx.alpha.test with ESMTPSA"),
        "submission used TLS + AUTH: {trace}"
    );
}

/// Bob's INBOX holds exactly one message, Alice's `original`.
fn assert_bob_has(beta: &MtaHandle, original: &[u8]) {
    let bob = inbox(beta, "bob");
    assert_eq!(bob.len(), 1);
    assert_delivered_intact(&bob[0], original);
}

/// Queue times are whole seconds.
fn now_secs(net: &Net) -> SystemTime {
    let secs = net
        .clock
        .now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_sends_bob_a_message() {
    let net = Net::new();
    let (alpha, beta) = net.both().await;
    let msg = lunch_message();
    let out = alice_submits(&alpha, outgoing("<alice@alpha.test>", &to_bob(), &msg)).await;
    assert_eq!(out[0].status, RcptStatus::Delivered, "{:?}", out[0].reply);
    alpha.flush().await;

    assert_bob_has(&beta, &msg);
    assert!(alpha.queue().is_empty(), "{:?}", alpha.queue().list());
    assert!(inbox(&alpha, "alice").is_empty(), "no bounce");
    alpha.shutdown().await.unwrap();
    beta.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_and_remote_recipients_in_one_submission() {
    let net = Net::new();
    let beta = net.beta(net.beta_mx()).await;
    let alpha = start(
        net.alpha_config(beta.mx_addr()).with_user("carol", "pw"),
        &net.clock,
    )
    .await;

    // No Date: or Message-ID: — the submission server adds them (RFC 6409 §8.2, §8.3).
    let msg = b"From: alice@alpha.test\r\nSubject: team\r\n\r\nhello both\r\n".to_vec();
    let to = [rcpt("<bob@beta.test>"), rcpt("<Carol@Alpha.Test>")];
    let out = alice_submits(&alpha, outgoing("<alice@alpha.test>", &to, &msg)).await;
    assert!(
        out.iter().all(|o| o.status == RcptStatus::Delivered),
        "{out:?}"
    );
    // Carol's copy is in her maildir before the 250 (no queue run needed).
    let carol = inbox(&alpha, "carol");
    assert_eq!(carol.len(), 1);
    let c = text(&carol[0]);
    assert!(
        c.starts_with("Return-Path: <alice@alpha.test>\r\nReceived: "),
        "{c}"
    );
    assert!(
        c.contains("\r\nDate: ") && c.contains("\r\nMessage-ID: <"),
        "{c}"
    );
    assert!(c.ends_with("\r\n\r\nhello both\r\n"), "{c}");
    assert_eq!(alpha.queue().len(), 1, "bob's copy queued");
    alpha.flush().await;
    let bob = inbox(&beta, "bob");
    assert_eq!(bob.len(), 1);
    // Same content as Carol's, apart from the trace fields of the second hop.
    let without_return_path = c.trim_start_matches("Return-Path: <alice@alpha.test>\r\n");
    assert!(text(&bob[0]).ends_with(without_return_path));
    alpha.shutdown().await.unwrap();
    beta.shutdown().await.unwrap();
}

/// (1) Beta is down: the message stays queued with the connection failure as its last
/// reply; nothing is retried before the schedule says so; once beta is up a kick delivers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_while_the_next_hop_is_down() {
    let net = Net::new();
    let beta_mx = net.beta_mx();
    let alpha = net.alpha(beta_mx).await;

    let msg = lunch_message();
    let out = alice_submits(&alpha, outgoing("<alice@alpha.test>", &to_bob(), &msg)).await;
    assert_eq!(
        out[0].status,
        RcptStatus::Delivered,
        "accepted for relaying"
    );
    alpha.run_due().await;
    let entries = alpha.queue().list();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e.attempts, 1);
    assert_eq!(e.recipients[0].state, RcptState::Pending);
    assert_eq!(e.recipients[0].status.as_deref(), Some("4.4.1"));
    assert!(
        e.recipients[0]
            .last_reply
            .as_deref()
            .unwrap()
            .contains("connect to"),
        "{e:?}"
    );
    assert_eq!(
        e.next_attempt,
        now_secs(&net) + Duration::from_secs(60),
        "first retry after 1m"
    );

    // Not due yet: nothing is tried. (Counts are read from the queue, not from the pass
    // report: the runner's own timer may have made the attempt.)
    net.clock.advance(Duration::from_secs(59));
    alpha.run_due().await;
    assert_eq!(alpha.queue().list()[0].attempts, 1);
    // Due, still down: the second delay is 5 minutes.
    net.clock.advance(Duration::from_secs(1));
    alpha.run_due().await;
    let e = alpha.queue().list().remove(0);
    assert_eq!(e.attempts, 2);
    assert_eq!(e.next_attempt, now_secs(&net) + Duration::from_secs(300));

    // Beta comes up; a kick tries at once instead of waiting for the schedule.
    let beta = net.beta(beta_mx).await;
    alpha.kick();
    for _ in 0..200 {
        if !inbox(&beta, "bob").is_empty() && alpha.queue().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_bob_has(&beta, &msg);
    assert!(alpha.queue().is_empty());
    alpha.shutdown().await.unwrap();
    beta.shutdown().await.unwrap();
}

/// A message that never gets through: a "delayed" DSN after 4 hours (NOTIFY=DELAY), and
/// after the give-up time a "failed" one with status 4.4.7.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_bounces_after_the_give_up_time() {
    let net = Net::new();
    let alpha = net.alpha(net.beta_mx()).await;
    let msg = lunch_message();
    let mut bob = rcpt("<bob@beta.test>");
    bob.notify = Some(Notify {
        failure: true,
        delay: true,
        ..Notify::default()
    });
    alice_submits(&alpha, outgoing("<alice@alpha.test>", &[bob], &msg)).await;
    alpha.run_due().await;
    assert!(
        inbox(&alpha, "alice").is_empty(),
        "no delay notice before 4h"
    );
    net.clock.advance(Duration::from_secs(4 * 86400));
    alpha.run_due().await;
    let e = alpha.queue().list();
    assert_eq!(e.len(), 1, "4 days: still trying");
    assert_eq!(
        (e[0].attempts, e[0].recipients[0].state),
        (2, RcptState::Pending)
    );
    // NOTIFY=DELAY: one "delayed" DSN, once (RFC 3461 §4.1).
    let delayed = inbox(&alpha, "alice");
    assert_eq!(delayed.len(), 1);
    let d = text(&delayed[0]);
    assert!(
        d.contains("Action: delayed\r\n") && d.contains("Status: 4.4.1\r\n"),
        "{d}"
    );
    assert!(
        d.contains("text/rfc822-headers"),
        "headers only without a failure: {d}"
    );
    net.clock.advance(Duration::from_secs(3600));
    alpha.run_due().await;
    assert_eq!(
        inbox(&alpha, "alice").len(),
        1,
        "the delay notice is not repeated"
    );
    net.clock.advance(Duration::from_secs(86400));
    alpha.run_due().await;
    assert!(
        alpha.queue().is_empty(),
        "5 days: expired, {:?}",
        alpha.queue().list()
    );
    let dsn = inbox(&alpha, "alice");
    assert_eq!(dsn.len(), 2);
    let d = text(&dsn[1]);
    assert!(d.starts_with("Return-Path: <>\r\n"), "{d}");
    assert!(
        d.contains("Action: failed\r\n") && d.contains("Status: 4.4.7\r\n"),
        "{d}"
    );
    let diagnostic = "Diagnostic-Code: X-wirecheck; no mail exchanger of beta.test answered";
    assert!(d.contains(diagnostic), "{d}");
    alpha.shutdown().await.unwrap();
}

/// (2) Beta says 550 to nobody@beta.test: Alice gets a multipart/report DSN with the
/// original message and the queue entry is gone. NOTIFY=NEVER and a null reverse-path get
/// no DSN; RET=HDRS returns headers only; ENVID comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounce_on_unknown_remote_user() {
    let net = Net::new();
    let (alpha, beta) = net.both().await;
    let msg = lunch_message();
    let to = [rcpt("<nobody@beta.test>"), rcpt("<bob@beta.test>")];
    let mut m = outgoing("<alice@alpha.test>", &to, &msg);
    m.envid = Some("QQ314159".into());
    let out = alice_submits(&alpha, m).await;
    assert!(out.iter().all(|o| o.status == RcptStatus::Delivered));
    // After a flush everything queued before it has been tried, and the DSNs that made
    // have been delivered too (whether this pass or the one the 250 triggered did it).
    alpha.flush().await;
    assert!(alpha.queue().is_empty(), "{:?}", alpha.queue().list());
    assert_eq!(
        inbox(&beta, "bob").len(),
        1,
        "the good recipient still got it"
    );

    let dsns = inbox(&alpha, "alice");
    assert_eq!(dsns.len(), 1);
    let raw = dsns[0]
        .strip_prefix(b"Return-Path: <>\r\n".as_slice())
        .expect("null Return-Path");
    let m = wirecheck_message::parse(raw);
    let ct = m.value("Content-Type").unwrap();
    assert!(ct.starts_with("multipart/report"), "{ct}");
    assert!(ct.contains("report-type=delivery-status"), "{ct}");
    assert_eq!(m.value("To").as_deref(), Some("<alice@alpha.test>"));
    let parts = m.root().children();
    assert_eq!(parts.len(), 3);
    let status = text(m.bytes(&parts[1].body));
    for want in [
        "Original-Envelope-Id: QQ314159\r\n",
        "Reporting-MTA: dns; mx.alpha.test\r\n",
        "Final-Recipient: rfc822; nobody@beta.test\r\n",
        "Action: failed\r\n",
        "Status: 5.1.1\r\n",
        "Diagnostic-Code: smtp; 550 5.1.1 ",
    ] {
        assert!(status.contains(want), "{want:?} missing:\n{status}");
    }
    assert!(
        !status.contains("bob@beta.test"),
        "only the failed recipient is reported"
    );
    assert!(
        m.bytes(&parts[2].body).ends_with(&msg),
        "original returned (no RET: full)"
    );

    // RET=HDRS: headers only.
    let mut m = outgoing("<alice@alpha.test>", &[rcpt("<nobody@beta.test>")], &msg);
    m.ret = Some(Ret::Hdrs);
    alice_submits(&alpha, m).await;
    alpha.flush().await;
    let dsns = inbox(&alpha, "alice");
    assert_eq!(dsns.len(), 2);
    let d = text(&dsns[1]);
    assert!(
        d.contains("text/rfc822-headers") && d.contains("Subject: Lunch?"),
        "{d}"
    );
    assert!(!d.contains("Shall we meet"), "{d}");

    // NOTIFY=NEVER: no DSN (RFC 3461 §4.1).
    let mut never = rcpt("<nobody@beta.test>");
    never.notify = Some(Notify {
        never: true,
        ..Notify::default()
    });
    alice_submits(&alpha, outgoing("<alice@alpha.test>", &[never], &msg)).await;
    alpha.flush().await;
    assert!(alpha.queue().is_empty());
    assert_eq!(inbox(&alpha, "alice").len(), 2, "no DSN for NOTIFY=NEVER");
    // Null reverse-path: never bounce a bounce (RFC 5321 §6.1).
    alice_submits(&alpha, outgoing("<>", &[rcpt("<nobody@beta.test>")], &msg)).await;
    alpha.flush().await;
    assert!(alpha.queue().is_empty());
    assert_eq!(
        inbox(&alpha, "alice").len(),
        2,
        "no DSN for a null reverse-path"
    );
    alpha.shutdown().await.unwrap();
    beta.shutdown().await.unwrap();
}

/// (3) The queue survives a restart; a restarted MTA resumes its deliveries by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_survives_a_restart() {
    let net = Net::new();
    let beta_mx = net.beta_mx();
    let alpha = net.alpha(beta_mx).await;
    let msg = lunch_message();
    alice_submits(&alpha, outgoing("<alice@alpha.test>", &to_bob(), &msg)).await;
    alpha.run_due().await;
    let before = alpha.queue().list();
    assert_eq!(before.len(), 1);
    alpha.shutdown().await.unwrap();

    // Same directories, new process state: the entry is back, unchanged.
    let alpha = net.alpha(beta_mx).await;
    assert_eq!(alpha.queue().list(), before);
    alpha.shutdown().await.unwrap();

    // Restarted once beta is up and the retry is due: the start-up pass delivers.
    let beta = net.beta(beta_mx).await;
    net.clock.advance(Duration::from_secs(60));
    let alpha = net.alpha(beta_mx).await;
    alpha.run_due().await; // served after the start-up pass
    assert_bob_has(&beta, &msg);
    assert!(alpha.queue().is_empty());
    alpha.shutdown().await.unwrap();
    beta.shutdown().await.unwrap();
}

/// NOTIFY=SUCCESS: alpha passes it on (beta offers DSN), beta delivers and sends the
/// "delivered" DSN back over SMTP to alpha, which delivers it to Alice (RFC 3461 §5.2.2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_notice_comes_back_from_the_final_mta() {
    let net = Net::new();
    let (alpha_mx, beta_mx) = (free_port(net.alpha_ip), net.beta_mx());
    let mut beta_cfg = beta_config(&net.dir.path().join("beta"), beta_mx);
    beta_cfg
        .mx
        .insert("alpha.test".into(), vec![alpha_mx.to_string()]);
    let beta = start(beta_cfg, &net.clock).await;
    let mut alpha_cfg = net.alpha_config(beta_mx);
    alpha_cfg.mx_listen = alpha_mx;
    let alpha = start(alpha_cfg, &net.clock).await;

    let msg = lunch_message();
    let mut bob = rcpt("<bob@beta.test>");
    bob.notify = Some(Notify {
        success: true,
        failure: true,
        ..Notify::default()
    });
    bob.orcpt = Some(("rfc822".into(), "bob@beta.test".into()));
    let mut m = outgoing("<alice@alpha.test>", &[bob], &msg);
    m.envid = Some("E-42".into());
    alice_submits(&alpha, m).await;
    alpha.flush().await;
    beta.flush().await;
    assert_bob_has(&beta, &msg);
    assert!(alpha.queue().is_empty() && beta.queue().is_empty());
    let notices = inbox(&alpha, "alice");
    assert_eq!(
        notices.len(),
        1,
        "one success DSN, from beta (alpha passed NOTIFY on)"
    );
    let d = text(&notices[0]);
    for want in [
        "Return-Path: <>\r\n",
        "Received: from mx.beta.test",
        "Reporting-MTA: dns; mx.beta.test\r\n",
        "Original-Envelope-Id: E-42\r\n",
        "Original-Recipient: rfc822;bob@beta.test\r\n",
        "Action: delivered\r\n",
        "Status: 2.0.0\r\n",
        "text/rfc822-headers",
    ] {
        assert!(d.contains(want), "{want:?} missing:\n{d}");
    }
    assert!(
        !d.contains("Shall we meet"),
        "a success DSN returns headers only (RFC 3461 §6.2)"
    );
    alpha.shutdown().await.unwrap();
    beta.shutdown().await.unwrap();
}

/// RFC 5321 §3.6.2 and RFC 6409 §4.3 on the wire: the MX port takes mail for its own
/// users only; the submission port wants AUTH first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_open_relay_and_auth_before_submission() {
    let net = Net::new();
    let beta = net.beta(net.beta_mx()).await;

    let mut s = Script::connect(beta.mx_addr()).await;
    let dialogue = [
        ("EHLO mx.alpha.test", "250"),
        ("MAIL FROM:<alice@alpha.test>", "250"),
        ("RCPT TO:<bob@beta.test>", "250 2.1.5"),
        ("RCPT TO:<BOB@BETA.TEST>", "250"),
        ("RCPT TO:<nobody@beta.test>", "550 5.1.1"),
        ("RCPT TO:<carol@gamma.test>", "554 5.7.1"), // no open relay
        ("RCPT TO:<Postmaster>", "250"),             // RFC 5321 §4.5.1
        ("QUIT", "221"),
    ];
    for (cmd, want) in dialogue {
        let reply = s.cmd(cmd).await;
        assert!(reply.starts_with(want), "{cmd} -> {reply}");
    }

    let mut s = Script::connect(beta.submission_addr().unwrap()).await;
    let dialogue = [
        ("EHLO client.test", "250"),
        ("MAIL FROM:<bob@beta.test>", "530 5.7.0"),
        // AUTH in clear text is refused too (RFC 4954 §4).
        ("AUTH PLAIN AGJvYgBodW50ZXIy", "530"),
        ("QUIT", "221"),
    ];
    for (cmd, want) in dialogue {
        let reply = s.cmd(cmd).await;
        assert!(reply.starts_with(want), "{cmd} -> {reply}");
    }

    // A wrong password gets 535 after STARTTLS; the client session then cannot send.
    let content = b"Subject: x\r\n\r\nx\r\n";
    let m = outgoing("<bob@beta.test>", &[rcpt("<x@alpha.test>")], content);
    let out = submit(beta.submission_addr().unwrap(), "bob", "wrong", m).await;
    assert_eq!(out[0].status, RcptStatus::Permanent);
    assert_eq!(out[0].reply.code, 535, "{:?}", out[0].reply);
    assert!(beta.queue().is_empty());
    beta.shutdown().await.unwrap();
}
