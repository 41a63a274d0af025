//! `wirecheck diff`: the corpus replayed against a target and the oracle side by side, and
//! every reply compared after normalisation, respdiff-style.
//!
//! Each transcript runs unchanged against both (the embedded oracle fresh for every
//! transcript, as the corpus test does, so stateful cases compare fairly), so both receive
//! the same bytes up to where the target's run stopped. Each case's recorded exchange is
//! framed back into units by the protocol adapters ([`exchange`]), every unit is labelled
//! with the command it answers ([`attribute`]) and reduced to what two conforming servers
//! must agree on ([`normalise`]: reply codes and enhanced codes, EHLO keywords, POP3
//! status and bodies, IMAP response kinds, status and data, DNS rcode, flags and
//! records — never free text, host names, dates, ids or ports). The units are then paired
//! by position ([`compare`]): each difference is a row (what the oracle answered, what
//! the target answered), and the summary counts rows by what differs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use wirecheck::{corpus, diff, select::Selection, target::TargetSpec};
//! let corpus = corpus::load("transcripts".as_ref())?;
//! let sel = Selection { protocol: Some("smtp".into()), ..Selection::all() };
//! let opts = diff::DiffOptions::default();
//! let report = diff::diff(&sel.apply(&corpus), &TargetSpec::addr("127.0.0.1:2525"), &opts).await?;
//! print!("{}", diff::render_text(&report));
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use wirecheck_reports::{CaseResult, Outcome, TargetReport};

use crate::protocol::Limits;
use crate::runner::{self, RunError, RunOptions};
use crate::target::TargetSpec;
use crate::transcript::{Role, Transcript};

pub mod attribute;
pub mod cli;
pub mod compare;
pub mod exchange;
pub mod normalise;
mod redact;
mod report;

pub use compare::StepDiff;
pub use report::render_text;

/// What the target is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OracleSpec {
    /// The embedded reference servers, a fresh instance per transcript.
    #[default]
    Reference,
    /// A server already running at `HOST:PORT`.
    Addr(String),
}

impl OracleSpec {
    /// `reference` or `HOST:PORT`.
    pub fn parse(s: &str) -> OracleSpec {
        if s.eq_ignore_ascii_case("reference") {
            OracleSpec::Reference
        } else {
            OracleSpec::Addr(s.to_string())
        }
    }

    /// What reports call it.
    pub fn describe(&self) -> String {
        match self {
            OracleSpec::Reference => "reference".into(),
            OracleSpec::Addr(a) => a.clone(),
        }
    }
}

/// How a diff runs.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// The runner's options for the target (and a `HOST:PORT` oracle).
    pub run: RunOptions,
    /// The oracle.
    pub oracle: OracleSpec,
    /// Transcripts at once against the embedded oracle.
    pub jobs: usize,
    /// Normalised fields not compared (`enhanced`, `keywords`, …).
    pub ignore: Vec<String>,
}

impl Default for DiffOptions {
    fn default() -> Self {
        let run = RunOptions::default();
        DiffOptions {
            jobs: run.jobs,
            run,
            oracle: OracleSpec::Reference,
            ignore: Vec::new(),
        }
    }
}

/// Why a diff could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// The target could not be run at all.
    #[error("target: {0}")]
    Target(RunError),
    /// A `HOST:PORT` oracle could not be run at all.
    #[error("oracle: {0}")]
    Oracle(RunError),
}

/// How a case compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every normalised unit agrees.
    Identical,
    /// Some unit differs.
    Different,
    /// The units agree after normalisation, but the target does not pass the transcript
    /// (its free text, or timing, broke a pattern).
    OutcomeOnly,
    /// Not compared: a server-role case, or one side could not run it.
    NotCompared,
}

/// One transcript's comparison.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDiff {
    /// The transcript's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its file.
    pub file: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The oracle's outcome.
    pub oracle_outcome: Outcome,
    /// The target's outcome.
    pub target_outcome: Outcome,
    /// Why the target did not pass (line and message).
    pub target_message: Option<String>,
    /// Remarks: why not compared, where the target's run stopped.
    pub notes: Vec<String>,
    /// The differing units.
    pub steps: Vec<StepDiff>,
}

/// One row of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct ClassCount {
    /// What differs (`code class`, `enhanced`, `missing reply`, …).
    pub kind: String,
    /// Differing units.
    pub steps: usize,
    /// Cases with at least one.
    pub cases: usize,
    /// Some of those cases.
    pub examples: Vec<String>,
}

/// Case counts by verdict.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Transcripts compared or not.
    pub transcripts: usize,
    /// Identical.
    pub identical: usize,
    /// Different.
    pub different: usize,
    /// Outcome only.
    pub outcome_only: usize,
    /// Not compared.
    pub not_compared: usize,
}

/// A whole diff.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// The oracle.
    pub oracle: String,
    /// The target.
    pub target: String,
    /// Normalised fields not compared.
    pub ignored: Vec<String>,
    /// Counts.
    pub totals: Totals,
    /// Rows by kind of difference, most frequent first.
    pub classes: Vec<ClassCount>,
    /// Every case, in corpus order.
    pub cases: Vec<CaseDiff>,
    /// The oracle's run (for the HTML report).
    #[serde(skip)]
    pub oracle_report: TargetReport,
    /// The target's run (for the HTML report).
    #[serde(skip)]
    pub target_report: TargetReport,
}

