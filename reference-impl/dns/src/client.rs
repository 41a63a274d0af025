//! The tokio side of resolution: [`Resolver`] drives the sans-IO [`Resolution`] over real
//! sockets (or asks a recursive server, as a stub), and [`RecursiveServer`] offers it to stub
//! clients over UDP and TCP.
//!
//! Transaction security (RFC 5452 §9.1): every query gets a random ID and a fresh socket (so a
//! random source port from the kernel), is sent to one address, and only a reply from that
//! address and port with that ID and question is accepted; anything else is dropped while the
//! wait goes on until the timeout.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::auth::{Transport, size_limit};
use crate::cache::Cache;
use crate::codec::{self, tcp_frame};
use crate::message::{Message, RData, Rcode, Record, RecordType};
use crate::name::Name;
use crate::recursive::{self, Plan};
use crate::resolver::{Answer, Resolution, ResolveError, ResolverConfig, Step};
use crate::server::Sockets;
use crate::tcp::with_length_prefix;

/// Entries the resolver's cache holds at most.
pub const CACHE_ENTRIES: usize = 10_000;

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// Not a valid domain name.
    #[error("invalid domain name {0:?}")]
    InvalidName(String),
    /// The name does not exist (NXDOMAIN).
    #[error("{0}: no such domain")]
    NxDomain(String),
    /// Resolution failed (SERVFAIL for a stub).
    #[error("resolution failed: {0}")]
    Failed(#[from] ResolveError),
}

#[derive(Debug)]
enum Mode {
    Iterative {
        config: ResolverConfig,
        cache: Mutex<Cache>,
    },
    Stub {
        server: SocketAddr,
        timeout: Duration,
        attempts: u8,
    },
}

/// A resolver handle (cheap to clone; clones share the cache).
#[derive(Debug, Clone)]
pub struct Resolver {
    mode: Arc<Mode>,
}

impl Resolver {
    /// An iterative resolver starting from `config.root_hints`, with its own cache.
    pub fn iterative(config: ResolverConfig) -> Resolver {
        Resolver {
            mode: Arc::new(Mode::Iterative {
                config,
                cache: Mutex::new(Cache::new(CACHE_ENTRIES)),
            }),
        }
    }

    /// A stub that sends RD queries to the recursive server at `server` (loopback only unless
    /// `allow_non_loopback`).
    pub fn stub(server: SocketAddr, allow_non_loopback: bool) -> Result<Resolver, LookupError> {
        if !allow_non_loopback && !server.ip().is_loopback() {
            return Err(LookupError::Failed(ResolveError::NonLoopback(server)));
        }
        Ok(Resolver {
            mode: Arc::new(Mode::Stub {
                server,
                timeout: Duration::from_secs(2),
                attempts: 2,
            }),
        })
    }

    /// Resolves `name`/`qtype`: the CNAME chain and the RRset, or a negative answer.
    pub async fn resolve(&self, name: &Name, qtype: RecordType) -> Result<Answer, ResolveError> {
        match &*self.mode {
            Mode::Iterative { config, cache } => {
                drive(Resolution::new(name.clone(), qtype, config), cache).await
            }
            Mode::Stub {
                server,
                timeout,
                attempts,
            } => stub_query(*server, name, qtype, *timeout, *attempts).await,
        }
    }

    /// What the cache alone says (no query sent); `None` on a miss or for a stub.
    pub async fn resolve_cached(&self, name: &Name, qtype: RecordType) -> Option<Answer> {
        let Mode::Iterative { config, cache } = &*self.mode else {
            return None;
        };
        let cfg = ResolverConfig {
            max_queries: 0,
            ..config.clone()
        };
        drive(Resolution::new(name.clone(), qtype, &cfg), cache)
            .await
            .ok()
    }

