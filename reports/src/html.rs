//! One self-contained HTML page per target: header with the score, summaries by protocol and
//! by RFC section, a filterable list of cases, each expandable to its RFC clause, message,
//! hint, expected vs actual (differences marked) and the whole wire exchange with every
//! byte visible.
//!
//! The page has no external assets (inline CSS and a small script) so it works from
//! `file://`, offline, mailed to a student. The renderer builds a plain view model here and
//! the template prints it with HTML auto-escaping: a target's bytes can never become markup.

use crate::error::RenderError;
use crate::rfc::RfcRef;
use crate::templates::{HtmlOptions, environment, write_file};
use crate::visible::{self, Run};
use crate::{CaseResult, Direction, Outcome, Report, Summary, TargetReport};
use minijinja::value::Serde;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Render `target`'s page (embedded templates).
pub fn render_target(report: &Report, target: &TargetReport) -> Result<String, RenderError> {
    render_target_with(report, target, &HtmlOptions::default())
}

/// Render `target`'s page with `opts`.
pub fn render_target_with(
    report: &Report,
    target: &TargetReport,
    opts: &HtmlOptions,
) -> Result<String, RenderError> {
    render_target_in(&environment(opts)?, report, target)
}

/// Render `target`'s page with a ready environment (one per run, not per page).
pub(crate) fn render_target_in(
    env: &minijinja::Environment<'_>,
    report: &Report,
    target: &TargetReport,
) -> Result<String, RenderError> {
    let page = TargetPage::new(report, target);
    Ok(env.get_template("target.html")?.render(Serde(&page))?)
}

/// Write `target`'s page into `dir` (created if needed) under [`page_file_name`]; returns
/// its path.
pub fn write_target_report(
    report: &Report,
    target: &TargetReport,
    dir: &Path,
) -> Result<PathBuf, RenderError> {
    write_target_report_with(report, target, dir, &HtmlOptions::default())
}

/// [`write_target_report`] with `opts`.
pub fn write_target_report_with(
    report: &Report,
    target: &TargetReport,
    dir: &Path,
    opts: &HtmlOptions,
) -> Result<PathBuf, RenderError> {
    let path = dir.join(page_file_name(report, target));
    write_file(&path, &render_target_with(report, target, opts)?)?;
    Ok(path)
}

/// The page file name of every target of `report`, in order: the target name reduced to
/// `[a-z0-9._-]`, made unique (`-2`, `-3`, ...) and never `index.html`.
pub fn page_file_names(report: &Report) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::from(["index".to_string()]);
    report
        .targets
        .iter()
        .map(|t| {
            let stem = sanitize(&t.name, "target");
            let mut name = stem.clone();
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{stem}-{n}");
                n += 1;
            }
            format!("{name}.html")
        })
        .collect()
}

/// The page file name of `target`, which should be one of `report.targets` (found by
/// address, then by name); a target not in the report gets its sanitized name.
pub fn page_file_name(report: &Report, target: &TargetReport) -> String {
    let pos = report
        .targets
        .iter()
        .position(|t| std::ptr::eq(t, target))
        .or_else(|| report.targets.iter().position(|t| t.name == target.name));
    match pos.and_then(|i| page_file_names(report).into_iter().nth(i)) {
        Some(name) => name,
        None => format!("{}.html", sanitize(&target.name, "target")),
    }
}

/// The fragment id of a case on its target's page (`case-smtp.sequence.rcpt-before-mail`).
pub fn case_anchor(id: &str) -> String {
    format!("case-{}", sanitize(id, "unnamed"))
}

/// Lower-case ASCII letters, digits, `.`, `_`, `-`; anything else becomes `-`, runs of `-`
/// collapse, no leading/trailing `-` or `.`, at most 64 bytes; `fallback` when nothing is left.
fn sanitize(s: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
        if out.len() >= 64 {
            break;
        }
    }
    let out = out.trim_matches(|c| c == '-' || c == '.');
    if out.is_empty() {
        fallback.to_string()
    } else {
        out.to_string()
    }
}

/// "850 ms", "12.3 s", "2 min 05 s".
pub(crate) fn duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1000..=59_999 => format!("{}.{} s", ms / 1000, ms % 1000 / 100),
        _ => format!("{} min {:02} s", ms / 60_000, ms % 60_000 / 1000),
    }
}

/// `points / possible` as a whole percentage ("—" when nothing was possible).
pub(crate) fn percent(points: u32, possible: u32) -> String {
    if possible == 0 {
        return "—".to_string();
    }
    format!("{}%", u64::from(points) * 100 / u64::from(possible))
}

