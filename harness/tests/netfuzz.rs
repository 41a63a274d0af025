//! `wirecheck fuzz` end to end, over loopback: the oracle fuzzed against itself finds
//! nothing; a deliberately broken server (`tests/broken/`) is found out, and every
//! transcript written for it fails against it and passes against the oracle.
//! Every run is bounded (`max_cases`, `time`).

mod broken;

use std::path::{Path, PathBuf};
use std::time::Duration;

use wirecheck::corpus;
use wirecheck::netfuzz::{self, FuzzConfig, FuzzReport};
use wirecheck::oracle::{Oracle, OracleConfig};
use wirecheck::runner::{self, RunOptions};
use wirecheck::target::TargetSpec;
use wirecheck::transcript::{Transcript, parse_file};
use wirecheck_reports::Outcome;

fn corpus() -> Vec<Transcript> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../transcripts");
    corpus::load_lenient(&dir).expect("corpus").0.transcripts
}

fn config(protocol: &str, seed: u64, cases: u64) -> FuzzConfig {
    let mut c = FuzzConfig::new(protocol);
    c.seed = seed;
    c.max_cases = Some(cases);
    c.time = Duration::from_secs(5);
    c.minimise_time = Duration::from_secs(20);
    c.minimise_tests = 150;
    c.jobs = 4;
    c
}

async fn oracle_with(protocol: &str) -> Oracle {
    let cfg = OracleConfig {
        ports: netfuzz::service_ports(protocol),
        ..OracleConfig::default()
    };
    Oracle::start(&cfg).await.expect("oracle")
}

fn show(r: &FuzzReport) -> String {
    netfuzz::render_text(r)
}

