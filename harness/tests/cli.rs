//! The `wirecheck` binary end to end: `run` against a live (fake) SMTP server and started
//! targets, its exit statuses, reports, `--list`, `lint`, and the subcommands to come.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::fake;

const OK: &str = r#"id = "smtp.cli.greeting"
title = "the server greets"
rfc = "5321#4.2"
level = "MUST"
tags = ["greeting"]
script = """
S: 220 *
C: QUIT
S: 221 *
"""
"#;

const RCPT_FIRST: &str = r#"id = "smtp.cli.rcpt-before-mail"
title = "RCPT before MAIL is a bad sequence of commands"
rfc = "5321#4.1.4"
level = "MUST"
tags = ["sequence"]
script = """
S: 220 *
C: EHLO client.example.test
S: 250 *
C: RCPT TO:<bob@example.test>
S: 503 *                       # "bad sequence of commands"
C: QUIT
S: 221 *
"""
"#;

fn corpus(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

async fn wirecheck(args: &[&str]) -> Output {
    let fut = tokio::process::Command::new(env!("CARGO_BIN_EXE_wirecheck"))
        .args(args)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(120), fut)
        .await
        .expect("wirecheck ended")
        .expect("wirecheck ran")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn run_args<'a>(dir: &'a Path, target: &'a str) -> Vec<String> {
    vec![
        "run".into(),
        "smtp".into(),
        "--corpus".into(),
        dir.display().to_string(),
        "--target".into(),
        target.into(),
    ]
}

