//! The serde report model: what happened in a run, independent of any output format.

use serde::{Deserialize, Serialize};

/// The version of the JSON schema ([`Report::schema`]). Bump on any incompatible change
/// and document it in `reports/SCHEMA.md`.
pub const SCHEMA_VERSION: u32 = 1;

/// How one transcript ended against one target (DESIGN.md "Outcomes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every step matched.
    Pass,
    /// A MUST was broken.
    Fail,
    /// A SHOULD was broken.
    NonStrict,
    /// An optional extension was answered "not implemented" (e.g. SMTP 502, FTP 502/504,
    /// POP3 `-ERR` to CAPA, DNS NOTIMP).
    Unimplemented,
    /// A MAY or an observation: recorded, never a failure.
    Informational,
    /// The harness could not run the case: refused, timed out, target died, bad transcript.
    Error,
    /// Not run (filtered out after selection, or the target was not started).
    Skipped,
}

impl Outcome {
    /// All outcomes, in report order.
    pub const ALL: [Outcome; 7] = [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::NonStrict,
        Outcome::Unimplemented,
        Outcome::Informational,
        Outcome::Error,
        Outcome::Skipped,
    ];

    /// The kebab-case name used in JSON, HTML classes and the console.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NonStrict => "non-strict",
            Outcome::Unimplemented => "unimplemented",
            Outcome::Informational => "informational",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
        }
    }

    /// Does this outcome make the run exit 1 (DESIGN.md: only `fail` does; `error` is
    /// reported, and the binary decides about exit 2 for a run that could not be done)?
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Fail)
    }
}

/// The requirement level a transcript checks (RFC 2119).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// An absolute requirement: breaking it is `fail`.
    #[default]
    Must,
    /// A recommendation: breaking it is `non-strict`.
    Should,
    /// Optional behaviour: a mismatch is `informational`.
    May,
}

/// A whole run: one or more targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// "wirecheck".
    pub tool: String,
    /// The tool's version.
    pub version: String,
    /// When the run started, RFC 3339 UTC.
    pub started: String,
    /// Wall-clock duration of the whole run.
    pub duration_ms: u64,
    /// One entry per target.
    pub targets: Vec<TargetReport>,
}

/// Every case run against one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    /// A short name: a student's id, "postfix", "reference".
    pub name: String,
    /// What was tested: `host:port`, or the command line that was started.
    pub target: String,
    /// The cases, in corpus order.
    pub cases: Vec<CaseResult>,
    /// Counts and points, derived from `cases` by [`Summary::of`].
    pub summary: Summary,
}

/// The result of one transcript against one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// The transcript's id, e.g. `smtp.sequence.rcpt-before-mail`.
    pub id: String,
    /// Its title.
    pub title: String,
    /// `smtp`, `pop3`, `imap`, `ftp`, `dns`, `message`, `scenario`.
    pub protocol: String,
    /// RFC references, e.g. `["5321#4.1.4"]`.
    pub rfc: Vec<String>,
    /// The level it checks.
    pub level: Level,
    /// Its tags.
    pub tags: Vec<String>,
    /// Points possible (grading weight).
    pub points: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// One sentence on why, for every non-pass ("expected 503, got 250").
    pub message: Option<String>,
    /// The script line (1-based, within the file) of the step that decided a non-pass.
    pub line: Option<u32>,
    /// The expectation that was not met, in transcript notation.
    pub expected: Option<String>,
    /// What arrived instead (escaped with [`escape_bytes`]).
    pub actual: Option<String>,
    /// A plain-words hint for a common failure, shown to students.
    pub hint: Option<String>,
    /// The whole exchange, in order.
    pub exchange: Vec<Event>,
    /// Wall-clock duration of the case.
    pub duration_ms: u64,
    /// The transcript file, relative to the corpus root.
    pub file: String,
}

/// Who sent an [`Event`]'s bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// wirecheck wrote these bytes to the target.
    Sent,
    /// wirecheck read these bytes from the target.
    Received,
    /// Not bytes: a connection event or a harness note ("connected", "TLS established",
    /// "peer closed", "timed out after 5s").
    Note,
}

