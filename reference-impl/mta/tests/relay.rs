//! The relay side against a next hop we control (the smtp crate's server with an in-memory
//! sink): MX fallback past a dead exchanger, a `4yz` after DATA kept for retry with its
//! reply, and delivery once the next hop takes the message. The next hop offers no
//! STARTTLS, so this is also the clear-text path of opportunistic TLS.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use tokio::net::TcpListener;
use wirecheck_mta::RcptState;
use wirecheck_smtp::codec::Notify;
use wirecheck_smtp::server::{DeliveryError, MemorySink, ServeConfig, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_failure_after_data_is_retried_on_the_next_exchanger() {
    let net = Net::new();
    let sink = Arc::new(Mutex::new(MemorySink::new("beta.test")));
    sink.lock().unwrap().fail_delivery = Some(DeliveryError::Temporary("disk full".into()));
    let listener = TcpListener::bind((net.beta_ip, 0)).await.unwrap();
    let live = listener.local_addr().unwrap();
    let shared = sink.clone();
    let hop = serve(listener, move || shared.clone(), ServeConfig::default()).unwrap();

    // RFC 5321 §5.1: the preferred exchanger is down, the second one answers.
    let dead = net.beta_mx();
    let mut cfg = net.alpha_config(dead);
    cfg.mx
        .insert("beta.test".into(), vec![dead.to_string(), live.to_string()]);
    let alpha = start(cfg, &net.clock).await;

    let msg = lunch_message();
    alice_submits(
        &alpha,
        outgoing("<alice@alpha.test>", &[rcpt("<bob@beta.test>")], &msg),
    )
    .await;
    alpha.flush().await;
    let e = alpha.queue().list();
    assert_eq!(e.len(), 1, "451 keeps it queued");
    let r = &e[0].recipients[0];
    assert_eq!(r.state, RcptState::Pending);
    assert_eq!(r.status.as_deref(), Some("4.3.0"));
    assert!(
        r.last_reply.as_deref().unwrap().starts_with("451 4.3.0 "),
        "{r:?}"
    );
    assert_eq!(
        r.remote_mta.as_deref(),
        Some(live.ip().to_string().as_str())
    );

    sink.lock().unwrap().fail_delivery = None;
    alpha.flush().await;
    assert!(alpha.queue().is_empty(), "{:?}", alpha.queue().list());
    let delivered = sink.lock().unwrap().delivered.clone();
    assert_eq!(delivered.len(), 1);
    let d = &delivered[0];
    assert_eq!(d.envelope.from.to_string(), "<alice@alpha.test>");
    assert_eq!(d.envelope.recipients[0].path.to_string(), "<bob@beta.test>");
    assert!(
        d.message.ends_with(&msg),
        "content intact through the relay"
    );
    assert!(
        inbox(&alpha, "alice").is_empty(),
        "no DSN for a delivered message"
    );
    alpha.shutdown().await.unwrap();
    hop.shutdown().await.unwrap();
}

/// A next hop without DSN cannot carry NOTIFY=SUCCESS on: alpha sends the "relayed" DSN
/// itself (RFC 3461 §5.2.2 (c)).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relayed_notice_when_the_next_hop_has_no_dsn() {
    let net = Net::new();
    let sink = Arc::new(Mutex::new(MemorySink::new("beta.test")));
    let listener = TcpListener::bind((net.beta_ip, 0)).await.unwrap();
    let live = listener.local_addr().unwrap();
    let mut serve_cfg = ServeConfig::default();
    serve_cfg.session.extensions.dsn = false;
    let shared = sink.clone();
    let hop = serve(listener, move || shared.clone(), serve_cfg).unwrap();
    let alpha = net.alpha(live).await;

    let mut bob = rcpt("<bob@beta.test>");
    bob.notify = Some(Notify {
        success: true,
        ..Notify::default()
    });
    let msg = lunch_message();
    alice_submits(&alpha, outgoing("<alice@alpha.test>", &[bob], &msg)).await;
    alpha.flush().await;
    assert_eq!(sink.lock().unwrap().delivered.len(), 1);
    let notices = inbox(&alpha, "alice");
    assert_eq!(notices.len(), 1);
    let d = String::from_utf8_lossy(&notices[0]);
    assert!(
        d.contains("Action: relayed\r\n") && d.contains("Status: 2.0.0\r\n"),
        "{d}"
    );
    assert!(
        d.contains(&format!("Remote-MTA: dns; {}\r\n", live.ip())),
        "{d}"
    );
    alpha.shutdown().await.unwrap();
    hop.shutdown().await.unwrap();
}
