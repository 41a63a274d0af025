//! One transfer on one data connection: open it (accept on the passive listener, or connect
//! to the PORT/EPRT address), protect it with TLS for `PROT P`, move the bytes (converting
//! line ends in TYPE A), close it, and report each step.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout, timeout_at};
use wirecheck_wire::driver::{MaybeTls, TlsSide};

use crate::ascii::{FromNetwork, ToNetwork};
use crate::codec::block::{self, BlockDecoder, BlockEvent};
use crate::session::{DataConnection, DataEvent, Payload, Transfer, TransferFailure};
use crate::vfs::{FileReader, FileWriter};

/// Bytes moved per read.
const CHUNK: usize = 256 * 1024;

/// What a transfer task needs.
pub(super) struct Job {
    pub(super) transfer: Transfer,
    /// The passive listener (for [`DataConnection::Passive`]).
    pub(super) listener: Option<TcpListener>,
    /// The control connection's peer: the only address a passive listener accepts.
    pub(super) peer: IpAddr,
    pub(super) tls: Option<TlsSide>,
    pub(super) timeout: Duration,
}

/// What a transfer needs of its [`Transfer`] besides the payload.
#[derive(Clone, Copy)]
struct Framing {
    ascii: bool,
    skip: u64,
    block: bool,
    offset: u64,
    max_bytes: u64,
}

/// Run `job`, reporting `Connected` and then `Done` or `Failed` through `report`.
pub(super) async fn run(job: Job, report: impl Fn(DataEvent) + Sync) {
    let Job {
        transfer: t,
        listener,
        peer,
        tls,
        timeout: limit,
    } = job;
    let tcp = match t.connection {
        DataConnection::Passive => match listener {
            Some(l) => accept_from(&l, peer, limit).await,
            None => None,
        },
        DataConnection::Active(addr) => connect(addr, limit).await,
    };
    let Some(tcp) = tcp else {
        return report(DataEvent::Failed(TransferFailure::NoConnection));
    };
    let _ = tcp.set_nodelay(true);
    report(DataEvent::Connected);
    let mut stream = MaybeTls::Plain(tcp);
    if t.protect {
        // RFC 4217 §9: TLS is negotiated once the data connection is made, after the 150.
        let Some(side) = tls else {
            return report(DataEvent::Failed(TransferFailure::Tls));
        };
        match timeout(limit, stream.upgrade(&side)).await {
            Ok(Ok(s)) => stream = s,
            _ => return report(DataEvent::Failed(TransferFailure::Tls)),
        }
    }
    let sending = !matches!(t.payload, Payload::Write(_));
    let f = Framing {
        ascii: t.ascii,
        skip: t.skip,
        block: t.block,
        offset: t.offset,
        max_bytes: t.max_bytes,
    };
    let result = match t.payload {
        Payload::Bytes(b) => {
            let mut framed = Vec::new();
            let wire = if f.block {
                block::encode_data(&b, &mut framed);
                block::encode_eof(&mut framed);
                &framed
            } else {
                &b
            };
            match timeout(limit, stream.write_all(wire)).await {
                Ok(Ok(())) => Ok(b.len() as u64),
                _ => Err(TransferFailure::Network),
            }
        }
        Payload::Read(r) => send_file(r, &mut stream, f, limit).await,
        Payload::Write(w) => receive_file(&mut stream, w, f, limit, &report).await,
    };
    // Closing the data connection ends the file in stream mode (RFC 959 §3.4.1); with TLS this
    // sends close_notify first. When sending, the close is part of the data; when receiving,
    // the client has closed already and may be gone. In block mode the EOF block ended the
    // file (RFC 959 §3.4.2) and the close follows it.
    let closed = timeout(limit, stream.shutdown()).await;
    let result = match result {
        Ok(_) if sending && !matches!(closed, Ok(Ok(()))) => Err(TransferFailure::Network),
        r => r,
    };
    drop(stream);
    match result {
        Ok(bytes) => report(DataEvent::Done { bytes }),
        Err(f) => report(DataEvent::Failed(f)),
    }
}

/// Accept the first connection from `peer` within `limit`; connections from elsewhere are
/// closed (RFC 2577 §5: a passive port is not for third parties).
async fn accept_from(l: &TcpListener, peer: IpAddr, limit: Duration) -> Option<TcpStream> {
    let deadline = Instant::now() + limit;
    loop {
        let (tcp, from) = timeout_at(deadline, l.accept()).await.ok()?.ok()?;
        if from.ip().to_canonical() == peer.to_canonical() {
            return Some(tcp);
        }
        drop(tcp);
    }
}

async fn connect(addr: SocketAddr, limit: Duration) -> Option<TcpStream> {
    timeout(limit, TcpStream::connect(addr)).await.ok()?.ok()
}

