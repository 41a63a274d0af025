//! FTP (`wirecheck-ftp`): reply and command decoders, round trips (replies, commands, the
//! PORT/PASV/EPRT/EPSV address forms), and the control session with a simulated driver and
//! the in-memory tree of [`crate::memfs`].

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};

use arbitrary::Arbitrary;
use wirecheck_ftp::codec::{
    Command, Reply, ReplyLimits, decode_reply, format_eprt, format_epsv, format_port, parse_eprt, parse_epsv,
    parse_pasv, parse_port, strip_telnet,
};
use wirecheck_ftp::{Action as DriverAction, ConnInfo, DataEvent, FtpConfig, FtpSession, Payload, TransferFailure};
use wirecheck_wire::{LineBuffer, Session, TlsInfo};

use crate::memfs::MemFs;
use crate::stream::{self, Event};
use crate::hex;

/// A session script of this protocol.
pub type Script = stream::Script<Action>;

// ---------------------------------------------------------------------------------------------
// Decoders and round trips

/// `decode_reply`: never panics, stays within its limits, reports the bytes used; the reply
/// it returns is exactly those bytes, its code is the first line's (RFC 959 §4.2).
pub fn decode_reply_target(data: &[u8]) {
    let Some((&sel, buf)) = data.split_first() else { return };
    let limits = match sel % 3 {
        0 => ReplyLimits::default(),
        1 => ReplyLimits {
            max_line: 16,
            max_lines: 3,
        },
        _ => ReplyLimits {
            max_line: 512,
            max_lines: 1,
        },
    };
    let Ok(Some((used, reply))) = decode_reply(buf, &limits) else {
        return;
    };
    assert!(used > 0 && used <= buf.len());
    assert_eq!(reply.raw, buf[..used]);
    assert!(
        reply.lines.len() <= limits.max_lines,
        "{} lines over the limit",
        reply.lines.len()
    );
    assert!((100..700).contains(&reply.code), "code {}", reply.code);
    assert!(reply.raw.starts_with(format!("{:03}", reply.code).as_bytes()));
    // A reply decoded from its own bytes is the same reply.
    let again = decode_reply(&reply.raw, &limits);
    assert!(
        matches!(&again, Ok(Some((n, r))) if *n == used && *r == reply),
        "{again:?}"
    );
}

/// RFC 959 §3.4.2 block mode (`codec::block`): decoding never panics, does not depend on how
/// the bytes are split (the first byte says where), and the blocks re-encoded from what it read
/// decode to the same events.
pub fn decode_block_target(data: &[u8]) {
    use wirecheck_ftp::codec::block::{BlockDecoder, BlockEvent, RESTART, encode_block, encode_data, encode_eof};
    let Some((&cut, buf)) = data.split_first() else { return };
    let whole = BlockDecoder::new().push(buf);
    let (a, b) = buf.split_at(usize::from(cut).min(buf.len()));
    let mut d = BlockDecoder::new();
    let split = d.push(a).and_then(|mut e| {
        e.extend(d.push(b)?);
        Ok(e)
    });
    match (&whole, &split) {
        (Ok(x), Ok(y)) => assert_eq!(x, y, "split at {cut} of {}", hex(buf)),
        (Err(_), Err(_)) => {}
        _ => panic!("whole {whole:?} vs split at {cut} {split:?} of {}", hex(buf)),
    }
    let Ok(events) = whole else { return };
    let mut wire = Vec::new();
    for e in &events {
        match e {
            BlockEvent::Data(x) => encode_data(x, &mut wire),
            BlockEvent::Marker(m) => encode_block(RESTART, m.as_bytes(), &mut wire),
            BlockEvent::Eof => encode_eof(&mut wire),
        }
    }
    assert_eq!(BlockDecoder::new().push(&wire).as_ref(), Ok(&events), "re-encoded {}", hex(&wire));
}

