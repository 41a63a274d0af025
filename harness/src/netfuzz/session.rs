//! One fuzz session on the wire: the fastest honest way to get a server's answers to a
//! sequence of chunks.
//!
//! Stream protocols: connect, wait for the greeting (one unit), write every chunk (one
//! `write` each, `TCP_NODELAY`, as a transcript's `C:` lines), half-close, and read until
//! the server closes. Reading runs alongside writing, so a server that answers while we
//! write never blocks us. The replies are then framed by the protocol adapter and
//! labelled with the commands they answer, as `wirecheck diff` does. Exactly this is what
//! an emitted transcript replays (`S:` greeting, `C>` chunks, `shutdown`, `S:` units,
//! `expect close`). The socket is closed with a zero linger, so thousands of sessions a
//! second leave no `TIME_WAIT` behind.
//!
//! DNS over UDP: each chunk is a datagram, answered (or not) within `udp_wait`.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout, timeout_at};

use crate::diff::attribute::Attributor;
use crate::diff::compare::NO_REPLY;
use crate::diff::exchange::Item;
use crate::protocol::{self, Limits, Transport};

/// Where a side listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The address.
    pub addr: SocketAddr,
    /// UDP (DNS) instead of TCP.
    pub udp: bool,
}

/// Time limits of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// To connect.
    pub connect: Duration,
    /// Silence that ends reading (a server that does not close after our half-close).
    pub idle: Duration,
    /// The whole session.
    pub session: Duration,
    /// A datagram's answer.
    pub udp_wait: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            connect: Duration::from_secs(2),
            idle: Duration::from_secs(1),
            session: Duration::from_secs(5),
            udp_wait: Duration::from_millis(250),
        }
    }
}

/// How reading ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The server closed (EOF).
    Closed,
    /// The connection was reset.
    Reset,
    /// Nothing arrived for the idle time.
    Idle,
    /// The session's time ran out.
    Deadline,
    /// More bytes than the cap arrived.
    Cap,
}

/// What one session got.
#[derive(Debug, Clone)]
pub struct SessionRun {
    /// The units, labelled.
    pub items: Vec<Item>,
    /// How reading ended.
    pub end: End,
    /// Chunks written before a write failed (all, normally).
    pub written: usize,
}

/// The chunk a session of `protocol` needs at its end, if any: FTP gets a `QUIT` when it
/// does not end with one, as real clients end a session (RFC 959 §4.1.1), so the session
/// ends with the server's close and not our half-close (which follows only after [`GRACE`]
/// without a close). Many FTP servers stop answering at the client's FIN; whether replies
/// owed at a FIN are still sent is a question of its own, asked by the transcript
/// `ftp.syntax.pipelined-then-fin`, not by every fuzz case. (The reference server once
/// dropped them: fixed, see docs/fuzzing.md "FIN".)
pub fn closing_chunk(protocol: &str, chunks: &[Vec<u8>]) -> Option<Vec<u8>> {
    if protocol != "ftp" {
        return None;
    }
    let all = chunks.concat();
    let Some(body) = all.strip_suffix(b"\r\n") else {
        // An unterminated last line would swallow the QUIT: end it first.
        return Some(b"\r\nQUIT\r\n".to_vec());
    };
    // Only CRLF ends a line (as the reference reads it): `MODE S\r\xff\nQUIT` is one line.
    let last = body
        .windows(2)
        .rposition(|w| w == b"\r\n")
        .map_or(body, |i| &body[i + 2..]);
    (!last.eq_ignore_ascii_case(b"QUIT")).then(|| b"QUIT\r\n".to_vec())
}

/// How long an FTP session waits for the server to close after `QUIT` before half-closing.
pub const GRACE: Duration = Duration::from_millis(250);

/// Run `chunks` against `ep` as a `protocol` client. `Err`: no connection could be made.
pub async fn run(
    protocol: &str,
    ep: &Endpoint,
    chunks: &[Vec<u8>],
    limits: &Limits,
    timing: &Timing,
) -> Result<SessionRun, String> {
    let adapter =
        protocol::by_name(protocol).ok_or_else(|| format!("no adapter for {protocol}"))?;
    let transport = if ep.udp {
        Transport::Datagram
    } else {
        Transport::Stream
    };
    let framer = adapter.reply_framer(transport).map_err(|e| e.to_string())?;
    let p = Peer {
        protocol,
        framer,
        length_prefixed: adapter.length_prefixed(),
    };
    if ep.udp {
        run_udp(p, ep.addr, chunks, limits, timing).await
    } else {
        run_stream(p, ep.addr, chunks, limits, timing).await
    }
}

