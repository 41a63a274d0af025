//! Real mail clients submitting to the reference MTA: Python's smtplib (STARTTLS + login on
//! the submission port, and implicit TLS on the submissions port, RFC 8314), swaks and curl.
//! Each test is skipped, with a message, when its client is not installed.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use wirecheck_mta::MtaHandle;

const PYTHON: &str = "/usr/bin/python3";

const SMTPLIB_SCRIPT: &str = r#"
import smtplib, ssl, sys
host, port, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = ssl._create_unverified_context()
msg = (b"From: Alice <alice@alpha.test>\r\nTo: bob@beta.test\r\nSubject: via smtplib\r\n"
       b"Date: Mon, 1 Jan 2024 12:00:00 +0000\r\nMessage-ID: <py.1@alpha.test>\r\n\r\n"
       b"Sent with smtplib.\r\n.leading dot\r\n")
with smtplib.SMTP(host, port, local_hostname="client.alpha.test", timeout=20) as s:
    s.ehlo()
    assert s.has_extn("starttls"), "STARTTLS offered"
    s.starttls(context=ctx)
    s.ehlo()
    s.login("alice", "secret")
    refused = s.sendmail("alice@alpha.test", ["bob@beta.test"], msg)
    assert not refused, refused
    try:
        s.sendmail("alice@alpha.test", ["nobody@alpha.test"], msg)
        raise SystemExit("unknown local user accepted")
    except smtplib.SMTPRecipientsRefused as e:
        assert e.recipients["nobody@alpha.test"][0] == 550, e.recipients
with smtplib.SMTP_SSL(host, sport, local_hostname="client.alpha.test", context=ctx, timeout=20) as s:
    s.login("alice", "secret")
    s.sendmail("alice@alpha.test", ["bob@beta.test"], msg.replace(b"via smtplib", b"via smtplib SSL"))
print("ok")
"#;

struct Pair {
    alpha: MtaHandle,
    beta: MtaHandle,
    _net: Net,
}

async fn pair(submissions: bool) -> Pair {
    let net = Net::new();
    let beta = net.beta(net.beta_mx()).await;
    let mut cfg = net.alpha_config(beta.mx_addr());
    if submissions {
        cfg.submissions_listen = Some(SocketAddr::new(net.alpha_ip, 0));
    }
    let alpha = start(cfg, &net.clock).await;
    Pair {
        alpha,
        beta,
        _net: net,
    }
}

async fn run(program: &str, args: &[String]) -> std::process::Output {
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn client");
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("client finishes within a minute")
        .expect("client output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_submits_with_starttls_and_implicit_tls() {
    if !Path::new(PYTHON).exists() {
        println!("skipped: {PYTHON} not found");
        return;
    }
    let p = pair(true).await;
    let sub = p.alpha.submission_addr().unwrap();
    let subs = p.alpha.submissions_addr().unwrap();
    let args = [
        "-c".to_string(),
        SMTPLIB_SCRIPT.to_string(),
        sub.ip().to_string(),
        sub.port().to_string(),
        subs.port().to_string(),
    ];
    let out = run(PYTHON, &args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "smtplib failed: {stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ok",
        "{stderr}"
    );
    p.alpha.flush().await;
    let bob = inbox(&p.beta, "bob");
    assert_eq!(bob.len(), 2, "{:?}", p.alpha.queue().list());
    let subjects: Vec<String> = bob
        .iter()
        .map(|m| wirecheck_message::parse(m).subject().unwrap_or_default())
        .collect();
    assert!(
        subjects.contains(&"via smtplib".to_string())
            && subjects.contains(&"via smtplib SSL".to_string()),
        "{subjects:?}"
    );
    for m in &bob {
        let t = String::from_utf8_lossy(m);
        assert!(
            t.contains("\r\n\r\nSent with smtplib.\r\n.leading dot\r\n"),
            "dot-stuffing undone: {t}"
        );
    }
    p.alpha.shutdown().await.unwrap();
    p.beta.shutdown().await.unwrap();
}

fn find_on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_submits_with_starttls_and_auth_plain() {
    let Some(swaks) = find_on_path("swaks") else {
        println!("skipped: swaks not found on PATH");
        return;
    };
    let p = pair(false).await;
    let sub = p.alpha.submission_addr().unwrap();
    let args: Vec<String> = [
        "--server",
        &sub.to_string(),
        "--ehlo",
        "client.alpha.test",
        "--tls",
        "--auth",
        "PLAIN",
        "--auth-user",
        "alice",
        "--auth-password",
        ALICE_PASS,
        "--from",
        "alice@alpha.test",
        "--to",
        "bob@beta.test",
        "--header",
        "Subject: via swaks",
        "--body",
        "Sent with swaks.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = run(swaks.to_str().unwrap_or("swaks"), &args).await;
    assert!(
        out.status.success(),
        "swaks failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    p.alpha.flush().await;
    let bob = inbox(&p.beta, "bob");
    assert_eq!(bob.len(), 1);
    assert_eq!(
        wirecheck_message::parse(&bob[0]).subject().as_deref(),
        Some("via swaks")
    );
    p.alpha.shutdown().await.unwrap();
    p.beta.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_submits_with_starttls_and_login() {
    let Some(curl) = find_on_path("curl") else {
        println!("skipped: curl not found on PATH");
        return;
    };
    let p = pair(false).await;
    let sub = p.alpha.submission_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("msg.eml");
    let body = b"From: Alice <alice@alpha.test>\r\nTo: bob@beta.test\r\nSubject: via curl\r\n\r\nSent with curl.\r\n.leading dot\r\n";
    std::fs::write(&file, body).unwrap();
    let args: Vec<String> = [
        &format!("smtp://{sub}"),
        "--ssl-reqd",
        "--insecure",
        "--user",
        &format!("alice:{ALICE_PASS}"),
        "--mail-from",
        "alice@alpha.test",
        "--mail-rcpt",
        "bob@beta.test",
        "--upload-file",
        file.to_str().unwrap(),
        "--silent",
        "--show-error",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = run(curl.to_str().unwrap_or("curl"), &args).await;
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    p.alpha.flush().await;
    let bob = inbox(&p.beta, "bob");
    assert_eq!(bob.len(), 1, "{:?}", p.alpha.queue().list());
    let t = String::from_utf8_lossy(&bob[0]);
    assert!(t.contains("Subject: via curl\r\n"), "{t}");
    assert!(t.ends_with("\r\n\r\nSent with curl.\r\n.leading dot\r\n"), "dot-stuffing undone: {t}");
    p.alpha.shutdown().await.unwrap();
    p.beta.shutdown().await.unwrap();
}
