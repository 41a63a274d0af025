//! The loopback hierarchy (root, test., example/alpha/beta.test) and the resolver over real
//! sockets on 127.0.0.x with one ephemeral port.
#![cfg(feature = "server")]

use std::net::IpAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use wirecheck_dns::client::{LookupError, Resolver};
use wirecheck_dns::codec;
use wirecheck_dns::hierarchy::{Hierarchy, HierarchyConfig};
use wirecheck_dns::presentation::{parse_query, render};
use wirecheck_dns::{Message, Rcode};

async fn ask(to: std::net::SocketAddr, q: &str) -> Message {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(&codec::encode(&parse_query(q).unwrap()), to)
        .await
        .unwrap();
    let mut buf = vec![0; 65535];
    let (n, from) = tokio::time::timeout(Duration::from_secs(10), sock.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from, to);
    codec::decode(&buf[..n]).unwrap()
}

fn ips(v: &[&str]) -> Vec<IpAddr> {
    v.iter().map(|s| s.parse().unwrap()).collect()
}

#[tokio::test]
async fn mx_and_address_lookups_through_the_hierarchy() {
    let h = Hierarchy::start(HierarchyConfig::default()).await.unwrap();
    assert_ne!(h.port(), 0);
    assert_eq!(
        h.lookup_mx("example.test").await.unwrap(),
        [
            (10, "mail.example.test".to_string()),
            (20, "mail2.example.test".to_string())
        ]
    );
    assert_eq!(
        h.lookup_mx("beta.test.").await.unwrap(),
        [
            (10, "mx.beta.test".to_string()),
            (20, "mx.alpha.test".to_string())
        ]
    );
    assert_eq!(
        h.lookup_ip("mail.example.test").await.unwrap(),
        ips(&["127.0.0.25", "::1"])
    );
    assert_eq!(
        h.lookup_ip("www.beta.test").await.unwrap(),
        ips(&["127.0.0.21"])
    );
    assert_eq!(h.lookup_ip("127.0.0.7").await.unwrap(), ips(&["127.0.0.7"]));
    // NODATA: the domain exists without MX; NXDOMAIN: an error.
    assert_eq!(h.lookup_mx("mail2.example.test").await.unwrap(), []);
    assert!(matches!(
        h.lookup_mx("nope.example.test").await,
        Err(LookupError::NxDomain(_))
    ));
    assert!(matches!(
        h.lookup_mx("nowhere.test").await,
        Err(LookupError::NxDomain(_))
    ));
    assert!(matches!(
        h.lookup_mx("a..b").await,
        Err(LookupError::InvalidName(_))
    ));
}

#[tokio::test]
async fn every_server_is_on_its_own_address_and_the_shared_port() {
    let h = Hierarchy::start(HierarchyConfig::default()).await.unwrap();
    let servers = h.servers();
    assert_eq!(servers.len(), 6);
    assert!(
        servers
            .iter()
            .all(|(a, _)| a.port() == h.port() && a.ip().is_loopback())
    );
    // The root refers example.test questions to test., with glue.
    let root = servers[0].0;
    let r = ask(root, "www.example.test. A id=1").await;
    let text = render(&r);
    assert!(!r.header.aa && r.answers.is_empty(), "{text}");
    assert!(text.contains("test.\t86400\tIN\tNS\tns.test.\n"), "{text}");
    assert!(
        text.contains("ns.test.\t86400\tIN\tA\t127.0.0.12\n"),
        "{text}"
    );
    // example.test's own servers answer authoritatively.
    let ex = servers
        .iter()
        .find(|(a, _)| a.ip().to_string() == "127.0.0.53")
        .unwrap()
        .0;
    let r = ask(ex, "example.test. MX id=2").await;
    assert!(r.header.aa && r.answers.len() == 2);
    // Two hierarchies side by side get different ports.
    let h2 = Hierarchy::start(HierarchyConfig::default()).await.unwrap();
    assert_ne!(h.port(), h2.port());
}

#[tokio::test]
async fn recursive_service_for_stub_clients() {
    let h = Hierarchy::start(HierarchyConfig::default()).await.unwrap();
    let addr = h.resolver_addr().unwrap();
    // RD clear and nothing cached: REFUSED.
    let r = ask(addr, "alpha.test. MX id=3").await;
    assert_eq!(r.rcode(), Rcode::REFUSED);
    let r = ask(addr, "ftp.example.test. A +rd id=4 edns=0").await;
    let text = render(&r);
    assert!(r.header.ra && r.header.rd && !r.header.aa, "{text}");
    assert_eq!(r.answers.len(), 3, "{text}");
    assert!(
        text.ends_with("\nexample.test.\t3600\tIN\tA\t127.0.0.10\n"),
        "{text}"
    );
    // Now cached: RD clear is answered.
    let r = ask(addr, "ftp.example.test. A id=5").await;
    assert_eq!((r.rcode(), r.answers.len()), (Rcode::NOERROR, 3));
    // NXDOMAIN with the SOA.
    let r = ask(addr, "nope.example.test. A +rd id=6").await;
    assert_eq!((r.rcode(), r.authorities.len()), (Rcode::NXDOMAIN, 1));
    // A stub resolver pointed at the service.
    let stub = Resolver::stub(addr, false).unwrap();
    assert_eq!(
        stub.lookup_mx("alpha.test").await.unwrap(),
        [(10, "mx.alpha.test".to_string())]
    );
    assert_eq!(
        stub.lookup_ip("www.beta.test").await.unwrap(),
        ips(&["127.0.0.21"])
    );
    assert!(matches!(
        stub.lookup_ip("nope.beta.test").await,
        Err(LookupError::NxDomain(_))
    ));
    // Over TCP too.
    let tcp_answer = wirecheck_dns::client::exchange(
        addr,
        &parse_query("beta.test. MX +rd").unwrap(),
        true,
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!(tcp_answer.answers.len(), 2);
    // A stub refuses non-loopback servers unless told.
    assert!(Resolver::stub("10.0.0.1:53".parse().unwrap(), false).is_err());
}
