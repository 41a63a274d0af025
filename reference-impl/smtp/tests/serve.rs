//! The tokio server over real sockets on 127.0.0.1: a raw transcript, the crate's own
//! client (with real TLS via STARTTLS), Python's smtplib and swaks (skipped when absent).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use wirecheck_smtp::client::{ClientConfig, ClientSession, OutgoingMessage, RcptStatus};
use wirecheck_smtp::codec::{Domain, ForwardPath, Mailbox, ReversePath};
use wirecheck_smtp::server::{
    MemorySink, Recipient, ServeConfig, ServeHandle, ServerConfig, serve,
};
use wirecheck_wire::driver::{DriverConfig, TlsSide, drive};
use wirecheck_wire::tls;

type Shared = Arc<Mutex<MemorySink>>;

async fn start(session: ServerConfig, tls: bool) -> (ServeHandle, Shared) {
    let mut sink = MemorySink::new("example.org");
    sink.users = vec!["alice".into()];
    sink.credentials = vec![("alice".into(), "secret".into())];
    let shared = Arc::new(Mutex::new(sink));
    let s2 = shared.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let driver = DriverConfig {
        tls: tls.then(|| TlsSide::Server(tls::self_signed_server_config().unwrap())),
        idle_timeout: Duration::from_secs(20),
        ..DriverConfig::default()
    };
    let cfg = ServeConfig {
        session,
        driver,
        max_connections: 4,
        grace: Duration::from_secs(2),
    };
    let handle = serve(listener, move || s2.clone(), cfg).unwrap();
    (handle, shared)
}

async fn read_reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(10), r.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "connection closed; got {all:?}");
        all.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return all;
        }
    }
}

#[tokio::test]
async fn raw_transcript_over_tcp() {
    let (handle, shared) = start(ServerConfig::default(), false).await;
    let tcp = TcpStream::connect(handle.local_addr()).await.unwrap();
    let (r, mut w) = tcp.into_split();
    let mut r = BufReader::new(r);
    assert!(read_reply(&mut r).await.starts_with("220 localhost ESMTP"));
    w.write_all(b"EHLO client.test\r\n").await.unwrap();
    assert!(read_reply(&mut r).await.contains("250-PIPELINING\r\n"));
    // One pipelined group including a smuggling attempt inside the data.
    w.write_all(b"MAIL FROM:<a@client.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n")
        .await
        .unwrap();
    for want in ["250 2.1.0", "250 2.1.5", "354 "] {
        assert!(read_reply(&mut r).await.starts_with(want));
    }
    w.write_all(b"Subject: t\r\n\r\nhello\n.\nMAIL FROM:<evil@x.test>\r\n.\r\n")
        .await
        .unwrap();
    assert!(read_reply(&mut r).await.starts_with("554 5.5.2"));
    w.write_all(b"MAIL FROM:<a@client.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n")
        .await
        .unwrap();
    for _ in 0..3 {
        read_reply(&mut r).await;
    }
    w.write_all(b"Subject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n")
        .await
        .unwrap();
    assert!(
        read_reply(&mut r)
            .await
            .starts_with("250 2.0.0 Ok: queued as M1")
    );
    assert!(read_reply(&mut r).await.starts_with("221 "));
    let d = shared.lock().unwrap().delivered.clone();
    assert_eq!(d.len(), 1);
    assert!(
        String::from_utf8_lossy(&d[0].message).contains("Received: from client.test ([127.0.0.1])")
    );
    handle.shutdown().await.unwrap();
}

/// Relays one message with the crate's client through the tokio driver; returns the statuses
/// and the delivered message.
async fn relay_with_own_client(tls: bool) -> (Vec<RcptStatus>, String, bool) {
    let session = ServerConfig {
        starttls: tls,
        auth: true,
        auth_requires_tls: tls,
        ..ServerConfig::default()
    };
    let (handle, shared) = start(session, tls).await;
    let tcp = TcpStream::connect(handle.local_addr()).await.unwrap();
    let mut cfg = ClientConfig::new(Domain::parse("relay.test").unwrap());
    cfg.auth = Some(("alice".into(), "secret".into()));
    let msg = OutgoingMessage {
        from: ReversePath::Mailbox(Mailbox::parse("alice@example.org").unwrap()),
        recipients: ["alice@example.org", "bob@elsewhere.test"]
            .iter()
            .map(|r| Recipient {
                path: ForwardPath::Mailbox(Mailbox::parse(r).unwrap()),
                notify: None,
                orcpt: None,
            })
            .collect(),
        ret: None,
        envid: None,
        content: b"Subject: relayed\r\n\r\n.line\r\n".to_vec(),
    };
    let client = ClientSession::new(cfg, vec![msg]);
    let side = TlsSide::Client(
        tls::insecure_client_config().unwrap(),
        tls::server_name("localhost").unwrap(),
    );
    let dcfg = DriverConfig {
        tls: Some(side),
        idle_timeout: Duration::from_secs(20),
        ..DriverConfig::default()
    };
    let client = drive(tcp, client, &dcfg).await.unwrap();
    assert!(client.is_done());
    let st = client.outcomes()[0]
        .iter()
        .map(|o| o.as_ref().unwrap().status)
        .collect();
    let d = shared.lock().unwrap().delivered.clone();
    handle.shutdown().await.unwrap();
    let m = d
        .first()
        .map(|d| String::from_utf8_lossy(&d.message).into_owned())
        .unwrap_or_default();
    (st, m, client.tls().is_some())
}

