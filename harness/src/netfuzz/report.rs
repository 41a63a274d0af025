//! What a fuzz run did ([`FuzzReport`], serialisable) and its console form.

use std::path::PathBuf;

use serde::Serialize;

use crate::diff::normalise::cut;

/// One discrepancy class and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `RCPT: code class 503 → 250`.
    pub class: String,
    /// The command verb.
    pub verb: String,
    /// What differs.
    pub kind: String,
    /// The oracle's unit, short.
    pub oracle: String,
    /// The target's unit, short.
    pub target: String,
    /// Cases that showed it.
    pub count: u64,
    /// The first (lowest) case that showed it.
    pub first_case: u64,
    /// That case's chunks, escaped.
    pub original: Vec<String>,
    /// The minimised chunks, escaped (empty when not minimised).
    pub minimised: Vec<String>,
    /// Session pairs spent minimising.
    pub tests: usize,
    /// `written`, `flaky` (did not reproduce), `unverified: …`, `not minimised (--max-findings)`.
    pub verdict: String,
    /// The transcript written.
    pub file: Option<PathBuf>,
    /// The target's outcome on it (`non-strict` for a written SHOULD case).
    pub target_outcome: Option<wirecheck_reports::Outcome>,
}

/// What a fuzz run did.
#[derive(Debug, Clone, Serialize)]
pub struct FuzzReport {
    /// The protocol.
    pub protocol: String,
    /// The seed.
    pub seed: u64,
    /// The oracle.
    pub oracle: String,
    /// The target.
    pub target: String,
    /// Corpus seeds used.
    pub seeds: usize,
    /// Cases run (each: one session on the oracle and one on the target).
    pub cases: u64,
    /// Sessions run in the fuzzing phase (both sides).
    pub sessions: u64,
    /// Length of the fuzzing phase, ms.
    pub fuzz_ms: u64,
    /// Cases per second (each is one session on the target, AFLNet's "exec").
    pub cases_per_sec: f64,
    /// Sessions per second, both sides.
    pub sessions_per_sec: f64,
    /// Minimisation and verification, ms.
    pub minimise_ms: u64,
    /// Sessions that could not reach the oracle.
    pub oracle_errors: u64,
    /// Sessions that could not reach the target.
    pub target_errors: u64,
    /// Times the target was restarted after it died.
    pub target_restarts: u64,
    /// Discrepancies that did not show again when their case was re-run at once (not
    /// counted as findings).
    pub flaky: u64,
    /// Discrepancy classes, in order of first appearance.
    pub findings: Vec<Finding>,
}

/// The report as text.
pub fn render_text(r: &FuzzReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "wirecheck fuzz {} (seed {}): oracle {} vs target {}",
        r.protocol, r.seed, r.oracle, r.target
    );
    let _ = writeln!(
        out,
        "{} cases ({} corpus seeds) in {:.1}s: {:.0} cases/s, {:.0} sessions/s; {} oracle / {} target errors, {} restarts, {} one-off differences",
        r.cases,
        r.seeds,
        r.fuzz_ms as f64 / 1000.0,
        r.cases_per_sec,
        r.sessions_per_sec,
        r.oracle_errors,
        r.target_errors,
        r.target_restarts,
        r.flaky
    );
    if r.findings.is_empty() {
        let _ = writeln!(out, "no discrepancies");
        return out;
    }
    let _ = writeln!(out, "\n{} discrepancy class(es):", r.findings.len());
    for f in &r.findings {
        let _ = writeln!(
            out,
            "\n  {}  ({} case(s), first #{})",
            f.class, f.count, f.first_case
        );
        let shown = if f.minimised.is_empty() {
            &f.original
        } else {
            &f.minimised
        };
        for c in shown.iter().take(12) {
            let _ = writeln!(out, "      {}", cut(c, 100));
        }
        if shown.len() > 12 {
            let _ = writeln!(out, "      … {} more chunk(s)", shown.len() - 12);
        }
        let file = f
            .file
            .as_ref()
            .map(|p| format!(" → {}", p.display()))
            .unwrap_or_default();
        let _ = writeln!(out, "    {}{}", f.verdict, file);
    }
    let _ = writeln!(
        out,
        "\nminimisation and verification: {:.1}s",
        r.minimise_ms as f64 / 1000.0
    );
    out
}
