//! One connection of a case: a TCP stream (maybe TLS) or a connected UDP socket, its
//! receive buffer, and the protocol framer that cuts units off it.
//!
//! Every read is bounded in time (a deadline) and in size (the buffer never holds more
//! than a unit's cap plus a line's: past that the unit is "too large" whatever the framer
//! thinks).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};
use wirecheck_wire::driver::{MaybeTls, TlsSide};

use super::record::Recorder;
use crate::protocol::{FrameError, Framer, Limits, Protocol, Transport, Unit};
use crate::transcript::Pattern;

/// Bytes read per `read` call.
const READ_CHUNK: usize = 16 * 1024;
/// The largest UDP datagram.
const MAX_DATAGRAM: usize = 65_535;

enum Io {
    Stream(MaybeTls),
    Datagram(UdpSocket),
    /// An unconnected UDP socket (the server role): replies go to the last sender.
    DatagramServer(UdpSocket),
    Closed,
}

/// Why no unit (or no close, or no bytes) came.
#[derive(Debug)]
pub enum ReadError {
    /// The deadline passed; `partial` is what was buffered of an incomplete unit.
    Timeout {
        /// Buffered bytes.
        partial: Vec<u8>,
    },
    /// The peer closed (or reset) the connection.
    Closed {
        /// Buffered bytes of an incomplete unit.
        partial: Vec<u8>,
        /// "closed by the peer" / "reset by the peer: …".
        how: String,
    },
    /// Bytes arrived where none may (`expect close`, `expect silence`).
    Unexpected {
        /// What arrived.
        partial: Vec<u8>,
    },
    /// The framer rejected the bytes, or a cap was hit.
    Frame {
        /// The codec's verdict.
        error: FrameError,
        /// What was buffered.
        partial: Vec<u8>,
    },
}

/// A connection.
pub struct Conn {
    /// Its name in the transcript.
    pub name: String,
    io: Io,
    /// The protocol that frames it.
    pub protocol: Arc<dyn Protocol>,
    framer: Box<dyn Framer>,
    buf: Vec<u8>,
    /// How much of `buf` the framer has seen without finding a unit.
    scanned: usize,
    datagrams: VecDeque<Vec<u8>>,
    ended: Option<String>,
    /// Units read but left for the next step (`S?` that did not match).
    pub pushed_back: VecDeque<Unit>,
    /// The peer's address.
    pub peer: SocketAddr,
    /// The host name used for TLS (SNI and verification).
    pub host: String,
    /// Server role over UDP: where the last datagram came from (replies go there).
    reply_to: Option<SocketAddr>,
    /// Active `S!` patterns: (line, pattern).
    pub must_not: Vec<(u32, Pattern)>,
    /// Units framed so far (for hints: nothing at all vs. nothing more).
    pub units_read: usize,
}

impl Conn {
    /// A connection over a TCP stream.
    pub fn stream(
        name: &str,
        s: MaybeTls,
        peer: SocketAddr,
        host: &str,
        protocol: Arc<dyn Protocol>,
        framer: Box<dyn Framer>,
    ) -> Conn {
        Conn::new(name, Io::Stream(s), peer, host, protocol, framer)
    }

    /// A connection over a connected UDP socket.
    pub fn datagram(
        name: &str,
        s: UdpSocket,
        peer: SocketAddr,
        protocol: Arc<dyn Protocol>,
        framer: Box<dyn Framer>,
    ) -> Conn {
        Conn::new(
            name,
            Io::Datagram(s),
            peer,
            &peer.ip().to_string(),
            protocol,
            framer,
        )
    }

    /// The server role over UDP: an unbound peer; replies go to the last sender.
    pub fn datagram_server(
        name: &str,
        s: UdpSocket,
        local: SocketAddr,
        protocol: Arc<dyn Protocol>,
        framer: Box<dyn Framer>,
    ) -> Conn {
        Conn::new(
            name,
            Io::DatagramServer(s),
            local,
            "localhost",
            protocol,
            framer,
        )
    }

