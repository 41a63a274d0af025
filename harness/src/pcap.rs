//! Captures: a run's traffic as a pcap file (`wirecheck run --pcap FILE`), and pcap/pcapng
//! files read back into packets (for `wirecheck import`).
//!
//! wirecheck does not sniff: it knows every byte it sent and received (the exchange of each
//! case), so the capture is **synthesised** from those records: Ethernet + IPv4 + TCP frames
//! with a SYN / SYN-ACK / ACK handshake, consistent sequence and acknowledgement numbers,
//! segments of at most 1460 bytes and FIN (or RST) at the end; UDP datagrams for DNS over
//! UDP. Cases are laid out one after another (a second apart), each keeping its own timing.
//!
//! **Ports.** A connection to the target uses the protocol's well-known server port in the
//! capture (SMTP 25, POP3 110, IMAP 143, FTP 21, DNS 53) whatever port the target really
//! listened on, so that `tshark -r FILE` dissects it without options; FTP data connections
//! keep their real ports, which the `227`/`229` replies announce (tshark follows them).
//! With [`PcapOptions::real_ports`] the real ports stay, and tshark needs to be told, e.g.
//! `tshark -r run.pcap -d tcp.port==2525,smtp`. Client ports are made up (40000 and up).
//!
//! **TLS.** After `STARTTLS`/`STLS`/`AUTH TLS` (or on an implicit-TLS connection) wirecheck
//! sees plain text that was encrypted on the wire; a synthesised capture cannot hold a real
//! TLS stream, so those bytes are left out (the connection still ends with its FIN). The
//! HTML report's exchange has them.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::Path;
use std::time::{Duration, SystemTime};

use pcap_file::DataLink;
use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::{Block, PcapNgReader};
use wirecheck_reports::{CaseResult, Direction, unescape_bytes};

use crate::transcript::script::framing_protocol;
use crate::transcript::{ConnectKind, Role, StepKind, Transcript};

/// The largest TCP payload per synthesised segment.
const MSS: usize = 1460;
/// The first made-up client port.
const FIRST_CLIENT_PORT: u16 = 40000;
/// The most frames read from one capture file.
const MAX_FRAMES: usize = 1_000_000;

/// Why a capture could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PcapError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The pcap library refused the file.
    #[error("{0}")]
    Format(String),
}

/// How a capture is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PcapOptions {
    /// Keep the target's real server ports instead of the well-known ones.
    pub real_ports: bool,
}

/// The well-known server port of a protocol.
pub fn well_known_port(protocol: &str) -> Option<u16> {
    Some(match protocol {
        "smtp" | "message" | "scenarios" => 25,
        "pop3" => 110,
        "imap" => 143,
        "ftp" => 21,
        "dns" => 53,
        _ => return None,
    })
}

/// One connection as the transcript opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnPlan {
    /// The protocol that frames it.
    pub protocol: String,
    /// UDP.
    pub udp: bool,
    /// An FTP data connection (keeps its real port).
    pub data: bool,
}

/// The connections a transcript opens, by name, in script order (the `k`-th "connected"
/// note of a name is its `k`-th entry).
pub fn conn_plans(t: &Transcript) -> HashMap<String, Vec<ConnPlan>> {
    let mut plans: HashMap<String, Vec<ConnPlan>> = HashMap::new();
    let main_protocol = framing_protocol(&t.meta.protocol).to_string();
    let udp_default = crate::protocol::by_name(&main_protocol)
        .is_some_and(|p| p.default_transport() == crate::protocol::Transport::Datagram);
    if t.meta.protocol != "scenarios" {
        plans.entry("main".into()).or_default().push(ConnPlan {
            protocol: main_protocol.clone(),
            udp: udp_default,
            data: false,
        });
    }
    for s in &t.steps {
        match &s.kind {
            StepKind::Connect {
                name,
                kind,
                protocol,
                ..
            } => plans.entry(name.clone()).or_default().push(ConnPlan {
                protocol: protocol.clone(),
                udp: *kind == ConnectKind::Udp,
                data: *kind == ConnectKind::Passive,
            }),
            StepKind::Listen {
                name,
                udp,
                protocol,
                ..
            } if t.meta.role == Role::Client => {
                plans.entry(name.clone()).or_default().push(ConnPlan {
                    protocol: protocol.clone(),
                    udp: *udp,
                    data: true,
                })
            }
            _ => {}
        }
    }
    plans
}

