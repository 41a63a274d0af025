//! The roster: who is graded, how each target is built and started, which cases count and
//! for how many points (`wirecheck grade ROSTER.toml`).
//!
//! ```toml
//! protocols = ["smtp"]          # defaults for every student
//! timeout   = "5m"              # each student's whole run
//! insecure  = true
//!
//! [[rubric]]                    # first matching rule wins (a student's own rules first)
//! tag    = "smuggling"
//! points = 3
//! [[rubric]]
//! id      = "smtp.starttls.*"
//! exclude = true
//!
//! [[student]]
//! name  = "alice"
//! dir   = "students/alice"      # relative to the roster; the build's and server's cwd
//! build = "make"
//! cmd   = "./smtpd --port {port}"
//! [[student]]
//! name   = "bob"
//! target = "127.0.0.1:2525"     # already running
//! client-cmd = "./client --to {host}:{port}"   # server-role cases: wirecheck is the server
//! ```
//!
//! Commands are shell commands; `{port}` and `{host}` are where the server must listen,
//! `{dir}` the student's directory, `{out}` a scratch directory of the student's own under
//! the report directory, `{wirecheck}` the running wirecheck binary and `{roster}` the
//! roster's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A roster that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RosterError {
    /// The file could not be read.
    #[error("cannot read roster {}: {message}", file.display())]
    Io {
        /// The roster.
        file: PathBuf,
        /// Why.
        message: String,
    },
    /// The file is not a valid roster.
    #[error("{}: {message}", file.display())]
    Invalid {
        /// The roster.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// One roster entry or default: a single value, or one per protocol.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum PerProtocol {
    /// The same for every protocol.
    All(String),
    /// `{ smtp = "...", pop3 = "..." }`.
    Each(BTreeMap<String, String>),
}

impl PerProtocol {
    /// The value for `protocol`.
    pub fn for_protocol(&self, protocol: &str) -> Option<&str> {
        match self {
            PerProtocol::All(s) => Some(s),
            PerProtocol::Each(m) => m.get(protocol).map(String::as_str),
        }
    }
}

/// A rubric rule: which cases it applies to, and what it does to them. A rule without any
/// condition applies to every case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rule {
    /// A glob on the case id (`*` any run, `?` one character).
    pub id: Option<String>,
    /// The case carries this tag.
    pub tag: Option<String>,
    /// The case cites this RFC or section (`5321`, `5321#4.1`; sub-sections included).
    pub rfc: Option<String>,
    /// The case checks this level (`MUST`, `SHOULD`, `MAY`).
    pub level: Option<String>,
    /// Points for the case.
    pub points: Option<u32>,
    /// Leave the case out of the grade (it is not run).
    #[serde(default)]
    pub exclude: bool,
}

/// One student (or any target) to grade.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Student {
    /// Unique in the roster; names the report page and the gradebook row.
    pub name: String,
    /// The student's directory (relative to the roster): `{dir}`, and the working directory
    /// of `build` and `cmd`. Default: the roster's directory.
    pub dir: Option<PathBuf>,
    /// Run once before anything else, in `dir`; failing costs every case.
    pub build: Option<String>,
    /// Start the server: `{port}` substituted (one per protocol, or a table by protocol).
    pub cmd: Option<PerProtocol>,
    /// Or: the server is already running at `HOST:PORT` (or a table by protocol).
    pub target: Option<PerProtocol>,
    /// The student's client, for the server-role cases (wirecheck plays the server):
    /// `{host}` and `{port}` are where wirecheck listens; started once per case.
    pub client_cmd: Option<PerProtocol>,
    /// Overrides the roster's `protocols`.
    pub protocols: Option<Vec<String>>,
    /// Overrides the roster's `isolate`.
    pub isolate: Option<bool>,
    /// Overrides the roster's `timeout`.
    pub timeout: Option<String>,
    /// Overrides the roster's `points`.
    pub points: Option<u32>,
    /// Overrides the roster's fixtures.
    pub user: Option<String>,
    /// Overrides the roster's fixtures.
    pub pass: Option<String>,
    /// Overrides the roster's fixtures.
    pub domain: Option<String>,
    /// Overrides the roster's fixtures.
    pub mailbox_count: Option<u32>,
    /// Overrides the roster's fixtures.
    pub tls: Option<bool>,
    /// Rules for this student only, tried before the roster's.
    #[serde(default)]
    pub rubric: Vec<Rule>,
}

