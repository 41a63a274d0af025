//! A small FTP client for the integration tests, framing replies with the crate's codec, and
//! a server on 127.0.0.1 serving the peers' fixture tree.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wirecheck_ftp::codec::{Reply, ReplyLimits, decode_reply, parse_epsv, parse_pasv};
use wirecheck_ftp::fixtures::create_peer_tree;
use wirecheck_ftp::server::{ServeConfig, ServeHandle, serve};
use wirecheck_wire::driver::{MaybeTls, TlsSide};

/// Every wait in these tests is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(20);

pub struct Server {
    pub handle: ServeHandle,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl Server {
    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
}

/// A 256 MiB sparse file at `rel`: too big for any socket buffer.
pub fn make_big_file(s: &Server, rel: &str) {
    let f = std::fs::File::create(s.path(rel)).unwrap();
    f.set_len(256 << 20).unwrap();
}

pub async fn server_with(f: impl FnOnce(&mut ServeConfig)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    create_peer_tree(dir.path()).unwrap();
    let mut cfg = ServeConfig::new(dir.path());
    let tls = wirecheck_wire::tls::self_signed_server_config().unwrap();
    cfg.tls = Some(TlsSide::Server(tls));
    f(&mut cfg);
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = serve(l, cfg).unwrap();
    let addr = handle.local_addr();
    Server { handle, addr, dir }
}

pub async fn server() -> Server {
    server_with(|_| {}).await
}

pub fn tls_client_side() -> TlsSide {
    TlsSide::Client(
        wirecheck_wire::tls::insecure_client_config().unwrap(),
        wirecheck_wire::tls::server_name("127.0.0.1").unwrap(),
    )
}

pub struct Client {
    pub ctrl: MaybeTls,
    buf: Vec<u8>,
    pub server: SocketAddr,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let tcp = TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let mut c = Client {
            ctrl: MaybeTls::Plain(tcp),
            buf: Vec::new(),
            server: addr,
        };
        assert_eq!(c.reply().await.code, 220);
        c
    }

    pub async fn login(addr: SocketAddr) -> Client {
        let mut c = Client::connect(addr).await;
        c.cmd("USER alice", 331).await;
        c.cmd("PASS secret", 230).await;
        c
    }

    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
    }

    pub async fn send_raw(&mut self, b: &[u8]) {
        self.ctrl.write_all(b).await.unwrap();
        self.ctrl.flush().await.unwrap();
    }

    pub async fn reply(&mut self) -> Reply {
        tokio::time::timeout(LIMIT, async {
            loop {
                if let Some((n, r)) = decode_reply(&self.buf, &ReplyLimits::default()).unwrap() {
                    self.buf.drain(..n);
                    return r;
                }
                let mut chunk = [0u8; 4096];
                let n = self.ctrl.read(&mut chunk).await.unwrap();
                assert!(
                    n > 0,
                    "control connection closed; buffered {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
                self.buf.extend_from_slice(&chunk[..n]);
            }
        })
        .await
        .expect("reply within the limit")
    }

    /// Send `line`, expect one reply with `code`, return its text.
    pub async fn cmd(&mut self, line: &str, code: u16) -> String {
        self.send(line).await;
        let r = self.reply().await;
        assert_eq!(r.code, code, "{line} -> {}", String::from_utf8_lossy(&r.raw));
        r.text()
    }

    pub async fn starttls(&mut self) {
        self.cmd("AUTH TLS", 234).await;
        let plain = std::mem::replace(&mut self.ctrl, MaybeTls::Gone);
        self.ctrl = plain.upgrade(&tls_client_side()).await.unwrap();
    }

    /// PASV, and connect to the address it names.
    pub async fn pasv(&mut self) -> TcpStream {
        let text = self.cmd("PASV", 227).await;
        let addr = parse_pasv(&text).expect("227 carries an address");
        TcpStream::connect(addr).await.unwrap()
    }

    /// EPSV, and connect to the port it names on the control connection's host.
    pub async fn epsv(&mut self) -> TcpStream {
        let text = self.cmd("EPSV", 229).await;
        let port = parse_epsv(&text).expect("229 carries a port");
        TcpStream::connect(SocketAddr::new(self.server.ip(), port))
            .await
            .unwrap()
    }

    /// Run `cmd` (a RETR/LIST/...) on `data`, read it all, expect 150 then 226.
    pub async fn download(&mut self, cmd: &str, data: TcpStream) -> Vec<u8> {
        self.send(cmd).await;
        assert_eq!(self.reply().await.code, 150, "{cmd}");
        let got = read_all(MaybeTls::Plain(data)).await;
        assert_eq!(self.reply().await.code, 226, "{cmd}");
        got
    }

    /// Run `cmd` (a STOR/APPE/...) on `data`, send `bytes`, expect 150 then 226.
    pub async fn upload(&mut self, cmd: &str, data: TcpStream, bytes: &[u8]) -> String {
        self.send(cmd).await;
        assert_eq!(self.reply().await.code, 150, "{cmd}");
        let mut data = data;
        data.write_all(bytes).await.unwrap();
        data.shutdown().await.unwrap();
        drop(data);
        let r = self.reply().await;
        assert_eq!(r.code, 226, "{cmd}");
        r.text()
    }
}

pub async fn read_all(mut s: MaybeTls) -> Vec<u8> {
    let mut got = Vec::new();
    tokio::time::timeout(LIMIT, s.read_to_end(&mut got))
        .await
        .expect("data within the limit")
        .unwrap();
    got
}

/// Every byte value, CR, LF, CRLF, NUL and 0xFF runs included.
pub fn awkward_bytes() -> Vec<u8> {
    let mut v: Vec<u8> = (0..=255u8).collect();
    v.extend_from_slice(b"\r\n\r\r\n\n\0\0\xff\xff\r");
    v.extend((0..100_000u32).map(|i| (i % 251) as u8));
    v
}

/// Is `tool` on PATH? Prints why a test is skipped when it is not.
pub fn have(tool: &str) -> bool {
    let ok = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("SKIPPED: {tool} is not installed");
    }
    ok
}
