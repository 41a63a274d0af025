//! `wirecheck run --snapshot DIR`: the first run records every case's replies, a later run
//! against a server whose replies changed fails the changed case with the diff and leaves a
//! `.snap.new` insta can read, `--snapshot-update` accepts it, and the next run passes.
//! What varies by itself (dates, queue ids, ports) never shows as a change.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// An SMTP-ish server whose EHLO keywords can be changed while it runs; every greeting has
/// the date and every DATA a new queue id, as real servers do.
async fn server(keywords: Arc<Mutex<String>>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    static QUEUE: AtomicU32 = AtomicU32::new(7000);
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let keywords = keywords.clone();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut lines = BufReader::new(r).lines();
                let n = QUEUE.fetch_add(1, Ordering::Relaxed);
                let date = format!(
                    "Tue, {} Jun 2025 10:{:02}:{:02} +0000",
                    n % 28 + 1,
                    n % 60,
                    n % 59
                );
                let _ = w
                    .write_all(format!("220 mx{n}.example.test ESMTP {date}\r\n").as_bytes())
                    .await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply = match verb.as_str() {
                        "EHLO" => {
                            let k = keywords.lock().unwrap().clone();
                            format!("250-mx{n}.example.test\r\n250 {k}\r\n")
                        }
                        "MAIL" | "RCPT" => "250 ok\r\n".to_string(),
                        "DATA" => {
                            let _ = w.write_all(b"354 go ahead\r\n").await;
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                            }
                            format!(
                                "250 ok queued as Q{}\r\n",
                                QUEUE.fetch_add(1, Ordering::Relaxed)
                            )
                        }
                        "QUIT" => {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => "500 what\r\n".to_string(),
                    };
                    let _ = w.write_all(reply.as_bytes()).await;
                }
            });
        }
    });
    addr
}

/// Write `smtp/NAME.toml` with this id, RFC section and script.
fn transcript(dir: &Path, name: &str, rfc: &str, script: &str) {
    std::fs::create_dir_all(dir.join("smtp")).unwrap();
    let text = format!(
        "id = \"smtp.t.{name}\"\ntitle = \"{name}\"\nrfc = \"5321#{rfc}\"\nlevel = \"MUST\"\nscript = '''\n{script}'''\n"
    );
    std::fs::write(dir.join(format!("smtp/{name}.toml")), text).unwrap();
}

fn corpus(dir: &Path) {
    transcript(
        dir,
        "ehlo",
        "4.1.1.1",
        "S: 220 *\nC: EHLO client.example.test\nS: 250 *\nC: QUIT\nS: 221 *\n",
    );
    transcript(
        dir,
        "mail",
        "4.1.1.4",
        r"S: 220 *
C: MAIL FROM:<a@example.test>
S: 250 *
C: RCPT TO:<b@example.test>
S: 250 *
C: DATA
S: 354 *
C> Subject: x\r\n\r\nhi\r\n.\r\n
S: 250 *
C: QUIT
S: 221 *
",
    );
}

fn run(corpus: &Path, addr: SocketAddr, snaps: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirecheck"))
        .args(["run", "smtp", "--corpus"])
        .arg(corpus)
        .args(["--target", &addr.to_string(), "--snapshot"])
        .arg(snaps)
        .args(extra)
        .env_remove("INSTA_UPDATE")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_reply_fails_with_its_diff_until_accepted() {
    let keywords = Arc::new(Mutex::new("8BITMIME".to_string()));
    let addr = server(keywords.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let (c, snaps) = (dir.path().join("corpus"), dir.path().join("snaps"));
    corpus(&c);
    let go = |extra: &'static [&'static str]| {
        let (c, snaps) = (c.clone(), snaps.clone());
        tokio::task::spawn_blocking(move || run(&c, addr, &snaps, extra))
    };

    // 1. The baseline: two snapshots written, redacted.
    let o = go(&[]).await.unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("2 new"), "{}", text(&o));
    let ehlo = std::fs::read_to_string(snaps.join("smtp.t.ehlo.snap")).unwrap();
    assert!(ehlo.starts_with("---\n"), "{ehlo}");
    assert!(ehlo.contains("< 220 [host] ESMTP [date]"), "{ehlo}");
    assert!(ehlo.contains("< 250-[host]\n< 250 8BITMIME\n"), "{ehlo}");
    let mail = std::fs::read_to_string(snaps.join("smtp.t.mail.snap")).unwrap();
    assert!(mail.contains("queued as [queue-id]"), "{mail}");
    assert!(mail.contains("# connected to 127.0.0.1:[port]"), "{mail}");

    // 2. Same server, new dates, queue ids and host numbers: nothing changed.
    let o = go(&[]).await.unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("2 unchanged"), "{}", text(&o));

    // 3. The server now answers EHLO differently: that case fails, with the diff.
    *keywords.lock().unwrap() = "SMTPUTF8".into();
    let o = go(&[]).await.unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("-< 250 8BITMIME\n+< 250 SMTPUTF8"), "{t}");
    assert!(t.contains("1 unchanged, 0 new, 1 changed"), "{t}");
    let pending = snaps.join("smtp.t.ehlo.snap.new");
    let new = insta::Snapshot::from_file(&pending).expect("insta reads the pending snapshot");
    assert_eq!(new.metadata().expression(), Some("smtp.t.ehlo"));
    assert!(
        new.as_text()
            .unwrap()
            .to_string()
            .contains("< 250 SMTPUTF8")
    );
    let old = insta::Snapshot::from_file(&snaps.join("smtp.t.ehlo.snap")).unwrap();
    assert!(
        old.as_text()
            .unwrap()
            .to_string()
            .contains("< 250 8BITMIME")
    );

    // 4. Accepted: the snapshot is rewritten, the pending file goes.
    let o = go(&["--snapshot-update"]).await.unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("1 updated"), "{}", text(&o));
    assert!(!pending.exists());

    // 5. And now it passes.
    let o = go(&[]).await.unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("2 unchanged"), "{}", text(&o));
}