/// One synthesised or read frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Since the Unix epoch.
    pub ts: Duration,
    /// Ethernet + IPv4 + TCP/UDP + payload.
    pub data: Vec<u8>,
}

/// Counts of a written capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PcapStats {
    /// Frames written.
    pub frames: usize,
    /// TCP connections and UDP flows.
    pub connections: usize,
    /// Payload bytes left out because they were inside TLS.
    pub tls_bytes_left_out: usize,
}

/// Write the traffic of `cases` (each with its transcript, when known) to `path`.
pub fn write(
    path: &Path,
    cases: &[(&CaseResult, Option<&Transcript>)],
    start: SystemTime,
    opts: &PcapOptions,
) -> Result<PcapStats, PcapError> {
    let (frames, stats) = synthesise(cases, start, opts);
    let io = |source| PcapError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = PcapWriter::new(std::io::BufWriter::new(file))
        .map_err(|e| PcapError::Format(e.to_string()))?;
    for f in &frames {
        let len = u32::try_from(f.data.len()).unwrap_or(u32::MAX);
        w.write_packet(&PcapPacket::new(f.ts, len, &f.data))
            .map_err(|e| PcapError::Format(e.to_string()))?;
    }
    use std::io::Write as _;
    w.into_writer().flush().map_err(io)?;
    Ok(stats)
}

/// The frames for `cases`, in time order.
pub fn synthesise(
    cases: &[(&CaseResult, Option<&Transcript>)],
    start: SystemTime,
    opts: &PcapOptions,
) -> (Vec<Frame>, PcapStats) {
    let mut s = Synth {
        frames: Vec::new(),
        stats: PcapStats::default(),
        next_port: FIRST_CLIENT_PORT,
        ip_id: 1,
        opts: *opts,
        now: start
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default(),
        last: Duration::ZERO,
    };
    for (c, t) in cases {
        s.case(c, *t);
        s.now = s.last + Duration::from_secs(1);
    }
    s.stats.frames = s.frames.len();
    (s.frames, s.stats)
}

const TCP_FIN: u8 = 0x01;
const TCP_SYN: u8 = 0x02;
const TCP_RST: u8 = 0x04;
const TCP_PSH: u8 = 0x08;
const TCP_ACK: u8 = 0x10;

/// One synthesised flow.
struct Flow {
    client: SocketAddrV4,
    server: SocketAddrV4,
    /// wirecheck is the TCP client.
    we_are_client: bool,
    udp: bool,
    /// Next sequence numbers.
    seq_client: u32,
    seq_server: u32,
    fin_client: bool,
    fin_server: bool,
    tls: bool,
}

struct Synth {
    frames: Vec<Frame>,
    stats: PcapStats,
    next_port: u16,
    ip_id: u16,
    opts: PcapOptions,
    /// The current case's start.
    now: Duration,
    /// The latest frame time.
    last: Duration,
}

fn v4(a: SocketAddr) -> SocketAddrV4 {
    match a {
        SocketAddr::V4(a) => a,
        // IPv6 targets are drawn as IPv4 loopback (the capture is synthesised anyway).
        SocketAddr::V6(a) => SocketAddrV4::new(Ipv4Addr::LOCALHOST, a.port()),
    }
}

/// The address after `prefix` in a note, up to the first blank.
fn addr_after(note: &str, prefix: &str) -> Option<SocketAddr> {
    let rest = note.strip_prefix(prefix)?;
    rest.split_whitespace().next()?.parse().ok()
}

impl Synth {
    fn at(&mut self, t_ms: u64) -> Duration {
        let t = (self.now + Duration::from_millis(t_ms)).max(self.last + Duration::from_micros(1));
        self.last = t;
        t
    }

    fn client_port(&mut self) -> u16 {
        let p = self.next_port;
        self.next_port = if p >= 60000 { FIRST_CLIENT_PORT } else { p + 1 };
        p
    }

