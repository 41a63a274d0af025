//! `wirecheck lint DIR`: everything that can be checked about a corpus without a target.
//!
//! Parse errors (unknown keys, bad values, bad script lines), RFC references (the RFC must
//! be one the project holds — the list of `shared/rfc/INDEX.md`, embedded so the check
//! works anywhere — and the section must look like `4.1.1.4`), ids (dotted lower case,
//! unique), variables that nothing defines, and steps that can never run (a step on a
//! connection after `expect close` or `close` on it, without a new `connect`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::corpus::{self, LoadError};
use crate::transcript::pattern::Form;
use crate::transcript::{CheckOp, Expect, Pattern, StepKind, Template, Transcript};

/// The RFCs in `shared/rfc/INDEX.md` (the texts the project holds).
pub const KNOWN_RFCS: [u32; 54] = [
    5321, 1939, 3501, 959, 1035, 5322, 2045, 2428, 9051, 1034, 2046, 2047, 4648, 3207, 4954, 1870,
    2920, 3463, 2449, 2595, 6891, 2389, 3659, 4616, 6152, 3030, 6531, 2177, 7888, 2181, 7766, 3596,
    2308, 4217, 3461, 2049, 1123, 3464, 8098, 2228, 4343, 2136, 5034, 2034, 6409, 8314, 2087, 4315,
    5161, 2342, 3348, 1996, 3597, 5936,
];

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Makes `lint` exit 1.
    Error,
    /// Reported only.
    Warning,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file, relative to the corpus root.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match self.line {
            Some(l) => write!(f, "{}:{l}: {sev}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {sev}: {}", self.file.display(), self.message),
        }
    }
}

/// Lint every transcript under `dir`.
pub fn lint_dir(dir: &Path) -> Result<Vec<Finding>, LoadError> {
    let (transcripts, problems) = corpus::parse_all(dir)?;
    let mut out: Vec<Finding> = problems
        .into_iter()
        .map(|p| Finding {
            file: p.file,
            line: p.line,
            severity: Severity::Error,
            message: p.message,
        })
        .collect();
    let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
    for t in &transcripts {
        if let Some(first) = seen.insert(&t.meta.id, &t.file) {
            seen.insert(&t.meta.id, first);
            out.push(Finding {
                file: t.file.clone(),
                line: Some(1),
                severity: Severity::Error,
                message: format!(
                    "duplicate id `{}` (first in {})",
                    t.meta.id,
                    first.display()
                ),
            });
        }
        out.extend(lint_transcript(t));
    }
    out.sort_by(|a, b| (&a.file, a.line, a.severity).cmp(&(&b.file, b.line, b.severity)));
    Ok(out)
}

/// A section number: `4.1.1.4`, optionally `-pN` for a paragraph (`A.1` for an appendix).
pub fn section_is_valid(s: &str) -> bool {
    let (sec, para) = match s.split_once("-p") {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    if para.is_some_and(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit())) {
        return false;
    }
    sec.split('.').enumerate().all(|(i, part)| {
        (!part.is_empty() && part.len() <= 3 && part.bytes().all(|c| c.is_ascii_digit()))
            || (i == 0 && part.len() == 1 && part.bytes().all(|c| c.is_ascii_uppercase()))
    })
}

fn id_is_valid(id: &str) -> bool {
    let parts: Vec<&str> = id.split('.').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
        })
}

/// The variables every case has.
const BUILTIN_VARS: [&str; 13] = [
    "host", "port", "user", "pass", "domain", "_reply", "_body", "_data", "smtp", "pop3", "imap",
    "ftp", "dns",
];