/// Read the next chunk of a file on the blocking pool.
async fn read_chunk(r: FileReader) -> Result<(FileReader, Vec<u8>), TransferFailure> {
    tokio::task::spawn_blocking(move || {
        let mut r = r;
        let mut buf = vec![0u8; CHUNK];
        let n = r.read(&mut buf).map_err(|_| TransferFailure::Local)?;
        buf.truncate(n);
        Ok((r, buf))
    })
    .await
    .map_err(|_| TransferFailure::Local)?
}

/// Write a chunk to a file on the blocking pool (and flush it when `last`).
async fn write_chunk(w: FileWriter, data: Vec<u8>, last: bool) -> Result<FileWriter, TransferFailure> {
    tokio::task::spawn_blocking(move || {
        let mut w = w;
        w.write_all(&data).map_err(|_| TransferFailure::Local)?;
        if last {
            w.flush().map_err(|_| TransferFailure::Local)?;
        }
        Ok(w)
    })
    .await
    .map_err(|_| TransferFailure::Local)?
}

async fn send_file(mut r: FileReader, s: &mut MaybeTls, t: Framing, limit: Duration) -> Result<u64, TransferFailure> {
    let (ascii, mut skip) = (t.ascii, t.skip);
    let mut conv = ToNetwork::default();
    let mut framed = Vec::new();
    let mut sent = 0u64;
    loop {
        let (r2, chunk) = read_chunk(r).await?;
        r = r2;
        if chunk.is_empty() {
            break;
        }
        let out = if ascii {
            let mut o = Vec::with_capacity(chunk.len() + chunk.len() / 16);
            conv.convert(&chunk, &mut o);
            o
        } else {
            chunk
        };
        let k = usize::try_from(skip).unwrap_or(usize::MAX).min(out.len());
        skip -= k as u64;
        let out = out.get(k..).unwrap_or_default();
        let wire = if t.block {
            framed.clear();
            block::encode_data(out, &mut framed);
            &framed[..]
        } else {
            out
        };
        match timeout(limit, s.write_all(wire)).await {
            Ok(Ok(())) => sent += out.len() as u64,
            _ => return Err(TransferFailure::Network),
        }
    }
    if t.block {
        framed.clear();
        block::encode_eof(&mut framed);
        if !matches!(timeout(limit, s.write_all(&framed)).await, Ok(Ok(()))) {
            return Err(TransferFailure::Network);
        }
    }
    match timeout(limit, s.flush()).await {
        Ok(Ok(())) => Ok(sent),
        _ => Err(TransferFailure::Network),
    }
}

async fn receive_file(
    s: &mut MaybeTls,
    mut w: FileWriter,
    t: Framing,
    limit: Duration,
    report: &(impl Fn(DataEvent) + Sync),
) -> Result<u64, TransferFailure> {
    let (ascii, max) = (t.ascii, t.max_bytes);
    let mut conv = FromNetwork::default();
    let mut buf = vec![0u8; CHUNK];
    let mut received = 0u64;
    let mut blocks = t.block.then(BlockDecoder::new);
    let mut stored = 0u64;
    loop {
        let n = match timeout(limit, s.read(&mut buf)).await {
            Ok(Ok(n)) => n,
            // A TLS peer that closes TCP without close_notify: the upload ends there (many
            // clients do this; the byte count in the 226 lets a client check).
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            _ => return Err(TransferFailure::Network),
        };
        let mut input = buf.get(..n).unwrap_or_default();
        let mut last = n == 0;
        let mut unframed = Vec::new();
        if let Some(d) = blocks.as_mut() {
            // RFC 959 §3.4.2: the EOF block ends the file; a close before it is a broken
            // transfer. Markers become `110 MARK` replies (§3.5).
            if last && d.finish().is_err() {
                return Err(TransferFailure::Network);
            }
            for ev in d.push(input).map_err(|_| TransferFailure::Network)? {
                match ev {
                    BlockEvent::Data(b) => unframed.extend_from_slice(&b),
                    BlockEvent::Marker(marker) => report(DataEvent::Mark {
                        marker,
                        offset: t.offset + stored + unframed.len() as u64,
                    }),
                    BlockEvent::Eof => last = true,
                }
            }
            input = &unframed;
            stored += unframed.len() as u64;
        }
        let n = input.len();
        received += n as u64;
        if received > max {
            return Err(TransferFailure::TooLarge);
        }
        let mut out = Vec::with_capacity(n + 1);
        if ascii {
            conv.convert(input, &mut out);
            if last {
                conv.finish(&mut out);
            }
        } else {
            out.extend_from_slice(input);
        }
        w = write_chunk(w, out, last).await?;
        if last {
            return Ok(received);
        }
    }
}
