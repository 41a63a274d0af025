//! Shared set-up for the end-to-end tests: two MTAs on loopback (alpha.test on 127.0.0.2,
//! beta.test on 127.0.0.3, or both on 127.0.0.1 where only that can be bound), a
//! submitting client, and maildir readers.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wirecheck_mta::{Config, ManualClock, Mta, MtaHandle};
use wirecheck_smtp::client::{ClientConfig, ClientSession, OutgoingMessage, RcptOutcome};
use wirecheck_smtp::codec::{Domain, ForwardPath, ReplyLimits, ReversePath, decode_reply};
use wirecheck_smtp::server::Recipient;
use wirecheck_wire::driver::{DriverConfig, TlsSide, drive};

pub const ALICE_PASS: &str = "secret";
pub const BOB_PASS: &str = "hunter2";

/// The message Alice sends: dot at a line start (stuffing), 8 kB of body lines.
pub fn lunch_message() -> Vec<u8> {
    let mut m = b"From: Alice <alice@alpha.test>\r\n\
To: Bob <bob@beta.test>\r\n\
Subject: Lunch?\r\n\
Date: Mon, 1 Jan 2024 12:00:00 +0000\r\n\
Message-ID: <lunch.1@alpha.test>\r\n\
\r\n\
Shall we meet at noon?\r\n\
.a line that starts with a dot\r\n"
        .to_vec();
    for i in 0..100 {
        m.extend_from_slice(format!("line {i:03} {}\r\n", "x".repeat(70)).as_bytes());
    }
    m
}

/// A fixed start time for the manual clocks.
pub fn start_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_067_200)
}

/// The two hosts' addresses: 127.0.0.2 and 127.0.0.3 when they can be bound (Linux: all of
/// 127/8 is loopback), else 127.0.0.1 for both (distinct ports).
pub fn ips() -> (IpAddr, IpAddr) {
    let two: IpAddr = "127.0.0.2".parse().unwrap_or(IpAddr::from([127, 0, 0, 1]));
    if std::net::TcpListener::bind((two, 0)).is_ok() {
        (two, IpAddr::from([127, 0, 0, 3]))
    } else {
        println!("127.0.0.2 cannot be bound here: both MTAs on 127.0.0.1");
        (IpAddr::from([127, 0, 0, 1]), IpAddr::from([127, 0, 0, 1]))
    }
}

/// A free port on `ip` (bound, then released: the MTA that binds it later is the only
/// other user of loopback ports in this test).
pub fn free_port(ip: IpAddr) -> SocketAddr {
    let l = std::net::TcpListener::bind((ip, 0)).expect("bind loopback");
    l.local_addr().expect("local addr")
}

pub fn alpha_config(dir: &Path, ip: IpAddr, beta_mx: SocketAddr) -> Config {
    let mut c = Config::new("mx.alpha.test", "alpha.test", ip, dir).with_user("alice", ALICE_PASS);
    c.mx.insert("beta.test".into(), vec![beta_mx.to_string()]);
    c.retry.connect_timeout = Duration::from_secs(5);
    c.retry.command_timeout = Duration::from_secs(10);
    c
}

pub fn beta_config(dir: &Path, mx: SocketAddr) -> Config {
    let mut c = Config::new("mx.beta.test", "beta.test", mx.ip(), dir).with_user("bob", BOB_PASS);
    c.mx_listen = mx;
    c
}

pub async fn start(config: Config, clock: &Arc<ManualClock>) -> MtaHandle {
    Mta::builder(config)
        .clock(clock.clone())
        .start()
        .await
        .expect("MTA starts")
}

/// The two-domain world of a test: a directory for both MTAs' stores and queues, one
/// manual clock, and the hosts' addresses.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub alpha_ip: IpAddr,
    pub beta_ip: IpAddr,
}

impl Net {
    pub fn new() -> Net {
        let (alpha_ip, beta_ip) = ips();
        Net {
            dir: tempfile::tempdir().expect("temp dir"),
            clock: Arc::new(ManualClock::new(start_time())),
            alpha_ip,
            beta_ip,
        }
    }

    /// A free port for beta's MX listener (beta may start later than alpha).
    pub fn beta_mx(&self) -> SocketAddr {
        free_port(self.beta_ip)
    }

    pub fn alpha_config(&self, beta_mx: SocketAddr) -> Config {
        alpha_config(&self.dir.path().join("alpha"), self.alpha_ip, beta_mx)
    }

    pub async fn alpha(&self, beta_mx: SocketAddr) -> MtaHandle {
        start(self.alpha_config(beta_mx), &self.clock).await
    }