/// The roster file as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRoster {
    title: Option<String>,
    corpus: Option<PathBuf>,
    hints: Option<PathBuf>,
    #[serde(default)]
    protocols: Vec<String>,
    #[serde(default)]
    filters: Vec<String>,
    #[serde(default)]
    skip: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    rfc: Vec<String>,
    timeout: Option<String>,
    build_timeout: Option<String>,
    step_timeout: Option<String>,
    startup_timeout: Option<String>,
    #[serde(default)]
    isolate: bool,
    jobs: Option<usize>,
    parallel: Option<usize>,
    points: Option<u32>,
    #[serde(default)]
    insecure: bool,
    user: Option<String>,
    pass: Option<String>,
    domain: Option<String>,
    mailbox_count: Option<u32>,
    #[serde(default)]
    tls: bool,
    #[serde(default)]
    rubric: Vec<Rule>,
    #[serde(default)]
    student: Vec<Student>,
}

/// A parsed, checked roster, paths resolved against its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// The roster file.
    pub file: PathBuf,
    /// Its directory (`{roster}`).
    pub dir: PathBuf,
    /// A title for the reports.
    pub title: Option<String>,
    /// The corpus (default `transcripts`, relative to the current directory).
    pub corpus: Option<PathBuf>,
    /// The hints table (default: `hints.toml` at the corpus root).
    pub hints: Option<PathBuf>,
    /// Protocols every student is tested on (`smtp`, `pop3`, `imap`, `ftp`, `dns`).
    pub protocols: Vec<String>,
    /// Keep a case whose id contains one of these (all when empty).
    pub filters: Vec<String>,
    /// Drop a case whose id contains one of these.
    pub skip: Vec<String>,
    /// Keep a case with one of these tags (all when empty).
    pub tags: Vec<String>,
    /// Keep a case citing one of these RFCs / sections (all when empty).
    pub rfc: Vec<String>,
    /// Each student's whole run (build excluded).
    pub timeout: Duration,
    /// Each build.
    pub build_timeout: Duration,
    /// Replaces the transcripts' step timeouts.
    pub step_timeout: Option<Duration>,
    /// How long a started server has to accept connections.
    pub startup_timeout: Duration,
    /// A fresh server for every case.
    pub isolate: bool,
    /// Cases at once per student.
    pub jobs: usize,
    /// Students at once.
    pub parallel: usize,
    /// Every case is worth this (before rubric rules); default: the transcript's `points`.
    pub points: Option<u32>,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// `${user}`.
    pub user: String,
    /// `${pass}`.
    pub pass: String,
    /// `${domain}`.
    pub domain: String,
    /// Messages in the user's maildrop.
    pub mailbox_count: Option<u32>,
    /// Students' servers offer TLS.
    pub tls: bool,
    /// Rules for everyone.
    pub rubric: Vec<Rule>,
    /// The students, in roster order.
    pub students: Vec<Student>,
}

/// The protocols a roster may test (client-role cases against a server).
pub const GRADABLE: [&str; 5] = ["smtp", "pop3", "imap", "ftp", "dns"];

fn duration(v: Option<&str>, key: &str, default: Duration) -> Result<Duration, String> {
    match v {
        None => Ok(default),
        Some(s) => humantime::parse_duration(s)
            .map_err(|e| format!("`{key}`: expected a duration like \"5m\", got {s:?} ({e})")),
    }
}

impl Roster {
    /// Read and check `file`.
    pub fn load(file: &Path) -> Result<Roster, RosterError> {
        let text = std::fs::read_to_string(file).map_err(|e| RosterError::Io {
            file: file.to_path_buf(),
            message: e.to_string(),
        })?;
        Roster::parse(&text, file)
    }

