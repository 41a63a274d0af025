//! Hints for common failures, in plain words, from a table in data (`transcripts/hints.toml`):
//! what a student reads next to a failed case ("your server ended DATA on a bare LF").
//!
//! ```toml
//! [[hint]]
//! id   = "smtp.smuggling.*lf*"      # glob on the case id
//! kind = "unexpected-data"          # how the case failed (FailureKind)
//! text = "Your server took a bare LF . LF as the end of DATA: RFC 5321 §4.1.1.4 ..."
//! ```
//!
//! Every condition an entry names must hold (`id`, `tag`, `protocol`, `kind`, `outcome`,
//! `expected` and `actual`, the last two regexes over the expectation and what arrived);
//! the first entry that matches gives the hint. A hint the runner already found (a bare LF
//! in a reply, the end of a dead server's stderr) is kept after the table's.

use std::path::Path;

use serde::Deserialize;
use wirecheck_reports::{CaseResult, Outcome};

use super::roster::glob_match;

/// How a case went wrong, read from its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Nothing listened, or the server could not be started.
    Refused,
    /// The build step failed.
    Build,
    /// The server process died during the case.
    Crashed,
    /// Nothing arrived before the step timeout.
    Silent,
    /// A reply started but did not end, or the case ran out of time.
    Timeout,
    /// The connection was closed or reset while a reply was awaited.
    Closed,
    /// A reply arrived where the transcript wanted silence.
    UnexpectedData,
    /// A reply arrived that does not match.
    Mismatch,
    /// The student's time ran out before the case could run.
    OutOfTime,
    /// Anything else.
    Other,
}

impl FailureKind {
    /// The name used in the hints table.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Refused => "refused",
            FailureKind::Build => "build",
            FailureKind::Crashed => "crashed",
            FailureKind::Silent => "silent",
            FailureKind::Timeout => "timeout",
            FailureKind::Closed => "closed",
            FailureKind::UnexpectedData => "unexpected-data",
            FailureKind::Mismatch => "mismatch",
            FailureKind::OutOfTime => "out-of-time",
            FailureKind::Other => "other",
        }
    }

    /// Every kind, for checking the table.
    pub const ALL: [FailureKind; 10] = [
        FailureKind::Refused,
        FailureKind::Build,
        FailureKind::Crashed,
        FailureKind::Silent,
        FailureKind::Timeout,
        FailureKind::Closed,
        FailureKind::UnexpectedData,
        FailureKind::Mismatch,
        FailureKind::OutOfTime,
        FailureKind::Other,
    ];

    /// Classify a non-pass result by the runner's messages.
    pub fn of(c: &CaseResult) -> FailureKind {
        let m = c.message.as_deref().unwrap_or("");
        if m.starts_with(super::BUILD_FAILED) {
            FailureKind::Build
        } else if m.starts_with(super::OUT_OF_TIME) {
            FailureKind::OutOfTime
        } else if m.contains("process died") {
            FailureKind::Crashed
        } else if m.contains("cannot connect")
            || m.contains("unreachable")
            || m.contains("cannot start")
            || m.contains("did not accept connections")
            || m.contains("exited during start-up")
            || m.contains("could not be restarted")
        {
            FailureKind::Refused
        } else if m.contains("nothing arrived") {
            FailureKind::Silent
        } else if m.contains("timed out") || m.contains("did not finish within") {
            FailureKind::Timeout
        } else if m.contains("where none was expected") || m.contains("must not arrive") {
            FailureKind::UnexpectedData
        } else if m.contains("closed") || m.contains("reset") || m.contains("connection error") {
            FailureKind::Closed
        } else if c.expected.is_some() && c.actual.is_some() {
            FailureKind::Mismatch
        } else {
            FailureKind::Other
        }
    }
}

/// A table in data (hints, redactions, RFC requirements) that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TableError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    #[serde(default)]
    hint: Vec<RawHint>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHint {
    id: Option<String>,
    tag: Option<String>,
    protocol: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    outcome: Vec<String>,
    expected: Option<String>,
    actual: Option<String>,
    text: String,
}

#[derive(Debug, Clone)]
struct Hint {
    id: Option<String>,
    tag: Option<String>,
    protocol: Option<String>,
    kind: Option<FailureKind>,
    outcomes: Vec<Outcome>,
    expected: Option<regex::Regex>,
    actual: Option<regex::Regex>,
    text: String,
}

/// The hints table.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    hints: Vec<Hint>,
}

impl Hints {
    /// No hints.
    pub fn none() -> Hints {
        Hints::default()
    }

    /// Read `file`.
    pub fn load(file: &Path) -> Result<Hints, TableError> {
        let text = std::fs::read_to_string(file).map_err(|e| TableError {
            file: file.display().to_string(),
            message: e.to_string(),
        })?;
        Hints::parse(&text, &file.display().to_string())
    }

