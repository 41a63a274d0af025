//! The corpus against the embedded oracle: what `wirecheck demo` shows a newcomer and what
//! the corpus test enforces ("every transcript passes against the reference implementation").
//!
//! Every transcript gets a fresh [`Oracle`] (its own store, queue and FTP tree on free
//! ports), so cases that change state never see each other's changes and can run
//! concurrently.
//!
//! Where the time goes (BENCHMARKS.md): starting an oracle is a few milliseconds once its
//! files are on tmpfs; what is left is the waiting the transcripts ask for (`expect silence`,
//! `pause`: about a minute over the whole corpus). Waiting costs no CPU, so many cases run at
//! once, and the ones that wait longest start first ([`expected_wait`]) so that they do not
//! end the run alone.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use wirecheck_reports::{CaseResult, Outcome, Report, Summary, TargetReport};

use crate::oracle::{Oracle, OracleFactory, Ports};
use crate::runner::{self, Fixtures, RunOptions};
use crate::target::TargetSpec;
use crate::transcript::{Role, StepKind, Transcript};

/// The service a transcript's `main` connection goes to. `message` and `scenarios`
/// transcripts start with SMTP and reach the other services through `${pop3}`, `${imap}`, …
pub fn service_for(t: &Transcript) -> &str {
    match t.meta.protocol.as_str() {
        "message" | "scenarios" => "smtp",
        p => p,
    }
}

/// The services an oracle must run for `t`: its own protocol only (starting an MTA for a DNS
/// case would only cost time), everything for `message` and `scenarios`.
pub fn ports_for(t: &Transcript) -> Ports {
    let none = Ports { smtp: None, submission: None, pop3: None, imap: None, ftp: None, dns: None };
    match t.meta.protocol.as_str() {
        "smtp" => Ports { smtp: Some(0), submission: Some(0), ..none },
        "pop3" => Ports { pop3: Some(0), ..none },
        "imap" => Ports { imap: Some(0), ..none },
        "ftp" => Ports { ftp: Some(0), ..none },
        "dns" => Ports { dns: Some(0), ..none },
        _ => Ports::ephemeral(),
    }
}

/// How long `t` waits on purpose (`expect silence`, `pause`): a lower bound of its run time,
/// used to start the longest cases first.
pub fn expected_wait(t: &Transcript) -> Duration {
    t.steps
        .iter()
        .map(|s| match s.kind {
            StepKind::ExpectSilence(d) | StepKind::Pause(d) => d,
            _ => Duration::ZERO,
        })
        .fold(Duration::ZERO, Duration::saturating_add)
}

/// The indices of `transcripts`, the longest [`expected_wait`] first (ties in corpus order).
pub fn longest_first(transcripts: &[&Transcript]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..transcripts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(transcripts.get(i).map(|t| expected_wait(t))));
    order
}

/// Why a case could not be run against the oracle; it becomes an `error` outcome.
fn error_case(t: &Transcript, message: String) -> CaseResult {
    runner::error_result(t, &message)
}

/// Run one transcript against a freshly started oracle.
pub async fn run_case(t: &Transcript, options: &RunOptions) -> CaseResult {
    if t.meta.role == Role::Server && t.meta.target_cmd.is_none() {
        let mut c = error_case(t, "server-role case: the oracle's client side is started by its `target-cmd`, which this transcript does not name".into());
        c.outcome = Outcome::Skipped;
        return c;
    }
    let factory = OracleFactory { ports: Some(ports_for(t)) };
    let oracle = match factory.start().await {
        Ok(o) => o,
        Err(e) => return error_case(t, format!("the oracle did not start: {e}")),
    };
    let result = run_on(t, &oracle, options).await;
    oracle.shutdown().await;
    result
}

async fn run_on(t: &Transcript, oracle: &Oracle, options: &RunOptions) -> CaseResult {
    let service = service_for(t);
    let Some(addr) = oracle.addr(service) else {
        return error_case(t, format!("the oracle has no `{service}` service"));
    };
    let mut spec = TargetSpec::addr(addr.to_string());
    spec.services = oracle.services().iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
    spec.name = Some("reference".into());
    let mut opts = options.clone();
    opts.tls_roots = vec![oracle.certificate().clone()];
    opts.fixtures = Fixtures::reference();
    opts.jobs = 1;
    // The caller reports progress per case; the inner run must not report it again.
    opts.progress = None;
    match runner::run_transcripts(&[t], &spec, &opts).await {
        Ok(mut r) => r.cases.pop().unwrap_or_else(|| error_case(t, "the runner returned no result".into())),
        Err(e) => error_case(t, format!("{e}")),
    }
}

