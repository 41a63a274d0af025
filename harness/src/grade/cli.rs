//! `wirecheck grade ROSTER.toml --report DIR`: the command line around [`super::grade`].

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use wirecheck_reports::TargetReport;

use super::hints::Hints;
use super::roster::Roster;
use super::{GradeOptions, GradeProgress, gradebook};

/// `wirecheck grade`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "The roster format: examples/roster.toml (commented).")]
pub struct GradeArgs {
    /// The roster: students, how to build and start their servers, the rubric.
    pub roster: PathBuf,
    /// Write index.html (scores and the class matrix), one page per student,
    /// gradebook.csv and report.json here; students' scratch directories go in DIR/work.
    #[arg(long, value_name = "DIR")]
    pub report: PathBuf,
    /// Grade only this student (repeatable).
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// Grade the K-th of N slices of the roster (1-based), e.g. for a CI matrix.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// The corpus (default: the roster's `corpus`, else `transcripts`).
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
    /// The hints table (default: the roster's `hints`, else `hints.toml` in the corpus).
    #[arg(long, value_name = "FILE")]
    pub hints: Option<PathBuf>,
    /// A fresh server for every case, for every student (overrides the roster).
    #[arg(long)]
    pub isolate: bool,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("expected K/N with 1 <= K <= N, got {s:?}");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Prints a line per student as it is graded.
struct Console;

impl GradeProgress for Console {
    fn started(&self, name: &str) {
        eprintln!("grading {name} ...");
    }

    fn finished(&self, t: &TargetReport) {
        let s = &t.summary;
        eprintln!(
            "graded  {}: {}/{} points ({}%), {} case(s)",
            t.name,
            s.points,
            s.points_possible,
            gradebook::percent(s.points, s.points_possible),
            s.total
        );
    }
}

/// Run `wirecheck grade`; the exit status (0 graded, whatever the students scored).
pub async fn main(a: GradeArgs) -> anyhow::Result<u8> {
    let mut roster = Roster::load(&a.roster)?;
    if a.isolate {
        roster.isolate = true;
        for s in &mut roster.students {
            s.isolate = Some(true);
        }
    }
    let corpus_dir = a
        .corpus
        .clone()
        .or_else(|| roster.corpus.clone())
        .unwrap_or_else(|| PathBuf::from("transcripts"));
    let corpus = crate::corpus::load(&corpus_dir)
        .with_context(|| format!("loading the corpus {}", corpus_dir.display()))?;
    let hints_file = a
        .hints
        .clone()
        .or_else(|| roster.hints.clone())
        .or_else(|| Some(corpus_dir.join("hints.toml")).filter(|p| p.exists()));
    let hints = match &hints_file {
        Some(p) => Hints::load(p)?,
        None => Hints::none(),
    };
    let mut opts = GradeOptions::new(&a.report);
    opts.only = a.only.clone();
    opts.shard = a.shard;
    opts.progress = Some(Arc::new(Console));
    if let Some(unknown) = opts
        .only
        .iter()
        .find(|n| !roster.students.iter().any(|s| &s.name == *n))
    {
        anyhow::bail!(
            "--only {unknown:?}: no such student in {}",
            a.roster.display()
        );
    }
    std::fs::create_dir_all(&a.report)
        .with_context(|| format!("creating {}", a.report.display()))?;
    if let Some(t) = &roster.title {
        println!("{t}");
    }
    println!(
        "grading {} student(s) on {} ({} hint(s))",
        roster.students.len(),
        roster.protocols.join(", "),
        hints.len()
    );
    let report = super::grade(&roster, &corpus, &hints, &opts).await;
    let index = super::write_outputs(&report, &corpus, &a.report)
        .with_context(|| format!("writing the reports into {}", a.report.display()))?;
    let mut out = std::io::stdout().lock();
    write!(out, "\n{}", gradebook::table(&report))?;
    writeln!(
        out,
        "\ngradebook: {}",
        a.report.join("gradebook.csv").display()
    )?;
    writeln!(out, "report:    {}", index.display())?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards() {
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(parse_shard("0/3").is_err());
        assert!(parse_shard("4/3").is_err());
        assert!(parse_shard("x").is_err());
    }
}
