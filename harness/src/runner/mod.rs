//! The runner: transcripts against a target, concurrently and bounded, into a
//! [`TargetReport`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use wirecheck::{corpus, runner, select::Selection, target::TargetSpec};
//! let corpus = corpus::load("transcripts".as_ref())?;
//! let sel = Selection { protocol: Some("smtp".into()), ..Selection::all() };
//! let report = runner::run_corpus(&corpus, &sel, &TargetSpec::addr("127.0.0.1:2525"), &runner::RunOptions::default()).await?;
//! println!("{} passed", report.summary.count(wirecheck_reports::Outcome::Pass));
//! # Ok(()) }
//! ```
//!
//! Each case runs in its own task with its own connections and variables; a semaphore bounds
//! how many run at once. Every read has a deadline and a size cap, every case a total
//! timeout, so a hostile target can slow a run down but never stop it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use tokio::sync::Semaphore;
use wirecheck_reports::{CaseResult, Outcome, Summary, TargetReport};

use crate::corpus::Corpus;
use crate::protocol::Limits;
use crate::select::Selection;
use crate::target::{self, Managed, TargetError, TargetKind, TargetSpec};
use crate::transcript::{Role, Transcript};

mod case;
mod conn;
mod expect;
mod open;
mod record;

pub use record::Recorder;
pub(crate) use case::error_result;

/// What the target holds, for `requires` (docs/transcripts.md "Fixtures").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixtures {
    /// `${user}`.
    pub user: String,
    /// `${pass}`.
    pub pass: String,
    /// `${domain}`.
    pub domain: String,
    /// Messages in the user's maildrop, when known (`mailbox:N` needs at least N).
    pub mailbox_count: Option<u32>,
    /// The target offers TLS (`tls`).
    pub tls: bool,
    /// Every requirement is met (the reference servers, seeded by construction).
    pub everything: bool,
}

impl Default for Fixtures {
    fn default() -> Self {
        Fixtures {
            user: "alice".into(),
            pass: "secret".into(),
            domain: "example.test".into(),
            mailbox_count: None,
            tls: false,
            everything: false,
        }
    }
}

impl Fixtures {
    /// Everything a transcript may require: what the reference servers provide.
    pub fn reference() -> Fixtures {
        Fixtures {
            mailbox_count: Some(2),
            tls: true,
            everything: true,
            ..Fixtures::default()
        }
    }

    /// The first requirement of `requires` that is not met, with the reason.
    pub fn unmet(&self, requires: &[String]) -> Option<String> {
        if self.everything {
            return None;
        }
        requires.iter().find_map(|r| {
            if r == "tls" {
                (!self.tls)
                    .then(|| "requires tls: the target does not offer TLS (pass --tls)".to_string())
            } else if let Some(n) = r.strip_prefix("mailbox:") {
                let want: u32 = n.parse().unwrap_or(u32::MAX);
                match self.mailbox_count {
                    Some(have) if have >= want => None,
                    Some(have) => Some(format!(
                        "requires {r}: the maildrop holds {have} message(s)"
                    )),
                    None => Some(format!(
                        "requires {r}: say how many messages the maildrop holds (--mailbox-count)"
                    )),
                }
            } else if r.starts_with("user:") {
                // The case logs in as ${user}/${pass}: any configured user will do.
                None
            } else {
                Some(format!("requires {r:?}, which wirecheck cannot check"))
            }
        })
    }
}

/// Hears about each case as it starts and ends (the console, a progress bar).
pub trait Progress: Send + Sync {
    /// A case is about to run.
    fn started(&self, _id: &str) {}
    /// A case ended.
    fn finished(&self, result: &CaseResult);
}

/// How a run behaves.
#[derive(Clone)]
pub struct RunOptions {
    /// Line and unit caps.
    pub limits: Limits,
    /// Cases at once.
    pub jobs: usize,
    /// Replaces every transcript's initial `step-timeout` (`--timeout`).
    pub step_timeout: Option<Duration>,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// How long a started target (or client) has to accept connections (or connect).
    pub startup_timeout: Duration,
    /// Accept any TLS certificate (`--insecure`).
    pub insecure: bool,
    /// Trust these certificates (the oracle's self-signed one); with neither this nor
    /// `insecure`, certificate verification fails for self-signed targets.
    pub tls_roots: Vec<CertificateDer<'static>>,
    /// What the target holds.
    pub fixtures: Fixtures,
    /// Bytes of traffic recorded per case (the exchange in the report).
    pub record_cap: usize,
    /// Progress events.
    pub progress: Option<Arc<dyn Progress>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        let limits = Limits::default();
        RunOptions {
            limits,
            jobs: std::thread::available_parallelism().map_or(4, |n| n.get() * 4),
            step_timeout: None,
            connect_timeout: Duration::from_secs(5),
            startup_timeout: Duration::from_secs(10),
            insecure: false,
            tls_roots: Vec::new(),
            fixtures: Fixtures::default(),
            record_cap: limits.max_reply * 2,
            progress: None,
        }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("limits", &self.limits)
            .field("jobs", &self.jobs)
            .field("step_timeout", &self.step_timeout)
            .field("insecure", &self.insecure)
            .field("fixtures", &self.fixtures)
            .finish_non_exhaustive()
    }
}

