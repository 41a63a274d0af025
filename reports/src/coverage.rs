//! `coverage.html`: every requirement of the RFCs in scope (a MUST or SHOULD clause,
//! paraphrased), the cases that check it, and how each target did on them; the
//! requirements no case checks stand out. The index shows a summary per RFC.

use crate::error::RenderError;
use crate::html::{case_anchor, level_str, page_file_names};
use crate::rfc::RfcRef;
use crate::templates::{HtmlOptions, environment, write_file};
use crate::{CaseResult, Coverage, Level, Outcome, Report};
use minijinja::value::Serde;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The file name of the coverage page.
pub const PAGE: &str = "coverage.html";

/// Render `coverage.html` for `report` (embedded templates).
pub fn render_coverage(report: &Report, coverage: &Coverage) -> Result<String, RenderError> {
    render_coverage_with(report, coverage, &HtmlOptions::default())
}

/// [`render_coverage`] with `opts`.
pub fn render_coverage_with(
    report: &Report,
    coverage: &Coverage,
    opts: &HtmlOptions,
) -> Result<String, RenderError> {
    render_coverage_in(&environment(opts)?, report, coverage)
}

pub(crate) fn render_coverage_in(
    env: &minijinja::Environment<'_>,
    report: &Report,
    coverage: &Coverage,
) -> Result<String, RenderError> {
    let page = CoveragePage::new(report, coverage);
    Ok(env.get_template("coverage.html")?.render(Serde(&page))?)
}

/// Write `dir/coverage.html`; returns its path.
pub fn write_coverage(
    report: &Report,
    coverage: &Coverage,
    dir: &Path,
) -> Result<PathBuf, RenderError> {
    let path = dir.join(PAGE);
    write_file(&path, &render_coverage(report, coverage)?)?;
    Ok(path)
}

/// The outcome a target has on a requirement: the worst of its covering cases' outcomes
/// (fail, error, non-strict, unimplemented, informational, then pass; skipped only when
/// every covering case was skipped); `None` when the target ran none of them.
pub fn requirement_outcome<'c>(cases: impl IntoIterator<Item = &'c CaseResult>) -> Option<Outcome> {
    const WORST_FIRST: [Outcome; 7] = [
        Outcome::Fail,
        Outcome::Error,
        Outcome::NonStrict,
        Outcome::Unimplemented,
        Outcome::Informational,
        Outcome::Pass,
        Outcome::Skipped,
    ];
    let seen: Vec<Outcome> = cases.into_iter().map(|c| c.outcome).collect();
    WORST_FIRST.into_iter().find(|o| seen.contains(o))
}

/// One RFC's counts, as the index and the coverage page show them.
#[derive(Debug, Serialize)]
pub(crate) struct RfcSummary {
    pub rfc: u32,
    pub label: String,
    pub url: Option<String>,
    pub anchor: String,
    pub href: String,
    pub total: usize,
    pub covered: usize,
    pub percent: String,
    pub must_uncovered: usize,
    pub should_uncovered: usize,
    /// Per target: requirements whose covering cases all passed.
    pub met: Vec<usize>,
}

/// Per-RFC summaries of `coverage`, in RFC order.
pub(crate) fn summaries(report: &Report, coverage: &Coverage) -> Vec<RfcSummary> {
    let by_target = case_maps(report);
    let mut by_rfc: BTreeMap<u32, Vec<&crate::Requirement>> = BTreeMap::new();
    for r in &coverage.requirements {
        by_rfc.entry(r.rfc).or_default().push(r);
    }
    by_rfc
        .into_iter()
        .map(|(rfc, reqs)| {
            let covered = reqs.iter().filter(|r| !r.cases.is_empty()).count();
            let uncovered = |l: Level| {
                reqs.iter()
                    .filter(|r| r.level == l && r.cases.is_empty())
                    .count()
            };
            let whole = RfcRef::parse(&rfc.to_string());
            RfcSummary {
                rfc,
                label: whole.label(),
                url: whole.url(),
                anchor: format!("rfc-{rfc}"),
                href: format!("{PAGE}#rfc-{rfc}"),
                total: reqs.len(),
                covered,
                percent: crate::html::percent(
                    u32::try_from(covered).unwrap_or(u32::MAX),
                    u32::try_from(reqs.len()).unwrap_or(u32::MAX),
                ),
                must_uncovered: uncovered(Level::Must),
                should_uncovered: uncovered(Level::Should),
                met: by_target
                    .iter()
                    .map(|m| {
                        reqs.iter()
                            .filter(|r| {
                                requirement_outcome(
                                    r.cases.iter().filter_map(|id| m.get(id.as_str()).copied()),
                                ) == Some(Outcome::Pass)
                            })
                            .count()
                    })
                    .collect(),
            }
        })
        .collect()
}