/// One entry of the wire exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Milliseconds since the case started.
    pub t_ms: u64,
    /// The named connection (`main`, `data`, ...).
    pub conn: String,
    /// Direction.
    pub dir: Direction,
    /// The bytes, escaped with [`escape_bytes`] (notes: plain text).
    pub data: String,
}

/// Counts per outcome and points for one target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Cases run.
    pub total: u32,
    /// Per outcome (kebab-case name -> count), every outcome present.
    pub counts: std::collections::BTreeMap<String, u32>,
    /// Points earned (cases that passed).
    pub points: u32,
    /// Points possible (all cases run, skipped excluded).
    pub points_possible: u32,
}

impl Summary {
    /// The summary of `cases`.
    pub fn of(cases: &[CaseResult]) -> Summary {
        let mut s = Summary::default();
        for o in Outcome::ALL {
            s.counts.insert(o.as_str().to_string(), 0);
        }
        for c in cases {
            *s.counts.entry(c.outcome.as_str().to_string()).or_default() += 1;
            if c.outcome != Outcome::Skipped {
                s.total += 1;
                s.points_possible += c.points;
                if c.outcome == Outcome::Pass {
                    s.points += c.points;
                }
            }
        }
        s
    }

    /// The count for one outcome.
    pub fn count(&self, o: Outcome) -> u32 {
        self.counts.get(o.as_str()).copied().unwrap_or(0)
    }
}

/// RFC requirements and the cases that check them (`transcripts/requirements/`): which
/// clauses of the RFCs a run checks, and which it does not check at all. Rendered as
/// `coverage.html` next to the index ([`crate::index::write_all_with_coverage`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Every requirement of the RFCs in scope, in RFC and section order.
    pub requirements: Vec<Requirement>,
}

/// One MUST or SHOULD clause of an RFC, paraphrased.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    /// `5321#4.1.1.4-lf-dot-lf`.
    pub id: String,
    /// The RFC number.
    pub rfc: u32,
    /// The section, `4.1.1.4`.
    pub section: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// Whom it binds: `server`, `client`, `relay`, `gateway`, `resolver`, `any`.
    #[serde(default)]
    pub who: String,
    /// A short paraphrase.
    pub text: String,
    /// The ids of the cases that check it (none: not covered).
    pub cases: Vec<String>,
}

/// Escape bytes losslessly for display and JSON: printable ASCII stays (backslash doubled),
/// CR, LF, TAB become `\r`, `\n`, `\t`, everything else `\xHH`. [`unescape_bytes`] reverses it.
pub fn escape_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// Reverse [`escape_bytes`]. Returns `None` on a malformed escape.
pub fn unescape_bytes(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        match b.get(i + 1)? {
            b'\\' => out.push(b'\\'),
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'x' => {
                let h = std::str::from_utf8(b.get(i + 2..i + 4)?).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            _ => return None,
        }
        i += 2;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let e = escape_bytes(&all);
        assert!(e.is_ascii());
        assert_eq!(unescape_bytes(&e).unwrap(), all);
        assert_eq!(escape_bytes(b"250 ok\r\n"), "250 ok\\r\\n");
    }

    #[test]
    fn summary_counts_points_of_passes_only() {
        let mk = |o, p| CaseResult {
            id: "x".into(),
            title: String::new(),
            protocol: "smtp".into(),
            rfc: vec![],
            level: Level::Must,
            tags: vec![],
            points: p,
            outcome: o,
            message: None,
            line: None,
            expected: None,
            actual: None,
            hint: None,
            exchange: vec![],
            duration_ms: 0,
            file: String::new(),
        };
        let s = Summary::of(&[mk(Outcome::Pass, 2), mk(Outcome::Fail, 3), mk(Outcome::Skipped, 5)]);
        assert_eq!((s.total, s.points, s.points_possible), (2, 2, 5));
        assert_eq!(s.count(Outcome::Fail), 1);
    }
}