/// `Command::decode` (after Telnet stripping, as the session does): never panics; an
/// accepted command encodes to one line that decodes to the same command.
pub fn decode_command_target(line: &[u8]) {
    let line = strip_telnet(line);
    let Ok(cmd) = Command::decode(&line) else { return };
    // F3 (fixed): RFC 959 §4.1.3, §5.3.2 <char> excludes CR and LF, so no command with a bare
    // CR or LF left in its line is accepted.
    assert!(
        !line.iter().any(|&b| b == b'\r' || b == b'\n'),
        "a line with a bare CR or LF was accepted as {cmd:?} (from {})",
        hex(&line)
    );
    let wire = cmd.encode();
    let body = wire.strip_suffix(b"\r\n").expect("encode ends in CRLF");
    assert!(
        !body.windows(2).any(|w| w == b"\r\n") && !body.contains(&b'\n'),
        "encoded command is not one line: {:?} (from {})",
        String::from_utf8_lossy(&wire),
        hex(&line)
    );
    match Command::decode(body) {
        Ok(back) => assert_eq!(back, cmd, "round trip of {} changed it", hex(&line)),
        Err(e) => panic!(
            "encoded {:?} does not decode: {e} (from {})",
            String::from_utf8_lossy(body),
            hex(&line)
        ),
    }
}

/// Replies, addresses and ports from arbitrary values.
#[derive(Debug, Arbitrary)]
pub struct RoundTrip {
    code: u16,
    texts: Vec<String>,
    v4: [u8; 4],
    v6: [u8; 16],
    port: u16,
}

/// `Reply::multi` -> `decode_reply` keeps the code and the texts; `format_port` ->
/// `parse_port` / `parse_pasv`, `format_eprt` -> `parse_eprt`, `format_epsv` -> `parse_epsv`
/// give the address back (RFC 959 §4.1.2, RFC 2428 §2-§3).
pub fn round_trip(v: RoundTrip) {
    let code = 100 + v.code % 500;
    let texts: Vec<String> = v
        .texts
        .iter()
        .take(20)
        .map(|t| t.chars().filter(|&c| c != '\r' && c != '\n').collect())
        .collect();
    if !texts.is_empty() {
        let reply = Reply::multi(code, &texts);
        match decode_reply(&reply.raw, &ReplyLimits::default()) {
            Ok(Some((n, back))) => {
                assert_eq!(n, reply.raw.len(), "one reply: {}", hex(&reply.raw));
                assert_eq!(back.code, code);
                // RFC 959 §4.2: a middle line that starts with a digit is sent indented by one
                // space (so it cannot end the reply); the text keeps that space.
                let n = texts.len();
                let sent: Vec<String> = texts
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        if i > 0 && i + 1 < n && t.starts_with(|c: char| c.is_ascii_digit()) {
                            format!(" {t}")
                        } else {
                            t.clone()
                        }
                    })
                    .collect();
                assert_eq!(back.text(), sent.join("\n"), "{}", hex(&reply.raw));
            }
            other => panic!("{}: {other:?}", hex(&reply.raw)),
        }
    }
    // Port 0 names no connection: PORT and EPRT arguments carry a real port.
    if v.port == 0 {
        return;
    }
    let a4 = SocketAddrV4::new(Ipv4Addr::from(v.v4), v.port);
    let port = format_port(a4);
    assert_eq!(parse_port(&port), Some(a4), "PORT {port}");
    assert_eq!(
        parse_pasv(&format!("Entering Passive Mode ({port}).")),
        Some(a4),
        "227 ({port})"
    );
    for a in [
        SocketAddr::V4(a4),
        SocketAddr::new(IpAddr::V6(Ipv6Addr::from(v.v6)), v.port),
    ] {
        let e = format_eprt(a);
        assert_eq!(parse_eprt(&e), Some(a), "EPRT {e}");
    }
    let epsv = format_epsv(v.port);
    assert_eq!(
        parse_epsv(&format!("Entering Extended Passive Mode {epsv}")),
        Some(v.port),
        "229 {epsv}"
    );
}

// ---------------------------------------------------------------------------------------------
// The control session

/// One thing the client does.
#[derive(Debug, Arbitrary)]
pub enum Action {
    /// USER/PASS as alice, anonymous, or with a wrong password.
    Login(u8),
    Command(u8, Arg),
    Line(Vec<u8>),
    Bytes(Vec<u8>),
    /// The driver moves the running transfer on.
    Driver(Move),
    Timeout,
}