/// Why a run could not be done at all (exit status 2).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The target command did not start.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// Nothing accepts connections at the target's address.
    #[error("target {addr} is unreachable: {message}")]
    Unreachable {
        /// The address.
        addr: String,
        /// Why.
        message: String,
    },
    /// TLS could not be set up.
    #[error("TLS set-up: {0}")]
    Tls(String),
}

/// TLS configurations shared by every case.
pub(crate) struct TlsConfigs {
    pub client: Arc<rustls::ClientConfig>,
    pub server: tokio::sync::OnceCell<Arc<rustls::ServerConfig>>,
}

/// Where a case's target is.
pub(crate) enum CaseTarget {
    /// Client role: connect here.
    Addr(String),
    /// Server role: start this client (or use the transcript's `target-cmd`).
    ClientCmd(Option<String>),
}

/// Everything a case needs besides its transcript.
pub(crate) struct CaseEnv<'a> {
    pub target: CaseTarget,
    pub services: &'a BTreeMap<String, String>,
    pub options: &'a RunOptions,
    pub tls: &'a TlsConfigs,
}

/// Run the selected transcripts of `corpus` against `target`.
pub async fn run_corpus(
    corpus: &Corpus,
    selection: &Selection,
    target: &TargetSpec,
    options: &RunOptions,
) -> Result<TargetReport, RunError> {
    run_transcripts(&selection.apply(corpus), target, options).await
}

/// Run `transcripts` (in this order in the report) against `target`.
pub async fn run_transcripts(
    transcripts: &[&Transcript],
    target: &TargetSpec,
    options: &RunOptions,
) -> Result<TargetReport, RunError> {
    let client = if options.insecure {
        wirecheck_wire::tls::insecure_client_config()
    } else {
        wirecheck_wire::tls::client_config_trusting(&options.tls_roots)
    }
    .map_err(|e| RunError::Tls(e.to_string()))?;
    let tls = Arc::new(TlsConfigs {
        client,
        server: tokio::sync::OnceCell::new(),
    });
    // A target server is needed by client-role cases (scenarios may reach only the
    // `${service}` addresses, so they do not make an unreachable target fatal).
    let needs_server = transcripts.iter().any(|t| t.meta.role == Role::Client);
    let must_reach = transcripts
        .iter()
        .any(|t| t.meta.role == Role::Client && t.meta.protocol != "scenarios");
    let clients_only =
        !transcripts.is_empty() && transcripts.iter().all(|t| t.meta.role == Role::Server);
    let managed = match &target.kind {
        TargetKind::Command {
            cmd,
            isolate: false,
        } if needs_server => {
            let m = Arc::new(Managed::new(cmd, options.startup_timeout));
            m.ensure().await?;
            Some(m)
        }
        TargetKind::Addr(addr) if must_reach => {
            probe(addr, transcripts, options).await?;
            None
        }
        _ => None,
    };
    let sem = Arc::new(Semaphore::new(options.jobs.max(1)));
    let target = Arc::new(target.clone());
    let opts = Arc::new(options.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for (i, t) in transcripts.iter().enumerate() {
        let t = (*t).clone();
        let (sem, target, opts, tls, managed) = (
            sem.clone(),
            target.clone(),
            opts.clone(),
            tls.clone(),
            managed.clone(),
        );
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            if let Some(p) = &opts.progress {
                p.started(&t.meta.id);
            }
            let r = run_one(&t, &target, managed.as_deref(), clients_only, &opts, &tls).await;
            if let Some(p) = &opts.progress {
                p.finished(&r);
            }
            (i, r)
        });
    }
    let mut results: Vec<Option<CaseResult>> = vec![None; transcripts.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, r)) = joined
            && let Some(slot) = results.get_mut(i)
        {
            *slot = Some(r);
        }
    }
    if let Some(m) = &managed {
        m.stop().await;
    }
    let cases: Vec<CaseResult> = results
        .into_iter()
        .zip(transcripts)
        .map(|(r, t)| {
            r.unwrap_or_else(|| case::error_result(t, "the case's task failed (a wirecheck bug)"))
        })
        .collect();
    let summary = Summary::of(&cases);
    Ok(TargetReport {
        name: target.name.clone().unwrap_or_else(|| target.describe()),
        target: target.describe(),
        cases,
        summary,
    })
}

/// Fail fast when nothing listens at a TCP target.
async fn probe(
    addr: &str,
    transcripts: &[&Transcript],
    options: &RunOptions,
) -> Result<(), RunError> {
    let tcp = transcripts.iter().any(|t| {
        t.meta.role == Role::Client
            && crate::protocol::by_name(crate::transcript::script::framing_protocol(
                &t.meta.protocol,
            ))
            .is_some_and(|p| p.default_transport() == crate::protocol::Transport::Stream)
    });
    if !tcp {
        return Ok(());
    }
    let deadline = tokio::time::Instant::now() + options.connect_timeout;
    conn::connect_tcp(addr, deadline)
        .await
        .map(drop)
        .map_err(|message| RunError::Unreachable {
            addr: addr.to_string(),
            message,
        })
}