    pub async fn beta(&self, mx: SocketAddr) -> MtaHandle {
        start(beta_config(&self.dir.path().join("beta"), mx), &self.clock).await
    }

    /// Beta up, alpha relaying to it: `(alpha, beta)`.
    pub async fn both(&self) -> (MtaHandle, MtaHandle) {
        let beta = self.beta(self.beta_mx()).await;
        (self.alpha(beta.mx_addr()).await, beta)
    }
}

/// Alice submits `msg` to `to` on alpha's submission port.
pub async fn alice_submits(alpha: &MtaHandle, msg: OutgoingMessage) -> Vec<RcptOutcome> {
    let addr = alpha.submission_addr().expect("submission port");
    submit(addr, "alice", ALICE_PASS, msg).await
}

/// A message from `from` to `to`.
pub fn outgoing(from: &str, to: &[Recipient], content: &[u8]) -> OutgoingMessage {
    OutgoingMessage {
        from: ReversePath::parse(from).unwrap(),
        recipients: to.to_vec(),
        ret: None,
        envid: None,
        content: content.to_vec(),
    }
}

/// Submit like a mail client: EHLO, STARTTLS, AUTH PLAIN as `user`, MAIL, RCPT..., DATA,
/// QUIT, with the smtp crate's client session. Returns each recipient's outcome.
pub async fn submit(
    addr: SocketAddr,
    user: &str,
    pass: &str,
    msg: OutgoingMessage,
) -> Vec<RcptOutcome> {
    let mut cfg = ClientConfig::new(Domain::parse("client.alpha.test").unwrap());
    cfg.auth = Some((user.to_string(), pass.to_string()));
    let session = ClientSession::new(cfg, vec![msg]);
    let tcp = TcpStream::connect(addr)
        .await
        .expect("connect to submission");
    let tls = wirecheck_wire::tls::insecure_client_config().unwrap();
    let name = wirecheck_wire::tls::server_name("localhost").unwrap();
    let driver = DriverConfig {
        idle_timeout: Duration::from_secs(10),
        tls: Some(TlsSide::Client(tls, name)),
        ..DriverConfig::default()
    };
    let s = tokio::time::timeout(Duration::from_secs(30), drive(tcp, session, &driver))
        .await
        .expect("submission finishes")
        .expect("submission connection");
    assert!(s.tls().is_some(), "STARTTLS was used");
    s.outcomes()[0]
        .iter()
        .map(|o| o.clone().expect("every recipient decided"))
        .collect()
}

pub fn rcpt(path: &str) -> Recipient {
    Recipient {
        path: ForwardPath::parse(path).unwrap(),
        notify: None,
        orcpt: None,
    }
}

/// Every message in `user`'s INBOX, oldest first.
pub fn inbox(mta: &MtaHandle, user: &str) -> Vec<Vec<u8>> {
    let folder = mta.store().folder(user, "INBOX").expect("INBOX");
    folder
        .messages()
        .expect("list")
        .iter()
        .map(|m| folder.read(m.uid).expect("read"))
        .collect()
}

/// The field names of a header block (up to the first empty line).
pub fn field_names(head: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(head)
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.starts_with([' ', '\t']))
        .filter_map(|l| l.split(':').next().map(str::to_string))
        .collect()
}

/// A scripted SMTP conversation, line by line (for replies the client session would not
/// show: 530, 554 relay denied, 550 unknown user).
pub struct Script {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Script {
    pub async fn connect(addr: SocketAddr) -> Script {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let mut s = Script {
            tcp,
            buf: Vec::new(),
        };
        let greeting = s.reply().await;
        assert!(greeting.starts_with("220"), "{greeting}");
        s
    }

    /// Send one command line, return the reply (all lines, `\n`-joined, with codes).
    pub async fn cmd(&mut self, line: &str) -> String {
        self.tcp
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("write");
        self.reply().await
    }

    async fn reply(&mut self) -> String {
        let limits = ReplyLimits::default();
        for _ in 0..1000 {
            if let Some((n, r)) = decode_reply(&self.buf, &limits).expect("well-formed reply") {
                self.buf.drain(..n);
                return String::from_utf8_lossy(&r.raw).trim_end().to_string();
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(10), self.tcp.read(&mut chunk))
                .await
                .expect("reply in time")
                .expect("read");
            assert!(n > 0, "connection closed while waiting for a reply");
            self.buf.extend_from_slice(&chunk[..n]);
        }
        panic!("no complete reply");
    }
}
