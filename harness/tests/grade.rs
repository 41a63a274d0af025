//! `wirecheck grade`: the checked-in example roster (the oracle and a deliberately broken
//! SMTP server built from source), and students whose servers hang, never start, or use up
//! their time: they lose points, the class's run goes on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use wirecheck::grade::hints::Hints;
use wirecheck::grade::roster::Roster;
use wirecheck::grade::{self, GradeOptions};
use wirecheck_reports::{Outcome, Report, TargetReport};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn student<'a>(r: &'a Report, name: &str) -> &'a TargetReport {
    r.targets
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no student {name}"))
}

#[test]
fn the_example_roster_grades_the_oracle_full_and_the_broken_server_lower_with_hints() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_wirecheck"))
        .current_dir(workspace())
        .args(["grade", "examples/roster.toml", "--report"])
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{stderr}");

    // The gradebook: a header and one row per student, in roster order.
    let csv = std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(
        rows[0][..5],
        ["student", "points", "possible", "percent", "cases"]
    );
    assert_eq!(rows.len(), 3, "{csv}");
    let (reference, broken) = (&rows[1], &rows[2]);
    assert_eq!(reference[0], "reference");
    assert_eq!(broken[0], "broken");
    let num = |r: &Vec<&str>, i: usize| r[i].parse::<u32>().unwrap();
    assert_eq!(
        num(reference, 1),
        num(reference, 2),
        "the oracle earns every point: {csv}"
    );
    assert!(num(reference, 2) > 100, "the SMTP corpus is graded: {csv}");
    assert_eq!(num(reference, 2), num(broken, 2), "the same cases for both");
    assert!(
        num(broken, 1) < num(reference, 1),
        "the broken server loses points: {csv}"
    );

    // The report: hints in plain words for the two planted bugs.
    let report: Report =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    let b = student(&report, "broken");
    let case = |t: &TargetReport, id: &str| {
        t.cases
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no case {id}"))
            .clone()
    };
    let smuggled = case(b, "smtp.smuggling.lf-dot-lf");
    assert_eq!(smuggled.outcome, Outcome::Fail);
    let hint = smuggled.hint.unwrap_or_default();
    assert!(
        hint.contains("bare LF") && hint.contains("4.1.1.4"),
        "{hint}"
    );
    let rcpt = case(b, "smtp.sequence.rcpt-before-mail");
    assert_eq!(rcpt.outcome, Outcome::Fail);
    let hint = rcpt.hint.unwrap_or_default();
    assert!(hint.contains("503") && hint.contains("4.1.4"), "{hint}");
    let r = student(&report, "reference");
    assert_eq!(case(r, "smtp.smuggling.lf-dot-lf").outcome, Outcome::Pass);
    // The rubric: smuggling cases weigh 3, DSN cases are left out.
    assert_eq!(smuggled.points, 3);
    assert!(b.cases.iter().all(|c| !c.tags.iter().any(|t| t == "dsn")));
    assert!(
        b.cases
            .iter()
            .all(|c| c.outcome == Outcome::Pass || c.hint.is_some())
    );

    // A page per student and the class matrix.
    let index = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    assert!(index.contains("reference.html") && index.contains("broken.html"));
    let coverage = std::fs::read_to_string(out.path().join("coverage.html")).unwrap();
    assert!(
        coverage.contains("5321#4.1.1.4-lf-dot-lf"),
        "RFC coverage of the graded cases"
    );
    assert!(index.contains("coverage.html#rfc-5321"));
    let page = std::fs::read_to_string(out.path().join("broken.html")).unwrap();
    assert!(page.contains("bare LF"));
    assert!(stdout.contains("gradebook.csv"), "{stdout}");
}

