//! `wirecheck import CAPTURE.pcap`: one captured session turned into a draft transcript.
//!
//! The capture (pcap or pcapng, Ethernet / Linux cooked / raw IP / BSD loopback, IPv4 or
//! IPv6) is cut into flows; one flow is chosen (the first whose server port names a
//! protocol, or `--stream N`) and its TCP stream reassembled in each direction (sequence
//! numbers, so retransmissions and reordering do not matter). What the client sent becomes
//! `C:` lines (`C>` for anything not ending in CRLF); what the server sent is framed into
//! reply units by the protocol's codec, exactly as a run frames them, and each unit becomes
//! an `S:` line (`S|` for its further lines) that matches it literally, except for what
//! legitimately varies: dates, queue ids, ports, host names from the greeting, UIDVALIDITY
//! (the redaction table of [`crate::snapshot`]), which become `*`. A server that closed the
//! connection ends the script with `expect close`. DNS over UDP works too: queries become
//! `C> hex …`, answers their presentation form.
//!
//! The draft passes against the server it was captured from (the tests check this); the
//! author then narrows it to the requirement it is about and fills in `title` and `rfc`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::pcap::{Packet, Transport};
use crate::protocol::{self, Limits, Transport as Wire, Unit};
use crate::snapshot::Redactions;

/// Why a draft could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The capture holds no TCP or UDP flow.
    #[error("the capture holds no TCP or UDP traffic")]
    Empty,
    /// `--stream N` is past the last flow.
    #[error("there is no stream {0} (the capture has {1}; see --list)")]
    NoStream(usize, usize),
    /// The protocol cannot be told from the ports.
    #[error(
        "cannot tell the protocol of stream {index} (server port {port}): give --protocol smtp|pop3|imap|ftp|dns"
    )]
    UnknownProtocol {
        /// The stream.
        index: usize,
        /// Its server port.
        port: u16,
    },
    /// The protocol has no adapter.
    #[error("unknown protocol {0:?}")]
    BadProtocol(String),
}

/// What to import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// The protocol (default: from the server port).
    pub protocol: Option<String>,
    /// The flow, by its index in [`flows`] (default: the first with a known protocol).
    pub stream: Option<usize>,
    /// The draft's id (default `<protocol>.imported.<name>`).
    pub id: Option<String>,
    /// The capture's name, for the id and the title.
    pub source: String,
}

/// `wirecheck import`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// A pcap or pcapng capture.
    pub capture: std::path::PathBuf,
    /// Which flow (see --list; default: the first with a known protocol).
    #[arg(long, value_name = "N")]
    pub stream: Option<usize>,
    /// The protocol (default: from the server port).
    #[arg(long, value_name = "PROTOCOL")]
    pub protocol: Option<String>,
    /// The draft's id (default: PROTOCOL.imported.NAME).
    #[arg(long)]
    pub id: Option<String>,
    /// Write the draft here (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// List the capture's flows, import nothing.
    #[arg(long)]
    pub list: bool,
}

/// Run `wirecheck import`.
pub fn main(a: &ImportArgs) -> anyhow::Result<u8> {
    let packets = crate::pcap::read(&a.capture)?;
    if a.list {
        for f in flows(&packets) {
            println!(
                "{:>3}  {} {} -> {}  {} packet(s), {} byte(s){}",
                f.index,
                if f.udp { "udp" } else { "tcp" },
                f.client,
                f.server,
                f.packets,
                f.bytes,
                f.protocol.map(|p| format!("  ({p})")).unwrap_or_default()
            );
        }
        return Ok(0);
    }
    let opts = ImportOptions {
        protocol: a.protocol.clone(),
        stream: a.stream,
        id: a.id.clone(),
        source: a.capture.file_name().map_or_else(
            || a.capture.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
    };
    let draft = import(&packets, &opts)?;
    match &a.out {
        Some(p) => {
            std::fs::write(p, &draft)
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", p.display()))?;
            eprintln!("draft transcript written to {}", p.display());
        }
        None => print!("{draft}"),
    }
    Ok(0)
}

/// One flow of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Its index.
    pub index: usize,
    /// Who opened it.
    pub client: SocketAddr,
    /// Who was connected to.
    pub server: SocketAddr,
    /// UDP (else TCP).
    pub udp: bool,
    /// Packets in it.
    pub packets: usize,
    /// Payload bytes in it.
    pub bytes: usize,
    /// The protocol its server port names.
    pub protocol: Option<&'static str>,
}

