//! `index.html`: every target's score linked to its page, and the comparison matrix
//! (rows: cases grouped by protocol and RFC section; columns: targets; cells: the outcome,
//! linking to that case on the target's page), as Autobahn's testsuite reports do.

use crate::error::RenderError;
use crate::html::{
    Tally, case_anchor, level_str, page_file_names, protocols_in_order, render_target_in,
};
use crate::rfc::RfcRef;
use crate::templates::{HtmlOptions, environment, write_file};
use crate::{CaseResult, Coverage, Outcome, Report};
use minijinja::value::Serde;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Render `index.html` (embedded templates).
pub fn render_index(report: &Report) -> Result<String, RenderError> {
    render_index_with(report, &HtmlOptions::default())
}

/// Render `index.html` with `opts`.
pub fn render_index_with(report: &Report, opts: &HtmlOptions) -> Result<String, RenderError> {
    render_index_in(&environment(opts)?, report, None)
}

fn render_index_in(
    env: &minijinja::Environment<'_>,
    report: &Report,
    coverage: Option<&Coverage>,
) -> Result<String, RenderError> {
    Ok(env
        .get_template("index.html")?
        .render(Serde(&IndexPage::new(report, coverage)))?)
}

/// Write `dir/index.html` (creating `dir`); returns its path.
pub fn write_index(report: &Report, dir: &Path) -> Result<PathBuf, RenderError> {
    write_index_with(report, dir, &HtmlOptions::default())
}

/// [`write_index`] with `opts`.
pub fn write_index_with(
    report: &Report,
    dir: &Path,
    opts: &HtmlOptions,
) -> Result<PathBuf, RenderError> {
    let path = dir.join("index.html");
    write_file(&path, &render_index_with(report, opts)?)?;
    Ok(path)
}

/// Write `index.html` and every target's page into `dir`; returns the index's path.
pub fn write_all(report: &Report, dir: &Path) -> Result<PathBuf, RenderError> {
    write_all_with(report, dir, &HtmlOptions::default())
}

/// [`write_all`] with `opts`.
pub fn write_all_with(
    report: &Report,
    dir: &Path,
    opts: &HtmlOptions,
) -> Result<PathBuf, RenderError> {
    write_all_with_coverage(report, None, dir, opts)
}

/// [`write_all_with`], plus `coverage.html` and a coverage summary on the index when
/// `coverage` is given.
pub fn write_all_with_coverage(
    report: &Report,
    coverage: Option<&Coverage>,
    dir: &Path,
    opts: &HtmlOptions,
) -> Result<PathBuf, RenderError> {
    let env = environment(opts)?;
    for (t, file) in report.targets.iter().zip(page_file_names(report)) {
        let path = dir.join(file);
        write_file(&path, &render_target_in(&env, report, t)?)?;
    }
    if let Some(c) = coverage {
        write_file(
            &dir.join(crate::coverage::PAGE),
            &crate::coverage::render_coverage_in(&env, report, c)?,
        )?;
    }
    let path = dir.join("index.html");
    write_file(&path, &render_index_in(&env, report, coverage)?)?;
    Ok(path)
}

/// Render `index.html` with a coverage summary (embedded templates).
pub fn render_index_with_coverage(
    report: &Report,
    coverage: &Coverage,
) -> Result<String, RenderError> {
    render_index_in(
        &environment(&HtmlOptions::default())?,
        report,
        Some(coverage),
    )
}

#[derive(Debug, Serialize)]
struct TargetColumn {
    name: String,
    target: String,
    href: String,
    tally: Tally,
}

#[derive(Debug, Serialize)]
struct Cell {
    outcome: Option<&'static str>,
    href: String,
    /// Tooltip: the outcome and its message.
    tip: String,
}

#[derive(Debug, Serialize)]
struct MatrixRow {
    id: String,
    title: String,
    level: &'static str,
    /// Every target that ran the case had the same outcome.
    same: bool,
    cells: Vec<Cell>,
}