    /// The MX records of `domain` as (preference, exchange), lowest preference first; the
    /// exchange without its final dot (a null MX, RFC 7505, is `(0, ".")`). An empty list means
    /// the domain exists but has no MX: RFC 5321 §5.1's implicit MX (the domain itself) is the
    /// caller's rule to apply. NXDOMAIN is [`LookupError::NxDomain`].
    pub async fn lookup_mx(&self, domain: &str) -> Result<Vec<(u16, String)>, LookupError> {
        let name = parse_name(domain)?;
        let answer = self.resolve(&name, RecordType::MX).await?;
        if answer.rcode == Rcode::NXDOMAIN {
            return Err(LookupError::NxDomain(domain.to_string()));
        }
        let mut mx: Vec<(u16, String)> = answer
            .data(RecordType::MX)
            .filter_map(|r| match &r.rdata {
                RData::Mx {
                    preference,
                    exchange,
                } => Some((*preference, host_text(exchange))),
                _ => None,
            })
            .collect();
        mx.sort();
        Ok(mx)
    }

    /// The addresses of `host` (A then AAAA); an IP literal is returned as is. Empty when the
    /// name exists without addresses; NXDOMAIN is [`LookupError::NxDomain`].
    pub async fn lookup_ip(&self, host: &str) -> Result<Vec<IpAddr>, LookupError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let name = parse_name(host)?;
        let mut out = Vec::new();
        for qtype in [RecordType::A, RecordType::AAAA] {
            let answer = self.resolve(&name, qtype).await?;
            if answer.rcode == Rcode::NXDOMAIN {
                return Err(LookupError::NxDomain(host.to_string()));
            }
            out.extend(answer.data(qtype).filter_map(|r| match r.rdata {
                RData::A(a) => Some(IpAddr::V4(a)),
                RData::Aaaa(a) => Some(IpAddr::V6(a)),
                _ => None,
            }));
        }
        Ok(out)
    }
}

fn parse_name(text: &str) -> Result<Name, LookupError> {
    Name::parse(text).map_err(|_| LookupError::InvalidName(text.to_string()))
}

fn host_text(name: &Name) -> String {
    let s = name.to_string();
    if name.is_root() {
        s
    } else {
        s.trim_end_matches('.').to_string()
    }
}

/// Runs a resolution to its end over real sockets.
async fn drive(mut res: Resolution, cache: &Mutex<Cache>) -> Result<Answer, ResolveError> {
    loop {
        let step = {
            let mut c = cache
                .lock()
                .map_err(|_| ResolveError::Transport("cache lock poisoned".into()))?;
            res.poll(&mut c, Instant::now())
        };
        match step {
            Step::Done(result) => return result,
            Step::Wait => return Err(ResolveError::Transport("resolution stalled".into())),
            Step::Send(out) => match exchange(out.to, &out.query, out.tcp, out.timeout).await {
                Ok(resp) => {
                    let mut c = cache
                        .lock()
                        .map_err(|_| ResolveError::Transport("cache lock poisoned".into()))?;
                    res.handle_response(&resp, &mut c, Instant::now());
                }
                Err(_) => res.handle_timeout(),
            },
        }
    }
}