/// The protocol side of a session.
struct Peer<'a> {
    protocol: &'a str,
    framer: Box<dyn protocol::Framer>,
    length_prefixed: bool,
}

async fn run_stream(
    Peer {
        protocol,
        mut framer,
        length_prefixed,
    }: Peer<'_>,
    addr: SocketAddr,
    chunks: &[Vec<u8>],
    limits: &Limits,
    timing: &Timing,
) -> Result<SessionRun, String> {
    let deadline = Instant::now() + timing.session;
    let mut tcp = match timeout(timing.connect, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("connect to {addr}: {e}")),
        Err(_) => return Err(format!("connect to {addr}: timed out")),
    };
    let _ = tcp.set_nodelay(true);
    let cap = limits.max_reply.saturating_mul(4);
    let mut attributor = Attributor::new(protocol);
    let mut items = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let greeting = protocol != "dns";
    if greeting {
        loop {
            match framer.decode(&buf, limits) {
                Ok(Some((n, u))) => {
                    buf.drain(..n.min(buf.len()));
                    let (label, ordinal) = attributor.label_ordinal(&u);
                    items.push(Item {
                        label,
                        ordinal,
                        unit: Ok(u),
                    });
                    break;
                }
                Ok(None) => {}
                Err(e) => {
                    items.push(Item {
                        label: attributor.label(&Default::default()),
                        ordinal: None,
                        unit: Err(e.to_string()),
                    });
                    let _ = tcp.set_zero_linger();
                    return Ok(SessionRun {
                        items,
                        end: End::Closed,
                        written: 0,
                    });
                }
            }
            let until = (Instant::now() + timing.idle).min(deadline);
            let end = match timeout_at(until, tcp.read_buf(&mut buf)).await {
                Ok(Ok(0)) => Some(End::Closed),
                Ok(Ok(_)) if buf.len() > cap => Some(End::Cap),
                Ok(Ok(_)) => None,
                Ok(Err(_)) => Some(End::Reset),
                Err(_) => Some(if Instant::now() >= deadline {
                    End::Deadline
                } else {
                    End::Idle
                }),
            };
            if let Some(end) = end {
                let _ = tcp.set_zero_linger();
                frame_rest(&mut *framer, &mut attributor, &buf, limits, &mut items);
                return Ok(SessionRun {
                    items,
                    end,
                    written: 0,
                });
            }
        }
    }
    let closing = closing_chunk(protocol, chunks);
    let all: Vec<&[u8]> = chunks
        .iter()
        .map(Vec::as_slice)
        .chain(closing.as_deref())
        .collect();
    let (mut rd, mut wr) = tcp.split();
    let closed = tokio::sync::Notify::new();
    let writer = async {
        let mut written = 0;
        for c in &all {
            let r = if length_prefixed {
                let len = u16::try_from(c.len()).unwrap_or(u16::MAX).to_be_bytes();
                let mut framed = Vec::with_capacity(c.len() + 2);
                framed.extend_from_slice(&len);
                framed.extend_from_slice(c);
                wr.write_all(&framed).await
            } else {
                wr.write_all(c).await
            };
            if r.is_err() {
                break;
            }
            written += 1;
        }
        if protocol == "ftp" {
            // Let the server close after QUIT; half-close only if it does not.
            let _ = timeout(GRACE, closed.notified()).await;
        }
        let _ = wr.shutdown().await;
        written
    };
    let reader = async {
        let end = loop {
            let until = (Instant::now() + timing.idle).min(deadline);
            match timeout_at(until, rd.read_buf(&mut buf)).await {
                Ok(Ok(0)) => break End::Closed,
                Ok(Ok(_)) if buf.len() > cap => break End::Cap,
                Ok(Ok(_)) => {}
                Ok(Err(_)) => break End::Reset,
                Err(_) => {
                    break if Instant::now() >= deadline {
                        End::Deadline
                    } else {
                        End::Idle
                    };
                }
            }
        };
        closed.notify_one();
        end
    };
    let (written, end) = tokio::join!(
        async { timeout_at(deadline, writer).await.unwrap_or(0) },
        reader
    );
    let _ = tcp.set_zero_linger();
    drop(tcp);
    for c in all.iter().take(written) {
        framer.sent(c);
        attributor.sent(c);
    }
    let written = written.min(chunks.len());
    frame_rest(&mut *framer, &mut attributor, &buf, limits, &mut items);
    Ok(SessionRun {
        items,
        end,
        written,
    })
}

