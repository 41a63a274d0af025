//! `wirecheck fuzz`: differential network fuzzing of a target against the oracle.
//!
//! Each *case* is a session — a list of chunks, each one `write` — generated
//! deterministically from the run's seed and the case's number ([`rng::Rng::for_case`]):
//! first every corpus seed of the protocol unchanged ([`seeds`]), then sessions from the
//! grammar ([`grammar`]) or the corpus, mutated ([`mutate`]). Every case is sent to the
//! target and to the oracle at once ([`session`]: greeting, chunks, half-close, read to
//! EOF), both answers are framed, labelled and normalised exactly as `wirecheck diff`
//! does, and the first differing unit names the discrepancy's *class*: the command's verb,
//! what differs and the reply-code pair (`RCPT: code class 503 → 250`, `LIST: status -ERR
//! → +OK`). A difference counts only when the case shows it again at once (timing makes
//! one-offs); a started target (`--target-cmd`) that dies is a class of its own, and is
//! restarted. Classes are deduplicated; each is then reproduced, minimised by delta
//! debugging ([`minimise`]) and written as a transcript ([`emit`]) once the real runner
//! confirmed it passes against a fresh oracle and fails against the target.
//!
//! The oracle is one embedded instance (only the fuzzed service, its files on tmpfs when
//! there is one) kept warm for the whole run: sessions never change what another session
//! sees, because [`grammar::sanitise`] removes what would outlive a session (and TLS
//! upgrades, which the fuzzer does not speak). POP3 runs one session at a time (a maildrop
//! is locked while a session holds it). FTP sessions end with `QUIT` rather than our FIN
//! ([`session::closing_chunk`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use wirecheck::{corpus, netfuzz, target::TargetSpec};
//! let corpus = corpus::load("transcripts".as_ref())?;
//! let all: Vec<_> = corpus.transcripts.iter().collect();
//! let mut cfg = netfuzz::FuzzConfig::new("smtp");
//! cfg.max_cases = Some(1000);
//! let report = netfuzz::fuzz(&cfg, &all, &TargetSpec::addr("127.0.0.1:2525")).await?;
//! print!("{}", netfuzz::render_text(&report));
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::diff::compare::{StepDiff, compare_items};
use crate::diff::{OracleSpec, normalise::cut};
use crate::oracle::{Oracle, OracleFactory, Ports};
use crate::protocol::Limits;
use crate::runner::RunOptions;
use crate::target::{Managed, TargetKind, TargetSpec};
use crate::transcript::Transcript;

pub mod cli;
mod confirm;
pub mod emit;
pub mod grammar;
pub mod minimise;
pub mod mutate;
mod report;
pub mod rng;
pub mod seeds;
pub mod session;

pub use report::{Finding, FuzzReport, render_text};
use rng::Rng;
use session::{Endpoint, SessionRun, Timing};

/// A session: the chunks written, one `write` each.
pub type Sequence = Vec<Vec<u8>>;

/// The protocols the fuzzer knows.
pub const PROTOCOLS: [&str; 5] = ["smtp", "pop3", "imap", "ftp", "dns"];

/// How a fuzz run behaves.
#[derive(Debug, Clone)]
pub struct FuzzConfig {
    /// `smtp`, `pop3`, `imap`, `ftp` or `dns`.
    pub protocol: String,
    /// The seed: the same seed, the same cases.
    pub seed: u64,
    /// How long to generate cases (minimisation comes after).
    pub time: Duration,
    /// Cases at most.
    pub max_cases: Option<u64>,
    /// Sessions at once (POP3: always 1).
    pub jobs: usize,
    /// Where transcripts go (`OUT/<protocol>/<slug>.toml`); `None`: nowhere.
    pub out: Option<PathBuf>,
    /// The oracle.
    pub oracle: OracleSpec,
    /// Session time limits.
    pub timing: Timing,
    /// Framing caps.
    pub limits: Limits,
    /// Normalised fields not compared.
    pub ignore: Vec<String>,
    /// Start from the corpus's sessions (and mutate them), not only the grammar.
    pub use_corpus: bool,
    /// Classes minimised and written at most.
    pub max_findings: usize,
    /// Session pairs per minimisation at most.
    pub minimise_tests: usize,
    /// Time for all minimisation and verification together.
    pub minimise_time: Duration,
    /// DNS over UDP (else TCP).
    pub udp: bool,
    /// The runner's options for verifying transcripts against the target.
    pub run: RunOptions,
}