#[derive(Debug, Arbitrary)]
pub enum Arg {
    None,
    Path(u8),
    Text(String),
    Number(u32),
    Port { own: bool, port: u16 },
}

#[derive(Debug, Arbitrary, Clone, Copy)]
pub enum Move {
    Connect,
    Done,
    Fail(u8),
}

const VERBS: &[&str] = &[
    "USER", "PASS", "ACCT", "CWD", "CDUP", "SMNT", "REIN", "QUIT", "PORT", "PASV", "TYPE", "STRU", "MODE", "RETR",
    "STOR", "STOU", "APPE", "ALLO", "REST", "RNFR", "RNTO", "ABOR", "DELE", "RMD", "MKD", "PWD", "LIST", "NLST",
    "SITE", "SYST", "STAT", "HELP", "NOOP", "EPRT", "EPSV", "FEAT", "OPTS", "SIZE", "MDTM", "MLST", "MLSD", "AUTH",
    "PBSZ", "PROT", "XYZ", "TURN",
];

const PATHS: &[&str] = &[
    "hello.txt",
    "/pub/crlf.txt",
    "pub",
    "/pub/sub/nested.txt",
    "/upload",
    "/upload/new.txt",
    "upload/d",
    "../../etc/passwd",
    "/upload/../hello.txt",
    "missing",
    "/pub/big.bin",
    "a\"b",
    "/upload/d/x",
    "..",
    "/",
];

const PEER: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 40000));
const LOCAL: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 2121));

impl Action {
    fn render(&self) -> Vec<u8> {
        let line = |s: String| stream::crlf(&stream::one_line(s.as_bytes()));
        match self {
            Action::Login(k) => match k % 3 {
                0 => line("USER alice\r\nPASS secret".into())
                    .into_iter()
                    .chain(Vec::new())
                    .collect::<Vec<u8>>(),
                1 => b"USER anonymous\r\nPASS guest@\r\n".to_vec(),
                _ => b"USER alice\r\nPASS wrong\r\n".to_vec(),
            },
            Action::Command(v, arg) => {
                let verb = VERBS[usize::from(*v) % VERBS.len()];
                let arg = match arg {
                    Arg::None => String::new(),
                    Arg::Path(p) => format!(" {}", PATHS[usize::from(*p) % PATHS.len()]),
                    Arg::Text(t) => format!(" {t}"),
                    Arg::Number(n) => format!(" {n}"),
                    Arg::Port { own, port } => {
                        let ip = if *own {
                            Ipv4Addr::LOCALHOST
                        } else {
                            Ipv4Addr::new(127, 0, 0, 2)
                        };
                        let a = SocketAddrV4::new(ip, *port);
                        if verb == "EPRT" {
                            format!(" {}", format_eprt(SocketAddr::V4(a)))
                        } else {
                            format!(" {}", format_port(a))
                        }
                    }
                };
                line(format!("{verb}{arg}"))
            }
            Action::Line(l) => stream::crlf(&stream::one_line(l)),
            Action::Bytes(b) => b.clone(),
            Action::Driver(_) | Action::Timeout => Vec::new(),
        }
    }
}

/// The driver side: answers listeners at once, runs transfers when the script says.
#[derive(Default)]
struct Driver {
    running: Option<wirecheck_ftp::Transfer>,
    listens: usize,
    transfers: usize,
}

impl Driver {
    /// Take every action the session asked for.
    fn serve(&mut self, s: &mut FtpSession<MemFs>) {
        // The real driver stops at the session's close (`server::drive`): it neither runs
        // actions nor reports data events after it.
        while !s.is_closed()
            && let Some(a) = s.poll_action()
        {
            match a {
                DriverAction::Listen { ip } => {
                    assert_eq!(
                        ip,
                        LOCAL.ip(),
                        "listener on another address than the control connection's"
                    );
                    self.listens += 1;
                    s.handle_data_event(DataEvent::Listening(SocketAddr::new(ip, 50000)));
                }
                DriverAction::CloseListener => {}
                DriverAction::Transfer(t) => {
                    assert!(self.running.is_none(), "a second transfer while one runs");
                    if let wirecheck_ftp::DataConnection::Active(a) = t.connection {
                        // RFC 2577 §3: no bounce to a third host, no privileged port.
                        assert_eq!(a.ip(), PEER.ip(), "active data connection to a foreign host");
                        assert!(a.port() >= 1024, "active data connection to a privileged port");
                    }
                    self.transfers += 1;
                    self.running = Some(t);
                }
                DriverAction::Abort if self.running.take().is_some() => s.handle_data_event(DataEvent::Aborted),
                _ => {}
            }
        }
    }

