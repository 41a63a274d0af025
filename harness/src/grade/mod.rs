//! Grading: many targets from a roster, each built, started and tested in isolation, into
//! one report (a page per student, the class matrix) and a gradebook.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::path::Path;
//! use wirecheck::grade::{self, GradeOptions, hints::Hints, roster::Roster};
//! let roster = Roster::load(Path::new("examples/roster.toml"))?;
//! let corpus = wirecheck::corpus::load(Path::new("transcripts"))?;
//! let hints = Hints::load(Path::new("transcripts/hints.toml"))?;
//! let opts = GradeOptions::new(Path::new("grades"));
//! let report = grade::grade(&roster, &corpus, &hints, &opts).await;
//! grade::write_outputs(&report, &corpus, Path::new("grades"))?;
//! # Ok(()) }
//! ```
//!
//! Students run concurrently (`parallel` at a time), each in its own processes: a build
//! step in the student's directory, then, per protocol, the student's server on a fresh
//! port (or a fresh one per case with `isolate`), restarted by the runner when it dies. A
//! student's whole run is bounded by `timeout`: what did not finish in time is an `error`
//! (out of time), so a crashed or hung server costs that student points and never stops
//! the class's run. Every non-pass gets a plain-words hint from the hints table.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;
use wirecheck_reports::{
    CaseResult, Level, Outcome, Report, SCHEMA_VERSION, Summary, TargetReport,
};

use crate::corpus::Corpus;
use crate::runner::{self, Fixtures, Progress, RunOptions};
use crate::select::{Selection, rfc_matches};
use crate::target::{Process, TargetSpec};
use crate::transcript::{Role, Transcript};

pub mod cli;
pub mod gradebook;
pub mod hints;
pub mod roster;

use hints::Hints;
use roster::{Roster, Rule, Student, glob_match};

/// The message of every case of a student whose build failed (hints key on it).
pub(crate) const BUILD_FAILED: &str = "the build failed";
/// The message of every case a student's time ran out before.
pub(crate) const OUT_OF_TIME: &str = "not run: the student's time limit";

/// Hears about students as they start and end.
pub trait GradeProgress: Send + Sync {
    /// A student's build or run starts.
    fn started(&self, _name: &str) {}
    /// A student is graded.
    fn finished(&self, target: &TargetReport);
}

/// How a grading run behaves besides the roster.
#[derive(Clone)]
pub struct GradeOptions {
    /// Scratch directories (`{out}`) go under `DIR/work/`.
    pub report_dir: PathBuf,
    /// `{wirecheck}`: the wirecheck binary (the running one, from the CLI).
    pub wirecheck: PathBuf,
    /// Grade only these students (all when empty).
    pub only: Vec<String>,
    /// `(k, n)`: only students whose roster position `i` (0-based) has `i % n == k - 1`.
    pub shard: Option<(usize, usize)>,
    /// Student events.
    pub progress: Option<Arc<dyn GradeProgress>>,
}

impl GradeOptions {
    /// Defaults: every student, `{wirecheck}` the current executable.
    pub fn new(report_dir: &Path) -> GradeOptions {
        GradeOptions {
            report_dir: report_dir.to_path_buf(),
            wirecheck: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("wirecheck")),
            only: Vec::new(),
            shard: None,
            progress: None,
        }
    }
}

impl std::fmt::Debug for GradeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GradeOptions")
            .field("report_dir", &self.report_dir)
            .field("only", &self.only)
            .field("shard", &self.shard)
            .finish_non_exhaustive()
    }
}

