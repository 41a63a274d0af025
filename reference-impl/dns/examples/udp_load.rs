//! A small UDP load generator for benchmarking an authoritative server (ours or a peer), in the
//! spirit of `dnsperf -c N`: each client thread keeps a window of queries in flight on its own
//! socket for a fixed time, and the answers per second are printed. Loopback only.
//!
//! `cargo run --release --example udp_load -- 127.0.0.1:5300 [SECONDS] [THREADS] [WINDOW]`

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wirecheck_dns::{codec, presentation};

fn main() {
    let mut args = std::env::args().skip(1);
    let target: SocketAddr = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(([127, 0, 0, 1], 5300).into());
    assert!(target.ip().is_loopback(), "loopback targets only");
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let window: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let names = [
        "example.test. A",
        "example.test. MX",
        "www.example.test. A",
        "nope.example.test. A",
        "txt.example.test. TXT",
    ];
    let queries: Vec<Vec<u8>> = names
        .iter()
        .map(|q| codec::encode(&presentation::parse_query(q).expect("query")))
        .collect();
    let answered = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (queries, answered) = (queries.clone(), answered.clone());
            std::thread::spawn(move || {
                let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
                sock.connect(target).expect("connect");
                sock.set_read_timeout(Some(Duration::from_millis(50)))
                    .expect("timeout");
                let mut buf = [0u8; 4096];
                let mut i = 0usize;
                let mut send = |sock: &UdpSocket| {
                    let _ = sock.send(&queries[i % queries.len()]);
                    i += 1;
                };
                for _ in 0..window {
                    send(&sock);
                }
                while Instant::now() < deadline {
                    match sock.recv(&mut buf) {
                        Ok(_) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                            send(&sock);
                        }
                        // A lost datagram: top the window up again.
                        Err(_) => send(&sock),
                    }
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let n = answered.load(Ordering::Relaxed);
    println!(
        "{n} answers in {secs} s: {} qps ({threads} threads, window {window})",
        n / secs.max(1)
    );
}