/// Every outcome's count.
#[derive(Debug, Serialize)]
pub(crate) struct Count {
    pub outcome: &'static str,
    pub n: u32,
}

/// Counts and points of a group of cases (a protocol, an RFC section, a target).
#[derive(Debug, Serialize)]
pub(crate) struct Tally {
    pub counts: Vec<Count>,
    pub total: u32,
    pub points: u32,
    pub possible: u32,
    pub percent: String,
}

impl Tally {
    pub(crate) fn of<'c>(cases: impl IntoIterator<Item = &'c CaseResult>) -> Tally {
        let mut counts: Vec<Count> = Outcome::ALL
            .iter()
            .map(|o| Count {
                outcome: o.as_str(),
                n: 0,
            })
            .collect();
        let (mut total, mut points, mut possible) = (0, 0, 0);
        for c in cases {
            if let Some(slot) = counts.iter_mut().find(|k| k.outcome == c.outcome.as_str()) {
                slot.n += 1;
            }
            if c.outcome != Outcome::Skipped {
                total += 1;
                possible += c.points;
                if c.outcome == Outcome::Pass {
                    points += c.points;
                }
            }
        }
        Tally {
            counts,
            total,
            points,
            possible,
            percent: percent(points, possible),
        }
    }

    /// A target's tally as its [`Summary`] states it.
    pub(crate) fn from_summary(s: &Summary) -> Tally {
        Tally {
            counts: Outcome::ALL
                .iter()
                .map(|o| Count {
                    outcome: o.as_str(),
                    n: s.count(*o),
                })
                .collect(),
            total: s.total,
            points: s.points,
            possible: s.points_possible,
            percent: percent(s.points, s.points_possible),
        }
    }
}

/// A summary row: a label (linked for RFC sections) and its tally.
#[derive(Debug, Serialize)]
struct GroupRow {
    label: String,
    url: Option<String>,
    tally: Tally,
}

/// An RFC reference as shown.
#[derive(Debug, Serialize)]
pub(crate) struct RfcLink {
    pub label: String,
    pub url: Option<String>,
}

impl From<&RfcRef> for RfcLink {
    fn from(r: &RfcRef) -> Self {
        RfcLink {
            label: r.label(),
            url: r.url(),
        }
    }
}

/// One exchange event as shown.
#[derive(Debug, Serialize)]
struct EventView {
    t_ms: u64,
    /// Milliseconds since the previous event.
    gap_ms: u64,
    conn: String,
    dir: &'static str,
    runs: Vec<Run>,
}

/// One case as shown.
#[derive(Debug, Serialize)]
struct CaseView {
    anchor: String,
    id: String,
    title: String,
    protocol: String,
    outcome: &'static str,
    level: &'static str,
    points: u32,
    earned: u32,
    duration: String,
    file: String,
    line: Option<u32>,
    message: Option<String>,
    hint: Option<String>,
    tags: Vec<String>,
    rfcs: Vec<RfcLink>,
    /// Lower-case text the filter searches: id, title, RFC labels, tags, message.
    search: String,
    expected: Option<Vec<Run>>,
    actual: Option<Vec<Run>>,
    conns: usize,
    exchange: Vec<EventView>,
}

pub(crate) fn level_str(l: crate::Level) -> &'static str {
    match l {
        crate::Level::Must => "MUST",
        crate::Level::Should => "SHOULD",
        crate::Level::May => "MAY",
    }
}