/// Grade every student of `roster` (as selected by `opts`) on `corpus`.
pub async fn grade(roster: &Roster, corpus: &Corpus, hints: &Hints, opts: &GradeOptions) -> Report {
    let started = SystemTime::now();
    let clock = Instant::now();
    let students: Vec<Student> = roster
        .students
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            (opts.only.is_empty() || opts.only.contains(&s.name))
                && opts
                    .shard
                    .is_none_or(|(k, n)| n == 0 || i % n == k.saturating_sub(1))
        })
        .map(|(_, s)| s.clone())
        .collect();
    let sem = Arc::new(Semaphore::new(roster.parallel));
    let shared = Arc::new((roster.clone(), corpus.clone(), hints.clone(), opts.clone()));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, s) in students.iter().enumerate() {
        let (sem, shared, s) = (sem.clone(), shared.clone(), s.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let (roster, corpus, hints, opts) = &*shared;
            if let Some(p) = &opts.progress {
                p.started(&s.name);
            }
            let t = grade_student(roster, corpus, hints, opts, &s).await;
            if let Some(p) = &opts.progress {
                p.finished(&t);
            }
            (i, t)
        });
    }
    let mut done: Vec<Option<TargetReport>> = vec![None; students.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, t)) = joined
            && let Some(slot) = done.get_mut(i)
        {
            *slot = Some(t);
        }
    }
    let targets = done
        .into_iter()
        .zip(&students)
        .map(|(t, s)| {
            t.unwrap_or_else(|| TargetReport {
                name: s.name.clone(),
                target: describe(s),
                cases: Vec::new(),
                summary: Summary::default(),
            })
        })
        .collect();
    Report {
        schema: SCHEMA_VERSION,
        tool: "wirecheck".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        started: crate::demo::rfc3339(started),
        duration_ms: clock.elapsed().as_millis().try_into().unwrap_or(u64::MAX),
        targets,
    }
}

/// Write the class's outputs into `dir`: `index.html` (scores and the matrix), one page per
/// student, `gradebook.csv`, `report.json`, and `coverage.html`/`coverage.json` when the
/// corpus has RFC requirements. Returns the index's path.
pub fn write_outputs(report: &Report, corpus: &Corpus, dir: &Path) -> anyhow::Result<PathBuf> {
    let all: Vec<&Transcript> = corpus.transcripts.iter().collect();
    let index = crate::coverage::write_html_report(report, &all, &corpus.root, dir)?;
    gradebook::write(report, &dir.join("gradebook.csv"))?;
    wirecheck_reports::json::write(report, &dir.join("report.json"))?;
    Ok(index)
}

/// What the report says was tested for `s`.
fn describe(s: &Student) -> String {
    let one = |p: &roster::PerProtocol| match p {
        roster::PerProtocol::All(v) => v.clone(),
        roster::PerProtocol::Each(m) => m
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; "),
    };
    let server = match (&s.cmd, &s.target) {
        (Some(c), _) => one(c),
        (None, Some(t)) => one(t),
        (None, None) => String::new(),
    };
    match (&s.client_cmd, server.is_empty()) {
        (Some(c), true) => format!("client: {}", one(c)),
        (Some(c), false) => format!("{server}; client: {}", one(c)),
        (None, _) => server,
    }
}

/// The cases `s` is graded on, with the rubric's points, per protocol, in corpus order.
pub fn cases_for(roster: &Roster, s: &Student, corpus: &Corpus) -> Vec<(String, Vec<Transcript>)> {
    roster
        .protocols_of(s)
        .iter()
        .map(|p| {
            let sel = Selection {
                protocol: Some(p.clone()),
                filters: roster.filters.clone(),
                exact: false,
                skip: roster.skip.clone(),
                tags: roster.tags.clone(),
                rfc: roster.rfc.clone(),
            };
            // Client-role cases test the student's server, server-role cases their client.
            let server = s
                .cmd
                .as_ref()
                .or(s.target.as_ref())
                .is_some_and(|c| c.for_protocol(p).is_some());
            let client = s
                .client_cmd
                .as_ref()
                .is_some_and(|c| c.for_protocol(p).is_some());
            let ts = sel
                .apply(corpus)
                .into_iter()
                .filter(|t| match t.meta.role {
                    Role::Client => server,
                    Role::Server => client,
                })
                .filter_map(|t| {
                    let mut points = s.points.or(roster.points).unwrap_or(t.meta.points);
                    if let Some(r) = s
                        .rubric
                        .iter()
                        .chain(&roster.rubric)
                        .find(|r| rule_matches(r, t))
                    {
                        if r.exclude {
                            return None;
                        }
                        points = r.points.unwrap_or(points);
                    }
                    let mut t = t.clone();
                    t.meta.points = points;
                    Some(t)
                })
                .collect();
            (p.clone(), ts)
        })
        .collect()
}