async fn run(dir: &Path, target: &str, extra: &[&str]) -> Output {
    let mut a = run_args(dir, target);
    a.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    wirecheck(&refs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_status_zero_when_everything_passes_with_reports() {
    let addr = fake::smtp(Default::default()).await.to_string();
    let dir = corpus(&[
        ("smtp/greeting.toml", OK),
        ("smtp/sequence/rcpt.toml", RCPT_FIRST),
    ]);
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("r.json");
    let junit = out.path().join("junit.xml");
    let html = out.path().join("html");
    let o = run(
        dir.path(),
        &addr,
        &[
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("test smtp.cli.greeting ... ok"),
        "{}",
        text(&o)
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["targets"][0]["cases"].as_array().unwrap().len(), 2);
    assert_eq!(report["targets"][0]["cases"][1]["outcome"], "pass");
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("smtp.cli.rcpt-before-mail")
    );
    assert!(html.join("index.html").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_status_one_when_a_case_fails() {
    let bugs = fake::SmtpBugs {
        rcpt_without_mail: true,
    };
    let addr = fake::smtp(bugs).await.to_string();
    let dir = corpus(&[("smtp/greeting.toml", OK), ("smtp/rcpt.toml", RCPT_FIRST)]);
    let o = run(dir.path(), &addr, &[]).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("test smtp.cli.rcpt-before-mail ... FAILED"),
        "{}",
        text(&o)
    );
    assert!(stdout.contains("expected S: 503 *"), "{}", text(&o));
    // Selection happens before anything runs: without the failing case, 0.
    let o = run(dir.path(), &addr, &["--tag", "greeting"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(dir.path(), &addr, &["--skip", "rcpt"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(dir.path(), &addr, &["--rfc", "5321#4.1"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = run(dir.path(), &addr, &["smtp.cli.greeting", "--exact"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_status_two_when_the_run_cannot_be_done() {
    let dir = corpus(&[("smtp/greeting.toml", OK)]);
    // Nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = run(dir.path(), &format!("127.0.0.1:{port}"), &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("unreachable"),
        "{}",
        text(&o)
    );
    // A bad transcript.
    let addr = fake::smtp(Default::default()).await.to_string();
    let bad = corpus(&[("smtp/bad.toml", &OK.replace("level", "levle"))]);
    let o = run(bad.path(), &addr, &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("smtp/bad.toml:4: unknown field `levle`"),
        "{}",
        text(&o)
    );
    // Bad arguments.
    let o = wirecheck(&["run", "smtp"]).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_help_lint_and_bad_arguments() {
    let dir = corpus(&[
        ("smtp/greeting.toml", OK),
        ("smtp/rcpt.toml", RCPT_FIRST),
        ("pop3/x.toml", &OK.replace("smtp.cli", "pop3.cli")),
    ]);
    let d = dir.path().to_str().unwrap();
    let o = wirecheck(&["run", "smtp", "--corpus", d, "--list"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "smtp.cli.greeting: test\nsmtp.cli.rcpt-before-mail: test\n"
    );

    let o = wirecheck(&["run", "--help"]).await;
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("docs/transcripts.md") && help.contains("S: 220 *"),
        "{help}"
    );

    let o = wirecheck(&["lint", d]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dup = corpus(&[
        ("smtp/a.toml", OK),
        ("smtp/b.toml", OK),
        ("smtp/c.toml", &OK.replace("5321#4.2", "9999#4.2")),
    ]);
    let o = wirecheck(&["lint", dup.path().to_str().unwrap()]).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("duplicate id") && out.contains("RFC 9999"),
        "{out}"
    );

    // Bad arguments are exit status 2 (DESIGN.md), for every subcommand.
    for sub in ["run", "lint", "demo", "serve", "grade", "diff", "fuzz", "import", "coverage"] {
        let o = wirecheck(&[sub, "--no-such-flag"]).await;
        assert_eq!(o.status.code(), Some(2), "{sub}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("--no-such-flag"),
            "{sub}: {}",
            text(&o)
        );
    }
}

/// A tiny SMTP-ish server in Python: greets with its connection count, answers QUIT, and
/// exits on DIE. On DYING it closes that connection, resets every later one (not counted)
/// and exits 200 ms later: a target that is dead to the next case before it is reaped.
const PY_SERVER: &str = r#"
import os, socket, struct, sys, threading
n = 0
dying = False
lock = threading.Lock()
def handle(c):
    global n, dying
    if dying:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        return
    with lock:
        n += 1
        k = n
    try:
        c.sendall(b"220 n=%d ready\r\n" % k)
        for line in c.makefile("rb"):
            l = line.strip().upper()
            if l == b"QUIT":
                c.sendall(b"221 bye\r\n")
                break
            if l == b"DIE":
                os._exit(3)
            if l == b"DYING":
                dying = True
                threading.Timer(0.2, lambda: os._exit(3)).start()
                c.shutdown(socket.SHUT_RDWR)
                break
            c.sendall(b"250 ok\r\n")
    except OSError:
        pass
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
"#;

fn case(id: &str, script: &str) -> String {
    format!(
        "id = \"smtp.cmd.{id}\"\ntitle = \"t\"\nrfc = \"5321#4.2\"\nlevel = \"MUST\"\nscript = '''\n{script}\n'''\n"
    )
}

/// The python test server behind a shell wrapper, so that it is a grandchild of wirecheck
/// and only a process-group kill reaches it; its pid goes to the returned file.
fn grandchild_server(tmp: &tempfile::TempDir) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let server = tmp.path().join("server.py");
    std::fs::write(&server, PY_SERVER).unwrap();
    let pidfile = tmp.path().join("pid");
    let cmd = format!(
        "python3 {} {{port}} & echo $! > {}; wait",
        server.display(),
        pidfile.display()
    );
    (server, pidfile, cmd)
}

/// The pid written to `pidfile`.
fn read_pid(pidfile: &std::path::Path) -> i32 {
    std::fs::read_to_string(pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Whether process `pid` is gone within 5 s (polled, bounded).
async fn process_gone(pid: i32) -> bool {
    for _ in 0..100 {
        if nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Case a sends `kill` to the `--target-cmd` target, case b expects to be connection 2 of a
/// freshly started one (the start-up probe is connection 1).
async fn kill_then_count(cmd: &str, kill: &str) -> std::process::Output {
    let dir = corpus(&[
        (
            "smtp/a.toml",
            &case("a-kills", &format!("S: 220 *\nC: {kill}\nexpect close")),
        ),
        (
            "smtp/b.toml",
            &case("b-after-restart", "S: 220 n=2 *\nC: QUIT\nS: 221 *"),
        ),
    ]);
    let d = dir.path().to_str().unwrap();
    wirecheck(&[
        "run",
        "smtp",
        "--corpus",
        d,
        "--target-cmd",
        cmd,
        "--jobs",
        "1",
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_cmd_is_started_restarted_isolated_and_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, pidfile, cmd) = grandchild_server(&tmp);
    // The probe is connection 1; after the restart, b is connection 2 of the new server.
    let o = kill_then_count(&cmd, "DIE").await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        process_gone(read_pid(&pidfile)).await,
        "the target's process group was stopped"
    );
    // A case that meets a target already dying (not yet reaped) and hears nothing from it
    // runs again against a fresh one: b is then connection 2 of the new server.
    let o = kill_then_count(&cmd, "DYING").await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Without --isolate the second greeting would say n=3.
    let dir = corpus(&[
        ("smtp/a.toml", &case("a", "S: 220 n=2 *\nC: QUIT\nS: 221 *")),
        ("smtp/b.toml", &case("b", "S: 220 n=2 *\nC: QUIT\nS: 221 *")),
    ]);
    let d = dir.path().to_str().unwrap();
    let plain = format!("python3 {} {{port}}", server.display());
    let o = wirecheck(&[
        "run",
        "smtp",
        "--corpus",
        d,
        "--target-cmd",
        &plain,
        "--isolate",
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = wirecheck(&[
        "run",
        "smtp",
        "--corpus",
        d,
        "--target-cmd",
        &plain,
        "--jobs",
        "1",
    ])
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // A command that never listens: the run cannot be done.
    let o = wirecheck(&[
        "run",
        "smtp",
        "--corpus",
        d,
        "--target-cmd",
        "exit 1",
        "--startup-timeout",
        "2s",
    ])
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_run_stops_its_target() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, pidfile, cmd) = grandchild_server(&tmp);
    let dir = corpus(&[("smtp/slow.toml", &case("slow", "S: 220 *\npause 60s"))]);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_wirecheck"))
        .args([
            "run",
            "smtp",
            "--corpus",
            dir.path().to_str().unwrap(),
            "--target-cmd",
            &cmd,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Wait (bounded) until the target has started.
    for _ in 0..200 {
        if std::fs::read_to_string(&pidfile).is_ok_and(|s| !s.trim().is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = read_pid(&pidfile);
    let me = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    nix::sys::signal::kill(me, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(2));
    assert!(process_gone(pid).await, "the target died with the run");
}