    /// Parse a table; `file` names it in messages.
    pub fn parse(text: &str, file: &str) -> Result<Hints, TableError> {
        let err = |message: String| TableError {
            file: file.to_string(),
            message,
        };
        let raw: RawTable = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let regex = |s: &Option<String>, n: usize| -> Result<Option<regex::Regex>, TableError> {
            s.as_deref()
                .map(|r| {
                    regex::RegexBuilder::new(r)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|e| err(format!("hint {n}: bad regex {r:?}: {e}")))
                })
                .transpose()
        };
        let mut hints = Vec::with_capacity(raw.hint.len());
        for (i, h) in raw.hint.into_iter().enumerate() {
            let n = i + 1;
            let kind = match &h.kind {
                None => None,
                Some(k) => Some(
                    FailureKind::ALL
                        .into_iter()
                        .find(|f| f.as_str() == k)
                        .ok_or_else(|| {
                            err(format!(
                                "hint {n}: unknown kind {k:?}; expected one of {}",
                                FailureKind::ALL.map(FailureKind::as_str).join(", ")
                            ))
                        })?,
                ),
            };
            let outcomes = h
                .outcome
                .iter()
                .map(|o| {
                    Outcome::ALL
                        .into_iter()
                        .find(|x| x.as_str() == o)
                        .ok_or_else(|| err(format!("hint {n}: unknown outcome {o:?}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if h.text.trim().is_empty() {
                return Err(err(format!("hint {n}: empty `text`")));
            }
            hints.push(Hint {
                expected: regex(&h.expected, n)?,
                actual: regex(&h.actual, n)?,
                id: h.id,
                tag: h.tag,
                protocol: h.protocol,
                kind,
                outcomes,
                text: h.text.trim().to_string(),
            });
        }
        Ok(Hints { hints })
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.hints.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.hints.is_empty()
    }

    /// The table's hint for `c`, if any (never for a pass or a skipped case).
    pub fn find(&self, c: &CaseResult) -> Option<&str> {
        if matches!(c.outcome, Outcome::Pass | Outcome::Skipped) {
            return None;
        }
        let kind = FailureKind::of(c);
        self.hints
            .iter()
            .find(|h| {
                h.id.as_deref().is_none_or(|g| glob_match(g, &c.id))
                    && h.tag.as_ref().is_none_or(|t| c.tags.contains(t))
                    && h.protocol.as_ref().is_none_or(|p| p == &c.protocol)
                    && h.kind.is_none_or(|k| k == kind)
                    && (h.outcomes.is_empty() || h.outcomes.contains(&c.outcome))
                    && h.expected
                        .as_ref()
                        .is_none_or(|r| c.expected.as_deref().is_some_and(|e| r.is_match(e)))
                    && h.actual
                        .as_ref()
                        .is_none_or(|r| c.actual.as_deref().is_some_and(|a| r.is_match(a)))
            })
            .map(|h| h.text.as_str())
    }

    /// The corpus's table (`<corpus>/hints.toml`), or no hints when it has none.
    pub fn of_corpus(corpus: &Path) -> Result<Hints, TableError> {
        let file = corpus.join("hints.toml");
        if file.is_file() {
            Hints::load(&file)
        } else {
            Ok(Hints::none())
        }
    }

    /// Apply the table to every case of `report`.
    pub fn apply_all(&self, report: &mut wirecheck_reports::Report) {
        for c in report.targets.iter_mut().flat_map(|t| t.cases.iter_mut()) {
            self.apply(c);
        }
    }

    /// Put the table's hint first in `c.hint`, keeping the runner's after it.
    pub fn apply(&self, c: &mut CaseResult) {
        let Some(text) = self.find(c) else { return };
        c.hint = Some(match c.hint.take() {
            Some(old) if !old.is_empty() && old != text => format!("{text}\n{old}"),
            _ => text.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirecheck_reports::Level;

    fn case(id: &str, outcome: Outcome, message: &str, expected: &str, actual: &str) -> CaseResult {
        CaseResult {
            id: id.into(),
            title: String::new(),
            protocol: "smtp".into(),
            rfc: vec![],
            level: Level::Must,
            tags: vec!["sequence".into()],
            points: 1,
            outcome,
            message: Some(message.into()),
            line: Some(3),
            expected: Some(expected.into()),
            actual: Some(actual.into()),
            hint: None,
            exchange: vec![],
            duration_ms: 0,
            file: String::new(),
        }
    }

    #[test]
    fn first_matching_entry_wins_and_runner_hints_stay() {
        let h = Hints::parse(
            r#"
[[hint]]
id = "smtp.smuggling.*"
kind = "unexpected-data"
text = "bare LF ended DATA"
[[hint]]
tag = "sequence"
expected = '^S: 503'
actual = '^2'
text = "accepted out of sequence"
[[hint]]
kind = "silent"
text = "say hello first"
"#,
            "t",
        )
        .unwrap();
        let mut c = case(
            "smtp.sequence.rcpt-before-mail",
            Outcome::Fail,
            "no match",
            "S: 503 *",
            "250 ok",
        );
        c.hint = Some("a line ends in a bare LF".into());
        h.apply(&mut c);
        assert_eq!(
            c.hint.as_deref(),
            Some("accepted out of sequence\na line ends in a bare LF")
        );
        let c = case(
            "smtp.smuggling.lf-dot-lf",
            Outcome::Fail,
            "data arrived where none was expected",
            "expect silence 500ms",
            "250 ok",
        );
        assert_eq!(h.find(&c), Some("bare LF ended DATA"));
        let c = case(
            "smtp.x",
            Outcome::Error,
            "timed out after 5s: nothing arrived",
            "S: 220 *",
            "",
        );
        assert_eq!(FailureKind::of(&c), FailureKind::Silent);
        assert_eq!(h.find(&c), Some("say hello first"));
        let c = case("smtp.sequence.rcpt-before-mail", Outcome::Pass, "", "", "");
        assert_eq!(h.find(&c), None);
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(
            Hints::parse("[[hint]]\nkind = \"odd\"\ntext = \"x\"\n", "t")
                .unwrap_err()
                .message
                .contains("unknown kind")
        );
        assert!(Hints::parse("[[hint]]\nactual = \"(\"\ntext = \"x\"\n", "t").is_err());
        assert!(Hints::parse("[[hint]]\ntext = \" \"\n", "t").is_err());
        assert!(Hints::parse("[[hint]]\ncolour = 1\ntext = \"x\"\n", "t").is_err());
    }

    #[test]
    fn the_corpus_table_parses() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../transcripts/hints.toml");
        let h = Hints::load(&p).unwrap();
        assert!(h.len() >= 10, "{}", h.len());
    }
}