fn frame_rest(
    framer: &mut dyn protocol::Framer,
    attributor: &mut Attributor,
    buf: &[u8],
    limits: &Limits,
    items: &mut Vec<Item>,
) {
    let mut at = 0;
    while at < buf.len() {
        match framer.decode(&buf[at..], limits) {
            Ok(Some((n, u))) => {
                at += n.max(1);
                let (label, ordinal) = attributor.label_ordinal(&u);
                items.push(Item {
                    label,
                    ordinal,
                    unit: Ok(u),
                });
            }
            Ok(None) => {
                let msg = format!("an incomplete unit at the end ({} bytes)", buf.len() - at);
                items.push(Item {
                    label: attributor.label(&Default::default()),
                    ordinal: None,
                    unit: Err(msg),
                });
                return;
            }
            Err(e) => {
                items.push(Item {
                    label: attributor.label(&Default::default()),
                    ordinal: None,
                    unit: Err(e.to_string()),
                });
                return;
            }
        }
    }
}

async fn run_udp(
    Peer {
        protocol,
        mut framer,
        ..
    }: Peer<'_>,
    addr: SocketAddr,
    chunks: &[Vec<u8>],
    limits: &Limits,
    timing: &Timing,
) -> Result<SessionRun, String> {
    let local: SocketAddr = if addr.is_ipv4() {
        ([127, 0, 0, 1], 0).into()
    } else {
        (std::net::Ipv6Addr::LOCALHOST, 0).into()
    };
    let sock = UdpSocket::bind(local)
        .await
        .map_err(|e| format!("bind: {e}"))?;
    sock.connect(addr)
        .await
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    let mut attributor = Attributor::new(protocol);
    let mut items = Vec::new();
    let mut written = 0;
    let mut buf = vec![0u8; 65536];
    for c in chunks {
        if sock.send(c).await.is_err() {
            break;
        }
        written += 1;
        attributor.sent(c);
        match timeout(timing.udp_wait, sock.recv(&mut buf)).await {
            Ok(Ok(n)) => {
                let d = buf.get(..n).unwrap_or_default();
                let unit = framer.decode_datagram(d, limits).map_err(|e| e.to_string());
                let (label, ordinal) = match &unit {
                    Ok(u) => attributor.label_ordinal(u),
                    Err(_) => attributor.label_ordinal(&Default::default()),
                };
                items.push(Item {
                    label,
                    ordinal,
                    unit,
                });
            }
            // ICMP port unreachable, or silence: no answer to this datagram.
            Ok(Err(_)) | Err(_) => {
                let (label, ordinal) = attributor.label_ordinal(&Default::default());
                items.push(Item {
                    label,
                    ordinal,
                    unit: Err(NO_REPLY.to_string()),
                });
            }
        }
    }
    Ok(SessionRun {
        items,
        end: End::Closed,
        written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ftp_sessions_end_with_a_quit_line() {
        let q =
            |c: &[&[u8]]| closing_chunk("ftp", &c.iter().map(|x| x.to_vec()).collect::<Vec<_>>());
        assert_eq!(q(&[b"USER a\r\n", b"quit\r\n"]), None);
        assert_eq!(q(&[b"USER a\r\n"]), Some(b"QUIT\r\n".to_vec()));
        assert_eq!(
            q(&[b"MODE S\r\xff\n", b"QUIT\r\n"]),
            Some(b"QUIT\r\n".to_vec()),
            "a bare LF ends no line"
        );
        assert_eq!(q(&[b"NOOP"]), Some(b"\r\nQUIT\r\n".to_vec()));
        assert_eq!(closing_chunk("smtp", &[b"NOOP".to_vec()]), None);
    }
}
