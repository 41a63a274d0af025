//! `wirecheck run --pcap FILE` and `wirecheck import FILE`: a run's traffic written as a
//! capture that tshark dissects (SMTP on 25, DNS on 53), read back, imported into a draft
//! transcript that lints clean and passes against the server it was captured from.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};

use common::fake::{self, SmtpBugs};
use wirecheck::import::flows;
use wirecheck::pcap::{self, Transport};

fn wirecheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirecheck"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const SMTP_CASE: &str = r#"id = "smtp.p.message"
title = "a message"
rfc = "5321#4.1.1.4"
level = "MUST"
script = '''
S: 220 *
C: EHLO client.example.test
S: 250 *
C: MAIL FROM:<a@example.test>
S: 250 *
C: RCPT TO:<b@example.test>
S: 250 *
C: DATA
S: 354 *
C> Subject: wirecheck\r\n\r\nhello\r\n.\r\n
S: 250 *
C: QUIT
S: 221 *
expect close
'''
"#;

const DNS_CASE: &str = r#"id = "dns.p.mx"
title = "an MX query"
rfc = "1035#4.1.1"
level = "MUST"
script = '''
C: example.test. MX +rd id=4242
S: ~ id: 4242
'''
"#;

/// Run `wirecheck run PROTOCOL` on `corpus` against `addr`, with more arguments.
async fn run(protocol: &str, corpus: &Path, addr: SocketAddr, more: &[&str]) -> Output {
    let mut args: Vec<String> = vec![
        "run".into(),
        protocol.into(),
        "--corpus".into(),
        corpus.display().to_string(),
        "--target".into(),
        addr.to_string(),
    ];
    args.extend(more.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        wirecheck(&refs)
    })
    .await
    .unwrap()
}

/// tshark's fields for the frames matching `filter`; `None` when tshark is not installed.
fn tshark(file: &Path, filter: &str, field: &str) -> Option<Vec<String>> {
    let o = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-Y", filter, "-T", "fields", "-e", field])
        .output()
        .ok()?;
    assert!(o.status.success(), "tshark: {}", text(&o));
    Some(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

/// `wirecheck import` `file` into `dir/drafts/PROTOCOL/imported.toml`, check that it lints
/// clean and passes against `addr`; returns the draft.
async fn import_lint_run(dir: &Path, file: &Path, protocol: &str, addr: SocketAddr) -> String {
    let drafts = dir.join("drafts");
    std::fs::create_dir_all(drafts.join(protocol)).unwrap();
    let draft = drafts.join(protocol).join("imported.toml");
    let o = wirecheck(&[
        "import",
        file.to_str().unwrap(),
        "--out",
        draft.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let d = std::fs::read_to_string(&draft).unwrap();
    let o = wirecheck(&["lint", drafts.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}\n{d}", text(&o));
    let o = run(protocol, &drafts, addr, &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}\n{d}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(".imported."),
        "{}",
        text(&o)
    );
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_run_becomes_a_capture_tshark_reads_and_a_draft_that_passes() {
    let addr = fake::smtp(SmtpBugs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    write(&corpus, "smtp/message.toml", SMTP_CASE);
    let file = dir.path().join("run.pcap");
    let o = run("smtp", &corpus, addr, &["--pcap", file.to_str().unwrap()]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Read back: one TCP connection to the well-known port, the whole exchange in it.
    let packets = pcap::read(&file).unwrap();
    let f = flows(&packets);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].server.port(), f[0].udp), (25, false));
    assert!(packets.first().unwrap().transport.syn());
    assert!(packets.iter().any(|p| p.transport.fin_or_rst()));
    assert!(
        packets
            .iter()
            .all(|p| matches!(p.transport, Transport::Tcp { .. }))
    );

    // tshark dissects it as SMTP.
    match tshark(&file, "smtp.req.command == \"EHLO\"", "smtp.req.parameter") {
        Some(ehlo) => assert_eq!(ehlo, ["client.example.test"]),
        None => eprintln!("tshark is not installed: dissection not checked"),
    }
    if let Some(codes) = tshark(&file, "smtp.response", "smtp.response.code") {
        let codes = codes.join(" ");
        for want in ["220", "354", "221"] {
            assert!(codes.contains(want), "{codes}");
        }
    }
    // With the real ports, tshark needs to be told.
    let real = dir.path().join("real.pcap");
    let o = run(
        "smtp",
        &corpus,
        addr,
        &["--pcap", real.to_str().unwrap(), "--pcap-real-ports"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        flows(&pcap::read(&real).unwrap())[0].server.port(),
        addr.port()
    );

    // Import: a draft that lints clean and passes against the same server.
    let d = import_lint_run(dir.path(), &file, "smtp", addr).await;
    assert!(d.contains("C: EHLO client.example.test"), "{d}");
    assert!(
        d.contains("S: 250 2.0.0 ok queued as *"),
        "the queue id is volatile: {d}"
    );
    assert!(
        d.contains("S: 220 * ESMTP ready"),
        "the greeting's host: {d}"
    );
    assert!(d.contains("expect close"), "{d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_run_is_udp_on_port_53_and_imports_back() {
    let addr = fake::dns_udp().await;
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    write(&corpus, "dns/mx.toml", DNS_CASE);
    let file = dir.path().join("dns.pcap");
    let o = run("dns", &corpus, addr, &["--pcap", file.to_str().unwrap()]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let packets = pcap::read(&file).unwrap();
    assert_eq!(packets.len(), 2, "a query and its answer");
    assert!(
        packets
            .iter()
            .all(|p| p.transport == Transport::Udp && (p.src.port() == 53 || p.dst.port() == 53))
    );
    if let Some(names) = tshark(&file, "dns.flags.response == 1", "dns.qry.name") {
        assert_eq!(names, ["example.test"]);
    }
    let d = import_lint_run(dir.path(), &file, "dns", addr).await;
    assert!(d.contains("C> hex 1092"), "the query, id 4242: {d}");
}