    fn advance(&mut self, s: &mut FtpSession<MemFs>, m: Move) {
        if s.is_closed() {
            return;
        }
        match m {
            Move::Connect => {
                if self.running.is_some() {
                    s.handle_data_event(DataEvent::Connected);
                }
            }
            Move::Done => self.finish(s),
            Move::Fail(k) => {
                if self.running.take().is_some() {
                    let f = [
                        TransferFailure::NoConnection,
                        TransferFailure::Tls,
                        TransferFailure::Network,
                        TransferFailure::Local,
                        TransferFailure::TooLarge,
                    ][usize::from(k % 5)];
                    s.handle_data_event(DataEvent::Failed(f));
                }
            }
        }
        self.serve(s);
    }

    /// Run the transfer to its end: read what is sent, write an upload.
    fn finish(&mut self, s: &mut FtpSession<MemFs>) {
        let Some(t) = self.running.take() else { return };
        if s.is_closed() {
            return;
        }
        let bytes = match t.payload {
            Payload::Bytes(b) => {
                // Listings are CRLF-terminated lines (RFC 959 §4.1.3, RFC 3659 §7.2).
                assert!(b.is_empty() || b.ends_with(b"\r\n"), "listing without a final CRLF");
                // Only CRLF ends a line: a bare CR or LF inside an entry would forge lines for
                // the client (paths with control characters are refused, RFC 959 §5.3.2).
                let bare = b.iter().enumerate().any(|(i, &c)| {
                    (c == b'\n' && (i == 0 || b[i - 1] != b'\r')) || (c == b'\r' && b.get(i + 1) != Some(&b'\n'))
                });
                assert!(!bare, "bare CR or LF in a listing: {:?}", String::from_utf8_lossy(&b));
                b.len() as u64
            }
            Payload::Read(mut r) => {
                let mut v = Vec::new();
                let _ = r.by_ref().take(1 << 20).read_to_end(&mut v);
                v.len() as u64
            }
            Payload::Write(mut w) => {
                let _ = w.write_all(b"uploaded\r\ndata\n");
                15
            }
        };
        s.handle_data_event(DataEvent::Connected);
        s.handle_data_event(DataEvent::Done { bytes });
    }
}

/// Any bytes as everything one client sends, cut into up to four reads, every transfer
/// completed: the same checks as [`session`], for seeds taken from the transcripts.
pub fn session_bytes(data: &[u8]) {
    session(Script::from_bytes(data, Action::Bytes));
}