/// Run `transcripts` against the oracle, `jobs` at a time (longest wait first), into one
/// target report in corpus order.
pub async fn run_against_oracle(transcripts: &[&Transcript], options: &RunOptions, jobs: usize) -> TargetReport {
    let sem = Arc::new(Semaphore::new(jobs.max(1)));
    let opts = Arc::new(options.clone());
    let mut set = tokio::task::JoinSet::new();
    for i in longest_first(transcripts) {
        let Some(t) = transcripts.get(i) else { continue };
        // Taken here, in start order, so the longest cases really start first.
        let Ok(permit) = sem.clone().acquire_owned().await else { break };
        let (t, opts) = ((*t).clone(), opts.clone());
        set.spawn(async move {
            let _permit = permit;
            if let Some(p) = &opts.progress {
                p.started(&t.meta.id);
            }
            let r = run_case(&t, &opts).await;
            if let Some(p) = &opts.progress {
                p.finished(&r);
            }
            (i, r)
        });
    }
    let mut results: Vec<Option<CaseResult>> = vec![None; transcripts.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, r)) = joined {
            results[i] = Some(r);
        }
    }
    let cases: Vec<CaseResult> = results
        .into_iter()
        .zip(transcripts)
        .map(|(r, t)| r.unwrap_or_else(|| error_case(t, "the case's task failed".into())))
        .collect();
    let summary = Summary::of(&cases);
    TargetReport { name: "reference".into(), target: "the embedded reference servers".into(), cases, summary }
}

/// A whole report around one target report.
pub fn report_of(target: TargetReport, started: std::time::SystemTime, elapsed: std::time::Duration) -> Report {
    Report {
        schema: wirecheck_reports::SCHEMA_VERSION,
        tool: "wirecheck".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        started: rfc3339(started),
        duration_ms: elapsed.as_millis() as u64,
        targets: vec![target],
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a system time (UTC), as the report's `started`.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// What `wirecheck demo` did.
#[derive(Debug)]
pub struct DemoOutcome {
    /// The report.
    pub report: Report,
    /// `index.html`.
    pub index: PathBuf,
}

/// `wirecheck demo`: the whole `corpus` (loaded by [`crate::corpus::load`]) against the
/// embedded oracle, reports in `out`.
pub async fn demo(
    corpus: &crate::corpus::Corpus,
    out: &Path,
    options: &RunOptions,
    jobs: usize,
) -> anyhow::Result<DemoOutcome> {
    let all: Vec<&Transcript> = corpus.transcripts.iter().collect();
    let started = std::time::SystemTime::now();
    let t0 = Instant::now();
    let target = run_against_oracle(&all, options, jobs).await;
    let report = report_of(target, started, t0.elapsed());
    std::fs::create_dir_all(out)?;
    let index = crate::coverage::write_html_report(&report, &all, &corpus.root, out)?;
    wirecheck_reports::json::write(&report, &out.join("report.json"))?;
    wirecheck_reports::junit::write(&report, &out.join("junit.xml"))?;
    Ok(DemoOutcome { report, index })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(id: &str, script: &str) -> Transcript {
        let s =
            format!("id = {id:?}\ntitle = \"t\"\nrfc = \"5321#4.1.1\"\nlevel = \"MUST\"\nscript = '''\n{script}'''\n");
        crate::transcript::parse_str(&s, Path::new("smtp/x.toml"), Some("smtp")).unwrap()
    }

    #[test]
    fn expected_wait_adds_silences_and_pauses() {
        let t = transcript("a", "S: 220 *\npause 500ms\nC: NOOP\nS: 250 *\nexpect silence 1s\n");
        assert_eq!(expected_wait(&t), Duration::from_millis(1500));
        assert_eq!(expected_wait(&transcript("b", "S: 220 *\n")), Duration::ZERO);
    }

    #[test]
    fn longest_waits_start_first_and_ties_keep_corpus_order() {
        let a = transcript("a", "S: 220 *\n");
        let b = transcript("b", "S: 220 *\npause 200ms\n");
        let c = transcript("c", "S: 220 *\n");
        let d = transcript("d", "S: 220 *\nexpect silence 1s\n");
        assert_eq!(longest_first(&[&a, &b, &c, &d]), vec![3, 1, 0, 2]);
    }

    #[test]
    fn rfc3339_formats_known_instants() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_704_103_200);
        assert_eq!(rfc3339(t), "2024-01-01T10:00:00Z");
        assert_eq!(rfc3339(std::time::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00Z");
    }
}