    /// Parse roster text; `file` names it in messages and anchors relative paths.
    pub fn parse(text: &str, file: &Path) -> Result<Roster, RosterError> {
        let invalid = |message: String| RosterError::Invalid {
            file: file.to_path_buf(),
            message,
        };
        let raw: RawRoster = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let dir = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let rel = |p: PathBuf| if p.is_absolute() { p } else { dir.join(p) };
        let protocols = if raw.protocols.is_empty() {
            vec!["smtp".to_string()]
        } else {
            raw.protocols
        };
        check_protocols(&protocols).map_err(invalid)?;
        if raw.student.is_empty() {
            return Err(invalid("no [[student]] entries".into()));
        }
        let mut names = std::collections::HashSet::new();
        let mut students = Vec::with_capacity(raw.student.len());
        for mut s in raw.student {
            let who = format!("student {:?}", s.name);
            if s.name.trim().is_empty() {
                return Err(invalid("a [[student]] without a `name`".into()));
            }
            if !names.insert(s.name.clone()) {
                return Err(invalid(format!("{who} is listed twice")));
            }
            match (&s.cmd, &s.target) {
                (None, None) if s.client_cmd.is_none() => {
                    return Err(invalid(format!(
                        "{who}: give `cmd` (a command with {{port}}), `target` (HOST:PORT) or `client-cmd`"
                    )));
                }
                (Some(_), Some(_)) => {
                    return Err(invalid(format!("{who}: give `cmd` or `target`, not both")));
                }
                _ => {}
            }
            if let Some(p) = &s.protocols {
                check_protocols(p).map_err(|m| invalid(format!("{who}: {m}")))?;
            }
            duration(s.timeout.as_deref(), "timeout", Duration::ZERO)
                .map_err(|m| invalid(format!("{who}: {m}")))?;
            s.dir = Some(s.dir.take().map_or_else(|| dir.clone(), rel));
            for r in &s.rubric {
                check_rule(r).map_err(|m| invalid(format!("{who}: {m}")))?;
            }
            students.push(s);
        }
        for r in &raw.rubric {
            check_rule(r).map_err(invalid)?;
        }
        Ok(Roster {
            file: file.to_path_buf(),
            title: raw.title,
            corpus: raw.corpus.map(rel),
            hints: raw.hints.map(rel),
            protocols,
            filters: raw.filters,
            skip: raw.skip,
            tags: raw.tags,
            rfc: raw.rfc,
            timeout: duration(raw.timeout.as_deref(), "timeout", Duration::from_secs(600))
                .map_err(invalid)?,
            build_timeout: duration(
                raw.build_timeout.as_deref(),
                "build-timeout",
                Duration::from_secs(300),
            )
            .map_err(invalid)?,
            step_timeout: match raw.step_timeout.as_deref() {
                None => None,
                Some(s) => {
                    Some(duration(Some(s), "step-timeout", Duration::ZERO).map_err(invalid)?)
                }
            },
            startup_timeout: duration(
                raw.startup_timeout.as_deref(),
                "startup-timeout",
                Duration::from_secs(30),
            )
            .map_err(invalid)?,
            isolate: raw.isolate,
            jobs: raw.jobs.unwrap_or(8).max(1),
            parallel: raw.parallel.unwrap_or(4).max(1),
            points: raw.points,
            insecure: raw.insecure,
            user: raw.user.unwrap_or_else(|| "alice".into()),
            pass: raw.pass.unwrap_or_else(|| "secret".into()),
            domain: raw.domain.unwrap_or_else(|| "example.test".into()),
            mailbox_count: raw.mailbox_count,
            tls: raw.tls,
            rubric: raw.rubric,
            students,
            dir,
        })
    }

    /// The student's whole-run limit.
    pub fn timeout_of(&self, s: &Student) -> Duration {
        duration(s.timeout.as_deref(), "timeout", self.timeout).unwrap_or(self.timeout)
    }