/// Lint one parsed transcript.
pub fn lint_transcript(t: &Transcript) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |line: Option<u32>, severity, message: String| {
        out.push(Finding {
            file: t.file.clone(),
            line,
            severity,
            message,
        });
    };
    let m = &t.meta;
    for r in &m.rfc {
        if !KNOWN_RFCS.contains(&r.rfc) {
            push(
                Some(1),
                Severity::Error,
                format!(
                    "RFC {} is not in shared/rfc/INDEX.md (cite one the project holds)",
                    r.rfc
                ),
            );
        }
        if !section_is_valid(&r.section) {
            push(
                Some(1),
                Severity::Error,
                format!(
                    "section {:?} of RFC {}: expected a number like 4.1.1.4 (or 4.1.1.4-p3)",
                    r.section, r.rfc
                ),
            );
        }
    }
    if !id_is_valid(&m.id) {
        push(
            Some(1),
            Severity::Error,
            format!(
                "id {:?}: expected dotted lower case, `<protocol>.<area>.<name>`",
                m.id
            ),
        );
    } else {
        let first = m.id.split('.').next().unwrap_or_default();
        let proto = m.protocol.as_str();
        if first != proto && !(proto == "scenarios" && first == "scenario") {
            push(
                Some(1),
                Severity::Warning,
                format!("id {:?} does not start with its protocol `{proto}.`", m.id),
            );
        }
    }
    if m.title.trim().is_empty() || m.title.contains('\n') {
        push(
            Some(1),
            Severity::Error,
            "title: expected one non-empty line".into(),
        );
    }
    if t.steps.is_empty() {
        push(
            Some(m.script_line),
            Severity::Error,
            "the script has no steps".into(),
        );
    }
    for r in &m.requires {
        let known = r == "tls"
            || r.strip_prefix("user:").is_some_and(|u| !u.is_empty())
            || r.strip_prefix("mailbox:")
                .is_some_and(|n| n.parse::<u32>().is_ok());
        if !known {
            push(
                Some(1),
                Severity::Warning,
                format!("requires {r:?}: expected \"user:NAME\", \"mailbox:N\" or \"tls\""),
            );
        }
    }
    for (line, msg) in unreachable_steps(t) {
        push(Some(line), Severity::Error, msg);
    }
    for (line, msg) in undefined_vars(t) {
        push(Some(line), Severity::Error, msg);
    }
    out
}

/// Steps on a connection that an earlier `expect close` / `close` ended.
fn unreachable_steps(t: &Transcript) -> Vec<(u32, String)> {
    let mut closed: BTreeMap<String, (u32, &str)> = BTreeMap::new();
    let mut current = "main".to_string();
    let mut out = Vec::new();
    for s in &t.steps {
        let conn = s.conn.clone().unwrap_or_else(|| current.clone());
        match &s.kind {
            StepKind::Connect { name, .. } | StepKind::Accept { name } => {
                closed.remove(name);
                continue;
            }
            StepKind::Use { name } => {
                current = name.clone();
                continue;
            }
            StepKind::Listen { .. }
            | StepKind::Set { .. }
            | StepKind::Check { .. }
            | StepKind::Pause(_)
            | StepKind::StepTimeout(_)
            | StepKind::SkipUntagged(_) => continue,
            _ => {}
        }
        if let Some((line, how)) = closed.get(&conn) {
            out.push((s.line, format!("unreachable: connection `{conn}` ended at line {line} (`{how}`) and was not opened again")));
            continue;
        }
        match s.kind {
            StepKind::ExpectClose => {
                closed.insert(conn, (s.line, "expect close"));
            }
            StepKind::Close => {
                closed.insert(conn, (s.line, "close"));
            }
            _ => {}
        }
    }
    out
}

fn pattern_vars(p: &Pattern, used: &mut Vec<String>, defined: &mut BTreeSet<String>) {
    defined.extend(p.capture_names());
    match &p.form {
        Form::Exact(t) => used.extend(t.vars_used()),
        Form::Glob { glob, .. } => {
            for tok in &glob.tokens {
                if let crate::transcript::glob::Token::Value(e) = tok {
                    e.vars_used(used);
                }
            }
        }
        _ => {}
    }
}