/// Sends `query` (with a random ID) to `to` and waits for the matching response.
pub async fn exchange(
    to: SocketAddr,
    query: &Message,
    tcp: bool,
    timeout: Duration,
) -> io::Result<Message> {
    let mut query = query.clone();
    query.header.id = rand::random();
    let wire = codec::encode(&query);
    let fut = async {
        if tcp {
            exchange_tcp(to, &wire, &query).await
        } else {
            exchange_udp(to, &wire, &query).await
        }
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?
}

/// RFC 5452 §9.1: the ID, the question, and (for UDP) the source address must match.
fn matches(query: &Message, resp: &Message) -> bool {
    resp.header.qr && resp.header.id == query.header.id && resp.questions == query.questions
}

async fn exchange_udp(to: SocketAddr, wire: &[u8], query: &Message) -> io::Result<Message> {
    let local: SocketAddr = match (to.ip().is_loopback(), to.is_ipv4()) {
        (true, true) => (Ipv4Addr::LOCALHOST, 0).into(),
        (true, false) => (Ipv6Addr::LOCALHOST, 0).into(),
        (false, true) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        (false, false) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(local).await?;
    sock.send_to(wire, to).await?;
    let mut buf = vec![0u8; 65_535];
    loop {
        let (n, from) = sock.recv_from(&mut buf).await?;
        if from != to {
            continue;
        }
        if let Ok(resp) = codec::decode(buf.get(..n).unwrap_or_default())
            && matches(query, &resp)
        {
            return Ok(resp);
        }
    }
}

async fn exchange_tcp(to: SocketAddr, wire: &[u8], query: &Message) -> io::Result<Message> {
    let mut tcp = TcpStream::connect(to).await?;
    tcp.write_all(&with_length_prefix(wire)).await?;
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if let Some((used, msg)) = tcp_frame(&pending) {
            let resp =
                codec::decode(msg).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if matches(query, &resp) {
                return Ok(resp);
            }
            pending.drain(..used);
            continue;
        }
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        pending.extend_from_slice(buf.get(..n).unwrap_or_default());
        if pending.len() > 70_000 {
            return Err(io::ErrorKind::InvalidData.into());
        }
    }
}

/// A stub query: RD set; the answer's CNAME chain from `name` and the RRset are taken from the
/// answer section (RFC 1034 §5.3.1: the recursive server did the work). TC: retried over TCP.
async fn stub_query(
    server: SocketAddr,
    name: &Name,
    qtype: RecordType,
    timeout: Duration,
    attempts: u8,
) -> Result<Answer, ResolveError> {
    let mut query = Message::query(0, name.clone(), qtype);
    query.header.rd = true;
    let mut tcp = false;
    let mut tries = 0;
    let resp = loop {
        tries += 1;
        match exchange(server, &query, tcp, timeout).await {
            Ok(r) if r.header.tc && !tcp => tcp = true,
            Ok(r) => break r,
            Err(e) if tries >= attempts.max(1) => {
                return Err(ResolveError::Transport(e.to_string()));
            }
            Err(_) => {}
        }
    };
    let rcode = resp.rcode();
    if rcode != Rcode::NOERROR && rcode != Rcode::NXDOMAIN {
        return Err(ResolveError::NoServers { zone: Name::root() });
    }
    let mut current = name.clone();
    let mut records: Vec<Record> = Vec::new();
    for _ in 0..16 {
        let set: Vec<Record> = resp
            .answers
            .iter()
            .filter(|r| r.name == current && r.rtype() == qtype)
            .cloned()
            .collect();
        if !set.is_empty() {
            records.extend(set);
            break;
        }
        let Some(cname) = resp
            .answers
            .iter()
            .find(|r| r.name == current && r.rtype() == RecordType::CNAME)
        else {
            break;
        };
        records.push(cname.clone());
        match &cname.rdata {
            RData::Cname(t) => current = t.clone(),
            _ => break,
        }
    }
    let soa = resp
        .authorities
        .iter()
        .find(|r| r.rtype() == RecordType::SOA)
        .cloned();
    Ok(Answer {
        rcode,
        records,
        soa,
    })
}

/// A running recursive service. Dropping it stops it.
pub struct RecursiveServer {
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

/// Concurrent resolutions the service runs at most.
const MAX_INFLIGHT: usize = 512;

impl RecursiveServer {
    /// Binds UDP and TCP on `addr` and serves `resolver` to stub clients.
    pub async fn start(resolver: Resolver, addr: SocketAddr) -> io::Result<RecursiveServer> {
        let sockets = crate::server::bind_pair(addr, 1)?;
        RecursiveServer::serve(resolver, sockets)
    }

    /// Serves on sockets already bound with [`crate::server::bind_pair`].
    pub fn serve(resolver: Resolver, sockets: Sockets) -> io::Result<RecursiveServer> {
        let (udp, tcp) = sockets;
        let addr = tcp.local_addr()?;
        let inflight = Arc::new(Semaphore::new(MAX_INFLIGHT));
        let mut tasks = Vec::new();
        for sock in udp {
            tasks.push(tokio::spawn(udp_loop(
                Arc::new(sock),
                resolver.clone(),
                inflight.clone(),
            )));
        }
        tasks.push(tokio::spawn(tcp_loop(tcp, resolver, inflight)));
        Ok(RecursiveServer { addr, tasks })
    }

    /// The address (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for RecursiveServer {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

/// The encoded response to one stub query (`None`: send nothing).
async fn serve_query(resolver: &Resolver, raw: &[u8], transport: Transport) -> Option<Vec<u8>> {
    let query = match codec::decode(raw) {
        Ok(q) => q,
        Err(e) => return crate::auth::formerr_for(raw, &e).map(|m| codec::encode(&m)),
    };
    let resp = match recursive::plan(&query)? {
        Plan::Reply(m) => m,
        Plan::Resolve {
            name,
            qtype,
            cache_only: true,
        } => {
            let cached = resolver.resolve_cached(&name, qtype).await.map(Ok);
            recursive::response(&query, cached.as_ref())
        }
        Plan::Resolve {
            name,
            qtype,
            cache_only: false,
        } => {
            let result = resolver.resolve(&name, qtype).await;
            recursive::response(&query, Some(&result))
        }
    };
    let mut out = Vec::new();
    codec::encode_into(&resp, size_limit(&query, transport), &mut out);
    Some(out)
}

async fn udp_loop(sock: Arc<UdpSocket>, resolver: Resolver, inflight: Arc<Semaphore>) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            continue;
        };
        let Ok(permit) = inflight.clone().acquire_owned().await else {
            return;
        };
        let raw = buf.get(..n).unwrap_or_default().to_vec();
        let (sock, resolver) = (sock.clone(), resolver.clone());
        // A resolution may take many round trips: one task per query here (not on the
        // authoritative hot path), bounded by the semaphore.
        tokio::spawn(async move {
            if let Some(out) = serve_query(&resolver, &raw, Transport::Udp).await {
                let _ = sock.send_to(&out, peer).await;
            }
            drop(permit);
        });
    }
}