impl FuzzConfig {
    /// Defaults for `protocol`: 60 s, seed 0, 8 sessions at once, corpus seeds, at most
    /// 20 findings.
    pub fn new(protocol: &str) -> FuzzConfig {
        FuzzConfig {
            protocol: protocol.to_string(),
            seed: 0,
            time: Duration::from_secs(60),
            max_cases: None,
            jobs: 8,
            out: None,
            oracle: OracleSpec::Reference,
            timing: Timing::default(),
            limits: Limits::default(),
            ignore: Vec::new(),
            use_corpus: true,
            max_findings: 20,
            minimise_tests: 300,
            minimise_time: Duration::from_secs(60),
            udp: true,
            run: RunOptions::default(),
        }
    }
}

/// Why a fuzz run could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FuzzError {
    /// Not a protocol the fuzzer knows.
    #[error("no fuzzing grammar for `{0}` (one of smtp, pop3, imap, ftp, dns)")]
    Protocol(String),
    /// The embedded oracle did not start, or a given one is unreachable.
    #[error("oracle: {0}")]
    Oracle(String),
    /// The target could not be started or reached.
    #[error("target: {0}")]
    Target(String),
    /// A transcript could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A side the sessions go to.
enum Side {
    Fixed(Endpoint),
    Managed(Arc<Managed>, bool),
}

impl Side {
    async fn endpoint(&self) -> Result<Endpoint, String> {
        match self {
            Side::Fixed(e) => Ok(*e),
            Side::Managed(m, udp) => m
                .ensure()
                .await
                .map(|addr| Endpoint { addr, udp: *udp })
                .map_err(|e| e.to_string()),
        }
    }
}

struct Acc {
    count: u64,
    first: u64,
    seq: Sequence,
    diff: StepDiff,
}

struct Shared {
    cfg: FuzzConfig,
    seeds: Vec<seeds::Seed>,
    oracle: Endpoint,
    target: Side,
    next: AtomicU64,
    done: AtomicU64,
    oracle_errors: AtomicU64,
    target_errors: AtomicU64,
    restarts: AtomicU64,
    flaky: AtomicU64,
    sessions: AtomicU64,
    stop: AtomicBool,
    last_error: std::sync::Mutex<String>,
    found: Mutex<BTreeMap<String, Acc>>,
}

/// The case `index` of a run.
pub fn case(cfg: &FuzzConfig, seeds: &[seeds::Seed], index: u64) -> Sequence {
    let p = cfg.protocol.as_str();
    if cfg.use_corpus
        && let Some(s) = usize::try_from(index).ok().and_then(|i| seeds.get(i))
    {
        return s.chunks.clone();
    }
    let mut rng = Rng::for_case(cfg.seed, index);
    let mut seq = match (
        cfg.use_corpus && !seeds.is_empty() && rng.chance(3, 5),
        rng.chance(1, 5),
    ) {
        (true, splice) => {
            let a = rng
                .pick(seeds)
                .map(|s| s.chunks.clone())
                .unwrap_or_default();
            if splice {
                let b = rng
                    .pick(seeds)
                    .map(|s| s.chunks.clone())
                    .unwrap_or_default();
                let (ka, kb) = (rng.below(a.len() + 1), rng.below(b.len() + 1));
                a.into_iter()
                    .take(ka)
                    .chain(b.into_iter().skip(kb))
                    .collect()
            } else {
                a
            }
        }
        (false, _) => grammar::session(p, &mut rng, 6),
    };
    let n = 1 + rng.below(4);
    mutate::mutate(p, &mut seq, &mut rng, n);
    grammar::sanitise(p, &mut seq);
    if seq.is_empty() {
        seq = grammar::session(p, &mut rng, 3);
        grammar::sanitise(p, &mut seq);
    }
    seq
}