    fn new(
        name: &str,
        io: Io,
        peer: SocketAddr,
        host: &str,
        protocol: Arc<dyn Protocol>,
        framer: Box<dyn Framer>,
    ) -> Conn {
        Conn {
            name: name.to_string(),
            io,
            protocol,
            framer,
            buf: Vec::new(),
            scanned: 0,
            datagrams: VecDeque::new(),
            ended: None,
            pushed_back: VecDeque::new(),
            peer,
            host: host.to_string(),
            reply_to: None,
            must_not: Vec::new(),
            units_read: 0,
        }
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        match self.io {
            Io::Datagram(_) | Io::DatagramServer(_) => Transport::Datagram,
            _ => Transport::Stream,
        }
    }

    fn take_partial(&self) -> Vec<u8> {
        self.buf.clone()
    }

    /// Write `data` in one `write` (plus flush), within `deadline`.
    pub async fn send(
        &mut self,
        data: &[u8],
        deadline: Instant,
        rec: &mut Recorder,
    ) -> Result<(), String> {
        rec.sent(&self.name, data);
        self.framer.sent(data);
        let r = match &mut self.io {
            Io::Stream(s) => {
                timeout_at(deadline, async {
                    s.write_all(data).await?;
                    s.flush().await
                })
                .await
            }
            Io::Datagram(u) => timeout_at(deadline, async { u.send(data).await.map(|_| ()) }).await,
            Io::DatagramServer(u) => {
                let Some(to) = self.reply_to else {
                    return Err(format!(
                        "nothing to answer on `{}`: no client has sent a datagram yet",
                        self.name
                    ));
                };
                timeout_at(deadline, async { u.send_to(data, to).await.map(|_| ()) }).await
            }
            Io::Closed => return Err(format!("connection `{}` is closed", self.name)),
        };
        match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("write on `{}` failed: {e}", self.name)),
            Err(_) => Err(format!(
                "write on `{}` did not complete in time (the peer does not read)",
                self.name
            )),
        }
    }

    /// Read more bytes (or one datagram) before `deadline`. `Ok(0)`: the peer closed.
    async fn fill(&mut self, deadline: Instant, rec: &mut Recorder) -> Result<usize, ReadError> {
        if let Some(how) = &self.ended {
            return Err(ReadError::Closed {
                partial: self.take_partial(),
                how: how.clone(),
            });
        }
        let datagrams = self.transport() == Transport::Datagram;
        let mut chunk = vec![0u8; if datagrams { MAX_DATAGRAM } else { READ_CHUNK }];
        let r = match &mut self.io {
            Io::Stream(s) => timeout_at(deadline, s.read(&mut chunk)).await,
            Io::Datagram(u) => timeout_at(deadline, u.recv(&mut chunk)).await,
            Io::DatagramServer(u) => match timeout_at(deadline, u.recv_from(&mut chunk)).await {
                Ok(Ok((n, from))) => {
                    self.reply_to = Some(from);
                    Ok(Ok(n))
                }
                Ok(Err(e)) => Ok(Err(e)),
                Err(e) => Err(e),
            },
            Io::Closed => Ok(Ok(0)),
        };
        match r {
            Err(_) => Err(ReadError::Timeout {
                partial: self.take_partial(),
            }),
            Ok(Ok(0)) if !datagrams => {
                self.ended = Some("closed by the peer".into());
                rec.note(&self.name, "peer closed the connection");
                Ok(0)
            }
            Ok(Ok(n)) => {
                let got = chunk.get(..n).unwrap_or_default();
                rec.received(&self.name, got);
                if datagrams {
                    self.datagrams.push_back(got.to_vec());
                } else {
                    self.buf.extend_from_slice(got);
                }
                Ok(n.max(1))
            }
            Ok(Err(e)) => {
                let how = format!("connection error: {e}");
                rec.note(&self.name, how.clone());
                self.ended = Some(how);
                Ok(0)
            }
        }
    }

    /// A unit from what is already here (pushed back, buffered, or a received datagram).
    pub fn buffered_unit(&mut self, limits: &Limits) -> Result<Option<Unit>, ReadError> {
        if let Some(u) = self.pushed_back.pop_front() {
            return Ok(Some(u));
        }
        if let Some(d) = self.datagrams.pop_front() {
            return match self.framer.decode_datagram(&d, limits) {
                Ok(u) => {
                    self.units_read += 1;
                    Ok(Some(u))
                }
                Err(error) => Err(ReadError::Frame { error, partial: d }),
            };
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        // Nothing that could complete (or break) a line-ended unit arrived since the last
        // look: do not re-scan a long unterminated line on every read.
        let fresh = self.buf.get(self.scanned..).unwrap_or_default();
        if self.framer.completes_at_line_end()
            && !fresh.contains(&b'\n')
            && self.buf.len() <= limits.max_line.saturating_add(2)
        {
            self.scanned = self.buf.len();
            return Ok(None);
        }
        match self.framer.decode(&self.buf, limits) {
            Ok(Some((used, u))) => {
                self.buf.drain(..used.min(self.buf.len()));
                self.scanned = 0;
                self.units_read += 1;
                Ok(Some(u))
            }
            Ok(None) if self.buf.len() > limits.max_reply.saturating_add(limits.max_line) => {
                Err(ReadError::Frame {
                    error: FrameError::TooLarge(format!(
                        "reply larger than {} bytes (--max-reply) without being complete",
                        limits.max_reply
                    )),
                    partial: self.take_partial(),
                })
            }
            Ok(None) => {
                self.scanned = self.buf.len();
                Ok(None)
            }
            Err(error) => Err(ReadError::Frame {
                error,
                partial: self.take_partial(),
            }),
        }
    }

    /// The next unit, before `deadline`.
    pub async fn next_unit(
        &mut self,
        deadline: Instant,
        limits: &Limits,
        rec: &mut Recorder,
    ) -> Result<Unit, ReadError> {
        loop {
            if let Some(u) = self.buffered_unit(limits)? {
                return Ok(u);
            }
            if self.fill(deadline, rec).await? == 0 {
                let how = self.ended.clone().unwrap_or_else(|| "closed".into());
                return Err(ReadError::Closed {
                    partial: self.take_partial(),
                    how,
                });
            }
        }
    }

    /// Wait for the peer to close: `Ok` on EOF or reset; any data first is returned as
    /// the error's `partial`.
    pub async fn expect_close(
        &mut self,
        deadline: Instant,
        rec: &mut Recorder,
    ) -> Result<(), ReadError> {
        if !self.pushed_back.is_empty() || !self.buf.is_empty() || !self.datagrams.is_empty() {
            let mut partial: Vec<u8> = self
                .pushed_back
                .iter()
                .flat_map(|u| u.raw.clone())
                .collect();
            partial.extend_from_slice(&self.buf);
            return Err(ReadError::Unexpected { partial });
        }
        match self.fill(deadline, rec).await {
            Ok(0) | Err(ReadError::Closed { .. }) => Ok(()),
            Ok(_) => {
                let partial = if self.buf.is_empty() {
                    self.datagrams.front().cloned().unwrap_or_default()
                } else {
                    self.buf.clone()
                };
                Err(ReadError::Unexpected { partial })
            }
            Err(e) => Err(e),
        }
    }

    /// Nothing for `until`: `Ok` when the deadline passes quietly.
    pub async fn expect_silence(
        &mut self,
        until: Instant,
        rec: &mut Recorder,
    ) -> Result<(), ReadError> {
        if !self.pushed_back.is_empty() || !self.buf.is_empty() || !self.datagrams.is_empty() {
            let partial = self.buf.clone();
            return Err(ReadError::Unexpected { partial });
        }
        match self.fill(until, rec).await {
            Err(ReadError::Timeout { .. }) => Ok(()),
            Ok(0) | Err(ReadError::Closed { .. }) => Err(ReadError::Closed {
                partial: Vec::new(),
                how: self.ended.clone().unwrap_or_default(),
            }),
            Ok(_) => Err(ReadError::Unexpected {
                partial: self.buf.clone(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Read until the peer closes, at most `cap` bytes.
    pub async fn recv_all(
        &mut self,
        deadline: Instant,
        cap: usize,
        rec: &mut Recorder,
    ) -> Result<Vec<u8>, ReadError> {
        let mut out: Vec<u8> = self.pushed_back.drain(..).flat_map(|u| u.raw).collect();
        loop {
            out.append(&mut self.buf);
            self.scanned = 0;
            while let Some(d) = self.datagrams.pop_front() {
                out.extend_from_slice(&d);
            }
            if out.len() > cap {
                return Err(ReadError::Frame {
                    error: FrameError::TooLarge(format!(
                        "more than {cap} bytes before the close (--max-reply)"
                    )),
                    partial: out.get(..256).unwrap_or(&out).to_vec(),
                });
            }
            match self.fill(deadline, rec).await {
                Ok(0) | Err(ReadError::Closed { .. }) => return Ok(out),
                Ok(_) => {}
                Err(ReadError::Timeout { .. }) => return Err(ReadError::Timeout { partial: out }),
                Err(e) => return Err(e),
            }
        }
    }

    /// Upgrade to TLS on `side` (client for STARTTLS, server in the server role). Bytes
    /// already buffered are refused: they arrived before the handshake (RFC 3207 §4.2).
    pub async fn upgrade(
        &mut self,
        side: &TlsSide,
        deadline: Instant,
        rec: &mut Recorder,
    ) -> Result<(), String> {
        if !self.buf.is_empty() || !self.pushed_back.is_empty() {
            return Err(format!(
                "{} byte(s) arrived after the TLS go-ahead and before the handshake",
                self.buf.len() + self.pushed_back.iter().map(|u| u.raw.len()).sum::<usize>()
            ));
        }
        let Io::Stream(s) = std::mem::replace(&mut self.io, Io::Closed) else {
            return Err(format!("connection `{}` is not a TCP stream", self.name));
        };
        match timeout_at(deadline, s.upgrade(side)).await {
            Ok(Ok(tls)) => {
                let info = match &tls {
                    MaybeTls::Client(c) => {
                        let st = c.get_ref().1;
                        format!(
                            "TLS established ({:?}, {:?})",
                            st.protocol_version(),
                            st.negotiated_cipher_suite().map(|c| c.suite())
                        )
                    }
                    _ => "TLS established".to_string(),
                };
                rec.note(&self.name, info);
                self.io = Io::Stream(tls);
                Ok(())
            }
            Ok(Err(e)) => Err(format!("TLS handshake failed: {e}")),
            Err(_) => Err("TLS handshake did not complete in time".into()),
        }
    }

    /// Half-close: send FIN (after TLS close_notify), keep reading.
    pub async fn shutdown(&mut self, rec: &mut Recorder) {
        if let Io::Stream(s) = &mut self.io {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), s.shutdown()).await;
        }
        rec.note(&self.name, "wirecheck half-closed the connection");
    }

    /// Close now.
    pub async fn close(&mut self, rec: &mut Recorder) {
        if let Io::Stream(s) = &mut self.io {
            let _ = tokio::time::timeout(std::time::Duration::from_millis(200), s.shutdown()).await;
        }
        self.io = Io::Closed;
        self.ended = Some("closed by wirecheck".into());
        rec.note(&self.name, "wirecheck closed the connection");
    }
}

/// Open a TCP connection within `deadline`.
pub async fn connect_tcp(addr: &str, deadline: Instant) -> Result<(TcpStream, SocketAddr), String> {
    let r = timeout_at(deadline, async {
        let mut last = None;
        for a in tokio::net::lookup_host(addr).await? {
            match TcpStream::connect(a).await {
                Ok(s) => return Ok((s, a)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no address")))
    })
    .await;
    match r {
        Ok(Ok((s, a))) => {
            let _ = s.set_nodelay(true);
            Ok((s, a))
        }
        Ok(Err(e)) => Err(format!("cannot connect to {addr}: {e}")),
        Err(_) => Err(format!("cannot connect to {addr}: timed out")),
    }
}

/// A UDP socket connected to `addr`.
pub async fn connect_udp(addr: &str) -> Result<(UdpSocket, SocketAddr), String> {
    let peer = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {addr}"))?;
    let local: SocketAddr = if peer.is_ipv4() {
        ([127, 0, 0, 1], 0).into()
    } else {
        (std::net::Ipv6Addr::LOCALHOST, 0).into()
    };
    let local = if peer.ip().is_loopback() {
        local
    } else {
        SocketAddr::new(
            if peer.is_ipv4() {
                [0, 0, 0, 0].into()
            } else {
                std::net::Ipv6Addr::UNSPECIFIED.into()
            },
            0,
        )
    };
    let s = UdpSocket::bind(local)
        .await
        .map_err(|e| format!("cannot bind a UDP socket: {e}"))?;
    s.connect(peer)
        .await
        .map_err(|e| format!("cannot connect UDP to {addr}: {e}"))?;
    Ok((s, peer))
}