/// A server that accepts connections and never says anything.
async fn silent_server() -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_dead_and_slow_students_lose_points_and_the_run_goes_on() {
    let silent = silent_server().await;
    let dir = tempfile::tempdir().unwrap();
    let roster_file = dir.path().join("roster.toml");
    std::fs::write(
        &roster_file,
        format!(
            r#"
filters = ["smtp.sequence."]
step-timeout = "300ms"
startup-timeout = "3s"
jobs = 4
parallel = 4

[[student]]
name = "good"
cmd = "{{wirecheck}} serve --smtp {{port}}"

[[student]]
name = "silent"
target = "{silent}"

[[student]]
name = "never-listens"
cmd = "echo 'segmentation fault' >&2; exit 139"

[[student]]
name = "broken-build"
build = "echo 'main.c:1: error: expected ;' >&2; exit 1"
cmd = "{{wirecheck}} serve --smtp {{port}}"

[[student]]
name = "slow"
target = "{silent}"
timeout = "400ms"
"#
        ),
    )
    .unwrap();
    let roster = Roster::load(&roster_file).unwrap();
    let corpus = wirecheck::corpus::load(&workspace().join("transcripts")).unwrap();
    let hints = Hints::load(&workspace().join("transcripts/hints.toml")).unwrap();
    let mut opts = GradeOptions::new(&dir.path().join("out"));
    opts.wirecheck = PathBuf::from(env!("CARGO_BIN_EXE_wirecheck"));
    let report = tokio::time::timeout(
        Duration::from_secs(120),
        grade::grade(&roster, &corpus, &hints, &opts),
    )
    .await
    .expect("grading ends");
    assert_eq!(report.targets.len(), 5);

    let good = student(&report, "good");
    assert!(good.summary.total >= 10, "{:?}", good.summary);
    assert_eq!(good.summary.points, good.summary.points_possible);

    for name in ["silent", "never-listens", "broken-build", "slow"] {
        let t = student(&report, name);
        assert_eq!(t.summary.points, 0, "{name}");
        assert_eq!(
            t.summary.points_possible, good.summary.points_possible,
            "{name}: the same cases count"
        );
        assert!(
            t.cases.iter().all(|c| c.hint.is_some()),
            "{name}: every failure has a hint"
        );
    }
    let first = |name: &str| student(&report, name).cases[0].clone();
    let s = first("silent");
    assert_eq!(s.outcome, Outcome::Error);
    assert!(s.hint.unwrap().contains("greeting"));
    let n = first("never-listens");
    assert!(n.message.unwrap().contains("exited during start-up"));
    let b = first("broken-build");
    assert!(b.message.unwrap().starts_with("the build failed"));
    assert!(b.hint.unwrap().contains("expected ;"));
    let slow = student(&report, "slow");
    assert!(
        slow.cases.iter().any(|c| c
            .message
            .as_deref()
            .is_some_and(|m| m.contains("time limit"))),
        "the 400ms budget ran out before every case ran (4 at once, each waiting 300ms)"
    );

    grade::write_outputs(&report, &corpus, &dir.path().join("out")).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("out/gradebook.csv")).unwrap();
    assert_eq!(csv.lines().count(), 6, "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn students_clients_are_graded_on_the_server_role_cases() {
    let dir = tempfile::tempdir().unwrap();
    let roster_file = dir.path().join("roster.toml");
    std::fs::write(
        &roster_file,
        r#"
filters = ["smtp.client."]

[[student]]
name = "oracle-client"
client-cmd = "{wirecheck} relay-once {host}:{port}"

[[student]]
name = "silent-client"
client-cmd = "true"
"#,
    )
    .unwrap();
    let roster = Roster::load(&roster_file).unwrap();
    let corpus = wirecheck::corpus::load(&workspace().join("transcripts")).unwrap();
    let mut opts = GradeOptions::new(&dir.path().join("out"));
    opts.wirecheck = PathBuf::from(env!("CARGO_BIN_EXE_wirecheck"));
    let report = tokio::time::timeout(
        Duration::from_secs(120),
        grade::grade(&roster, &corpus, &Hints::none(), &opts),
    )
    .await
    .expect("grading ends");
    let good = student(&report, "oracle-client");
    assert!(good.summary.total >= 5, "{:?}", good.summary);
    assert_eq!(
        good.summary.points,
        good.summary.points_possible,
        "{:#?}",
        good.cases
            .iter()
            .filter(|c| c.outcome != Outcome::Pass)
            .map(|c| (&c.id, &c.message))
            .collect::<Vec<_>>()
    );
    assert!(good.target.starts_with("client: "), "{}", good.target);
    let bad = student(&report, "silent-client");
    assert_eq!(bad.summary.points, 0);
    assert_eq!(bad.summary.total, good.summary.total);
}