#[tokio::test]
async fn own_client_relays_with_auth() {
    let (st, m, tls) = relay_with_own_client(false).await;
    assert_eq!(st, [RcptStatus::Delivered, RcptStatus::Delivered]);
    assert!(!tls);
    assert!(m.contains("with ESMTPA"), "{m}");
    assert!(m.ends_with("\r\n.line\r\n"));
}

#[tokio::test]
async fn own_client_relays_over_starttls_and_auth() {
    let (st, m, tls) = relay_with_own_client(true).await;
    assert_eq!(st, [RcptStatus::Delivered, RcptStatus::Delivered]);
    assert!(tls);
    assert!(m.contains("with ESMTPSA"), "{m}");
}

#[tokio::test]
async fn connection_limit_and_shutdown_421() {
    let (handle, _shared) = start(ServerConfig::default(), false).await;
    let addr = handle.local_addr();
    let mut held = Vec::new();
    for _ in 0..4 {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (r, w) = tcp.into_split();
        let mut r = BufReader::new(r);
        assert!(read_reply(&mut r).await.starts_with("220"));
        held.push((r, w));
    }
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (r, _w) = tcp.into_split();
    let mut r = BufReader::new(r);
    assert!(read_reply(&mut r).await.starts_with("421 4.3.2"));
    // Graceful shutdown: a held connection's next command gets 421.
    let (mut r0, mut w0) = held.remove(0);
    let shut = tokio::spawn(handle.shutdown());
    tokio::time::sleep(Duration::from_millis(100)).await;
    w0.write_all(b"NOOP\r\n").await.unwrap();
    let got = read_reply(&mut r0).await;
    // Enhanced status code although no EHLO was given (RFC 2034 §4).
    assert!(
        got.starts_with("421 4.3.2 localhost Service shutting down"),
        "{got}"
    );
    shut.await.unwrap().unwrap();
}

/// Runs `program` with `args` (blocking, off the runtime); `None` when it is not installed.
async fn run(program: &str, args: Vec<String>) -> Option<std::process::Output> {
    let program = program.to_string();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(&program)
            .args(&args)
            .output()
            .ok()
    })
    .await
    .unwrap()
}

fn python() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|p| {
        std::process::Command::new(p)
            .arg("-c")
            .arg("import smtplib")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_sends_with_starttls_and_login() {
    let Some(py) = python() else {
        println!("SKIPPED: python3 with smtplib not found");
        return;
    };
    let session = ServerConfig {
        starttls: true,
        auth: true,
        ..ServerConfig::default()
    };
    let (handle, shared) = start(session, true).await;
    let port = handle.local_addr().port();
    let script = format!(
        r#"
import smtplib, ssl
from email.message import EmailMessage
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = EmailMessage()
m["From"] = "alice@example.org"
m["To"] = "alice@example.org"
m["Subject"] = "from smtplib"
m.set_content("hello\n.leading dot\n")
with smtplib.SMTP("127.0.0.1", {port}, local_hostname="py.test", timeout=10) as s:
    s.starttls(context=ctx)
    s.login("alice", "secret")
    s.send_message(m)
    # smtplib takes 503 ("already authenticated", RFC 4954 §4) as success.
    code, _ = s.login("alice", "secret")
    assert code == 503, code
    refused = None
    try:
        s.sendmail("alice@example.org", ["nobody@example.org"], "x")
    except smtplib.SMTPRecipientsRefused as e:
        refused = e.recipients["nobody@example.org"][0]
    assert refused == 550, refused
print("ok")
"#
    );
    let out = run(py, vec!["-c".into(), script]).await.unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let d = shared.lock().unwrap().delivered.clone();
    assert_eq!(d.len(), 1);
    let m = String::from_utf8_lossy(&d[0].message);
    assert!(
        m.contains("Subject: from smtplib") && m.contains("\r\n.leading dot\r\n"),
        "{m}"
    );
    handle.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_sends_plain_and_pipelined() {
    if run("swaks", vec!["--version".into()]).await.is_none() {
        println!("SKIPPED: swaks not installed (Debian package swaks)");
        return;
    }
    let (handle, shared) = start(ServerConfig::default(), false).await;
    let server = handle.local_addr().to_string();
    for extra in [None, Some("--pipeline")] {
        let mut args: Vec<String> = [
            "--server",
            &server,
            "--from",
            "a@client.test",
            "--to",
            "alice@example.org",
            "--helo",
            "swaks.test",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.map(String::from));
        let out = run("swaks", args).await.unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run(
        "swaks",
        [
            "--server",
            &server,
            "--to",
            "nobody@elsewhere.test",
            "--helo",
            "swaks.test",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    )
    .await
    .unwrap();
    assert!(!out.status.success(), "relay must be denied");
    assert!(String::from_utf8_lossy(&out.stdout).contains("554 5.7.1"));
    assert_eq!(shared.lock().unwrap().delivered.len(), 2);
    handle.shutdown().await.unwrap();
}