    fn case(&mut self, c: &CaseResult, t: Option<&Transcript>) {
        let plans = t.map(conn_plans).unwrap_or_default();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut listeners: HashMap<String, (SocketAddr, bool)> = HashMap::new();
        let mut flows: BTreeMap<String, Flow> = BTreeMap::new();
        let mut last_ms = 0;
        for e in &c.exchange {
            last_ms = e.t_ms;
            let conn = e.conn.as_str();
            match e.dir {
                Direction::Note => {
                    let n = e.data.as_str();
                    if let Some(addr) = addr_after(n, "connected to ") {
                        let k = seen.entry(conn.to_string()).or_default();
                        let plan = plans.get(conn).and_then(|p| p.get(*k)).cloned();
                        *k += 1;
                        self.close(flows.remove(conn), e.t_ms);
                        let plan = plan.unwrap_or_else(|| ConnPlan {
                            protocol: if conn == "main" {
                                framing_protocol(&c.protocol).to_string()
                            } else {
                                String::new()
                            },
                            udp: false,
                            data: conn != "main",
                        });
                        let mut server = v4(addr);
                        if !self.opts.real_ports
                            && !plan.data
                            && let Some(p) = well_known_port(&plan.protocol)
                        {
                            server.set_port(p);
                        }
                        let client = SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.client_port());
                        let udp =
                            plan.udp || (plan.protocol == "dns" && looks_like_udp_dns(c, conn));
                        flows.insert(
                            conn.to_string(),
                            self.open(client, server, true, udp, e.t_ms),
                        );
                    } else if let Some(rest) = n.strip_prefix("listening on ") {
                        if let Some(addr) =
                            rest.split_whitespace().next().and_then(|a| a.parse().ok())
                        {
                            listeners.insert(conn.to_string(), (addr, rest.contains("(UDP)")));
                            if conn == "main"
                                && rest.contains("(UDP)")
                                && t.is_some_and(|t| t.meta.role == Role::Server)
                            {
                                // The client under test sends datagrams to us.
                                let mut server = v4(addr);
                                if !self.opts.real_ports
                                    && let Some(p) = well_known_port(&c.protocol)
                                {
                                    server.set_port(p);
                                }
                                let client =
                                    SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.client_port());
                                flows.insert(
                                    conn.to_string(),
                                    self.open(client, server, false, true, e.t_ms),
                                );
                            }
                        }
                    } else if let Some(peer) = addr_after(n, "client connected from ")
                        .or_else(|| addr_after(n, "accepted a connection from "))
                    {
                        let Some((laddr, _)) = listeners.get(conn).copied() else {
                            continue;
                        };
                        let mut server = v4(laddr);
                        if conn == "main"
                            && !self.opts.real_ports
                            && let Some(p) = well_known_port(&c.protocol)
                        {
                            server.set_port(p);
                        }
                        self.close(flows.remove(conn), e.t_ms);
                        flows.insert(
                            conn.to_string(),
                            self.open(v4(peer), server, false, false, e.t_ms),
                        );
                    } else if n.starts_with("TLS established") {
                        if let Some(f) = flows.get_mut(conn) {
                            f.tls = true;
                        }
                    } else if n == "peer closed the connection" {
                        if let Some(f) = flows.get_mut(conn) {
                            let we = f.we_are_client;
                            self.fin(f, !we, e.t_ms);
                        }
                    } else if n.starts_with("connection error") {
                        if let Some(mut f) = flows.remove(conn) {
                            let we = f.we_are_client;
                            self.rst(&mut f, !we, e.t_ms);
                        }
                    } else if n == "wirecheck half-closed the connection" {
                        if let Some(f) = flows.get_mut(conn) {
                            let we = f.we_are_client;
                            self.fin(f, we, e.t_ms);
                        }
                    } else if n == "wirecheck closed the connection" {
                        self.close(flows.remove(conn), e.t_ms);
                    }
                }
                Direction::Sent | Direction::Received => {
                    let Some(f) = flows.get_mut(conn) else {
                        continue;
                    };
                    let bytes = unescape_bytes(&e.data).unwrap_or_default();
                    if f.tls {
                        self.stats.tls_bytes_left_out += bytes.len();
                        continue;
                    }
                    // Sent by wirecheck: from wirecheck's side of the flow.
                    let from_client = (e.dir == Direction::Sent) == f.we_are_client;
                    self.payload(f, from_client, &bytes, e.t_ms);
                }
            }
        }
        for (_, f) in std::mem::take(&mut flows) {
            self.close(Some(f), last_ms);
        }
    }

    fn open(
        &mut self,
        client: SocketAddrV4,
        server: SocketAddrV4,
        we_are_client: bool,
        udp: bool,
        t_ms: u64,
    ) -> Flow {
        self.stats.connections += 1;
        let isn = |a: SocketAddrV4, b: SocketAddrV4| {
            // A fixed, address-derived initial sequence number: stable captures.
            let x = u32::from(*a.ip())
                ^ (u32::from(a.port()) << 16)
                ^ u32::from(b.port())
                ^ 0x5a17_c0de;
            x.wrapping_mul(2_654_435_761)
        };
        let mut f = Flow {
            client,
            server,
            we_are_client,
            udp,
            seq_client: isn(client, server),
            seq_server: isn(server, client),
            fin_client: false,
            fin_server: false,
            tls: false,
        };
        if !udp {
            self.tcp(&f, true, TCP_SYN, &[], t_ms);
            f.seq_client = f.seq_client.wrapping_add(1);
            self.tcp(&f, false, TCP_SYN | TCP_ACK, &[], t_ms);
            f.seq_server = f.seq_server.wrapping_add(1);
            self.tcp(&f, true, TCP_ACK, &[], t_ms);
        }
        f
    }

    fn payload(&mut self, f: &mut Flow, from_client: bool, bytes: &[u8], t_ms: u64) {
        if f.udp {
            let ts = self.at(t_ms);
            let (src, dst) = if from_client {
                (f.client, f.server)
            } else {
                (f.server, f.client)
            };
            for chunk in bytes.chunks(65_000) {
                let frame =
                    ipv4_frame(src, dst, 17, &udp_segment(src, dst, chunk), &mut self.ip_id);
                self.frames.push(Frame { ts, data: frame });
            }
            return;
        }
        for chunk in bytes.chunks(MSS) {
            self.tcp(f, from_client, TCP_PSH | TCP_ACK, chunk, t_ms);
            let n = u32::try_from(chunk.len()).unwrap_or(0);
            if from_client {
                f.seq_client = f.seq_client.wrapping_add(n);
            } else {
                f.seq_server = f.seq_server.wrapping_add(n);
            }
        }
    }

    fn fin(&mut self, f: &mut Flow, from_client: bool, t_ms: u64) {
        if f.udp || (from_client && f.fin_client) || (!from_client && f.fin_server) {
            return;
        }
        self.tcp(f, from_client, TCP_FIN | TCP_ACK, &[], t_ms);
        if from_client {
            f.seq_client = f.seq_client.wrapping_add(1);
            f.fin_client = true;
        } else {
            f.seq_server = f.seq_server.wrapping_add(1);
            f.fin_server = true;
        }
        // The other side acknowledges the FIN.
        self.tcp(f, !from_client, TCP_ACK, &[], t_ms);
    }

    fn rst(&mut self, f: &mut Flow, from_client: bool, t_ms: u64) {
        if !f.udp {
            self.tcp(f, from_client, TCP_RST | TCP_ACK, &[], t_ms);
        }
    }

    /// Both sides close (wirecheck first).
    fn close(&mut self, f: Option<Flow>, t_ms: u64) {
        let Some(mut f) = f else { return };
        let we = f.we_are_client;
        self.fin(&mut f, we, t_ms);
        self.fin(&mut f, !we, t_ms);
    }

    fn tcp(&mut self, f: &Flow, from_client: bool, flags: u8, payload: &[u8], t_ms: u64) {
        let ts = self.at(t_ms);
        let (src, dst, seq, ack) = if from_client {
            (f.client, f.server, f.seq_client, f.seq_server)
        } else {
            (f.server, f.client, f.seq_server, f.seq_client)
        };
        let ack = if flags & TCP_ACK != 0 { ack } else { 0 };
        let seg = tcp_segment(src, dst, seq, ack, flags, payload);
        let frame = ipv4_frame(src, dst, 6, &seg, &mut self.ip_id);
        self.frames.push(Frame { ts, data: frame });
    }
}

