//! The MTA finds the next hop by a real MX lookup: alpha.test relays to beta.test through
//! the loopback DNS hierarchy of wirecheck-dns (root, `test.`, `beta.test.` with
//! `MX 10 mx.beta.test.` -> 127.0.0.22), asking its recursive resolver (`dns-resolver`).

mod common;

use std::net::IpAddr;

use common::*;
use wirecheck_dns::hierarchy::{Hierarchy, HierarchyConfig};
use wirecheck_smtp::client::RcptStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alpha_relays_to_beta_found_by_mx_lookup() {
    let (alpha_ip, _) = ips();
    if alpha_ip == IpAddr::from([127, 0, 0, 1]) {
        println!("SKIPPED: the hierarchy needs several 127.0.0.x addresses");
        return;
    }
    let dns = Hierarchy::start(HierarchyConfig::default()).await.expect("DNS hierarchy starts");
    let resolver = dns.resolver_addr().expect("the hierarchy runs a recursive service");

    // beta.test's MX host is mx.beta.test = 127.0.0.22; the relay port is the same for
    // every next hop (RFC 5321 uses 25; on loopback any free port will do).
    let beta_mx = free_port("127.0.0.22".parse().unwrap());
    let net = Net::new();
    let beta = net.beta(beta_mx).await;
    let mut cfg = net.alpha_config(beta_mx);
    cfg.mx.clear();
    cfg.relay_port = beta_mx.port();
    cfg.dns_resolver = Some(resolver);
    let alpha = start(cfg, &net.clock).await;

    let msg = lunch_message();
    let out = alice_submits(&alpha, outgoing("<alice@alpha.test>", &[rcpt("<bob@beta.test>")], &msg)).await;
    assert_eq!(out[0].status, RcptStatus::Delivered, "{:?}", out[0].reply);
    alpha.flush().await;
    assert!(alpha.queue().is_empty(), "delivered, not queued: {:?}", alpha.queue().list());
    let bob = inbox(&beta, "bob");
    assert_eq!(bob.len(), 1, "bob got the message");
    assert!(bob[0].ends_with(&msg), "byte for byte under the trace headers");

    // A domain the hierarchy says does not exist bounces at once (RFC 5321 §5.1).
    let out = alice_submits(&alpha, outgoing("<alice@alpha.test>", &[rcpt("<carol@nowhere.test>")], &msg)).await;
    assert_eq!(out[0].status, RcptStatus::Delivered, "accepted for relay");
    alpha.flush().await;
    assert!(alpha.queue().is_empty(), "NXDOMAIN is permanent: {:?}", alpha.queue().list());
    let alice = inbox(&alpha, "alice");
    assert_eq!(alice.len(), 1, "alice got a bounce");
    let bounce = String::from_utf8_lossy(&alice[0]);
    assert!(bounce.contains("report-type=delivery-status"), "{bounce}");
    assert!(bounce.contains("Action: failed"), "{bounce}");

    alpha.shutdown().await.unwrap();
    beta.shutdown().await.unwrap();
}
