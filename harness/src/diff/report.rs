//! The console form of a diff: every differing case with its rows, then the summary table.

use std::fmt::Write;

use super::normalise::cut;
use super::{DiffReport, Verdict};

/// The report as plain text (no colours: it goes to files and CI logs as well).
pub fn render_text(r: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "wirecheck diff: oracle {} vs target {}",
        r.oracle, r.target
    );
    if !r.ignored.is_empty() {
        let _ = writeln!(out, "not compared: {}", r.ignored.join(", "));
    }
    for c in &r.cases {
        if !matches!(c.verdict, Verdict::Different | Verdict::OutcomeOnly) {
            continue;
        }
        let _ = writeln!(out, "\n{}  {}", c.id, c.title);
        if let Some(m) = &c.target_message {
            let _ = writeln!(out, "  target {:?}: {}", c.target_outcome, cut(m, 160));
        }
        for n in &c.notes {
            let _ = writeln!(out, "  note: {n}");
        }
        if c.verdict == Verdict::OutcomeOnly {
            let _ = writeln!(
                out,
                "  the normalised replies agree; the transcript's text patterns or timing differ"
            );
        }
        for s in &c.steps {
            let _ = writeln!(
                out,
                "  {} #{}  {}  [{}]",
                s.conn,
                s.index,
                cut(&s.command, 70),
                s.kind
            );
            let _ = writeln!(
                out,
                "      oracle: {:<28} {}",
                cut(&s.oracle, 28),
                cut(&s.oracle_raw, 90)
            );
            let _ = writeln!(
                out,
                "      target: {:<28} {}",
                cut(&s.target, 28),
                cut(&s.target_raw, 90)
            );
        }
    }
    if !r.classes.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<22} {:>6} {:>6}  examples",
            "difference", "units", "cases"
        );
        for k in &r.classes {
            let _ = writeln!(
                out,
                "{:<22} {:>6} {:>6}  {}",
                cut(&k.kind, 22),
                k.steps,
                k.cases,
                k.examples.join(", ")
            );
        }
    }
    let t = &r.totals;
    let _ = writeln!(
        out,
        "\n{} transcript(s): {} identical, {} different, {} outcome only, {} not compared",
        t.transcripts, t.identical, t.different, t.outcome_only, t.not_compared
    );
    out
}