/// Arbitrary steps into one FTP control session with a simulated driver: every command line
/// gets exactly one final reply (1xx preliminaries only for transfers, RFC 959 §4.2), the
/// replies are well formed, the driver is asked only for what the command allows (no
/// foreign or privileged active address, RFC 2577), the file tree is only written below the
/// writable directory, and nothing follows the close.
pub fn session(script: Script) {
    let cfg = FtpConfig {
        tls: script.config & 1 == 1,
        max_line: 512,
        max_queued: 8,
        ..FtpConfig::default()
    };
    let max_line = cfg.max_line;
    let mut s = FtpSession::new(
        cfg,
        MemFs::peer_tree(),
        ConnInfo {
            local: LOCAL,
            peer: PEER,
        },
    );
    let mut driver = Driver::default();
    let mut lines = LineBuffer::new(max_line);
    let mut units = 0usize;
    let mut events = Vec::new();
    let mut counting = true;
    stream::drain(&mut s, &mut events);
    for step in script.steps.iter().take(48) {
        match step.action {
            Action::Driver(m) => driver.advance(&mut s, m),
            Action::Timeout => {
                if !s.is_closed() {
                    let out = s.handle_timeout();
                    assert!(matches!(out.last(), Some(wirecheck_wire::Output::Close)), "{out:?}");
                    for o in out {
                        if let wirecheck_wire::Output::Send(b) = o {
                            events.push(Event::Send(b));
                        } else {
                            events.push(Event::Close);
                        }
                    }
                }
            }
            _ => {
                let bytes = step.action.render();
                for piece in stream::pieces(&bytes, step.cuts) {
                    let closed = s.is_closed();
                    s.handle_input(piece);
                    if !closed {
                        lines.push(piece);
                        while lines.next_line().is_some() {
                            units += 1;
                        }
                    }
                    driver.serve(&mut s);
                    let before = events.len();
                    stream::drain(&mut s, &mut events);
                    if events[before..].contains(&Event::StartTls) {
                        s.handle_tls(TlsInfo::default());
                        counting = false;
                        break;
                    }
                }
            }
        }
        driver.serve(&mut s);
        stream::drain(&mut s, &mut events);
    }
    // Let the last transfer end so every queued command is answered.
    for _ in 0..16 {
        if driver.running.is_none() {
            break;
        }
        driver.finish(&mut s);
        driver.serve(&mut s);
    }
    stream::drain(&mut s, &mut events);
    check_replies(&events, units, counting, &driver);
}

/// The first line of every reply, for assertion messages.
fn summary(events: &[Event]) -> String {
    let mut out = Vec::new();
    for e in events {
        match e {
            Event::Send(b) => out.extend(
                b.split(|&c| c == b'\n')
                    .filter(|l| l.len() > 3 && l[3] == b' ')
                    .map(|l| String::from_utf8_lossy(l).trim_end().to_string()),
            ),
            other => out.push(format!("{other:?}")),
        }
    }
    out.join(" | ")
}

fn check_replies(events: &[Event], units: usize, counting: bool, driver: &Driver) {
    let mut finals = 0usize;
    let mut prelims = 0usize;
    let mut passive = 0usize;
    let mut closed = false;
    let mut last_code = 0u16;
    let mut greeting = true;
    for (i, e) in events.iter().enumerate() {
        assert!(!closed, "output after close: {:?}", &events[i..]);
        match e {
            Event::Send(bytes) => {
                let mut rest = &bytes[..];
                while !rest.is_empty() {
                    let (n, r) = match decode_reply(rest, &ReplyLimits::default()) {
                        Ok(Some(x)) => x,
                        other => panic!("malformed reply {:?}: {other:?}", String::from_utf8_lossy(rest)),
                    };
                    rest = &rest[n..];
                    assert!((100..600).contains(&r.code), "code {}", r.code);
                    if greeting {
                        // The greeting answers no command.
                        assert_eq!(r.code, 220, "greeting");
                        greeting = false;
                    } else if r.is_preliminary() {
                        prelims += 1;
                    } else {
                        finals += 1;
                    }
                    if matches!(r.code, 227 | 229) {
                        passive += 1;
                    }
                    last_code = r.code;
                }
            }
            Event::Close => {
                closed = true;
                assert!(matches!(last_code, 221 | 421), "close after {last_code}, not 221/421");
            }
            Event::StartTls => assert_eq!(last_code, 234, "TLS after {last_code}, not 234 (RFC 4217 §4)"),
        }
    }
    assert!(
        prelims <= driver.transfers,
        "{prelims} preliminary replies for {} transfers",
        driver.transfers
    );
    assert!(
        passive <= driver.listens,
        "{passive} 227/229 replies for {} listeners",
        driver.listens
    );
    if counting {
        if closed {
            assert!(finals <= units + 1, "{finals} final replies for {units} command lines");
        } else if driver.running.is_none() {
            // RFC 959 §4.2, §5.4: every command gets exactly one final reply, a repeated ABOR
            // during an abort included (F11, fixed).
            assert_eq!(
                finals,
                units,
                "final replies vs command lines; replies: {}",
                summary(events)
            );
        }
    }
}