fn rule_matches(r: &Rule, t: &Transcript) -> bool {
    let level = match t.meta.level {
        Level::Must => "MUST",
        Level::Should => "SHOULD",
        Level::May => "MAY",
    };
    r.id.as_deref().is_none_or(|g| glob_match(g, &t.meta.id))
        && r.tag.as_ref().is_none_or(|tag| t.meta.tags.contains(tag))
        && r.level.as_deref().is_none_or(|l| l == level)
        && r.rfc.as_deref().is_none_or(|want| {
            t.meta
                .rfc
                .iter()
                .any(|have| rfc_matches(want, have.rfc, &have.section))
        })
}

/// `s` quoted for `sh`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A student command with `{dir}`, `{out}`, `{wirecheck}`, `{roster}` substituted (`{port}`
/// and `{host}` are the runner's), run from the student's directory.
fn student_command(
    cmd: &str,
    dir: &Path,
    out: &Path,
    roster: &Roster,
    opts: &GradeOptions,
) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (dir, out, rdir) = (abs(dir), abs(out), abs(&roster.dir));
    let body = cmd
        .replace("{dir}", &sh_quote(&dir.to_string_lossy()))
        .replace("{out}", &sh_quote(&out.to_string_lossy()))
        .replace("{roster}", &sh_quote(&rdir.to_string_lossy()))
        .replace("{wirecheck}", &sh_quote(&opts.wirecheck.to_string_lossy()));
    format!(
        "cd {} || exit 126\n{body}",
        sh_quote(&dir.to_string_lossy())
    )
}

/// A case that did not run, as a result.
fn not_run(t: &Transcript, message: &str, hint: Option<String>) -> CaseResult {
    CaseResult {
        id: t.meta.id.clone(),
        title: t.meta.title.clone(),
        protocol: t.meta.protocol.clone(),
        rfc: t.rfc_strings(),
        level: t.meta.level,
        tags: t.meta.tags.clone(),
        points: t.meta.points,
        outcome: Outcome::Error,
        message: Some(message.to_string()),
        line: None,
        expected: None,
        actual: None,
        hint,
        exchange: Vec::new(),
        duration_ms: 0,
        file: t.file.display().to_string(),
    }
}

/// Collects results as cases end, so that a run cut short keeps what finished.
struct Collector {
    done: Mutex<HashMap<String, CaseResult>>,
}

impl Progress for Collector {
    fn finished(&self, result: &CaseResult) {
        if let Ok(mut d) = self.done.lock() {
            d.insert(result.id.clone(), result.clone());
        }
    }
}

/// A directory name for `name`: `[A-Za-z0-9._-]`, never empty or dots only.
fn dir_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() { "student".into() } else { s }
}