/// The protocol a server port names (well-known and the usual test ports).
pub fn protocol_of_port(port: u16) -> Option<&'static str> {
    Some(match port {
        25 | 465 | 587 | 2525 | 5870 => "smtp",
        110 | 995 | 1110 => "pop3",
        143 | 993 | 1430 => "imap",
        21 | 990 | 2121 => "ftp",
        53 | 5353 => "dns",
        _ => return None,
    })
}

/// Most bytes reassembled per direction.
const MAX_STREAM: usize = 16 << 20;

/// The flows of a capture, in order of first packet.
pub fn flows(packets: &[Packet]) -> Vec<Flow> {
    let mut out: Vec<Flow> = Vec::new();
    let mut by_key: BTreeMap<(SocketAddr, SocketAddr, bool), usize> = BTreeMap::new();
    for p in packets {
        let udp = p.transport == Transport::Udp;
        let key = (p.src.min(p.dst), p.src.max(p.dst), udp);
        let i = *by_key.entry(key).or_insert_with(|| {
            // The client: the SYN's sender; else the side whose port is not a known server
            // port; else the first packet's sender.
            let syn_only =
                matches!(p.transport, Transport::Tcp { flags, .. } if flags & 0x12 == 0x02);
            let (client, server) = if syn_only
                || protocol_of_port(p.dst.port()).is_some()
                || (protocol_of_port(p.src.port()).is_none() && p.dst.port() < p.src.port())
            {
                (p.src, p.dst)
            } else {
                (p.dst, p.src)
            };
            out.push(Flow {
                index: out.len(),
                client,
                server,
                udp,
                packets: 0,
                bytes: 0,
                protocol: protocol_of_port(server.port()),
            });
            out.len() - 1
        });
        if let Some(f) = out.get_mut(i) {
            f.packets += 1;
            f.bytes += p.payload.len();
        }
    }
    out
}

/// One direction of a TCP stream being put back in order.
#[derive(Default)]
struct Half {
    base: Option<u32>,
    next: u64,
    pending: BTreeMap<u64, Vec<u8>>,
    total: usize,
}

impl Half {
    /// The bytes this segment makes contiguous.
    fn push(&mut self, seq: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
        if syn {
            self.base = Some(seq.wrapping_add(1));
            return Vec::new();
        }
        if payload.is_empty() {
            return Vec::new();
        }
        let base = *self.base.get_or_insert(seq);
        let off = u64::from(seq.wrapping_sub(base));
        if self.total + payload.len() > MAX_STREAM {
            return Vec::new();
        }
        self.total += payload.len();
        self.pending.entry(off).or_insert_with(|| payload.to_vec());
        let mut out = Vec::new();
        while let Some((&o, _)) = self.pending.first_key_value() {
            if o > self.next {
                break;
            }
            let Some((o, data)) = self.pending.pop_first() else {
                break;
            };
            let end = o + data.len() as u64;
            if end > self.next {
                let skip = usize::try_from(self.next - o).unwrap_or(usize::MAX);
                out.extend_from_slice(data.get(skip..).unwrap_or_default());
                self.next = end;
            }
        }
        out
    }
}

/// What happened on the chosen flow, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    /// Bytes (a datagram, for UDP) from the client.
    Client(Vec<u8>),
    /// Bytes (a datagram) from the server.
    Server(Vec<u8>),
    /// The server sent FIN or RST.
    ServerClosed,
}

fn timeline(packets: &[Packet], flow: &Flow) -> Vec<Event> {
    let (mut c, mut s) = (Half::default(), Half::default());
    let mut out = Vec::new();
    let mut server_closed = false;
    for p in packets {
        let from_client = p.src == flow.client && p.dst == flow.server;
        let from_server = p.src == flow.server && p.dst == flow.client;
        if !(from_client || from_server) || (p.transport == Transport::Udp) != flow.udp {
            continue;
        }
        let data = match p.transport {
            Transport::Udp => p.payload.clone(),
            Transport::Tcp { seq, flags } => {
                let half = if from_client { &mut c } else { &mut s };
                half.push(seq, flags & 0x02 != 0, &p.payload)
            }
        };
        if !data.is_empty() {
            out.push(if from_client {
                Event::Client(data)
            } else {
                Event::Server(data)
            });
        }
        if from_server && p.transport.fin_or_rst() && !server_closed {
            server_closed = true;
            out.push(Event::ServerClosed);
        }
    }
    out
}