/// DNS over TCP carries a length prefix: a connection whose first sent bytes are not one
/// is UDP.
fn looks_like_udp_dns(c: &CaseResult, conn: &str) -> bool {
    let first = c
        .exchange
        .iter()
        .find(|e| e.conn == conn && e.dir == Direction::Sent)
        .and_then(|e| unescape_bytes(&e.data));
    match first {
        Some(b) if b.len() >= 2 => usize::from(u16::from_be_bytes([b[0], b[1]])) != b.len() - 2,
        _ => true,
    }
}

/// The Internet checksum (RFC 1071) of `parts` concatenated.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for p in parts {
        for &b in *p {
            match odd.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo_header(src: SocketAddrV4, dst: SocketAddrV4, proto: u8, len: usize) -> [u8; 12] {
    let mut h = [0u8; 12];
    h[..4].copy_from_slice(&src.ip().octets());
    h[4..8].copy_from_slice(&dst.ip().octets());
    h[9] = proto;
    h[10..].copy_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    h
}

fn tcp_segment(
    src: SocketAddrV4,
    dst: SocketAddrV4,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    // A SYN carries the MSS option (RFC 9293 §3.7.1).
    let opts: &[u8] = if flags & TCP_SYN != 0 {
        &[2, 4, 0x05, 0xb4]
    } else {
        &[]
    };
    let hlen = 20 + opts.len();
    let mut s = Vec::with_capacity(hlen + payload.len());
    s.extend_from_slice(&src.port().to_be_bytes());
    s.extend_from_slice(&dst.port().to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    s.extend_from_slice(&ack.to_be_bytes());
    s.push(((hlen / 4) as u8) << 4);
    s.push(flags);
    s.extend_from_slice(&65535u16.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]);
    s.extend_from_slice(opts);
    s.extend_from_slice(payload);
    let sum = checksum(&[&pseudo_header(src, dst, 6, s.len()), &s]);
    s[16..18].copy_from_slice(&sum.to_be_bytes());
    s
}

fn udp_segment(src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut s = Vec::with_capacity(len);
    s.extend_from_slice(&src.port().to_be_bytes());
    s.extend_from_slice(&dst.port().to_be_bytes());
    s.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    let sum = match checksum(&[&pseudo_header(src, dst, 17, len), &s]) {
        0 => 0xffff,
        x => x,
    };
    s[6..8].copy_from_slice(&sum.to_be_bytes());
    s
}

/// Ethernet II + IPv4 around a TCP or UDP segment.
fn ipv4_frame(
    src: SocketAddrV4,
    dst: SocketAddrV4,
    proto: u8,
    segment: &[u8],
    ip_id: &mut u16,
) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + 20 + segment.len());
    // Made-up, locally administered MAC addresses: one for each side.
    let mac = |a: &SocketAddrV4| [0x02, 0, 0, 0, (a.port() >> 8) as u8, a.port() as u8];
    f.extend_from_slice(&mac(&dst));
    f.extend_from_slice(&mac(&src));
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    let total = u16::try_from(20 + segment.len()).unwrap_or(u16::MAX);
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[4..6].copy_from_slice(&ip_id.to_be_bytes());
    *ip_id = ip_id.wrapping_add(1);
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = proto;
    ip[12..16].copy_from_slice(&src.ip().octets());
    ip[16..20].copy_from_slice(&dst.ip().octets());
    let sum = checksum(&[&ip]);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(segment);
    f
}

