//! End-to-end tests over 127.0.0.1: the tokio server, STARTTLS, implicit TLS, IDLE pushes
//! across connections, and real clients (Python's imaplib, curl) when they are installed.
#![cfg(feature = "server")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wirecheck_imap::codec::{Response, ResponseKind, ResponseLimits, decode_response};
use wirecheck_imap::server::{ServeConfig, serve};
use wirecheck_imap::session::ServerConfig;
use wirecheck_store::{Store, Users};
use wirecheck_wire::driver::{MaybeTls, TlsSide};

/// Every wait in these tests is bounded by this.
const STEP: Duration = Duration::from_secs(10);

fn fixture_message(n: u32) -> Vec<u8> {
    let day = if n == 1 { "Mon" } else { "Tue" };
    format!(
        "From: Bob <bob@example.test>\nTo: Alice <alice@example.test>\nSubject: Test message {n}\nDate: {day}, 0{n} Jan 2024 10:00:00 +0000\nMessage-ID: <test{n}@example.test>\n\nHello Alice, this is test message number {n}.\n"
    )
    .into_bytes()
}

struct Server {
    addr: SocketAddr,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn start(cfg: impl FnOnce(&mut ServeConfig)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Users::from_pairs(&[("alice", "secret")]).unwrap()).unwrap();
    for n in 1..=2 {
        store.deliver("alice", "INBOX", &fixture_message(n)).unwrap();
    }
    let mut sc = ServeConfig { idle_poll: Duration::from_millis(50), ..Default::default() };
    cfg(&mut sc);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, store.clone(), sc));
    Server { addr, store, _dir: dir }
}

fn tls_side() -> TlsSide {
    TlsSide::Server(wirecheck_wire::tls::self_signed_server_config().unwrap())
}

fn client_side() -> TlsSide {
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    TlsSide::Client(wirecheck_wire::tls::insecure_client_config().unwrap(), name)
}

/// A test client that frames responses with the crate's own codec.
struct Conn {
    stream: MaybeTls,
    buf: Vec<u8>,
}

impl Conn {
    async fn connect(addr: SocketAddr, tls: bool) -> Conn {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut stream = MaybeTls::Plain(tcp);
        if tls {
            stream = stream.upgrade(&client_side()).await.unwrap();
        }
        Conn { stream, buf: Vec::new() }
    }

    async fn send(&mut self, line: &str) {
        self.stream.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
    }