/// A draft transcript (TOML) for one flow of `packets`.
pub fn import(packets: &[Packet], opts: &ImportOptions) -> Result<String, ImportError> {
    let all = flows(packets);
    if all.is_empty() {
        return Err(ImportError::Empty);
    }
    let flow = match opts.stream {
        Some(n) => all.get(n).ok_or(ImportError::NoStream(n, all.len()))?,
        None => all
            .iter()
            .find(|f| f.protocol.is_some() && f.bytes > 0)
            .or_else(|| all.iter().find(|f| f.bytes > 0))
            .unwrap_or(&all[0]),
    };
    let proto_name = match &opts.protocol {
        Some(p) => p.clone(),
        None => flow
            .protocol
            .ok_or(ImportError::UnknownProtocol {
                index: flow.index,
                port: flow.server.port(),
            })?
            .to_string(),
    };
    let proto = protocol::by_name(&proto_name)
        .ok_or_else(|| ImportError::BadProtocol(proto_name.clone()))?;
    let events = timeline(packets, flow);
    let script = script(&events, proto.as_ref(), flow.udp);
    Ok(document(opts, flow, &proto_name, &script))
}

/// The script lines for `events`.
fn script(events: &[Event], proto: &dyn protocol::Protocol, udp: bool) -> Vec<String> {
    let dns = proto.name() == "dns";
    let wire = if udp { Wire::Datagram } else { Wire::Stream };
    let mut lines = Vec::new();
    if dns && !udp {
        lines.push("connect main tcp".to_string());
    }
    let mut framer = match proto.reply_framer(wire) {
        Ok(f) => f,
        Err(e) => return vec![format!("# cannot frame {} replies: {e}", proto.name())],
    };
    let limits = Limits::default();
    // Every unit's lines first (for learning volatile values), then the script.
    let mut units: Vec<Result<Unit, String>> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    let mut sbuf: Vec<u8> = Vec::new();
    for e in events {
        match e {
            Event::Client(b) if dns => {
                framer.sent(b);
                let msgs = if udp { vec![b.clone()] } else { dns_frames(b) };
                for m in msgs {
                    steps.push(Step::Send(format!("C> hex {}", hex(&m))));
                }
            }
            Event::Client(b) => {
                framer.sent(b);
                steps.extend(client_lines(b).into_iter().map(Step::Send));
            }
            Event::Server(b) if udp => {
                units.push(
                    framer
                        .decode_datagram(b, &limits)
                        .map_err(|e| e.to_string()),
                );
                steps.push(Step::Unit(units.len() - 1));
            }
            Event::Server(b) => {
                sbuf.extend_from_slice(b);
                loop {
                    match framer.decode(&sbuf, &limits) {
                        Ok(Some((used, u))) => {
                            sbuf.drain(..used.min(sbuf.len()));
                            units.push(Ok(u));
                            steps.push(Step::Unit(units.len() - 1));
                        }
                        Ok(None) => break,
                        Err(err) => {
                            units.push(Err(format!(
                                "{err}: {}",
                                wirecheck_reports::escape_bytes(&sbuf)
                            )));
                            steps.push(Step::Unit(units.len() - 1));
                            sbuf.clear();
                            break;
                        }
                    }
                }
            }
            Event::ServerClosed => steps.push(Step::Close),
        }
    }
    let body: String = units
        .iter()
        .flatten()
        .flat_map(|u| {
            u.lines
                .iter()
                .map(|l| format!("< {}\n", String::from_utf8_lossy(&l.wire)))
        })
        .collect();
    let redactions = Redactions::builtin().unwrap_or_default();
    let style = proto.style();
    for s in steps {
        match s {
            Step::Send(l) => lines.push(l),
            Step::Close => lines.push("expect close".into()),
            Step::Unit(i) => match units.get(i) {
                Some(Ok(u)) => lines.extend(unit_lines(u, style, &redactions, &body)),
                Some(Err(why)) => {
                    lines.push("S: *".into());
                    lines.push(format!("# not a valid reply: {why}"));
                }
                None => {}
            },
        }
    }
    if !sbuf.is_empty() {
        lines.push(format!(
            "# and an incomplete reply: {}",
            wirecheck_reports::escape_bytes(&sbuf)
        ));
    }
    lines
}

enum Step {
    Send(String),
    Unit(usize),
    Close,
}

