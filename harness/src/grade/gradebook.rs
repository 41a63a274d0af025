//! `gradebook.csv`: one row per student (points, possible, percent, counts per outcome, the
//! report page), for a spreadsheet or a course system; and the same as a console table.

use std::path::Path;

use wirecheck_reports::html::page_file_names;
use wirecheck_reports::{Outcome, Report};

/// The CSV text (RFC 4180: CRLF line ends, fields quoted when needed).
pub fn csv(report: &Report) -> String {
    let mut head = vec!["student", "points", "possible", "percent", "cases"];
    head.extend(Outcome::ALL.iter().map(|o| o.as_str()));
    head.push("report");
    let mut out = head.join(",");
    out.push_str("\r\n");
    for (t, page) in report.targets.iter().zip(page_file_names(report)) {
        let s = &t.summary;
        let mut row = vec![
            field(&t.name),
            s.points.to_string(),
            s.points_possible.to_string(),
            percent(s.points, s.points_possible),
            s.total.to_string(),
        ];
        row.extend(Outcome::ALL.iter().map(|o| s.count(*o).to_string()));
        row.push(field(&page));
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Write [`csv`] to `path`.
pub fn write(report: &Report, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, csv(report))
}

/// `points / possible` in percent with one decimal (`""` when nothing was possible).
pub fn percent(points: u32, possible: u32) -> String {
    if possible == 0 {
        return String::new();
    }
    let tenths = (u64::from(points) * 1000 + u64::from(possible) / 2) / u64::from(possible);
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// A CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-`
/// or `@` is prefixed with `'` so that a spreadsheet never runs it as a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A plain table of the students' scores for the console.
pub fn table(report: &Report) -> String {
    let width = report
        .targets
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = format!(
        "{:<width$}  {:>7}  {:>6}  {:>5} {:>5} {:>5} {:>5}\n",
        "student", "points", "%", "pass", "fail", "other", "error"
    );
    for t in &report.targets {
        let s = &t.summary;
        let other = s.count(Outcome::NonStrict)
            + s.count(Outcome::Unimplemented)
            + s.count(Outcome::Informational);
        out.push_str(&format!(
            "{:<width$}  {:>7}  {:>6}  {:>5} {:>5} {:>5} {:>5}\n",
            t.name,
            format!("{}/{}", s.points, s.points_possible),
            percent(s.points, s.points_possible),
            s.count(Outcome::Pass),
            s.count(Outcome::Fail),
            other,
            s.count(Outcome::Error),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirecheck_reports::{Summary, TargetReport};

    #[test]
    fn rows_quote_and_defuse() {
        let t = |name: &str, pass: u32, fail: u32| {
            let mut s = Summary::of(&[]);
            s.total = pass + fail;
            s.points = pass;
            s.points_possible = pass + fail;
            s.counts.insert("pass".into(), pass);
            s.counts.insert("fail".into(), fail);
            TargetReport {
                name: name.into(),
                target: String::new(),
                cases: vec![],
                summary: s,
            }
        };
        let r = Report {
            schema: 1,
            tool: "wirecheck".into(),
            version: "0".into(),
            started: String::new(),
            duration_ms: 0,
            targets: vec![t("alice, a.", 2, 1), t("=cmd()", 0, 0)],
        };
        let c = csv(&r);
        let lines: Vec<&str> = c.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "student,points,possible,percent,cases,pass,fail,non-strict,unimplemented,informational,error,skipped,report"
        );
        assert_eq!(
            lines[1],
            "\"alice, a.\",2,3,66.7,3,2,1,0,0,0,0,0,alice-a.html"
        );
        assert!(lines[2].starts_with("'=cmd(),0,0,,0,"), "{}", lines[2]);
        assert_eq!(percent(1, 3), "33.3");
        assert_eq!(percent(3, 3), "100.0");
        assert!(table(&r).contains("2/3"));
    }
}
