//! Hostile servers: each misbehaves in one way a student's (or an attacker's) server might.
//! Every loop here is bounded in count and in time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::RngCore;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::fake::serve;

/// How long any hostile server keeps misbehaving before it gives up.
const GIVE_UP: Duration = Duration::from_secs(60);

/// Accepts and never sends anything.
pub async fn silent() -> SocketAddr {
    serve(|s| async move {
        tokio::time::sleep(GIVE_UP).await;
        drop(s);
    })
    .await
}

/// Sends a greeting, then nothing, whatever it is sent.
pub async fn greeting_then_hang() -> SocketAddr {
    serve(|mut s| async move {
        let _ = s.write_all(b"220 hello\r\n").await;
        tokio::time::sleep(GIVE_UP).await;
    })
    .await
}

async fn stream_until_closed(
    s: &mut TcpStream,
    first: &[u8],
    chunk: &[u8],
    limit: u64,
    sent: &AtomicU64,
) {
    let _ = s.write_all(first).await;
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    let mut total = first.len() as u64;
    while total < limit && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), s.write_all(chunk)).await {
            Ok(Ok(())) => {
                total += chunk.len() as u64;
                sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
            _ => break,
        }
    }
}

/// Streams one line that never ends (up to 128 MiB); `sent` counts what it wrote.
pub async fn endless_line(sent: Arc<AtomicU64>) -> SocketAddr {
    serve(move |mut s| {
        let sent = sent.clone();
        async move {
            let chunk = vec![b'A'; 64 * 1024];
            stream_until_closed(&mut s, b"220 ", &chunk, 128 << 20, &sent).await;
        }
    })
    .await
}

/// Streams `220-` continuation lines without end (up to 128 MiB).
pub async fn endless_continuation(sent: Arc<AtomicU64>) -> SocketAddr {
    serve(move |mut s| {
        let sent = sent.clone();
        async move {
            let chunk = b"220-more of the same\r\n".repeat(2048);
            stream_until_closed(&mut s, b"220-hello\r\n", &chunk, 128 << 20, &sent).await;
        }
    })
    .await
}

/// Resets every connection as soon as it is accepted.
pub async fn rst_on_accept() -> SocketAddr {
    serve(|s| async move {
        // SO_LINGER 0: the close sends RST instead of FIN.
        if let Ok(std_s) = s.into_std() {
            let _ = socket2::SockRef::from(&std_s).set_linger(Some(Duration::ZERO));
            drop(std_s);
        }
    })
    .await
}

/// Sends its greeting one byte per second.
pub async fn one_byte_per_second() -> SocketAddr {
    serve(|mut s| async move {
        for b in b"220 slow but steady\r\n".iter() {
            if s.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await
}

/// Sends random bytes (1 MiB at most).
pub async fn random_binary() -> SocketAddr {
    serve(|mut s| async move {
        let mut buf = vec![0u8; 16 * 1024];
        for _ in 0..64 {
            rand::rng().fill_bytes(&mut buf);
            // Make sure it cannot start like a reply.
            buf[0] = 0xff;
            if s.write_all(&buf).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(GIVE_UP).await;
    })
    .await
}

/// Closes in the middle of a multi-line greeting.
pub async fn close_mid_reply() -> SocketAddr {
    serve(|mut s| async move {
        let _ = s.write_all(b"220-first line\r\n220-second li").await;
        let _ = s.shutdown().await;
    })
    .await
}

/// Greets, then half-closes (FIN) but keeps the connection open for reading.
pub async fn half_close_after_greeting() -> SocketAddr {
    serve(|mut s| async move {
        let _ = s.write_all(b"220 hello\r\n").await;
        let _ = s.shutdown().await;
        tokio::time::sleep(GIVE_UP).await;
    })
    .await
}
