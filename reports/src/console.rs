//! The closing summary printed after a run: plain text, one block per target (counts,
//! points, the failing cases with one-line messages, where the report is).

use crate::html::{page_file_names, percent};
use crate::{Outcome, Report};
use std::fmt::Write as _;
use std::path::Path;

/// At most this many failing cases are listed per target; the rest are counted.
pub const MAX_LISTED: usize = 30;

/// The closing summary of `report`.
pub fn summary(report: &Report) -> String {
    summary_with_report_dir(report, None)
}

/// The closing summary, naming each target's HTML page and the index under `report_dir`
/// when the run wrote them there ([`crate::index::write_all`]).
pub fn summary_with_report_dir(report: &Report, report_dir: Option<&Path>) -> String {
    let mut s = String::new();
    let files = page_file_names(report);
    let n = report.targets.len();
    let _ = writeln!(
        s,
        "{} {}: {n} target{}, run took {}",
        report.tool,
        report.version,
        if n == 1 { "" } else { "s" },
        crate::html::duration(report.duration_ms)
    );
    for (t, file) in report.targets.iter().zip(&files) {
        let sum = &t.summary;
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{} ({}): {}/{} points ({}), {} case{} run",
            t.name,
            t.target,
            sum.points,
            sum.points_possible,
            percent(sum.points, sum.points_possible),
            sum.total,
            if sum.total == 1 { "" } else { "s" }
        );
        let counts: Vec<String> = Outcome::ALL
            .iter()
            .map(|o| format!("{} {}", o.as_str(), sum.count(*o)))
            .collect();
        let _ = writeln!(s, "  {}", counts.join(" · "));
        let failing: Vec<_> = t
            .cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
            .collect();
        for c in failing.iter().take(MAX_LISTED) {
            let label = if c.outcome == Outcome::Fail {
                "FAIL "
            } else {
                "ERROR"
            };
            match &c.message {
                Some(m) => _ = writeln!(s, "  {label} {}: {}", c.id, one_line(m)),
                None => _ = writeln!(s, "  {label} {}", c.id),
            }
        }
        if failing.len() > MAX_LISTED {
            let _ = writeln!(s, "  … and {} more", failing.len() - MAX_LISTED);
        }
        if let Some(dir) = report_dir {
            let _ = writeln!(s, "  report: {}", dir.join(file).display());
        }
    }
    if let Some(dir) = report_dir
        && n > 0
    {
        let _ = writeln!(s);
        let _ = writeln!(s, "index: {}", dir.join("index.html").display());
    }
    s
}

/// Control characters and line breaks become spaces; at most 160 characters.
fn one_line(m: &str) -> String {
    let flat: String = m
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    match flat.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", flat.get(..i).unwrap_or(flat)),
        None => flat.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_become_one_short_line() {
        assert_eq!(
            super::one_line(" expected 503,\r\ngot\t250 "),
            "expected 503,  got 250"
        );
        assert_eq!(super::one_line(&"é".repeat(200)).chars().count(), 161);
    }
}