/// The first difference between the oracle's and the target's answers.
///
/// A server that closes with input unread makes the kernel reset the connection, and a
/// reset may overtake the last reply: when the side with fewer units ended in a reset,
/// the missing tail is not a difference.
pub fn discrepancy(
    protocol: &str,
    oracle: &SessionRun,
    target: &SessionRun,
    ignore: &[String],
) -> Option<StepDiff> {
    let d = compare_items(protocol, "main", &oracle.items, &target.items, None, ignore)
        .0
        .into_iter()
        .next()?;
    let shorter = if oracle.items.len() < target.items.len() {
        oracle
    } else {
        target
    };
    let tail = d.kind == "missing reply" || d.kind == "extra reply";
    if tail && shorter.end == session::End::Reset {
        return None;
    }
    Some(d)
}

/// A case on both sides: `Ok(None)` when they agree.
async fn pair(sh: &Shared, seq: &Sequence) -> Result<Option<(StepDiff, SessionRun)>, PairError> {
    let cfg = &sh.cfg;
    let target = sh.target.endpoint().await.map_err(PairError::Target)?;
    let (o, t) = tokio::join!(
        session::run(&cfg.protocol, &sh.oracle, seq, &cfg.limits, &cfg.timing),
        session::run(&cfg.protocol, &target, seq, &cfg.limits, &cfg.timing)
    );
    let o = o.map_err(PairError::Oracle)?;
    if let Side::Managed(m, _) = &sh.target {
        // A target that died is a discrepancy of its own. After a session that looks like
        // it (reset, replies missing), give the process a moment to be reaped.
        let suspicious = t.as_ref().map_or(true, |t| {
            t.end == session::End::Reset || t.items.len() < o.items.len()
        });
        for k in 0..if suspicious { 5 } else { 1 } {
            if k > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if let Some(d) = m.check().await {
                sh.restarts.fetch_add(1, Ordering::Relaxed);
                let verb = o
                    .items
                    .last()
                    .map_or_else(|| "<connect>".into(), |i| i.label.verb(&cfg.protocol));
                let diff = StepDiff {
                    conn: "main".into(),
                    index: o.items.len(),
                    command: String::new(),
                    verb,
                    kind: "target died".into(),
                    oracle: "alive".into(),
                    oracle_key: "alive".into(),
                    target_key: "died".into(),
                    target: cut(&d.status, 40),
                    oracle_detail: String::new(),
                    target_detail: cut(d.stderr.trim(), 400),
                    oracle_raw: String::new(),
                    target_raw: String::new(),
                };
                return Ok(Some((diff, o)));
            }
        }
    }
    let t = t.map_err(PairError::Target)?;
    Ok(discrepancy(&cfg.protocol, &o, &t, &cfg.ignore).map(|d| (d, o)))
}

enum PairError {
    Oracle(String),
    Target(String),
}

fn note(sh: &Shared, e: String) {
    if let Ok(mut l) = sh.last_error.lock() {
        *l = e;
    }
}

