//! The POP3 server over real sockets on 127.0.0.1: our own client (framing with our codec),
//! STLS and implicit TLS, and real clients (Python's poplib, curl) when installed.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use wirecheck_pop3::codec::{BodyLimits, Status, decode_body, decode_status, response_is_multiline};
use wirecheck_pop3::server::{ServeConfig, serve};
use wirecheck_store::{Store, Users};
use wirecheck_wire::driver::{MaybeTls, TlsSide};
use wirecheck_wire::tls;

const STEP: Duration = Duration::from_secs(10);

struct Server {
    addr: SocketAddr,
    store: Store,
    task: JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(cfg: impl FnOnce(ServeConfig) -> ServeConfig) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let users = Users::from_pairs(&[("alice", "secret")]).unwrap();
    let store = Store::open(dir.path(), users).unwrap();
    store.deliver("alice", "INBOX", b"Subject: one\r\n\r\nfirst message\r\n.dot line\r\n").unwrap();
    store.deliver("alice", "INBOX", b"Subject: two\r\n\r\nsecond message\r\n").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(serve(listener, store.clone(), cfg(ServeConfig::new("localhost"))));
    Server { addr, store, task, _dir: dir }
}

/// A minimal client that frames replies with our codec.
struct Client {
    stream: MaybeTls,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let tcp = TcpStream::connect(addr).await.unwrap();
        Client { stream: MaybeTls::Plain(tcp), buf: Vec::new() }
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(STEP, self.stream.read(&mut chunk)).await.expect("reply in time").unwrap();
        assert!(n > 0, "connection closed early; buffered {:?}", String::from_utf8_lossy(&self.buf));
        self.buf.extend_from_slice(&chunk[..n]);
    }

    async fn status(&mut self) -> Status {
        loop {
            if let Some((n, st)) = decode_status(&self.buf, 510).unwrap() {
                self.buf.drain(..n);
                return st;
            }
            self.fill().await;
        }
    }

    async fn body(&mut self) -> Vec<Vec<u8>> {
        loop {
            if let Some((n, body)) = decode_body(&self.buf, &BodyLimits::default()).unwrap() {
                self.buf.drain(..n);
                assert!(body.violations.is_empty());
                return body.lines;
            }
            self.fill().await;
        }
    }

    /// Send `line`; the status, and the body when there is one.
    async fn cmd(&mut self, line: &str) -> (Status, Vec<Vec<u8>>) {
        self.stream.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
        let st = self.status().await;
        let body = if st.ok && response_is_multiline(line.as_bytes()) { self.body().await } else { Vec::new() };
        (st, body)
    }

    async fn ok(&mut self, line: &str) -> (String, Vec<String>) {
        let (st, body) = self.cmd(line).await;
        let text = String::from_utf8_lossy(&st.text).into_owned();
        assert!(st.ok, "{line} -> -ERR {text}");
        (text, body.into_iter().map(|l| String::from_utf8(l).unwrap()).collect())
    }

    async fn starttls(&mut self) {
        let side = TlsSide::Client(tls::insecure_client_config().unwrap(), tls::server_name("localhost").unwrap());
        let plain = std::mem::replace(&mut self.stream, MaybeTls::Gone);
        self.stream = plain.upgrade(&side).await.unwrap();
    }

    async fn expect_close(&mut self) {
        let mut rest = Vec::new();
        tokio::time::timeout(STEP, self.stream.read_to_end(&mut rest)).await.expect("closed in time").ok();
        assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    }
}

#[tokio::test]
async fn download_and_delete_over_tcp() {
    let srv = start(|c| c).await;
    let mut c = Client::connect(srv.addr).await;
    let greeting = c.status().await;
    assert!(greeting.ok && greeting.text.ends_with(b"@localhost>"), "APOP timestamp in {greeting:?}");
    c.ok("USER alice").await;
    let (text, _) = c.ok("PASS secret").await;
    assert_eq!(text, "alice's maildrop has 2 messages (74 octets)");
    assert_eq!(c.ok("LIST").await.1, vec!["1 42", "2 32"]);
    let (size, lines) = c.ok("RETR 1").await;
    assert_eq!(size, "42 octets");
    assert_eq!(lines, vec!["Subject: one", "", "first message", ".dot line"]);
    c.ok("DELE 1").await;
    c.ok("QUIT").await;
    c.expect_close().await;
    let left = srv.store.folder("alice", "INBOX").unwrap().messages().unwrap();
    assert_eq!(left.len(), 1, "download-and-delete removed message 1 in UPDATE");
}