async fn run_one(
    t: &Transcript,
    target: &TargetSpec,
    managed: Option<&Managed>,
    clients_only: bool,
    opts: &RunOptions,
    tls: &TlsConfigs,
) -> CaseResult {
    if let Some(reason) = opts.fixtures.unmet(&t.meta.requires) {
        return case::skipped_result(t, &reason);
    }
    let services = &target.services;
    if t.meta.role == Role::Server {
        // The client under test: --client-cmd, or the target command when the run tests
        // only clients, or the transcript's own target-cmd.
        let cmd = match (&target.client_cmd, &target.kind) {
            (Some(c), _) => Some(c.clone()),
            (None, TargetKind::Command { cmd, .. }) if clients_only => Some(cmd.clone()),
            _ => t.meta.target_cmd.clone(),
        };
        if cmd.is_none() {
            return case::skipped_result(
                t,
                "a server-role case tests a client: give --client-cmd (or --target-cmd for a run of client cases only)",
            );
        }
        let env = CaseEnv {
            target: CaseTarget::ClientCmd(cmd),
            services,
            options: opts,
            tls,
        };
        return case::run_case(t, &env).await;
    }
    match &target.kind {
        TargetKind::Addr(a) => {
            let env = CaseEnv {
                target: CaseTarget::Addr(a.clone()),
                services,
                options: opts,
                tls,
            };
            case::run_case(t, &env).await
        }
        TargetKind::Command { cmd, isolate: true } => {
            match target::start(cmd, opts.startup_timeout).await {
                Ok(started) => {
                    let env = CaseEnv {
                        target: CaseTarget::Addr(started.addr.to_string()),
                        services,
                        options: opts,
                        tls,
                    };
                    let mut r = case::run_case(t, &env).await;
                    let mut process = started.process;
                    if let Some(status) = process.exited() {
                        died(&mut r, &status, &process.stderr_tail());
                    }
                    process.stop(Duration::from_secs(2)).await;
                    r
                }
                Err(e) => case::error_result(t, &e.to_string()),
            }
        }
        TargetKind::Command { .. } => {
            let Some(m) = managed else {
                return case::error_result(t, "the target command was not started");
            };
            // A case that got not one byte from a target found dead after it met a target
            // that was already dying (the previous case killed it, and its process had not
            // been reaped when this case began): it runs once more, against a fresh one.
            let mut first = true;
            loop {
                let addr = match m.ensure().await {
                    Ok(a) => a,
                    Err(e) => {
                        return case::error_result(t, &format!("the target could not be restarted: {e}"));
                    }
                };
                let env = CaseEnv {
                    target: CaseTarget::Addr(addr.to_string()),
                    services,
                    options: opts,
                    tls,
                };
                let mut r = case::run_case(t, &env).await;
                if r.outcome == Outcome::Pass {
                    return r;
                }
                if let Some(d) = m.check_within(DEATH_GRACE).await {
                    let heard = r.exchange.iter().any(|e| e.dir == wirecheck_reports::Direction::Received);
                    if first && !heard {
                        first = false;
                        continue;
                    }
                    died(&mut r, &d.status, &d.stderr);
                }
                return r;
            }
        }
    }
}

/// How long a target is given to be seen dead after a case that did not pass (its process
/// may still be exiting when the case ends).
const DEATH_GRACE: Duration = Duration::from_millis(500);

/// The target process died during the case: that is why it did not pass.
fn died(r: &mut CaseResult, status: &str, stderr: &str) {
    if r.outcome == Outcome::Pass {
        return;
    }
    r.outcome = Outcome::Error;
    let tail = stderr.trim();
    let msg = format!("the target process died ({status})");
    r.message = Some(match &r.message {
        Some(m) => format!("{msg}: {m}"),
        None => msg,
    });
    if !tail.is_empty() {
        let cut: String = tail
            .chars()
            .rev()
            .take(1000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        r.hint = Some(format!("its stderr ends with: {cut}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements() {
        let f = Fixtures::default();
        assert!(f.unmet(&["user:alice".into()]).is_none());
        assert!(
            f.unmet(&["mailbox:2".into()])
                .unwrap()
                .contains("--mailbox-count")
        );
        assert!(f.unmet(&["tls".into()]).is_some());
        let f = Fixtures {
            mailbox_count: Some(1),
            ..Fixtures::default()
        };
        assert!(f.unmet(&["mailbox:2".into()]).unwrap().contains("holds 1"));
        assert!(
            Fixtures::reference()
                .unmet(&["mailbox:2".into(), "tls".into(), "odd".into()])
                .is_none()
        );
    }
}
