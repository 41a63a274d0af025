//! `wirecheck diff PROTOCOL --target X [--oracle reference|HOST:PORT]`: the command line
//! around [`super::diff`]. Exit status: 0 no difference, 1 some, 2 the diff could not be
//! done.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::{DiffOptions, OracleSpec, Verdict};
use crate::args::{FixtureArgs, TrustArgs};
use crate::oracle::{Oracle, OracleFactory};
use crate::runner::{Fixtures, RunOptions};
use crate::select::Selection;
use crate::target::TargetSpec;
use crate::transcript::load::protocol_from_path;

/// `wirecheck diff`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Each transcript runs against the target and a fresh oracle; every reply is compared \
after normalisation (codes, enhanced codes, structure, POP3 bodies, IMAP kinds and data, DNS rcode/flags/records; \
never free text, host names, dates, ids or ports). --target reference diffs the oracle against itself."
)]
pub struct DiffArgs {
    /// The protocol: smtp, pop3, imap, ftp, dns (or message, scenarios).
    pub protocol: String,
    /// Only cases whose id contains one of these.
    pub filters: Vec<String>,
    /// The target, HOST:PORT (`reference`: another embedded oracle).
    #[arg(
        long,
        conflicts_with = "target_cmd",
        required_unless_present = "target_cmd"
    )]
    pub target: Option<String>,
    /// Start the target: a shell command with {port} (and {host}) substituted.
    #[arg(long)]
    pub target_cmd: Option<String>,
    /// With --target-cmd: a freshly started target for every transcript.
    #[arg(long, requires = "target_cmd")]
    pub isolate: bool,
    /// What to compare with: `reference` (the embedded oracle, fresh per transcript) or
    /// HOST:PORT.
    #[arg(long, default_value = "reference")]
    pub oracle: String,
    /// The corpus directory.
    #[arg(long, default_value = "transcripts")]
    pub corpus: PathBuf,
    /// Filters match whole ids exactly.
    #[arg(long)]
    pub exact: bool,
    /// Skip cases whose id contains this (repeatable).
    #[arg(long)]
    pub skip: Vec<String>,
    /// Only cases with this tag (repeatable).
    #[arg(long)]
    pub tag: Vec<String>,
    /// Normalised fields not compared (repeatable): enhanced, keywords, body, data, …
    #[arg(long, value_name = "FIELD")]
    pub ignore: Vec<String>,
    /// Write the differences as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the HTML report of both runs (oracle and target) into DIR.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Transcripts at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub jobs: usize,
    /// The per-step timeout for every case.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DUR")]
    pub timeout: Option<Duration>,
    /// --insecure, --ca.
    #[command(flatten)]
    pub trust: TrustArgs,
    /// --user, --pass, --domain, --mailbox-count, --tls.
    #[command(flatten)]
    pub fixtures: FixtureArgs,
    /// The target's name in reports.
    #[arg(long)]
    pub name: Option<String>,
}

/// Run `wirecheck diff`.
pub async fn main(a: DiffArgs) -> anyhow::Result<u8> {
    let (corpus, problems) = crate::corpus::load_lenient(&a.corpus)?;
    let fatal: Vec<String> = problems
        .iter()
        .filter(|p| protocol_from_path(&p.file).is_none_or(|pp| pp == a.protocol))
        .map(ToString::to_string)
        .collect();
    if !fatal.is_empty() {
        bail!("invalid transcripts:\n{}", fatal.join("\n"));
    }
    let selection = Selection {
        protocol: Some(a.protocol.clone()),
        filters: a.filters.clone(),
        exact: a.exact,
        skip: a.skip.clone(),
        tags: a.tag.clone(),
        rfc: Vec::new(),
    };
    let selected = selection.apply(&corpus);
    if selected.is_empty() {
        bail!(
            "no {} transcripts selected under {}",
            a.protocol,
            a.corpus.display()
        );
    }
    let mut tls_roots = a.trust.roots()?;
    let mut fixtures = a.fixtures.fixtures();
    // `--target reference`: another embedded oracle, kept for the whole diff.
    let mut _own: Option<Oracle> = None;
    let mut target = match (&a.target, &a.target_cmd) {
        (Some(t), _) if t.eq_ignore_ascii_case("reference") => {
            let o = OracleFactory::default()
                .start()
                .await
                .context("starting the reference target")?;
            let service =
                crate::demo::service_for(selected.first().copied().context("no transcript")?);
            let addr = o
                .addr(service)
                .with_context(|| format!("the oracle has no {service} service"))?;
            let mut spec = TargetSpec::addr(addr.to_string());
            spec.services = o
                .services()
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect();
            spec.name = Some("reference (shared instance)".into());
            tls_roots.push(o.certificate().clone());
            fixtures = Fixtures::reference();
            _own = Some(o);
            spec
        }
        (Some(t), _) => TargetSpec::addr(t.clone()),
        (None, Some(c)) => TargetSpec::command(c.clone(), a.isolate),
        (None, None) => bail!("give --target HOST:PORT or --target-cmd CMD"),
    };
    if a.name.is_some() {
        target.name = a.name.clone();
    }
    let run = RunOptions {
        jobs: a.jobs.max(1),
        step_timeout: a.timeout,
        insecure: a.trust.insecure,
        tls_roots,
        fixtures,
        ..RunOptions::default()
    };
    let opts = DiffOptions {
        run,
        oracle: OracleSpec::parse(&a.oracle),
        jobs: a.jobs.max(1),
        ignore: a.ignore.clone(),
    };
    eprintln!(
        "wirecheck diff {}: {} transcript(s), oracle {} vs target {}",
        a.protocol,
        selected.len(),
        opts.oracle.describe(),
        target.describe()
    );
    let started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let r = super::diff(&selected, &target, &opts).await?;
    print!("{}", super::render_text(&r));
    if let Some(p) = &a.json {
        let f = std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?;
        serde_json::to_writer_pretty(std::io::BufWriter::new(f), &r)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(d) = &a.report {
        let mut oracle = r.oracle_report.clone();
        oracle.name = format!("oracle ({})", r.oracle);
        let report = wirecheck_reports::Report {
            schema: wirecheck_reports::SCHEMA_VERSION,
            tool: "wirecheck".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            started: crate::demo::rfc3339(started),
            duration_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
            targets: vec![oracle, r.target_report.clone()],
        };
        let index = wirecheck_reports::index::write_all(&report, d)
            .with_context(|| format!("writing {}", d.display()))?;
        eprintln!("report: {}", index.display());
    }
    Ok(u8::from(
        r.cases.iter().any(|c| c.verdict == Verdict::Different),
    ))
}