#[tokio::test]
async fn second_session_gets_in_use_until_the_first_quits() {
    let srv = start(|c| c).await;
    let mut a = Client::connect(srv.addr).await;
    a.status().await;
    a.ok("USER alice").await;
    a.ok("PASS secret").await;
    let mut b = Client::connect(srv.addr).await;
    b.status().await;
    b.ok("USER alice").await;
    let (st, _) = b.cmd("PASS secret").await;
    assert_eq!(st.resp_code(), Some(&b"IN-USE"[..]));
    a.ok("QUIT").await;
    a.expect_close().await;
    b.ok("USER alice").await;
    b.ok("PASS secret").await;
}

#[tokio::test]
async fn stls_upgrades_and_keeps_authorization_state() {
    let tls_cfg = tls::self_signed_server_config().unwrap();
    let srv = start(|c| c.with_stls(tls_cfg)).await;
    let mut c = Client::connect(srv.addr).await;
    c.status().await;
    assert!(c.ok("CAPA").await.1.contains(&"STLS".to_string()));
    c.ok("STLS").await;
    c.starttls().await;
    let caps = c.ok("CAPA").await.1;
    assert!(!caps.contains(&"STLS".to_string()), "{caps:?}");
    c.ok("USER alice").await;
    c.ok("PASS secret").await;
    assert_eq!(c.ok("STAT").await.0, "2 74");
    c.ok("QUIT").await;
}

#[tokio::test]
async fn implicit_tls_greets_inside_tls() {
    let tls_cfg = tls::self_signed_server_config().unwrap();
    let srv = start(|c| c.with_implicit_tls(tls_cfg)).await;
    let mut c = Client::connect(srv.addr).await;
    c.starttls().await;
    assert!(c.status().await.ok);
    let caps = c.ok("CAPA").await.1;
    assert!(!caps.contains(&"STLS".to_string()));
    c.ok("USER alice").await;
    c.ok("PASS secret").await;
    assert_eq!(c.ok("TOP 2 0").await.1, vec!["Subject: two", ""]);
}

/// Runs `program args`, or returns None (after saying so) when it is not installed.
async fn run_tool(program: &str, args: Vec<String>) -> Option<std::process::Output> {
    let program = program.to_string();
    let out =
        tokio::task::spawn_blocking(move || std::process::Command::new(&program).args(&args).output()).await.unwrap();
    match out {
        Ok(o) => Some(o),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("running the tool: {e}"),
    }
}

const POPLIB_SCRIPT: &str = r#"
import poplib, ssl, sys
port = int(sys.argv[1])
p = poplib.POP3("127.0.0.1", port, timeout=10)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
p.stls(context=ctx)
p.user("alice")
p.pass_("secret")
count, size = p.stat()
assert (count, size) == (2, 74), (count, size)
resp, listing, _ = p.list()
assert listing == [b"1 42", b"2 32"], listing
resp, lines, octets = p.retr(1)
assert lines == [b"Subject: one", b"", b"first message", b".dot line"], lines
resp, uidl, _ = p.uidl()
assert len(uidl) == 2, uidl
p.dele(1)
p.quit()
print("poplib ok")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_poplib_with_stls() {
    let tls_cfg = tls::self_signed_server_config().unwrap();
    let srv = start(|c| c.with_stls(tls_cfg)).await;
    let args = vec!["-c".to_string(), POPLIB_SCRIPT.to_string(), srv.addr.port().to_string()];
    let Some(out) = run_tool("python3", args).await else {
        println!("SKIPPED: python3 is not installed");
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "poplib failed: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "poplib ok");
    assert_eq!(srv.store.folder("alice", "INBOX").unwrap().messages().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_lists_and_retrieves() {
    let srv = start(|c| c).await;
    let url = format!("pop3://127.0.0.1:{}/", srv.addr.port());
    let curl = |extra: &str| {
        vec![
            "-sS".to_string(),
            "--max-time".into(),
            "10".into(),
            "-u".into(),
            "alice:secret".into(),
            format!("{url}{extra}"),
        ]
    };
    let Some(list) = run_tool("curl", curl("")).await else {
        println!("SKIPPED: curl is not installed");
        return;
    };
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    assert_eq!(String::from_utf8_lossy(&list.stdout), "1 42\r\n2 32\r\n");
    let retr = run_tool("curl", curl("1")).await.unwrap();
    assert!(retr.status.success(), "{}", String::from_utf8_lossy(&retr.stderr));
    // curl un-stuffs the body and prints it as sent (CRLF line ends).
    assert_eq!(String::from_utf8_lossy(&retr.stdout), "Subject: one\r\n\r\nfirst message\r\n.dot line\r\n");
}