/// Variables read somewhere that nothing in the transcript (or the run) ever defines.
fn undefined_vars(t: &Transcript) -> Vec<(u32, String)> {
    let mut defined: BTreeSet<String> = BUILTIN_VARS.iter().map(|s| s.to_string()).collect();
    defined.extend(t.meta.vars.keys().cloned());
    let mut uses: Vec<(u32, String)> = Vec::new();
    let tpl = |line: u32, tp: &Template, uses: &mut Vec<(u32, String)>| {
        uses.extend(tp.vars_used().into_iter().map(|v| (line, v)));
    };
    let expect = |e: &Expect, uses: &mut Vec<(u32, String)>, defined: &mut BTreeSet<String>| {
        for (line, p) in
            std::iter::once((e.line, &e.pattern)).chain(e.lines.iter().map(|(l, p)| (*l, p)))
        {
            let mut u = Vec::new();
            pattern_vars(p, &mut u, defined);
            uses.extend(u.into_iter().map(|v| (line, v)));
        }
    };
    for s in &t.steps {
        match &s.kind {
            StepKind::Send { data, .. } => tpl(s.line, data, &mut uses),
            StepKind::Expect(e) => expect(e, &mut uses, &mut defined),
            StepKind::Unordered(list) => {
                list.iter().for_each(|e| expect(e, &mut uses, &mut defined))
            }
            StepKind::MustNot(p) | StepKind::Optional(p) => {
                let mut u = Vec::new();
                pattern_vars(p, &mut u, &mut defined);
                uses.extend(u.into_iter().map(|v| (s.line, v)));
            }
            StepKind::Connect { to: Some(a), .. } | StepKind::Listen { at: Some(a), .. } => {
                tpl(s.line, a, &mut uses)
            }
            StepKind::Listen { name, .. } => {
                for suffix in ["port", "addr", "port-arg", "eprt-arg"] {
                    defined.insert(format!("{name}.{suffix}"));
                }
            }
            StepKind::RecvAll { into } => {
                defined.insert(into.clone());
            }
            StepKind::Set { name, expr } => {
                let mut u = Vec::new();
                expr.vars_used(&mut u);
                uses.extend(u.into_iter().map(|v| (s.line, v)));
                defined.insert(name.clone());
            }
            StepKind::Check { lhs, op } => {
                let mut u = Vec::new();
                lhs.vars_used(&mut u);
                match op {
                    CheckOp::Eq(e) | CheckOp::Ne(e) => e.vars_used(&mut u),
                    CheckOp::Matches(p) => pattern_vars(p, &mut u, &mut defined),
                }
                uses.extend(u.into_iter().map(|v| (s.line, v)));
            }
            _ => {}
        }
    }
    // Listeners' variables may be used on the line after `listen` but also before, in
    // another connection's step: `defined` is the whole transcript's, not a prefix's.
    uses.into_iter()
        .filter(|(_, v)| !defined.contains(v))
        .map(|(line, v)| (line, format!("variable `{v}` is never defined (vars, a capture, `set`, `listen`, or a built-in)")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(script: &str, extra: &str) -> Transcript {
        let s = format!(
            "id = \"smtp.lint.case\"\ntitle = \"t\"\nrfc = \"5321#4.1.4\"\nlevel = \"MUST\"\n{extra}\nscript = '''\n{script}\n'''\n"
        );
        crate::transcript::parse_str(&s, Path::new("smtp/x.toml"), Some("smtp")).unwrap()
    }

    fn messages(t: &Transcript) -> Vec<String> {
        lint_transcript(t)
            .into_iter()
            .map(|f| f.to_string())
            .collect()
    }

    #[test]
    fn clean_transcript_has_no_findings() {
        assert!(messages(&t("S: 220 *\nC: QUIT\nS: 221 *\nexpect close", "")).is_empty());
    }

    #[test]
    fn embedded_list_matches_the_shared_index_when_present() {
        let index = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/rfc/INDEX.md");
        let Ok(text) = std::fs::read_to_string(&index) else {
            return;
        };
        let mut from_index: Vec<u32> = text
            .lines()
            .filter_map(|l| l.strip_prefix("| rfc"))
            .filter_map(|l| l.split('.').next()?.parse().ok())
            .collect();
        let mut ours = KNOWN_RFCS.to_vec();
        from_index.sort_unstable();
        ours.sort_unstable();
        assert_eq!(ours, from_index);
    }

    #[test]
    fn rfc_references() {
        assert!(section_is_valid("4.1.1.4"));
        assert!(section_is_valid("4.1.1.4-p3"));
        assert!(section_is_valid("6"));
        assert!(section_is_valid("A.1"));
        assert!(!section_is_valid("4..1"));
        assert!(!section_is_valid("four"));
        assert!(!section_is_valid("4.1-p"));
        let bad = crate::transcript::parse_str(
            "id = \"smtp.a.b\"\ntitle = \"t\"\nrfc = [\"9999#4.1\", \"5321#x.y\"]\nlevel = \"MUST\"\nscript = '''\nS: 220 *\n'''\n",
            Path::new("smtp/x.toml"),
            Some("smtp"),
        )
        .unwrap();
        let m = messages(&bad);
        assert!(m.iter().any(|m| m.contains("RFC 9999 is not in")), "{m:?}");
        assert!(m.iter().any(|m| m.contains("section \"x.y\"")), "{m:?}");
    }

    #[test]
    fn unreachable_steps_after_close() {
        let m = messages(&t("S: 220 *\nC: QUIT\nexpect close\nS: 221 *", ""));
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("smtp/x.toml:10: error: unreachable: connection `main` ended at line 9"),
            "{m:?}"
        );
        // Another connection may go on; a re-opened one too.
        assert!(
            messages(&t(
                "connect b\nb: close\nS: 220 *\nconnect b\nb: S: 220 *",
                ""
            ))
            .is_empty()
        );
    }

    #[test]
    fn undefined_variables() {
        let m = messages(&t("S: 220 *\nC: HELO ${nobody}", ""));
        assert!(m[0].contains("variable `nobody` is never defined"), "{m:?}");
        assert!(
            messages(&t(
                "S: 220 $(greet)\nC: HELO ${greet} ${user} ${x}",
                "vars = { x = \"1\" }"
            ))
            .is_empty()
        );
        assert!(messages(&t("listen d\nC: PORT ${d.port-arg}", "")).is_empty());
    }

    #[test]
    fn lint_dir_finds_duplicates_and_parse_errors() {
        let dir = tempfile::tempdir().unwrap();
        let smtp = dir.path().join("smtp");
        std::fs::create_dir(&smtp).unwrap();
        let body = "id = \"smtp.dup.one\"\ntitle = \"t\"\nrfc = \"5321#4.1.4\"\nlevel = \"MUST\"\nscript = '''\nS: 220 *\n'''\n";
        std::fs::write(smtp.join("a.toml"), body).unwrap();
        std::fs::write(smtp.join("b.toml"), body).unwrap();
        std::fs::write(smtp.join("c.toml"), body.replace("title", "titel")).unwrap();
        std::fs::create_dir(dir.path().join("deviations")).unwrap();
        std::fs::write(dir.path().join("deviations/postfix.toml"), "anything = 1").unwrap();
        let f = lint_dir(dir.path()).unwrap();
        let s: Vec<String> = f.iter().map(ToString::to_string).collect();
        assert_eq!(f.len(), 2, "{s:?}");
        assert!(
            s.iter().any(|m| m.contains(
                "smtp/b.toml:1: error: duplicate id `smtp.dup.one` (first in smtp/a.toml)"
            )),
            "{s:?}"
        );
        assert!(
            s.iter().any(|m| m.contains("unknown field `titel`")),
            "{s:?}"
        );
    }
}