async fn against_itself(protocol: &str) {
    let all = corpus();
    let refs: Vec<&Transcript> = all.iter().collect();
    let target = oracle_with(protocol).await;
    let spec = TargetSpec::addr(target.addr(protocol).expect("service").to_string());
    let r = netfuzz::fuzz(&config(protocol, 11, 400), &refs, &spec)
        .await
        .expect("fuzz");
    assert!(r.cases > 0, "{}", show(&r));
    assert_eq!(r.oracle_errors + r.target_errors, 0, "{}", show(&r));
    assert!(
        r.findings.is_empty(),
        "the oracle differs from itself:\n{}",
        show(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_oracle_against_itself_finds_nothing() {
    against_itself("smtp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_oracle_against_itself_finds_nothing() {
    against_itself("pop3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_oracle_against_itself_finds_nothing() {
    against_itself("imap").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftp_oracle_against_itself_finds_nothing() {
    against_itself("ftp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_oracle_against_itself_finds_nothing() {
    against_itself("dns").await;
}

/// Every written transcript: fails against `target`, passes against a fresh oracle.
async fn check_written(r: &FuzzReport, target: &TargetSpec) {
    for f in r.findings.iter().filter(|f| f.file.is_some()) {
        let path = f.file.as_ref().expect("file");
        let root = path.parent().and_then(Path::parent).expect("out dir");
        let rel = path.strip_prefix(root).expect("relative");
        let t = parse_file(root, rel).expect("the written transcript parses");
        assert!(t.meta.tags.iter().any(|x| x == "fuzz"));
        let on_oracle = wirecheck::demo::run_case(&t, &RunOptions::default()).await;
        assert_eq!(
            on_oracle.outcome,
            Outcome::Pass,
            "{}: {:?}",
            path.display(),
            on_oracle.message
        );
        let on_target = runner::run_transcripts(&[&t], target, &RunOptions::default())
            .await
            .expect("run");
        assert_ne!(
            on_target.cases[0].outcome,
            Outcome::Pass,
            "{} passes against the target",
            path.display()
        );
    }
}

/// Fuzz a broken server (`protocol`, `seed`, `cases`, `findings` minimised at most), print
/// the report and the transcripts written, and check them; the report and its text.
async fn fuzz_broken(
    protocol: &str,
    addr: std::net::SocketAddr,
    seed: u64,
    cases: u64,
    findings: usize,
) -> (FuzzReport, String) {
    let all = corpus();
    let refs: Vec<&Transcript> = all.iter().collect();
    let spec = TargetSpec::addr(addr.to_string());
    let out = tempfile::tempdir().expect("tmp");
    let mut cfg = config(protocol, seed, cases);
    cfg.out = Some(out.path().to_path_buf());
    cfg.max_findings = findings;
    let r = netfuzz::fuzz(&cfg, &refs, &spec).await.expect("fuzz");
    let text = show(&r);
    eprintln!("{text}");
    for f in r.findings.iter().filter_map(|f| f.file.as_ref()) {
        eprintln!(
            "--- {}\n{}",
            f.display(),
            std::fs::read_to_string(f).unwrap_or_default()
        );
    }
    check_written(&r, &spec).await;
    (r, text)
}

/// A written finding: verb, and the reply-code pair starting so.
fn written<'a>(
    r: &'a FuzzReport,
    verb: &str,
    oracle: &str,
    target: &str,
) -> Option<&'a netfuzz::Finding> {
    r.findings.iter().find(|f| {
        f.verb == verb
            && f.oracle.starts_with(oracle)
            && f.target.starts_with(target)
            && f.verdict.starts_with("written")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broken_smtp_server_is_found_out() {
    let srv = broken::smtp().await;
    let (r, text) = fuzz_broken("smtp", srv.addr, 7, 500, 5).await;
    let rcpt = written(&r, "RCPT", "503", "250")
        .unwrap_or_else(|| panic!("RCPT before MAIL not found:\n{text}"));
    assert!(
        rcpt.minimised.len() <= 2,
        "minimised to at most EHLO + RCPT:\n{text}"
    );
    let smuggling = r
        .findings
        .iter()
        .filter(|f| f.file.is_some() && f.minimised.concat().contains("\\n.\\n"))
        .count();
    assert!(smuggling > 0, "bare-LF end of data not found:\n{text}");
}

#[test]
fn the_same_seed_makes_the_same_cases() {
    let all = corpus();
    let refs: Vec<&Transcript> = all.iter().collect();
    let seeds = netfuzz::seeds::from_corpus("smtp", &refs);
    assert!(seeds.len() > 50, "the SMTP corpus gives seeds");
    let cfg = config("smtp", 42, 10);
    for i in [0u64, 5, 300, 301, 10_000] {
        assert_eq!(
            netfuzz::case(&cfg, &seeds, i),
            netfuzz::case(&cfg, &seeds, i)
        );
    }
    let other = config("smtp", 43, 10);
    let differ = (1000..1100)
        .filter(|&i| netfuzz::case(&cfg, &seeds, i) != netfuzz::case(&other, &seeds, i))
        .count();
    assert!(
        differ > 50,
        "another seed, other cases ({differ}/100 differ)"
    );
}

/// `wirecheck fuzz` and `wirecheck diff` as a user runs them, against the broken server
/// served by this test's runtime while the binary runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_fuzzes_and_diffs() {
    let srv = broken::smtp().await;
    let dir = tempfile::tempdir().expect("tmp");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = env!("CARGO_BIN_EXE_wirecheck");
    let fuzz = tokio::process::Command::new(bin)
        .current_dir(&root)
        .args([
            "fuzz",
            "smtp",
            "--target",
            &srv.addr.to_string(),
            "--time",
            "5s",
            "--max-cases",
            "150",
        ])
        .args([
            "--seed",
            "3",
            "--max-findings",
            "2",
            "--minimise-time",
            "10s",
        ])
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--json")
        .arg(dir.path().join("fuzz.json"))
        .output()
        .await
        .expect("wirecheck fuzz");
    let stdout = String::from_utf8_lossy(&fuzz.stdout);
    assert_eq!(
        fuzz.status.code(),
        Some(1),
        "discrepancies found: {stdout}{}",
        String::from_utf8_lossy(&fuzz.stderr)
    );
    assert!(stdout.contains("RCPT: code class 503"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("fuzz.json")).expect("json"))
            .expect("parse");
    assert_eq!(json["protocol"], "smtp");
    assert!(json["findings"].as_array().is_some_and(|f| !f.is_empty()));
    let written = std::fs::read_dir(dir.path().join("out/smtp"))
        .expect("transcripts written")
        .count();
    assert!(written >= 1, "{stdout}");

    let diff = tokio::process::Command::new(bin)
        .current_dir(&root)
        .args([
            "diff",
            "smtp",
            "--target",
            &srv.addr.to_string(),
            "smtp.sequence.rcpt-before-mail",
            "--exact",
        ])
        .arg("--json")
        .arg(dir.path().join("diff.json"))
        .output()
        .await
        .expect("wirecheck diff");
    let stdout = String::from_utf8_lossy(&diff.stdout);
    assert_eq!(
        diff.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    assert!(
        stdout.contains("1 transcript(s): 0 identical, 1 different"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("diff.json")).expect("json"))
            .expect("parse");
    assert_eq!(json["cases"][0]["steps"][0]["oracle"], "503 5.5.1");
}

/// A target started with `--target-cmd`: the reference server itself (nothing to find),
/// and one that dies every second (restarted, and reported as a class of its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_targets_are_restarted_when_they_die() {
    let all = corpus();
    let refs: Vec<&Transcript> = all.iter().collect();
    let bin = env!("CARGO_BIN_EXE_wirecheck");
    let mut cfg = config("smtp", 5, 200);
    cfg.max_findings = 0;
    let healthy = TargetSpec::command(format!("{bin} serve --smtp {{port}}"), false);
    let r = netfuzz::fuzz(&cfg, &refs, &healthy).await.expect("fuzz");
    assert!(
        r.findings.is_empty() && r.target_restarts == 0,
        "{}",
        show(&r)
    );

    let mut cfg = config("smtp", 5, 1_000_000);
    cfg.time = Duration::from_secs(3);
    cfg.max_findings = 0;
    let mortal = TargetSpec::command(
        format!("{bin} serve --smtp {{port}} & sleep 1; kill $!"),
        false,
    );
    let r = netfuzz::fuzz(&cfg, &refs, &mortal).await.expect("fuzz");
    assert!(r.target_restarts >= 1, "{}", show(&r));
    assert!(
        r.findings.iter().any(|f| f.kind == "target died"),
        "{}",
        show(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broken_pop3_server_is_found_out() {
    let maildrop = tempfile::tempdir().expect("tmp");
    let srv = broken::pop3(maildrop.path()).await;
    let (r, text) = fuzz_broken("pop3", srv.addr, 3, 400, 4).await;
    assert!(
        written(&r, "STAT", "+OK", "+OK").is_some_and(|f| f.kind == "data"),
        "STAT sizes:\n{text}"
    );
    assert!(
        written(&r, "LIST", "-ERR", "+OK").is_some(),
        "LIST of no message:\n{text}"
    );
}