    async fn response(&mut self) -> Response {
        loop {
            if let Some((n, r)) = decode_response(&self.buf, &ResponseLimits::default()).unwrap() {
                self.buf.drain(..n);
                return r;
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(STEP, self.stream.read(&mut chunk)).await.expect("server answered").unwrap();
            assert!(n > 0, "connection closed early");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Send a command and collect the responses up to its tagged completion.
    async fn command(&mut self, tag: &str, cmd: &str) -> Vec<String> {
        self.send(&format!("{tag} {cmd}")).await;
        let mut out = Vec::new();
        loop {
            let r = self.response().await;
            let done = r.kind == ResponseKind::Tagged(tag.into());
            out.push(r.text());
            if done {
                return out;
            }
        }
    }

    /// Responses up to and including the first whose text satisfies `done` (at most 20).
    async fn until(&mut self, done: impl Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..20 {
            let t = self.response().await.text();
            let end = done(&t);
            out.push(t);
            if end {
                return out;
            }
        }
        panic!("no matching response in {out:?}");
    }

    async fn upgrade(&mut self) {
        let plain = std::mem::replace(&mut self.stream, MaybeTls::Gone);
        self.stream = plain.upgrade(&client_side()).await.unwrap();
    }
}

#[tokio::test]
async fn login_select_fetch_logout_over_tcp() {
    let s = start(|_| {}).await;
    let mut c = Conn::connect(s.addr, false).await;
    assert!(c.response().await.text().starts_with("* OK [CAPABILITY IMAP4rev1"));
    assert!(c.command("a", "LOGIN alice secret").await.last().unwrap().starts_with("a OK"));
    let r = c.command("b", "SELECT INBOX").await;
    assert!(r.contains(&"* 2 EXISTS".to_string()), "{r:?}");
    let r = c.command("c", "FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])").await;
    assert_eq!(r[0], "* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {27}\r\nSubject: Test message 2\r\n\r\n)");
    let r = c.command("d", "LOGOUT").await;
    assert_eq!(r, ["* BYE Logging out", "d OK LOGOUT completed"]);
    let mut rest = Vec::new();
    let n = tokio::time::timeout(STEP, c.stream.read_to_end(&mut rest)).await.unwrap().unwrap();
    assert_eq!(n, 0, "the server closes after LOGOUT");
}

#[tokio::test]
async fn starttls_then_login() {
    let s = start(|c| {
        c.tls = Some(tls_side());
        c.session = Arc::new(ServerConfig { starttls: true, login_disabled_without_tls: true, ..Default::default() });
    })
    .await;
    let mut c = Conn::connect(s.addr, false).await;
    let greeting = c.response().await.text();
    assert!(greeting.contains("STARTTLS") && greeting.contains("LOGINDISABLED"), "{greeting}");
    assert!(c.command("a", "LOGIN alice secret").await[0].starts_with("a NO [PRIVACYREQUIRED]"));
    assert_eq!(c.command("b", "STARTTLS").await, ["b OK Begin TLS negotiation now"]);
    c.upgrade().await;
    let caps = c.command("c", "CAPABILITY").await;
    assert!(caps[0].contains("AUTH=PLAIN") && !caps[0].contains("STARTTLS"), "{caps:?}");
    assert!(c.command("d", "LOGIN alice secret").await[0].starts_with("d OK"));
}

#[tokio::test]
async fn implicit_tls() {
    let s = start(|c| {
        c.tls = Some(tls_side());
        c.implicit_tls = true;
    })
    .await;
    let mut c = Conn::connect(s.addr, true).await;
    let greeting = c.response().await.text();
    assert!(greeting.starts_with("* OK") && !greeting.contains("STARTTLS"), "{greeting}");
    assert!(c.command("a", "LOGIN alice secret").await[0].starts_with("a OK"));
}

#[tokio::test]
async fn idle_receives_updates_from_another_connection() {
    let s = start(|_| {}).await;
    let mut a = Conn::connect(s.addr, false).await;
    let mut b = Conn::connect(s.addr, false).await;
    a.response().await;
    b.response().await;
    a.command("1", "LOGIN alice secret").await;
    b.command("1", "LOGIN alice secret").await;
    a.command("2", "SELECT INBOX").await;
    b.command("2", "SELECT INBOX").await;
    a.send("3 IDLE").await;
    assert_eq!(a.response().await.kind, ResponseKind::Continuation);
    // b appends with a literal; a hears EXISTS without sending anything.
    b.send("3 APPEND INBOX {12}").await;
    assert_eq!(b.response().await.kind, ResponseKind::Continuation);
    b.stream.write_all(b"Subject: x\r\n\r\n").await.unwrap();
    // b has INBOX selected too: it hears EXISTS before its tagged OK.
    let r = b.until(|t| t.starts_with("3 ")).await;
    assert!(r.contains(&"* 3 EXISTS".to_string()) && r.last().unwrap().starts_with("3 OK [APPENDUID"), "{r:?}");
    let r = a.until(|t| t == "* 3 EXISTS").await;
    assert_eq!(r, ["* 3 EXISTS"]);
    // And an expunge by b reaches a as EXPUNGE while idling.
    b.command("4", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    b.command("5", "EXPUNGE").await;
    a.until(|t| t == "* 1 EXPUNGE").await;
    a.send("DONE").await;
    assert_eq!(a.response().await.text(), "3 OK IDLE terminated");
    let _ = &s.store;
}

/// Run a real client if it is installed; print why not otherwise.
fn have(cmd: &str, arg: &str) -> bool {
    let ok = std::process::Command::new(cmd).arg(arg).output().is_ok_and(|o| o.status.success());
    if !ok {
        println!("skipping: {cmd} is not installed");
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_imaplib_client() {
    if !have("python3", "--version") {
        return;
    }
    let s = start(|_| {}).await;
    let script = format!(
        r#"
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", {port}, timeout=10)
m.login("alice", "secret")
typ, data = m.select("INBOX")
assert typ == "OK" and data[0] == b"2", (typ, data)
typ, data = m.search(None, "SUBJECT", '"message 2"')
assert data[0] == b"2", data
typ, data = m.fetch("1", "(RFC822)")
assert b"Subject: Test message 1" in data[0][1], data
typ, data = m.append("INBOX", r"(\Seen)", None, b"Subject: appended\r\n\r\nbody\r\n")
assert typ == "OK", (typ, data)
typ, data = m.uid("SEARCH", "ALL")
assert data[0].split() == [b"1", b"2", b"3"], data
m.store("1", "+FLAGS", r"(\Deleted)")
typ, data = m.expunge()
assert data[0] == b"1", data
typ, data = m.list()
assert any(b"INBOX" in d for d in data), data
m.logout()
print("imaplib ok")
"#,
        port = s.addr.port()
    );
    let out = tokio::task::spawn_blocking(move || std::process::Command::new("python3").arg("-c").arg(script).output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("imaplib ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_client() {
    if !have("curl", "--version") {
        return;
    }
    let s = start(|_| {}).await;
    let url = format!("imap://127.0.0.1:{}/INBOX;UID=2", s.addr.port());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl").args(["-s", "--max-time", "10", "-u", "alice:secret", &url]).output()
    })
    .await
    .unwrap()
    .unwrap();
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(body.contains("Subject: Test message 2"), "{body}");
}