fn case_maps(report: &Report) -> Vec<HashMap<&str, &CaseResult>> {
    report
        .targets
        .iter()
        .map(|t| t.cases.iter().map(|c| (c.id.as_str(), c)).collect())
        .collect()
}

#[derive(Debug, Serialize)]
struct TargetHead {
    name: String,
    href: String,
}

#[derive(Debug, Serialize)]
struct CaseLink {
    id: String,
    href: Option<String>,
}

#[derive(Debug, Serialize)]
struct Cell {
    outcome: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct Row {
    id: String,
    anchor: String,
    /// The section's label, for the `rfc_link` macro.
    label: String,
    url: Option<String>,
    level: &'static str,
    who: String,
    text: String,
    cases: Vec<CaseLink>,
    cells: Vec<Cell>,
}

#[derive(Debug, Serialize)]
struct RfcBlock {
    summary: RfcSummary,
    rows: Vec<Row>,
}

#[derive(Debug, Serialize)]
struct CoveragePage {
    tool: String,
    version: String,
    started: String,
    targets: Vec<TargetHead>,
    total: usize,
    covered: usize,
    summaries: Vec<RfcSummary>,
    rfcs: Vec<RfcBlock>,
}

impl CoveragePage {
    fn new(report: &Report, coverage: &Coverage) -> CoveragePage {
        let files = page_file_names(report);
        let maps = case_maps(report);
        let targets = report
            .targets
            .iter()
            .zip(&files)
            .map(|(t, f)| TargetHead {
                name: t.name.clone(),
                href: f.clone(),
            })
            .collect();
        let mut rfcs: Vec<RfcBlock> = summaries(report, coverage)
            .into_iter()
            .map(|summary| RfcBlock {
                summary,
                rows: Vec::new(),
            })
            .collect();
        for r in &coverage.requirements {
            let Some(block) = rfcs.iter_mut().find(|b| b.summary.rfc == r.rfc) else {
                continue;
            };
            let sec = RfcRef::parse(&format!("{}#{}", r.rfc, r.section));
            // A case links to the page of the first target that ran it.
            let cases = r
                .cases
                .iter()
                .map(|id| CaseLink {
                    id: id.clone(),
                    href: maps
                        .iter()
                        .zip(&files)
                        .find(|(m, _)| m.contains_key(id.as_str()))
                        .map(|(_, f)| format!("{f}#{}", case_anchor(id))),
                })
                .collect();
            let cells = maps
                .iter()
                .map(|m| Cell {
                    outcome: requirement_outcome(
                        r.cases.iter().filter_map(|id| m.get(id.as_str()).copied()),
                    )
                    .map(Outcome::as_str),
                })
                .collect();
            block.rows.push(Row {
                id: r.id.clone(),
                anchor: format!("req-{}", r.id.replace('#', "-")),
                label: sec.label(),
                url: sec.url(),
                level: level_str(r.level),
                who: r.who.clone(),
                text: r.text.clone(),
                cases,
                cells,
            });
        }
        CoveragePage {
            tool: report.tool.clone(),
            version: report.version.clone(),
            started: report.started.clone(),
            targets,
            total: coverage.requirements.len(),
            covered: coverage
                .requirements
                .iter()
                .filter(|r| !r.cases.is_empty())
                .count(),
            summaries: summaries(report, coverage),
            rfcs,
        }
    }
}
