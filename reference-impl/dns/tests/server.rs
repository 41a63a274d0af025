//! The authoritative server over real UDP and TCP sockets on 127.0.0.1 (ephemeral ports).
#![cfg(feature = "server")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use wirecheck_dns::codec::{self, tcp_frame};
use wirecheck_dns::presentation::{parse_hex, parse_query, render};
use wirecheck_dns::server::{AuthServer, ServerConfig};
use wirecheck_dns::zone::{Zones, example_test_zone};
use wirecheck_dns::{Message, Rcode};

const STEP: Duration = Duration::from_secs(5);

async fn server() -> AuthServer {
    common::oracle().await
}

async fn udp_exchange(server: &AuthServer, query: &[u8]) -> Message {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(server.local_addr()).await.unwrap();
    sock.send(query).await.unwrap();
    let mut buf = vec![0; 65535];
    let n = tokio::time::timeout(STEP, sock.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    codec::decode(&buf[..n]).unwrap()
}

async fn read_frame(tcp: &mut TcpStream, pending: &mut Vec<u8>) -> Message {
    loop {
        if let Some((used, msg)) = tcp_frame(pending) {
            let m = codec::decode(msg).unwrap();
            pending.drain(..used);
            return m;
        }
        let mut buf = [0; 4096];
        let n = tokio::time::timeout(STEP, tcp.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "connection closed early");
        pending.extend_from_slice(&buf[..n]);
    }
}

fn framed(q: &str) -> Vec<u8> {
    wirecheck_dns::tcp::with_length_prefix(&codec::encode(&parse_query(q).unwrap()))
}

#[tokio::test]
async fn udp_answers_mx() {
    let s = server().await;
    let r = udp_exchange(
        &s,
        &codec::encode(
            &parse_query("example.test. MX +rd id=4242 edns=0 bufsize=1232 +do").unwrap(),
        ),
    )
    .await;
    let text = render(&r);
    assert!(
        text.starts_with(";; opcode: QUERY, status: NOERROR, id: 4242\n;; flags: qr aa rd;"),
        "{text}"
    );
    assert!(
        text.contains("example.test.\t3600\tIN\tMX\t10 mail.example.test.\n"),
        "{text}"
    );
    // A malformed query: FORMERR, the id kept.
    let raw = parse_hex("beef 0100 0001 0000 0000 0000 c00c 0001 0001").unwrap();
    let r = udp_exchange(&s, &raw).await;
    assert_eq!((r.header.id, r.rcode()), (0xbeef, Rcode::FORMERR));
}

#[tokio::test]
async fn udp_worker_threads_answer_and_stop_when_dropped() {
    let zones: Zones = [example_test_zone()].into_iter().collect();
    let cfg = ServerConfig {
        udp_threads: true,
        udp_workers: 2,
        ..ServerConfig::default()
    };
    let s = AuthServer::start(Arc::new(zones), "127.0.0.1:0".parse().unwrap(), cfg)
        .await
        .unwrap();
    let addr = s.local_addr();
    for id in 1..=20u16 {
        let q = format!("www.example.test. A id={id}");
        let r = udp_exchange(&s, &codec::encode(&parse_query(&q).unwrap())).await;
        assert_eq!((r.header.id, r.rcode()), (id, Rcode::NOERROR));
        assert!(!r.answers.is_empty(), "{}", render(&r));
    }
    // Dropping the server stops its threads and closes their sockets: the UDP port is free
    // again (a plain bind, without SO_REUSEPORT, fails while any socket holds it).
    drop(s);
    std::net::UdpSocket::bind(addr).expect("the UDP port is released at drop");
}

#[tokio::test]
async fn tcp_several_queries_per_connection_and_axfr() {
    let s = server().await;
    let mut tcp = TcpStream::connect(s.local_addr()).await.unwrap();
    let mut pending = Vec::new();
    // Two pipelined queries in one write (RFC 7766 §6.2.1.1), answered in order here.
    let mut batch = framed("www.example.test. A id=1");
    batch.extend(framed("nope.example.test. A id=2"));
    tcp.write_all(&batch).await.unwrap();
    let a = read_frame(&mut tcp, &mut pending).await;
    let b = read_frame(&mut tcp, &mut pending).await;
    assert_eq!((a.header.id, a.answers.len()), (1, 2));
    assert_eq!((b.header.id, b.rcode()), (2, Rcode::NXDOMAIN));
    // A split write.
    let q = framed("example.test. AXFR id=3");
    tcp.write_all(&q[..1]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    tcp.write_all(&q[1..]).await.unwrap();
    let x = read_frame(&mut tcp, &mut pending).await;
    assert_eq!((x.header.id, x.answers.len()), (3, 17));
    // Malformed over TCP: FORMERR, and the connection stays usable.
    let raw = parse_hex("0007 0100 0002 0000 0000 0000 0161 00 0001 0001").unwrap();
    tcp.write_all(&wirecheck_dns::tcp::with_length_prefix(&raw))
        .await
        .unwrap();
    assert_eq!(
        read_frame(&mut tcp, &mut pending).await.rcode(),
        Rcode::FORMERR
    );
    tcp.write_all(&framed("example.test. SOA id=8"))
        .await
        .unwrap();
    assert_eq!(read_frame(&mut tcp, &mut pending).await.answers.len(), 1);
}

#[tokio::test]
async fn idle_tcp_connections_are_closed() {
    let zones: Zones = [example_test_zone()].into_iter().collect();
    let cfg = ServerConfig {
        tcp_idle: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let s = AuthServer::start(Arc::new(zones), "127.0.0.1:0".parse().unwrap(), cfg)
        .await
        .unwrap();
    let mut tcp = TcpStream::connect(s.local_addr()).await.unwrap();
    let mut buf = [0; 16];
    let n = tokio::time::timeout(STEP, tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
}