/// A TCP or UDP packet read from a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Capture time.
    pub ts: Duration,
    /// Source.
    pub src: SocketAddr,
    /// Destination.
    pub dst: SocketAddr,
    /// TCP (with its header fields) or UDP.
    pub transport: Transport,
    /// The payload.
    pub payload: Vec<u8>,
}

/// The transport header of a [`Packet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP.
    Tcp {
        /// Sequence number.
        seq: u32,
        /// Flags (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10).
        flags: u8,
    },
    /// UDP.
    Udp,
}

impl Transport {
    /// SYN set.
    pub fn syn(self) -> bool {
        matches!(self, Transport::Tcp { flags, .. } if flags & TCP_SYN != 0)
    }
    /// FIN or RST set.
    pub fn fin_or_rst(self) -> bool {
        matches!(self, Transport::Tcp { flags, .. } if flags & (TCP_FIN | TCP_RST) != 0)
    }
}

/// Every TCP/UDP packet of a pcap or pcapng file (other frames are skipped).
pub fn read(path: &Path) -> Result<Vec<Packet>, PcapError> {
    let io = |source| PcapError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let fmt = |e: pcap_file::PcapError| PcapError::Format(format!("{}: {e}", path.display()));
    let mut out = Vec::new();
    if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut r = PcapNgReader::new(&bytes[..]).map_err(fmt)?;
        let mut links: Vec<DataLink> = Vec::new();
        while let Some(block) = r.next_block() {
            match block.map_err(fmt)? {
                Block::InterfaceDescription(i) => links.push(i.linktype),
                Block::EnhancedPacket(p) => {
                    let link = links
                        .get(p.interface_id as usize)
                        .copied()
                        .unwrap_or(DataLink::ETHERNET);
                    if let Some(pk) = parse_frame(link, p.timestamp, &p.data) {
                        out.push(pk);
                    }
                }
                Block::SimplePacket(p) => {
                    let link = links.first().copied().unwrap_or(DataLink::ETHERNET);
                    if let Some(pk) = parse_frame(link, Duration::ZERO, &p.data) {
                        out.push(pk);
                    }
                }
                _ => {}
            }
            if out.len() >= MAX_FRAMES {
                break;
            }
        }
    } else {
        let mut r = PcapReader::new(&bytes[..]).map_err(fmt)?;
        let link = r.header().datalink;
        while let Some(p) = r.next_packet() {
            let p = p.map_err(fmt)?;
            if let Some(pk) = parse_frame(link, p.timestamp, &p.data) {
                out.push(pk);
            }
            if out.len() >= MAX_FRAMES {
                break;
            }
        }
    }
    Ok(out)
}