    /// The protocols `s` is tested on.
    pub fn protocols_of<'a>(&'a self, s: &'a Student) -> &'a [String] {
        s.protocols.as_deref().unwrap_or(&self.protocols)
    }
}

fn check_protocols(ps: &[String]) -> Result<(), String> {
    for p in ps {
        if !GRADABLE.contains(&p.as_str()) {
            return Err(format!(
                "`protocols`: {p:?} cannot be graded; expected some of {}",
                GRADABLE.join(", ")
            ));
        }
    }
    Ok(())
}

fn check_rule(r: &Rule) -> Result<(), String> {
    if let Some(l) = &r.level
        && !["MUST", "SHOULD", "MAY"].contains(&l.as_str())
    {
        return Err(format!(
            "[[rubric]] `level`: expected MUST, SHOULD or MAY, got {l:?}"
        ));
    }
    if r.points.is_none() && !r.exclude {
        return Err("a [[rubric]] rule needs `points = N` or `exclude = true`".into());
    }
    Ok(())
}

/// `*` any run of characters, `?` one character; everything else literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative matching with one backtrack point (the last `*`): linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("smtp.smuggling.*", "smtp.smuggling.lf-dot-lf"));
        assert!(glob_match("*lf*", "smtp.smuggling.lf-dot-lf"));
        assert!(glob_match("smtp.?ata.*", "smtp.data.basic"));
        assert!(!glob_match("smtp.data", "smtp.data.basic"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "acbd"));
        assert!(glob_match("a*b*", "acbd"));
    }

    #[test]
    fn a_roster_with_defaults_and_overrides() {
        let r = Roster::parse(
            r#"
protocols = ["smtp", "pop3"]
timeout = "2m"
[[rubric]]
tag = "smuggling"
points = 3
[[student]]
name = "alice"
dir = "alice"
build = "make"
cmd = "./server {port}"
timeout = "30s"
[[student]]
name = "bob"
target = { smtp = "127.0.0.1:2525", pop3 = "127.0.0.1:1110" }
protocols = ["pop3"]
[[student.rubric]]
id = "pop3.stls.*"
exclude = true
"#,
            Path::new("course/roster.toml"),
        )
        .unwrap();
        assert_eq!(r.students.len(), 2);
        let (a, b) = (&r.students[0], &r.students[1]);
        assert_eq!(a.dir.as_deref(), Some(Path::new("course/alice")));
        assert_eq!(b.dir.as_deref(), Some(Path::new("course")));
        assert_eq!(r.timeout_of(a), Duration::from_secs(30));
        assert_eq!(r.timeout_of(b), Duration::from_secs(120));
        assert_eq!(r.protocols_of(a), ["smtp", "pop3"]);
        assert_eq!(r.protocols_of(b), ["pop3"]);
        assert_eq!(
            b.target.as_ref().unwrap().for_protocol("pop3"),
            Some("127.0.0.1:1110")
        );
        assert!(b.rubric[0].exclude);
    }

    #[test]
    fn mistakes_are_named() {
        let e = |s: &str| {
            Roster::parse(s, Path::new("r.toml"))
                .unwrap_err()
                .to_string()
        };
        assert!(e("").contains("no [[student]]"));
        assert!(e("[[student]]\nname = \"a\"\n").contains("`cmd`"));
        assert!(
            e("[[student]]\nname = \"a\"\ncmd = \"x\"\n[[student]]\nname = \"a\"\ncmd = \"y\"\n")
                .contains("twice")
        );
        assert!(
            e("protocols = [\"gopher\"]\n[[student]]\nname = \"a\"\ncmd = \"x\"\n")
                .contains("gopher")
        );
        assert!(e("colour = 1\n[[student]]\nname = \"a\"\ncmd = \"x\"\n").contains("colour"));
        assert!(
            e("[[rubric]]\ntag = \"x\"\n[[student]]\nname = \"a\"\ncmd = \"x\"\n")
                .contains("points")
        );
    }
}