impl CaseView {
    fn new(c: &CaseResult) -> CaseView {
        let rfcs: Vec<RfcLink> = c
            .rfc
            .iter()
            .map(|r| RfcLink::from(&RfcRef::parse(r)))
            .collect();
        let mut search = format!("{} {} {}", c.id, c.title, c.protocol);
        for r in &rfcs {
            search.push(' ');
            search.push_str(&r.label);
        }
        for s in c.tags.iter().chain(&c.rfc).chain(&c.message) {
            search.push(' ');
            search.push_str(s);
        }
        let (expected, actual) = match (&c.expected, &c.actual) {
            (Some(e), Some(a)) => {
                let (l, r) = visible::diff(e, a);
                (Some(l), Some(r))
            }
            (e, a) => (
                e.as_deref().map(visible::text),
                a.as_deref().map(visible::escaped),
            ),
        };
        let mut prev = 0;
        let exchange = c
            .exchange
            .iter()
            .map(|e| {
                let gap_ms = e.t_ms.saturating_sub(prev);
                prev = e.t_ms;
                let (dir, runs) = match e.dir {
                    Direction::Sent => ("sent", visible::escaped(&e.data)),
                    Direction::Received => ("received", visible::escaped(&e.data)),
                    Direction::Note => ("note", visible::text(&e.data)),
                };
                EventView {
                    t_ms: e.t_ms,
                    gap_ms,
                    conn: e.conn.clone(),
                    dir,
                    runs,
                }
            })
            .collect();
        let conns = c
            .exchange
            .iter()
            .map(|e| e.conn.as_str())
            .collect::<HashSet<_>>()
            .len();
        CaseView {
            anchor: case_anchor(&c.id),
            id: c.id.clone(),
            title: c.title.clone(),
            protocol: c.protocol.clone(),
            outcome: c.outcome.as_str(),
            level: level_str(c.level),
            points: c.points,
            earned: if c.outcome == Outcome::Pass {
                c.points
            } else {
                0
            },
            duration: duration(c.duration_ms),
            file: c.file.clone(),
            line: c.line,
            message: c.message.clone(),
            hint: c.hint.clone(),
            tags: c.tags.clone(),
            rfcs,
            search: search.to_lowercase(),
            expected,
            actual,
            conns,
            exchange,
        }
    }
}

/// Everything `target.html` prints.
#[derive(Debug, Serialize)]
struct TargetPage {
    tool: String,
    version: String,
    started: String,
    run_duration: String,
    name: String,
    target: String,
    tally: Tally,
    outcomes: Vec<&'static str>,
    protocol_names: Vec<String>,
    protocols: Vec<GroupRow>,
    sections: Vec<GroupRow>,
    cases: Vec<CaseView>,
}

impl TargetPage {
    fn new(report: &Report, t: &TargetReport) -> TargetPage {
        let protocol_names = protocols_in_order(t.cases.iter());
        let protocols = protocol_names
            .iter()
            .map(|p| GroupRow {
                label: p.clone(),
                url: None,
                tally: Tally::of(t.cases.iter().filter(|c| &c.protocol == p)),
            })
            .collect();
        let mut by_section: BTreeMap<Option<RfcRef>, Vec<&CaseResult>> = BTreeMap::new();
        for c in &t.cases {
            let refs: Vec<RfcRef> = c
                .rfc
                .iter()
                .map(|r| RfcRef::parse(r).section_only())
                .collect();
            if refs.is_empty() {
                by_section.entry(None).or_default().push(c);
            }
            for r in refs.into_iter().collect::<std::collections::BTreeSet<_>>() {
                by_section.entry(Some(r)).or_default().push(c);
            }
        }
        let sections = by_section
            .into_iter()
            .map(|(r, cases)| GroupRow {
                label: r
                    .as_ref()
                    .map_or_else(|| "(no RFC reference)".to_string(), RfcRef::label),
                url: r.as_ref().and_then(RfcRef::url),
                tally: Tally::of(cases),
            })
            .collect();
        TargetPage {
            tool: report.tool.clone(),
            version: report.version.clone(),
            started: report.started.clone(),
            run_duration: duration(report.duration_ms),
            name: t.name.clone(),
            target: t.target.clone(),
            tally: Tally::from_summary(&t.summary),
            outcomes: Outcome::ALL.iter().map(|o| o.as_str()).collect(),
            protocol_names,
            protocols,
            sections,
            cases: t.cases.iter().map(CaseView::new).collect(),
        }
    }
}

/// The protocols of `cases`, in order of first appearance.
pub(crate) fn protocols_in_order<'c>(cases: impl Iterator<Item = &'c CaseResult>) -> Vec<String> {
    let mut seen = Vec::new();
    for c in cases {
        if !seen.contains(&c.protocol) {
            seen.push(c.protocol.clone());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_unique_and_never_index() {
        assert_eq!(
            sanitize("Alice <a@x>/../../etc", "t"),
            "alice-a-x-..-..-etc"
        );
        assert_eq!(sanitize("../", "t"), "t");
        assert_eq!(sanitize("", "t"), "t");
        assert_eq!(sanitize(&"x".repeat(200), "t").len(), 64);
        assert_eq!(
            case_anchor("smtp.sequence.rcpt-before-mail"),
            "case-smtp.sequence.rcpt-before-mail"
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_345), "12.3 s");
        assert_eq!(duration(125_000), "2 min 05 s");
        assert_eq!(percent(1, 3), "33%");
        assert_eq!(percent(0, 0), "—");
    }
}