/// A frame of link type `link` as a TCP/UDP packet (IPv4 or IPv6); `None` for anything else
/// or anything truncated.
pub fn parse_frame(link: DataLink, ts: Duration, data: &[u8]) -> Option<Packet> {
    let (ethertype, ip) = match link {
        DataLink::ETHERNET => {
            let mut et = u16::from_be_bytes([*data.get(12)?, *data.get(13)?]);
            let mut at = 14;
            while et == 0x8100 || et == 0x88a8 {
                et = u16::from_be_bytes([*data.get(at + 2)?, *data.get(at + 3)?]);
                at += 4;
            }
            (et, data.get(at..)?)
        }
        DataLink::LINUX_SLL => (
            u16::from_be_bytes([*data.get(14)?, *data.get(15)?]),
            data.get(16..)?,
        ),
        DataLink::NULL | DataLink::LOOP => {
            let family = u32::from_ne_bytes(data.get(..4)?.try_into().ok()?);
            let family_be = u32::from_be_bytes(data.get(..4)?.try_into().ok()?);
            let v6 = [24, 28, 30].contains(&family) || [24, 28, 30].contains(&family_be);
            (if v6 { 0x86dd } else { 0x0800 }, data.get(4..)?)
        }
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => (
            if data.first()? >> 4 == 6 {
                0x86dd
            } else {
                0x0800
            },
            data,
        ),
        _ => return None,
    };
    let (src, dst, proto, seg) = match ethertype {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            let frag = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]) & 0x1fff;
            if frag != 0 || ihl < 20 {
                return None;
            }
            let src = IpAddr::from(<[u8; 4]>::try_from(ip.get(12..16)?).ok()?);
            let dst = IpAddr::from(<[u8; 4]>::try_from(ip.get(16..20)?).ok()?);
            let end = total.clamp(ihl, ip.len());
            (src, dst, *ip.get(9)?, ip.get(ihl..end)?)
        }
        0x86dd => {
            let plen = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            let src = IpAddr::from(<[u8; 16]>::try_from(ip.get(8..24)?).ok()?);
            let dst = IpAddr::from(<[u8; 16]>::try_from(ip.get(24..40)?).ok()?);
            let end = (40 + plen).min(ip.len());
            (src, dst, *ip.get(6)?, ip.get(40..end)?)
        }
        _ => return None,
    };
    let port = |i: usize| Some(u16::from_be_bytes([*seg.get(i)?, *seg.get(i + 1)?]));
    let (transport, payload) = match proto {
        6 => {
            let off = usize::from(seg.get(12)? >> 4) * 4;
            let seq = u32::from_be_bytes(seg.get(4..8)?.try_into().ok()?);
            (
                Transport::Tcp {
                    seq,
                    flags: *seg.get(13)?,
                },
                seg.get(off.max(20)..)?,
            )
        }
        17 => (Transport::Udp, seg.get(8..)?),
        _ => return None,
    };
    Some(Packet {
        ts,
        src: SocketAddr::new(src, port(0)?),
        dst: SocketAddr::new(dst, port(2)?),
        transport,
        payload: payload.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::tests::case;

    #[test]
    fn checksums_verify() {
        // RFC 1071's example bytes.
        let b = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        let sum = checksum(&[&b]);
        let mut with = b.to_vec();
        with.extend_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(&[&with]), 0);
    }

    #[test]
    fn a_case_becomes_a_handshake_data_and_fin_that_read_back() {
        use Direction::*;
        let big = vec![b'x'; 3000];
        let c = case(&[
            ("main", Note, b"connected to 127.0.0.1:2525"),
            ("main", Received, b"220 hi\r\n"),
            ("main", Sent, b"EHLO x\r\n"),
            ("main", Received, &big[..]),
            ("main", Note, b"TLS established (TLSv1_3)"),
            ("main", Sent, b"secret\r\n"),
            ("main", Note, b"peer closed the connection"),
        ]);
        let (frames, stats) = synthesise(
            &[(&c, None)],
            SystemTime::UNIX_EPOCH,
            &PcapOptions::default(),
        );
        assert_eq!(stats.connections, 1);
        assert_eq!(stats.tls_bytes_left_out, 8);
        let pk: Vec<Packet> = frames
            .iter()
            .map(|f| parse_frame(DataLink::ETHERNET, f.ts, &f.data).unwrap())
            .collect();
        // SYN, SYN-ACK, ACK, 220, EHLO, 3 segments of 3000 bytes, FIN+ACK from the server,
        // then wirecheck's FIN+ACK at the end.
        assert_eq!(pk.len(), 3 + 1 + 1 + 3 + 2 + 2);
        assert!(pk[0].transport.syn() && pk[1].transport.syn());
        assert_eq!(pk[0].dst.port(), 25, "the well-known port");
        assert_eq!(pk[3].payload, b"220 hi\r\n");
        assert_eq!(pk[3].src.port(), 25);
        // Sequence numbers run on: the server's 3000 bytes follow its 220.
        let seq = |p: &Packet| match p.transport {
            Transport::Tcp { seq, .. } => seq,
            Transport::Udp => 0,
        };
        assert_eq!(seq(&pk[5]), seq(&pk[3]).wrapping_add(8));
        assert_eq!(seq(&pk[6]), seq(&pk[5]).wrapping_add(1460));
        assert!(pk[8].transport.fin_or_rst());
        assert!(frames.windows(2).all(|w| w[0].ts < w[1].ts));
        let real = synthesise(
            &[(&c, None)],
            SystemTime::UNIX_EPOCH,
            &PcapOptions { real_ports: true },
        )
        .0;
        assert_eq!(
            parse_frame(DataLink::ETHERNET, real[0].ts, &real[0].data)
                .unwrap()
                .dst
                .port(),
            2525
        );
    }

    #[test]
    fn dns_over_udp_is_datagrams() {
        use Direction::*;
        let mut c = case(&[
            ("main", Note, b"connected to 127.0.0.1:5353"),
            (
                "main",
                Sent,
                b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00",
            ),
            (
                "main",
                Received,
                b"\x12\x34\x81\x00\x00\x01\x00\x00\x00\x00\x00\x00",
            ),
        ]);
        c.protocol = "dns".into();
        let (frames, _) = synthesise(
            &[(&c, None)],
            SystemTime::UNIX_EPOCH,
            &PcapOptions::default(),
        );
        assert_eq!(frames.len(), 2);
        let p = parse_frame(DataLink::ETHERNET, Duration::ZERO, &frames[0].data).unwrap();
        assert_eq!((p.transport, p.dst.port()), (Transport::Udp, 53));
    }

    #[test]
    fn garbage_frames_are_none() {
        for n in 0..80 {
            let junk: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let _ = parse_frame(DataLink::ETHERNET, Duration::ZERO, &junk);
            let _ = parse_frame(DataLink::RAW, Duration::ZERO, &junk);
            let _ = parse_frame(DataLink::LINUX_SLL, Duration::ZERO, &junk);
        }
    }
}
