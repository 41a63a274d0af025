//! The `wirecheck` binary: argument parsing, console output, and the exit-status policy
//! (0 nothing failed, 1 some case failed, 2 the run could not be done).
#![forbid(unsafe_code)]

mod cli;
mod console;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::{Context, bail};
use clap::Parser;
use wirecheck::corpus;
use wirecheck::lint::{self, Severity};
use wirecheck::protocol::Limits;
use wirecheck::runner::{self, RunOptions};
use wirecheck::select::Selection;
use wirecheck::target::TargetSpec;
use wirecheck::transcript::Role;
use wirecheck::transcript::load::protocol_from_path;
use wirecheck_reports::{Outcome, Report, SCHEMA_VERSION, TargetReport};

use cli::{Cli, Command, DemoArgs, DnsResolveArgs, LintArgs, RelayOnceArgs, RunArgs, ServeArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(a) => tokio_main(run(*a)),
        Command::Lint(a) => lint_corpus(&a),
        Command::Demo(a) => tokio_main(demo(a)),
        Command::Serve(a) => tokio_main(serve(a)),
        Command::RelayOnce(a) => tokio_main(relay_once(a)),
        Command::DnsResolve(a) => tokio_main(dns_resolve(a)),
        Command::Grade(a) => tokio_main(wirecheck::grade::cli::main(a)),
        Command::Diff(a) => tokio_main(wirecheck::diff::cli::main(*a)),
        Command::Fuzz(a) => tokio_main(wirecheck::netfuzz::cli::main(*a)),
        Command::Import(a) => wirecheck::import::main(&a),
        Command::Coverage(a) => wirecheck::coverage::main(&a),
    };
    match code {
        Ok(c) => ExitCode::from(c),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn demo(a: DemoArgs) -> anyhow::Result<u8> {
    let corpus = corpus::load(&a.corpus).with_context(|| format!("loading {}", a.corpus.display()))?;
    let console = Arc::new(console::Console::new(corpus.transcripts.len(), std::io::stderr().is_terminal()));
    let options = RunOptions { progress: Some(console.clone()), ..RunOptions::default() };
    eprintln!(
        "wirecheck demo: {} transcripts, each against a fresh embedded reference server",
        corpus.transcripts.len()
    );
    let outcome = wirecheck::demo::demo(&corpus, &a.out, &options, a.jobs).await?;
    console.done();
    console::print_failures(&outcome.report);
    print!("{}", wirecheck_reports::console::summary_with_report_dir(&outcome.report, Some(&a.out)));
    let failed = outcome.report.targets.iter().flat_map(|t| &t.cases).any(|c| c.outcome.is_failure());
    Ok(u8::from(failed))
}

async fn serve(a: ServeArgs) -> anyhow::Result<u8> {
    let ports = wirecheck::oracle::Ports {
        smtp: a.smtp,
        submission: a.submission,
        pop3: a.pop3,
        imap: a.imap,
        ftp: a.ftp,
        dns: a.dns,
    };
    wirecheck::serve::serve(wirecheck::serve::ServeArgs { ip: a.ip, ports, dir: a.store, hierarchy: a.dns_hierarchy }).await?;
    Ok(0)
}

async fn relay_once(a: RelayOnceArgs) -> anyhow::Result<u8> {
    let what = wirecheck::serve::relay_once(a.to, a.timeout).await?;
    eprintln!("relay-once: {what}");
    Ok(0)
}

async fn dns_resolve(a: DnsResolveArgs) -> anyhow::Result<u8> {
    let questions = wirecheck_dns::client::parse_questions(&a.questions).map_err(anyhow::Error::msg)?;
    let first = a.roots.first().context("--root is required")?;
    let config = wirecheck_dns::resolver::ResolverConfig::new(a.roots.clone(), a.port.unwrap_or(first.port()));
    print!("{}", wirecheck_dns::client::resolve_questions(config, &questions).await.map_err(anyhow::Error::msg)?);
    Ok(0)
}

fn tokio_main(f: impl std::future::Future<Output = anyhow::Result<u8>>) -> anyhow::Result<u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(f)
}

fn lint_corpus(a: &LintArgs) -> anyhow::Result<u8> {
    let findings = lint::lint_dir(&a.dir)?;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    for f in &findings {
        println!("{f}");
    }
    let files = corpus::transcript_files(&a.dir)?.len();
    println!(
        "{files} transcript(s), {errors} error(s), {} warning(s)",
        findings.len() - errors
    );
    Ok(u8::from(errors > 0))
}