async fn tcp_loop(listener: TcpListener, resolver: Resolver, inflight: Arc<Semaphore>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let Ok(permit) = inflight.clone().acquire_owned().await else {
            return;
        };
        let resolver = resolver.clone();
        tokio::spawn(async move {
            let mut pending = Vec::new();
            let mut buf = vec![0u8; 16 * 1024];
            // RFC 7766 §6.2.3: idle connections are closed.
            while let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await
            {
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(buf.get(..n).unwrap_or_default());
                while let Some((used, msg)) = tcp_frame(&pending) {
                    let reply = serve_query(&resolver, msg, Transport::Tcp).await;
                    pending.drain(..used);
                    if let Some(out) = reply
                        && stream.write_all(&with_length_prefix(&out)).await.is_err()
                    {
                        return;
                    }
                }
            }
            drop(permit);
        });
    }
}

/// Parse `NAME [TYPE] [NAME [TYPE]]...` (type `A` when omitted) into questions.
pub fn parse_questions(words: &[String]) -> Result<Vec<(Name, RecordType)>, String> {
    let mut questions = Vec::new();
    let mut words = words.iter().peekable();
    while let Some(word) = words.next() {
        let name = Name::parse(word).map_err(|e| format!("{word}: {e}"))?;
        let qtype = match words.peek().and_then(|t| RecordType::parse(t)) {
            Some(t) => {
                words.next();
                t
            }
            None => RecordType::A,
        };
        questions.push((name, qtype));
    }
    if questions.is_empty() {
        return Err("expected NAME [TYPE]...".into());
    }
    Ok(questions)
}

/// Resolve each question iteratively with one resolver (so later lookups can use the cache)
/// and render each answer in the presentation form: what `wirecheck-dns resolve` and
/// `wirecheck dns-resolve` print, the client side of the server-role DNS transcripts.
pub async fn resolve_questions(config: ResolverConfig, questions: &[(Name, RecordType)]) -> Result<String, String> {
    let resolver = Resolver::iterative(config);
    let mut out = String::new();
    for (name, qtype) in questions {
        let answer = resolver.resolve(name, *qtype).await.map_err(|e| e.to_string())?;
        let mut m = crate::Message::query(0, name.clone(), *qtype);
        m.header.qr = true;
        m.header.rcode = answer.rcode.0;
        m.answers = answer.records;
        m.authorities.extend(answer.soa);
        out.push_str(&crate::presentation::render(&m));
    }
    Ok(out)
}