async fn worker(sh: Arc<Shared>, deadline: Instant) {
    let max = sh.cfg.max_cases.unwrap_or(u64::MAX);
    let mut consecutive_target_errors = 0u32;
    loop {
        if sh.stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
            return;
        }
        let i = sh.next.fetch_add(1, Ordering::Relaxed);
        if i >= max {
            return;
        }
        let seq = case(&sh.cfg, &sh.seeds, i);
        sh.sessions.fetch_add(2, Ordering::Relaxed);
        match pair(&sh, &seq).await {
            Ok(None) => consecutive_target_errors = 0,
            Ok(Some((d, _))) => {
                consecutive_target_errors = 0;
                // Counted only when it shows again (timing can make a one-off); a target
                // that died is always reported.
                let again = d.kind == "target died" || {
                    sh.sessions.fetch_add(2, Ordering::Relaxed);
                    matches!(pair(&sh, &seq).await, Ok(Some((d2, _))) if d2.class() == d.class())
                };
                if !again {
                    sh.flaky.fetch_add(1, Ordering::Relaxed);
                    sh.done.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let mut f = sh.found.lock().await;
                let e = f.entry(d.class()).or_insert_with(|| Acc {
                    count: 0,
                    first: i,
                    seq: seq.clone(),
                    diff: d.clone(),
                });
                e.count += 1;
                if i < e.first {
                    e.first = i;
                    e.seq = seq;
                    e.diff = d;
                }
            }
            Err(PairError::Oracle(e)) => {
                sh.oracle_errors.fetch_add(1, Ordering::Relaxed);
                note(&sh, format!("oracle: {e}"));
            }
            Err(PairError::Target(e)) => {
                sh.target_errors.fetch_add(1, Ordering::Relaxed);
                note(&sh, format!("target: {e}"));
                consecutive_target_errors += 1;
                if consecutive_target_errors >= 50 {
                    sh.stop.store(true, Ordering::Relaxed);
                }
            }
        }
        sh.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// Only `protocol`'s service, on a free port (`dns` for anything else).
pub fn service_ports(protocol: &str) -> Ports {
    let mut ports = Ports {
        smtp: None,
        submission: None,
        pop3: None,
        imap: None,
        ftp: None,
        dns: None,
    };
    match protocol {
        "smtp" => ports.smtp = Some(0),
        "pop3" => ports.pop3 = Some(0),
        "imap" => ports.imap = Some(0),
        "ftp" => ports.ftp = Some(0),
        _ => ports.dns = Some(0),
    }
    ports
}

/// An oracle with only `protocol`'s service, from [`OracleFactory`] (its files on tmpfs when
/// there is one, removed with it).
pub async fn start_oracle(protocol: &str) -> Result<Oracle, FuzzError> {
    OracleFactory {
        ports: Some(service_ports(protocol)),
    }
    .start()
    .await
    .map_err(|e| FuzzError::Oracle(e.to_string()))
}

async fn resolve(addr: &str) -> Result<SocketAddr, String> {
    tokio::net::lookup_host(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr}: no address"))
}

/// Run a fuzz campaign against `target` (`transcripts`: the corpus, for seeds).
pub async fn fuzz(
    cfg: &FuzzConfig,
    transcripts: &[&Transcript],
    target: &TargetSpec,
) -> Result<FuzzReport, FuzzError> {
    let p = cfg.protocol.as_str();
    if !PROTOCOLS.contains(&p) {
        return Err(FuzzError::Protocol(p.to_string()));
    }
    let udp = p == "dns" && cfg.udp;
    let mut cfg = cfg.clone();
    if p == "pop3" {
        cfg.jobs = 1;
    }
    let (_oracle, oracle_ep) = match &cfg.oracle {
        OracleSpec::Reference => {
            let o = start_oracle(p).await?;
            let addr = o
                .addr(p)
                .ok_or_else(|| FuzzError::Oracle(format!("no {p} service")))?;
            (Some(o), Endpoint { addr, udp })
        }
        OracleSpec::Addr(a) => (
            None,
            Endpoint {
                addr: resolve(a).await.map_err(FuzzError::Oracle)?,
                udp,
            },
        ),
    };
    let target_side = match &target.kind {
        TargetKind::Addr(a) => Side::Fixed(Endpoint {
            addr: resolve(a).await.map_err(FuzzError::Target)?,
            udp,
        }),
        TargetKind::Command { cmd, .. } => {
            let m = Arc::new(Managed::new(cmd, cfg.run.startup_timeout));
            m.ensure()
                .await
                .map_err(|e| FuzzError::Target(e.to_string()))?;
            Side::Managed(m, udp)
        }
    };
    let seeds = if cfg.use_corpus {
        seeds::from_corpus(p, transcripts)
    } else {
        Vec::new()
    };
    let sh = Arc::new(Shared {
        cfg: cfg.clone(),
        seeds,
        oracle: oracle_ep,
        target: target_side,
        next: AtomicU64::new(0),
        done: AtomicU64::new(0),
        oracle_errors: AtomicU64::new(0),
        target_errors: AtomicU64::new(0),
        restarts: AtomicU64::new(0),
        flaky: AtomicU64::new(0),
        sessions: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        last_error: std::sync::Mutex::new(String::new()),
        found: Mutex::new(BTreeMap::new()),
    });
    let start = Instant::now();
    let deadline = start + cfg.time;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..cfg.jobs.max(1) {
        tasks.spawn(worker(sh.clone(), deadline));
    }
    while tasks.join_next().await.is_some() {}
    let fuzz_time = start.elapsed();
    let cases = sh.done.load(Ordering::Relaxed);
    let sessions = sh.sessions.load(Ordering::Relaxed);
    let secs = fuzz_time.as_secs_f64().max(1e-9);
    if sh.stop.load(Ordering::Relaxed) && cases == sh.target_errors.load(Ordering::Relaxed) {
        let last = sh.last_error.lock().map(|l| l.clone()).unwrap_or_default();
        return Err(FuzzError::Target(format!(
            "{} does not accept sessions ({last})",
            target.describe()
        )));
    }

    let mut accs: Vec<(String, Acc)> = std::mem::take(&mut *sh.found.lock().await)
        .into_iter()
        .collect();
    accs.sort_by_key(|(_, a)| a.first);
    let m_start = Instant::now();
    let m_deadline = m_start + cfg.minimise_time;
    let mut findings = Vec::new();
    for (n, (class, acc)) in accs.into_iter().enumerate() {
        let mut f = Finding {
            class: class.clone(),
            verb: acc.diff.verb.clone(),
            kind: acc.diff.kind.clone(),
            oracle: acc.diff.oracle.clone(),
            target: acc.diff.target.clone(),
            count: acc.count,
            first_case: acc.first,
            original: acc.seq.iter().map(|c| emit::escape(c)).collect(),
            minimised: Vec::new(),
            tests: 0,
            verdict: String::new(),
            file: None,
            target_outcome: None,
        };
        if n >= cfg.max_findings || Instant::now() >= m_deadline {
            f.verdict = "not minimised (--max-findings or minimisation time spent)".into();
            findings.push(f);
            continue;
        }
        confirm::finish(&sh, &mut f, &acc, target, m_deadline).await?;
        findings.push(f);
    }
    if let Side::Managed(m, _) = &sh.target {
        m.stop().await;
    }
    Ok(FuzzReport {
        protocol: p.to_string(),
        seed: cfg.seed,
        oracle: cfg.oracle.describe(),
        target: target.name.clone().unwrap_or_else(|| target.describe()),
        seeds: sh.seeds.len(),
        cases,
        sessions,
        fuzz_ms: u64::try_from(fuzz_time.as_millis()).unwrap_or(u64::MAX),
        cases_per_sec: cases as f64 / secs,
        sessions_per_sec: sessions as f64 / secs,
        minimise_ms: u64::try_from(m_start.elapsed().as_millis()).unwrap_or(u64::MAX),
        oracle_errors: sh.oracle_errors.load(Ordering::Relaxed),
        target_errors: sh.target_errors.load(Ordering::Relaxed),
        target_restarts: sh.restarts.load(Ordering::Relaxed),
        flaky: sh.flaky.load(Ordering::Relaxed),
        findings,
    })
}