/// Exit status for a finished run: 1 when a case failed; 2 when nothing could be run at all
/// (every case that ran ended in `error`); else 0.
fn exit_status(t: &TargetReport) -> u8 {
    let s = &t.summary;
    if s.count(Outcome::Fail) > 0 {
        1
    } else if s.total > 0 && s.count(Outcome::Error) == s.total {
        2
    } else {
        0
    }
}

async fn run(a: RunArgs) -> anyhow::Result<u8> {
    let (corpus, problems) = corpus::load_lenient(&a.corpus)?;
    let protocol = (a.protocol != "all").then(|| a.protocol.clone());
    let (fatal, other): (Vec<_>, Vec<_>) = problems.into_iter().partition(|p| {
        let pp = protocol_from_path(&p.file);
        protocol.is_none() || pp.is_none() || pp == protocol.as_deref()
    });
    if !other.is_empty() {
        eprintln!(
            "warning: {} problem(s) in transcripts of other protocols (see `wirecheck lint`)",
            other.len()
        );
    }
    if !fatal.is_empty() {
        let list: Vec<String> = fatal.iter().map(ToString::to_string).collect();
        bail!("invalid transcripts:\n{}", list.join("\n"));
    }
    let selection = Selection {
        protocol,
        filters: a.filters.clone(),
        exact: a.exact,
        skip: a.skip.clone(),
        tags: a.tag.clone(),
        rfc: a.rfc.clone(),
    };
    let mut selected = selection.apply(&corpus);
    if a.target.is_none() && a.target_cmd.is_none() && a.client_cmd.is_some() {
        // Only a client to test: the server-role cases.
        selected.retain(|t| t.meta.role == Role::Server);
    }
    if a.list {
        for t in &selected {
            println!("{}: test", t.meta.id);
        }
        return Ok(0);
    }
    if selected.is_empty() {
        eprintln!("no transcripts selected under {}", a.corpus.display());
    }
    let mut target = match (&a.target, &a.target_cmd) {
        (Some(t), _) => TargetSpec::addr(t.clone()),
        (None, Some(c)) => TargetSpec::command(c.clone(), a.isolate),
        // Only clients are tested: there is no server target.
        (None, None) if a.client_cmd.is_some() => TargetSpec::addr("127.0.0.1:0"),
        (None, None) => bail!("give --target HOST:PORT or --target-cmd CMD"),
    };
    target.client_cmd = a.client_cmd.clone();
    target.name = a.name.clone();
    for s in &a.service {
        let Some((k, v)) = s.split_once('=') else {
            bail!("--service {s:?}: expected NAME=HOST:PORT")
        };
        target.services.insert(k.to_string(), v.to_string());
    }
    let tls_roots = a.trust.roots()?;
    let limits = Limits {
        max_line: a.max_line.max(64),
        max_reply: a.max_reply.max(512),
    };
    let total = selected.len();
    let console = Arc::new(console::Console::new(
        total,
        std::io::stderr().is_terminal(),
    ));
    let mut opts = RunOptions {
        limits,
        step_timeout: a.timeout,
        startup_timeout: a.startup_timeout,
        insecure: a.trust.insecure,
        tls_roots,
        fixtures: a.fixtures.fixtures(),
        record_cap: limits.max_reply.saturating_mul(2),
        progress: Some(console.clone()),
        ..RunOptions::default()
    };
    if let Some(n) = a.test_threads {
        opts.jobs = n.max(1);
    }
    let started = SystemTime::now();
    let clock = Instant::now();
    // On SIGINT / SIGTERM the run is dropped: the runtime then drops every case, and with
    // them the target processes, whose process groups are killed.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let tr = tokio::select! {
        r = runner::run_transcripts(&selected, &target, &opts) => r?,
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
        _ = term.recv() => bail!("terminated"),
    };
    console.done();
    let mut report = Report {
        schema: SCHEMA_VERSION,
        tool: "wirecheck".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        started: humantime::format_rfc3339_seconds(started).to_string(),
        duration_ms: clock.elapsed().as_millis().try_into().unwrap_or(u64::MAX),
        targets: vec![tr],
    };
    wirecheck::grade::hints::Hints::of_corpus(&a.corpus)?.apply_all(&mut report);
    wirecheck::snapshot::cli::after_run(&a.record, &mut report, &selected, started)?;
    console::print_failures(&report);
    if let Some(p) = &a.json {
        wirecheck_reports::json::write(&report, p)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(p) = &a.junit {
        wirecheck_reports::junit::write(&report, p)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(d) = &a.report {
        wirecheck::coverage::write_html_report(&report, &selected, &a.corpus, d)
            .with_context(|| format!("writing {}", d.display()))?;
    }
    print!(
        "{}",
        wirecheck_reports::console::summary_with_report_dir(&report, a.report.as_deref())
    );
    let t = report.targets.first().context("no target in the report")?;
    Ok(exit_status(t))
}
