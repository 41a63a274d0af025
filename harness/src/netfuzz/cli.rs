//! `wirecheck fuzz PROTOCOL --target X --time DUR --seed N --out DIR`: the command line
//! around [`super::fuzz`]. Exit status: 0 no discrepancy, 1 some, 2 the run could not be
//! done.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::{FuzzConfig, session::Timing};
use crate::diff::OracleSpec;
use crate::oracle::Oracle;
use crate::target::TargetSpec;

/// `wirecheck fuzz`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Sessions come from the corpus (every transcript's sends first, unchanged) and the \
protocol's grammar, mutated (case, white space, bare CR/LF, NUL, 8-bit, over-long lines, repeated and \
dropped commands, pipelining). Each goes to the target and the oracle; discrepancies are grouped by class, \
minimised and written to OUT/PROTOCOL/ as transcripts that pass against the oracle and fail against the \
target (checked before writing). --target reference fuzzes the oracle against itself."
)]
pub struct FuzzArgs {
    /// The protocol: smtp, pop3, imap, ftp, dns.
    pub protocol: String,
    /// The target, HOST:PORT (`reference`: another embedded oracle).
    #[arg(
        long,
        conflicts_with = "target_cmd",
        required_unless_present = "target_cmd"
    )]
    pub target: Option<String>,
    /// Start the target: a shell command with {port} (and {host}); restarted when it dies.
    #[arg(long)]
    pub target_cmd: Option<String>,
    /// What to compare with: `reference` (the embedded oracle) or HOST:PORT.
    #[arg(long, default_value = "reference")]
    pub oracle: String,
    /// How long to generate cases (minimisation comes after).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "60s", value_name = "DUR")]
    pub time: Duration,
    /// The seed: the same seed, the same cases.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed: u64,
    /// Cases at most.
    #[arg(long, value_name = "N")]
    pub max_cases: Option<u64>,
    /// Write the minimised transcripts here (DIR/PROTOCOL/*.toml).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write the run's report as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Sessions at once (POP3: always 1, its maildrop is locked per session).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub jobs: usize,
    /// Discrepancy classes minimised and written at most.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_findings: usize,
    /// Time for all minimisation and verification.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "60s", value_name = "DUR")]
    pub minimise_time: Duration,
    /// Session pairs per minimisation at most.
    #[arg(long, default_value_t = 300, value_name = "N")]
    pub minimise_tests: usize,
    /// Only the grammar, no corpus seeds.
    #[arg(long)]
    pub no_corpus: bool,
    /// The corpus directory (for seeds).
    #[arg(long, default_value = "transcripts")]
    pub corpus: PathBuf,
    /// DNS over TCP instead of UDP.
    #[arg(long)]
    pub tcp: bool,
    /// Silence that ends a session (a server that does not close after the client's FIN).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1s", value_name = "DUR")]
    pub idle: Duration,
    /// How long a DNS datagram's answer may take.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "250ms", value_name = "DUR")]
    pub udp_wait: Duration,
    /// Normalised fields not compared (repeatable): enhanced, keywords, body, data, …
    #[arg(long, value_name = "FIELD")]
    pub ignore: Vec<String>,
}

/// Run `wirecheck fuzz`.
pub async fn main(a: FuzzArgs) -> anyhow::Result<u8> {
    if !super::PROTOCOLS.contains(&a.protocol.as_str()) {
        bail!(
            "no fuzzing grammar for `{}` (one of {})",
            a.protocol,
            super::PROTOCOLS.join(", ")
        );
    }
    let corpus = if a.no_corpus {
        Vec::new()
    } else {
        let (c, _) = crate::corpus::load_lenient(&a.corpus)
            .with_context(|| format!("loading {}", a.corpus.display()))?;
        c.transcripts
    };
    let refs: Vec<_> = corpus.iter().collect();
    let mut _own: Option<Oracle> = None;
    let target = match (&a.target, &a.target_cmd) {
        (Some(t), _) if t.eq_ignore_ascii_case("reference") => {
            let o = super::start_oracle(&a.protocol)
                .await
                .context("starting the reference target")?;
            let addr = o.addr(&a.protocol).context("no service")?;
            let mut spec = TargetSpec::addr(addr.to_string());
            spec.name = Some("reference (second instance)".into());
            _own = Some(o);
            spec
        }
        (Some(t), _) => TargetSpec::addr(t.clone()),
        (None, Some(c)) => TargetSpec::command(c.clone(), false),
        (None, None) => bail!("give --target HOST:PORT or --target-cmd CMD"),
    };
    let mut cfg = FuzzConfig::new(&a.protocol);
    cfg.seed = a.seed;
    cfg.time = a.time;
    cfg.max_cases = a.max_cases;
    cfg.jobs = a.jobs.max(1);
    cfg.out = a.out.clone();
    cfg.oracle = OracleSpec::parse(&a.oracle);
    cfg.timing = Timing {
        idle: a.idle,
        udp_wait: a.udp_wait,
        ..Timing::default()
    };
    cfg.ignore = a.ignore.clone();
    cfg.use_corpus = !a.no_corpus;
    cfg.max_findings = a.max_findings;
    cfg.minimise_time = a.minimise_time;
    cfg.minimise_tests = a.minimise_tests;
    cfg.udp = !a.tcp;
    eprintln!(
        "wirecheck fuzz {} (seed {}): oracle {} vs target {}, for {} or {} cases",
        a.protocol,
        a.seed,
        cfg.oracle.describe(),
        target.describe(),
        humantime::format_duration(a.time),
        a.max_cases
            .map_or("unlimited".to_string(), |n| n.to_string())
    );
    let r = super::fuzz(&cfg, &refs, &target).await?;
    print!("{}", super::render_text(&r));
    if let Some(p) = &a.json {
        let f = std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?;
        serde_json::to_writer_pretty(std::io::BufWriter::new(f), &r)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(u8::from(!r.findings.is_empty()))
}