async fn grade_student(
    roster: &Roster,
    corpus: &Corpus,
    hints: &Hints,
    opts: &GradeOptions,
    s: &Student,
) -> TargetReport {
    let plan = cases_for(roster, s, corpus);
    let dir = s.dir.clone().unwrap_or_else(|| roster.dir.clone());
    let out = opts.report_dir.join("work").join(dir_name(&s.name));
    let mut cases: Vec<CaseResult> = Vec::new();
    let all = || plan.iter().flat_map(|(_, ts)| ts.iter());
    if let Err(e) = std::fs::create_dir_all(&out) {
        let m = format!("cannot create the scratch directory {}: {e}", out.display());
        cases.extend(all().map(|t| not_run(t, &m, None)));
    } else if let Some(build) = &s.build
        && let Err((m, hint)) = run_build(
            &student_command(build, &dir, &out, roster, opts),
            roster.build_timeout,
        )
        .await
    {
        let m = format!("{BUILD_FAILED}: {m}");
        cases.extend(all().map(|t| not_run(t, &m, hint.clone())));
    } else {
        let deadline = tokio::time::Instant::now() + roster.timeout_of(s);
        for (protocol, ts) in &plan {
            cases.extend(run_protocol(roster, opts, s, &dir, &out, protocol, ts, deadline).await);
        }
    }
    for c in &mut cases {
        hints.apply(c);
    }
    let summary = Summary::of(&cases);
    TargetReport {
        name: s.name.clone(),
        target: describe(s),
        cases,
        summary,
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_protocol(
    roster: &Roster,
    opts: &GradeOptions,
    s: &Student,
    dir: &Path,
    out: &Path,
    protocol: &str,
    ts: &[Transcript],
    deadline: tokio::time::Instant,
) -> Vec<CaseResult> {
    if ts.is_empty() {
        return Vec::new();
    }
    let spec = match (&s.cmd, &s.target) {
        (Some(c), _) => c.for_protocol(protocol).map(|c| {
            TargetSpec::command(
                student_command(c, dir, out, roster, opts),
                s.isolate.unwrap_or(roster.isolate),
            )
        }),
        (None, Some(t)) => t.for_protocol(protocol).map(TargetSpec::addr),
        // Only the student's client is tested: there is no server to reach.
        (None, None) => s
            .client_cmd
            .as_ref()
            .map(|_| TargetSpec::addr("127.0.0.1:0")),
    };
    let Some(mut spec) = spec else {
        let m = format!("the roster names no {protocol} server for this student");
        return ts.iter().map(|t| not_run(t, &m, None)).collect();
    };
    spec.name = Some(s.name.clone());
    spec.client_cmd = s
        .client_cmd
        .as_ref()
        .and_then(|c| c.for_protocol(protocol))
        .map(|c| student_command(c, dir, out, roster, opts));
    let collector = Arc::new(Collector {
        done: Mutex::new(HashMap::new()),
    });
    let run_opts = RunOptions {
        jobs: roster.jobs,
        step_timeout: roster.step_timeout,
        startup_timeout: roster.startup_timeout,
        insecure: roster.insecure,
        fixtures: Fixtures {
            user: s.user.clone().unwrap_or_else(|| roster.user.clone()),
            pass: s.pass.clone().unwrap_or_else(|| roster.pass.clone()),
            domain: s.domain.clone().unwrap_or_else(|| roster.domain.clone()),
            mailbox_count: s.mailbox_count.or(roster.mailbox_count),
            tls: s.tls.unwrap_or(roster.tls),
            everything: false,
        },
        progress: Some(collector.clone()),
        ..RunOptions::default()
    };
    let refs: Vec<&Transcript> = ts.iter().collect();
    let limit = humantime::format_duration(roster.timeout_of(s));
    match tokio::time::timeout_at(deadline, runner::run_transcripts(&refs, &spec, &run_opts)).await
    {
        Ok(Ok(r)) => r.cases,
        Ok(Err(e)) => {
            let hint = Some(format!(
                "wirecheck could not reach or start your server: {e}. Does it listen on the port it is given ({{port}})?"
            ));
            ts.iter()
                .map(|t| not_run(t, &e.to_string(), hint.clone()))
                .collect()
        }
        Err(_) => {
            // Out of time: keep what finished; the rest did not run (the run's processes
            // were stopped when its future was dropped).
            let mut done = collector
                .done
                .lock()
                .map(|mut d| std::mem::take(&mut *d))
                .unwrap_or_default();
            ts.iter()
                .map(|t| {
                    done.remove(&t.meta.id).unwrap_or_else(|| {
                        not_run(
                            t,
                            &format!("{OUT_OF_TIME} ({limit}) ran out before this case finished"),
                            None,
                        )
                    })
                })
                .collect()
        }
    }
}

/// Run a build command; `Err((message, hint))` when it fails or takes too long.
async fn run_build(cmd: &str, limit: Duration) -> Result<(), (String, Option<String>)> {
    let mut p = Process::spawn(cmd).map_err(|e| (e.to_string(), None))?;
    let start = Instant::now();
    loop {
        if let Some(status) = p.exited() {
            if status.contains("exit status: 0") {
                return Ok(());
            }
            // The stderr reader may still hold the last bytes the build wrote.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let tail = p.stderr_tail();
            let hint = (!tail.trim().is_empty())
                .then(|| format!("the build's output ends with:\n{}", tail.trim()));
            return Err((format!("`{cmd}` exited with {status}"), hint));
        }
        if start.elapsed() >= limit {
            p.stop(Duration::from_secs(2)).await;
            return Err((
                format!(
                    "`{cmd}` did not finish within {}",
                    humantime::format_duration(limit)
                ),
                None,
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Corpus {
        let t = |id: &str, tags: &str, points: u32| {
            let s = format!(
                "id = {id:?}\ntitle = \"t\"\nrfc = \"5321#4.1.4\"\nlevel = \"MUST\"\ntags = [{tags}]\npoints = {points}\nscript = '''\nS: 220 *\n'''\n"
            );
            crate::transcript::parse_str(&s, Path::new("smtp/x.toml"), Some("smtp")).unwrap()
        };
        Corpus::from_transcripts(vec![
            t("smtp.a.one", "\"x\"", 1),
            t("smtp.a.two", "\"smuggling\"", 2),
            t("smtp.b.three", "", 5),
        ])
    }

    #[test]
    fn rubric_rules_set_points_and_exclude_cases() {
        let r = Roster::parse(
            r#"
[[rubric]]
tag = "smuggling"
points = 4
[[rubric]]
id = "smtp.b.*"
exclude = true
[[student]]
name = "a"
cmd = "x"
[[student]]
name = "b"
cmd = "x"
points = 1
[[student.rubric]]
id = "smtp.b.three"
points = 10
"#,
            Path::new("r.toml"),
        )
        .unwrap();
        let pts = |s: &Student| {
            cases_for(&r, s, &corpus())[0]
                .1
                .iter()
                .map(|t| (t.meta.id.clone(), t.meta.points))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pts(&r.students[0]),
            [("smtp.a.one".into(), 1), ("smtp.a.two".into(), 4)]
        );
        assert_eq!(
            pts(&r.students[1]),
            [
                ("smtp.a.one".into(), 1),
                ("smtp.a.two".into(), 4),
                ("smtp.b.three".into(), 10)
            ]
        );
    }

    #[test]
    fn commands_run_in_the_students_directory() {
        let r = Roster::parse(
            "[[student]]\nname = \"a\"\ncmd = \"x\"\n",
            Path::new("/c/r.toml"),
        )
        .unwrap();
        let mut o = GradeOptions::new(Path::new("/g"));
        o.wirecheck = PathBuf::from("/bin/wire check");
        let c = student_command(
            "{wirecheck} serve --smtp {port} --store {out}",
            Path::new("/c/it's"),
            Path::new("/g/work/a"),
            &r,
            &o,
        );
        assert_eq!(
            c,
            "cd '/c/it'\\''s' || exit 126\n'/bin/wire check' serve --smtp {port} --store '/g/work/a'"
        );
        assert_eq!(dir_name("../x y"), "___x_y");
    }

    #[tokio::test]
    async fn builds_that_fail_say_why() {
        let e = run_build("echo oops >&2; exit 2", Duration::from_secs(10))
            .await
            .unwrap_err();
        assert!(e.0.contains("exit status: 2"), "{e:?}");
        assert!(e.1.unwrap().contains("oops"));
        assert!(run_build("true", Duration::from_secs(10)).await.is_ok());
        let e = run_build("sleep 30", Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(e.0.contains("did not finish"), "{e:?}");
    }
}