/// Run `transcripts` against `target` and the oracle, and compare.
pub async fn diff(
    transcripts: &[&Transcript],
    target: &TargetSpec,
    opts: &DiffOptions,
) -> Result<DiffReport, DiffError> {
    let oracle_run = async {
        match &opts.oracle {
            OracleSpec::Reference => {
                let mut o = opts.run.clone();
                o.progress = None;
                Ok(crate::demo::run_against_oracle(transcripts, &o, opts.jobs).await)
            }
            OracleSpec::Addr(a) => {
                let mut o = opts.run.clone();
                o.progress = None;
                let mut spec = TargetSpec::addr(a.clone());
                spec.name = Some(format!("oracle {a}"));
                runner::run_transcripts(transcripts, &spec, &o)
                    .await
                    .map_err(DiffError::Oracle)
            }
        }
    };
    let target_run = async {
        runner::run_transcripts(transcripts, target, &opts.run)
            .await
            .map_err(DiffError::Target)
    };
    let (oracle_report, target_report) = tokio::join!(oracle_run, target_run);
    let (oracle_report, target_report) = (oracle_report?, target_report?);
    let cases: Vec<CaseDiff> = transcripts
        .iter()
        .zip(oracle_report.cases.iter().zip(&target_report.cases))
        .map(|(t, (o, tr))| compare_case(t, o, tr, &opts.run.limits, &opts.ignore))
        .collect();
    Ok(DiffReport {
        oracle: opts.oracle.describe(),
        target: target.name.clone().unwrap_or_else(|| target.describe()),
        ignored: opts.ignore.clone(),
        totals: totals(&cases),
        classes: classes(&cases),
        cases,
        oracle_report,
        target_report,
    })
}

fn not_compared(t: &Transcript, o: &CaseResult, tr: &CaseResult, why: String) -> CaseDiff {
    CaseDiff {
        id: t.meta.id.clone(),
        title: t.meta.title.clone(),
        file: t.file.display().to_string(),
        verdict: Verdict::NotCompared,
        oracle_outcome: o.outcome,
        target_outcome: tr.outcome,
        target_message: message_of(tr),
        notes: vec![why],
        steps: Vec::new(),
    }
}

fn message_of(r: &CaseResult) -> Option<String> {
    let m = r.message.as_ref()?;
    Some(match r.line {
        Some(l) => format!("line {l}: {m}"),
        None => m.clone(),
    })
}

/// Compare one transcript's two runs.
pub fn compare_case(
    t: &Transcript,
    oracle: &CaseResult,
    target: &CaseResult,
    limits: &Limits,
    ignore: &[String],
) -> CaseDiff {
    if t.meta.role == Role::Server {
        return not_compared(
            t,
            oracle,
            target,
            "a server-role case (it tests clients)".into(),
        );
    }
    if matches!(oracle.outcome, Outcome::Error | Outcome::Skipped) {
        let why = format!(
            "the oracle did not run it: {}",
            oracle.message.clone().unwrap_or_default()
        );
        return not_compared(t, oracle, target, why);
    }
    if target.outcome == Outcome::Skipped {
        let why = format!(
            "skipped for the target: {}",
            target.message.clone().unwrap_or_default()
        );
        return not_compared(t, oracle, target, why);
    }
    let oc = exchange::rebuild(t, &oracle.exchange, limits);
    let tc = exchange::rebuild(t, &target.exchange, limits);
    let stopped = target.outcome != Outcome::Pass;
    // An error other than silence (TLS, a refused connection…) stopped the harness, not
    // the target: what the oracle answered after it was never asked of the target.
    let harness_stopped = target.outcome == Outcome::Error
        && !target
            .message
            .as_deref()
            .is_some_and(|m| m.contains("nothing arrived"));
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    for o in &oc {
        let tconn = tc.iter().find(|c| c.conn == o.conn);
        let titems = tconn.map(|c| c.items.as_slice()).unwrap_or_default();
        // The target's run ended early: what it was never sent is not compared.
        let reached = match tconn {
            Some(_) if harness_stopped => Some(0),
            Some(c) if stopped && c.sent_bytes < o.sent_bytes => Some(c.commands_sent),
            None if stopped => Some(0),
            _ => None,
        };
        if tconn.is_none() && stopped {
            notes.push(format!("`{}`: not opened by the target's run", o.conn));
            continue;
        }
        let (d, note) =
            compare::compare_items(&o.protocol, &o.conn, &o.items, titems, reached, ignore);
        steps.extend(d);
        notes.extend(note);
    }
    let verdict = if !steps.is_empty() {
        Verdict::Different
    } else if oracle.outcome == Outcome::Pass && target.outcome != Outcome::Pass {
        Verdict::OutcomeOnly
    } else {
        Verdict::Identical
    };
    CaseDiff {
        id: t.meta.id.clone(),
        title: t.meta.title.clone(),
        file: t.file.display().to_string(),
        verdict,
        oracle_outcome: oracle.outcome,
        target_outcome: target.outcome,
        target_message: message_of(target),
        notes,
        steps,
    }
}

fn totals(cases: &[CaseDiff]) -> Totals {
    let count = |v: Verdict| cases.iter().filter(|c| c.verdict == v).count();
    Totals {
        transcripts: cases.len(),
        identical: count(Verdict::Identical),
        different: count(Verdict::Different),
        outcome_only: count(Verdict::OutcomeOnly),
        not_compared: count(Verdict::NotCompared),
    }
}

fn classes(cases: &[CaseDiff]) -> Vec<ClassCount> {
    let mut by: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for c in cases {
        for s in &c.steps {
            let e = by.entry(&s.kind).or_default();
            e.0 += 1;
            e.1.insert(&c.id);
        }
    }
    let mut v: Vec<ClassCount> = by
        .into_iter()
        .map(|(kind, (steps, ids))| ClassCount {
            kind: kind.to_string(),
            steps,
            cases: ids.len(),
            examples: ids.iter().take(3).map(|s| s.to_string()).collect(),
        })
        .collect();
    v.sort_by(|a, b| b.steps.cmp(&a.steps).then_with(|| a.kind.cmp(&b.kind)));
    v
}