fn dns_frames(mut b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some((used, m)) = wirecheck_dns::codec::tcp_frame(b) {
        out.push(m.to_vec());
        b = b.get(used..).unwrap_or_default();
    }
    if !b.is_empty() {
        out.push(b.to_vec());
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `C:` lines for CRLF-terminated lines, `C>` for anything else.
fn client_lines(b: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = b;
    while !rest.is_empty() {
        let (piece, more) = match rest.iter().position(|&c| c == b'\n') {
            Some(i) => rest.split_at(i + 1),
            None => (rest, &[][..]),
        };
        match piece.strip_suffix(b"\r\n") {
            Some(line) if !line.contains(&b'\r') && !line.contains(&b'\n') => {
                let t = escape(line, false);
                out.push(if t.is_empty() {
                    "C: ".into()
                } else {
                    format!("C: {t}")
                });
            }
            _ => out.push(format!("C> {}", escape(piece, false))),
        }
        rest = more;
    }
    out
}

/// Escape for a script line: `\`, `$`, `#`, control and non-ASCII bytes; `*` and `?` too
/// for globs; blanks at either end (the script trims them).
fn escape(b: &[u8], glob: bool) -> String {
    escape_part(b, glob, true, true)
}

/// [`escape`] for a part of a line: `lead` / `trail` when it starts / ends the line.
fn escape_part(b: &[u8], glob: bool, lead: bool, trail: bool) -> String {
    let mut s = String::with_capacity(b.len());
    for (i, &c) in b.iter().enumerate() {
        let edge = (lead && i == 0) || (trail && i + 1 == b.len());
        match c {
            b'\\' => s.push_str("\\\\"),
            b'$' => s.push_str("\\$"),
            b'#' => s.push_str("\\#"),
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'*' | b'?' if glob => {
                s.push('\\');
                s.push(c as char);
            }
            b' ' if edge => s.push_str("\\x20"),
            0x21..=0x7e | b' ' => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// A glob matching `text` literally, with `*` where `spans` (ranges of `text`) vary.
fn glob_of(text: &[u8], spans: &[std::ops::Range<usize>]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for r in spans {
        let (s, e) = (r.start.min(text.len()), r.end.min(text.len()));
        if s < at || s >= e {
            continue;
        }
        out.push_str(&escape_part(&text[at..s], true, at == 0, false));
        out.push('*');
        at = e;
    }
    out.push_str(&escape_part(&text[at..], true, at == 0, true));
    // `~ ` and `= ` would start another pattern form.
    if out.starts_with('~') || out.starts_with('=') {
        out = format!("\\x{:02x}{}", out.as_bytes()[0], &out[1..]);
    }
    out
}

/// The spans of `text` (a suffix of `wire`) that vary, from the redaction table.
fn varying(
    redactions: &Redactions,
    body: &str,
    wire: &[u8],
    text: &[u8],
) -> Vec<std::ops::Range<usize>> {
    let Ok(w) = std::str::from_utf8(wire) else {
        return Vec::new();
    };
    let line = format!("< {w}");
    let shift = 2 + wire.len().saturating_sub(text.len());
    redactions
        .spans(body, &line)
        .into_iter()
        .filter(|r| r.end > shift)
        .map(|r| r.start.saturating_sub(shift)..r.end - shift)
        .collect()
}

/// `S:` (and `S|`) lines matching one unit.
fn unit_lines(
    u: &Unit,
    style: crate::transcript::Style,
    redactions: &Redactions,
    body: &str,
) -> Vec<String> {
    use crate::protocol::Status;
    use crate::transcript::Style;
    let head = |l: &crate::protocol::UnitLine| match style {
        Style::Code => l.code.map(|c| format!("{c:03} ")),
        Style::Status => l.status.map(|s| match s {
            Status::Ok => "+OK ".to_string(),
            Status::Err => "-ERR ".to_string(),
            Status::Continuation => "+ ".to_string(),
        }),
        Style::Whole => None,
    };
    if u.lines.is_empty() {
        let spans = varying(redactions, body, &u.text, &u.text);
        return vec![format!("S: {}", glob_of(&u.text, &spans))];
    }
    let mut out = Vec::with_capacity(u.lines.len());
    for (i, l) in u.lines.iter().enumerate() {
        let (h, text) = match head(l) {
            Some(h) => (h, &l.text),
            None => (String::new(), &l.wire),
        };
        let mut g = glob_of(text, &varying(redactions, body, &l.wire, text));
        if h.is_empty() && style == Style::Status && (g.starts_with('+') || g.starts_with('-')) {
            // A body line like "+OK" would read as a status pattern.
            g = format!("\\x{:02x}{}", g.as_bytes()[0], &g[1..]);
        }
        if h.ends_with(' ') && g.is_empty() {
            out.push(format!(
                "{} {}",
                if i == 0 { "S:" } else { "S|" },
                h.trim_end()
            ));
            continue;
        }
        out.push(format!("{} {h}{g}", if i == 0 { "S:" } else { "S|" }));
    }
    out
}

/// The protocol's base RFC and a section to start from.
fn base_rfc(protocol: &str) -> &'static str {
    match protocol {
        "pop3" => "1939#3",
        "imap" => "9051#6",
        "ftp" => "959#4.1",
        "dns" => "1035#4.1",
        _ => "5321#4.1",
    }
}

fn document(opts: &ImportOptions, flow: &Flow, protocol: &str, script: &[String]) -> String {
    let stem: String = std::path::Path::new(&opts.source)
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let stem = if stem.is_empty() {
        "capture".to_string()
    } else {
        stem
    };
    let id = opts
        .id
        .clone()
        .unwrap_or_else(|| format!("{protocol}.imported.{stem}"));
    let mut s = String::new();
    s.push_str(&format!(
        "# Imported by `wirecheck import` from {} (stream {}: {} -> {}{}).\n",
        opts.source,
        flow.index,
        flow.client,
        flow.server,
        if flow.udp { ", UDP" } else { "" }
    ));
    s.push_str("# A draft: it replays the session as captured. Narrow it to one requirement,\n");
    s.push_str("# then fix `title`, `rfc` and `level`.\n");
    s.push_str(&format!("id       = {}\n", toml_str(&id)));
    s.push_str(&format!(
        "title    = {}\n",
        toml_str(&format!("Imported session from {}", opts.source))
    ));
    s.push_str(&format!("rfc      = \"{}\"\n", base_rfc(protocol)));
    s.push_str("level    = \"MUST\"\n");
    s.push_str(&format!("protocol = \"{protocol}\"\n"));
    s.push_str("tags     = [\"imported\"]\n");
    s.push_str("script = '''\n");
    for l in script {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("'''\n");
    s
}

fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn tcp(src: &str, dst: &str, seq: u32, flags: u8, data: &[u8]) -> Packet {
        Packet {
            ts: Duration::ZERO,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            transport: Transport::Tcp { seq, flags },
            payload: data.to_vec(),
        }
    }

    #[test]
    fn reassembly_survives_retransmission_and_reordering() {
        let (c, s) = ("127.0.0.1:40000", "127.0.0.1:25");
        // The server's bytes: 220 (26) at 901, "250-mx.examp" (12) at 927, "le.org\r\n" (8)
        // at 939, "250 SIZE 100\r\n" (14) at 947, "221 bye\r\n" (9) at 961, FIN at 970.
        let ps = vec![
            tcp(c, s, 100, 0x02, b""),
            tcp(s, c, 900, 0x12, b""),
            tcp(s, c, 901, 0x18, b"220 mx.example.org ESMTP\r\n"),
            tcp(c, s, 101, 0x18, b"EHLO a\r\n"),
            tcp(s, c, 947, 0x18, b"250 SIZE 100\r\n"), // before its predecessors
            tcp(s, c, 927, 0x18, b"250-mx.examp"),
            tcp(s, c, 927, 0x18, b"250-mx.examp"), // retransmitted
            tcp(s, c, 939, 0x18, b"le.org\r\n"),
            tcp(c, s, 109, 0x18, b"QUIT\r\n"),
            tcp(s, c, 961, 0x18, b"221 bye\r\n"),
            tcp(s, c, 970, 0x11, b""),
        ];
        let f = flows(&ps);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].server.port(), f[0].protocol), (25, Some("smtp")));
        let doc = import(
            &ps,
            &ImportOptions {
                source: "t.pcap".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let script: Vec<&str> = doc
            .lines()
            .skip_while(|l| !l.starts_with("script"))
            .skip(1)
            .collect();
        assert_eq!(
            script,
            [
                "S: 220 * ESMTP",
                "C: EHLO a",
                "S: 250 *",
                "S| 250 SIZE 100",
                "C: QUIT",
                "S: 221 bye",
                "expect close",
                "'''"
            ],
            "{doc}"
        );
        assert!(doc.contains("id       = \"smtp.imported.t\""));
    }

    #[test]
    fn client_bytes_and_globs_are_escaped() {
        assert_eq!(
            client_lines(b"A $x #1\r\nB\n.\r\nC"),
            ["C: A \\$x \\#1", "C> B\\n", "C: .", "C> C"]
        );
        assert_eq!(client_lines(b"\r\n"), ["C: "]);
        assert_eq!(glob_of(b" a*b? ", &[]), r"\x20a\*b\?\x20");
        assert_eq!(glob_of(b"~x", &[]), "\\x7ex");
        assert_eq!(glob_of(b"ok ABC at 12", &[3..6, 10..12]), "ok * at *");
    }
}
