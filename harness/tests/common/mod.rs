//! Fake servers and helpers for the harness's integration tests: small, deliberately simple
//! servers on 127.0.0.1 (ephemeral ports), good and hostile.
#![allow(dead_code)]

pub mod fake;
pub mod hostile;

use std::path::Path;

use wirecheck::runner::{self, RunOptions};
use wirecheck::target::TargetSpec;
use wirecheck::transcript::{self, Transcript};
use wirecheck_reports::{CaseResult, TargetReport};

/// A transcript from its parts: `meta` holds extra TOML lines (`level = "SHOULD"` …).
pub fn transcript(id: &str, protocol: &str, meta: &str, script: &str) -> Transcript {
    let rfc = if meta.contains("rfc =") {
        ""
    } else {
        "rfc = \"5321#4.1.4\""
    };
    let level = if meta.contains("level =") {
        ""
    } else {
        "level = \"MUST\""
    };
    let text = format!(
        "id = {id:?}\ntitle = \"test case {id}\"\n{rfc}\n{level}\nprotocol = {protocol:?}\n{meta}\nscript = '''\n{script}\n'''\n"
    );
    transcript::parse_str(&text, Path::new("test.toml"), None)
        .unwrap_or_else(|e| panic!("{id}: {e:?}"))
}

/// Run `ts` against `target` with `opts`.
pub async fn run_with(ts: &[Transcript], target: &TargetSpec, opts: &RunOptions) -> TargetReport {
    let refs: Vec<&Transcript> = ts.iter().collect();
    let fut = runner::run_transcripts(&refs, target, opts);
    // A hang is a failure of the harness: bound the whole run.
    tokio::time::timeout(std::time::Duration::from_secs(120), fut)
        .await
        .expect("the run ended")
        .expect("the run could be done")
}

/// Run `ts` against the address `addr` with default options.
pub async fn run(ts: &[Transcript], addr: std::net::SocketAddr) -> TargetReport {
    run_with(
        ts,
        &TargetSpec::addr(addr.to_string()),
        &RunOptions::default(),
    )
    .await
}

/// The case `id` of a report.
pub fn case<'a>(r: &'a TargetReport, id: &str) -> &'a CaseResult {
    r.cases
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

/// A readable dump of a case for assertion messages.
pub fn dump(c: &CaseResult) -> String {
    format!(
        "{} {:?}: {:?} line {:?}\n expected {:?}\n actual {:?}\n hint {:?}\n exchange:\n{}",
        c.id,
        c.outcome,
        c.message,
        c.line,
        c.expected,
        c.actual
            .as_deref()
            .map(|a| a.chars().take(300).collect::<String>()),
        c.hint,
        c.exchange
            .iter()
            .map(|e| format!(
                "  {} {} {:?} {}",
                e.t_ms,
                e.conn,
                e.dir,
                e.data.chars().take(300).collect::<String>()
            ))
            .collect::<Vec<_>>()
            .join("\n")
    )
}