#[derive(Debug, Serialize)]
struct MatrixGroup {
    protocol: String,
    label: String,
    url: Option<String>,
    rows: Vec<MatrixRow>,
}

#[derive(Debug, Serialize)]
struct IndexPage {
    tool: String,
    version: String,
    started: String,
    run_duration: String,
    outcomes: Vec<&'static str>,
    targets: Vec<TargetColumn>,
    groups: Vec<MatrixGroup>,
    /// RFC coverage per RFC, when the run has requirements.
    coverage: Option<Vec<crate::coverage::RfcSummary>>,
}

impl IndexPage {
    fn new(report: &Report, coverage: Option<&Coverage>) -> IndexPage {
        let files = page_file_names(report);
        let targets = report
            .targets
            .iter()
            .zip(&files)
            .map(|(t, f)| TargetColumn {
                name: t.name.clone(),
                target: t.target.clone(),
                href: f.clone(),
                tally: Tally::from_summary(&t.summary),
            })
            .collect();
        IndexPage {
            tool: report.tool.clone(),
            version: report.version.clone(),
            started: report.started.clone(),
            run_duration: crate::html::duration(report.duration_ms),
            outcomes: Outcome::ALL.iter().map(|o| o.as_str()).collect(),
            targets,
            groups: matrix(report, &files),
            coverage: coverage.map(|c| crate::coverage::summaries(report, c)),
        }
    }
}

/// The matrix rows: every case id of any target, once, grouped by protocol (in order of
/// first appearance) and the first RFC section it cites (in RFC order).
fn matrix(report: &Report, files: &[String]) -> Vec<MatrixGroup> {
    // Each target's cases by id, and the union of ids in order of first appearance.
    let by_id: Vec<HashMap<&str, &CaseResult>> = report
        .targets
        .iter()
        .map(|t| t.cases.iter().map(|c| (c.id.as_str(), c)).collect())
        .collect();
    let mut first: Vec<&CaseResult> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in report.targets.iter().flat_map(|t| &t.cases) {
        if seen.insert(c.id.as_str()) {
            first.push(c);
        }
    }
    let protocols = protocols_in_order(first.iter().copied());
    let mut groups = Vec::new();
    for p in protocols {
        let mut sections: BTreeMap<Option<RfcRef>, Vec<&CaseResult>> = BTreeMap::new();
        for c in first.iter().filter(|c| c.protocol == p) {
            let key = c.rfc.first().map(|r| RfcRef::parse(r).section_only());
            sections.entry(key).or_default().push(c);
        }
        for (rfc, cases) in sections {
            let rows = cases.iter().map(|c| row(c, &by_id, files)).collect();
            groups.push(MatrixGroup {
                protocol: p.clone(),
                label: rfc
                    .as_ref()
                    .map_or_else(|| "(no RFC reference)".to_string(), RfcRef::label),
                url: rfc.as_ref().and_then(RfcRef::url),
                rows,
            });
        }
    }
    groups
}

fn row(c: &CaseResult, by_id: &[HashMap<&str, &CaseResult>], files: &[String]) -> MatrixRow {
    let cells: Vec<Cell> = by_id
        .iter()
        .zip(files)
        .map(|(m, file)| match m.get(c.id.as_str()) {
            Some(tc) => Cell {
                outcome: Some(tc.outcome.as_str()),
                href: format!("{file}#{}", case_anchor(&tc.id)),
                tip: match &tc.message {
                    Some(msg) => format!("{}: {msg}", tc.outcome.as_str()),
                    None => tc.outcome.as_str().to_string(),
                },
            },
            None => Cell {
                outcome: None,
                href: String::new(),
                tip: String::new(),
            },
        })
        .collect();
    let mut ran = cells.iter().filter_map(|c| c.outcome);
    let first = ran.next();
    let same = ran.all(|o| Some(o) == first) && cells.iter().all(|c| c.outcome.is_some());
    MatrixRow {
        id: c.id.clone(),
        title: c.title.clone(),
        level: level_str(c.level),
        same,
        cells,
    }
}
