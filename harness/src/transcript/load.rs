//! Loading one transcript file: the TOML metadata and the script.
//!
//! The script is taken from the file **verbatim**, as if it were a TOML literal string,
//! whether it is written `script = """…"""` or `script = '''…'''`: TOML's own escapes
//! (which reject `\$`, `\#` and `\0`) are not applied, so the notation's escapes reach the
//! script parser exactly as written, and every step keeps its line number in the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::script::{self, Context};
use super::{Level, Meta, RfcRef, Role, Transcript};

/// A transcript that could not be parsed: the file, the line, what was wrong or expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}: {message}", file.display(), line.map_or_else(|| "-".to_string(), |l| l.to_string()))]
pub struct ParseError {
    /// The file (relative to the corpus root where there is one).
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// What was wrong, and what was expected.
    pub message: String,
}

/// The metadata keys, exactly (docs/transcripts.md "Metadata keys"); anything else is an
/// error naming the key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMeta {
    id: String,
    title: String,
    rfc: OneOrMany,
    level: String,
    protocol: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    points: Option<u32>,
    role: Option<String>,
    timeout: Option<String>,
    step_timeout: Option<String>,
    extension: Option<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    vars: BTreeMap<String, toml::Value>,
    target_cmd: Option<String>,
    notes: Option<String>,
    #[serde(default)]
    covers: Vec<String>,
    script: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The protocols a transcript may name (the corpus directories, plus `line`).
pub const PROTOCOLS: [&str; 8] = [
    "smtp",
    "pop3",
    "imap",
    "ftp",
    "dns",
    "message",
    "scenarios",
    "line",
];

/// The default whole-transcript timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default per-step timeout.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(5);

/// Read and parse `root/rel`.
pub fn parse_file(root: &Path, rel: &Path) -> Result<Transcript, Vec<ParseError>> {
    let text = std::fs::read_to_string(root.join(rel)).map_err(|e| {
        vec![ParseError {
            file: rel.to_path_buf(),
            line: None,
            message: format!("cannot read: {e}"),
        }]
    })?;
    parse_str(&text, rel, protocol_from_path(rel))
}

/// The protocol a path implies: its first directory, or its parent directory, when that is
/// a protocol name.
pub fn protocol_from_path(rel: &Path) -> Option<&'static str> {
    let dirs: Vec<_> = rel
        .parent()
        .into_iter()
        .flat_map(|p| p.components())
        .collect();
    let is =
        |c: &std::path::Component<'_>| PROTOCOLS.iter().find(|p| c.as_os_str() == **p).copied();
    dirs.first()
        .and_then(is)
        .or_else(|| dirs.last().and_then(is))
}

/// The raw script inside the document: (content, its first line, the document with the
/// script's value blanked out but its lines kept).
fn extract_script(text: &str) -> Option<(String, u32, String)> {
    let re = regex::Regex::new(r#"(?m)^[ \t]*script[ \t]*=[ \t]*("""|''')"#).ok()?;
    let m = re.captures(text)?;
    let delim = m.get(1)?;
    let mut start = delim.end();
    let rest = &text[start..];
    if rest.starts_with("\r\n") {
        start += 2;
    } else if rest.starts_with('\n') {
        start += 1;
    }
    let end = start + text[start..].find(delim.as_str())?;
    let content = text[start..end].to_string();
    let first_line = text[..start].matches('\n').count() as u32 + 1;
    let newlines = text[delim.start()..end].matches('\n').count();
    let blank = format!(
        "{}'''{}'''{}",
        &text[..delim.start()],
        "\n".repeat(newlines),
        &text[end + 3..]
    );
    Some((content, first_line, blank))
}

fn line_of(text: &str, offset: usize) -> u32 {
    text.get(..offset).unwrap_or(text).matches('\n').count() as u32 + 1
}

fn duration(v: Option<&str>, key: &str, default: Duration) -> Result<Duration, String> {
    match v {
        None => Ok(default),
        Some(s) => humantime::parse_duration(s)
            .map_err(|e| format!("`{key}`: expected a duration like \"5s\", got {s:?} ({e})")),
    }
}

/// Parse `RFC#section`.
pub fn parse_rfc_ref(s: &str) -> Result<RfcRef, String> {
    let bad = || format!("`rfc`: expected \"NNNN#section\" like \"5321#4.1.4\", got {s:?}");
    let (n, sec) = s.split_once('#').ok_or_else(bad)?;
    let rfc: u32 = n.parse().map_err(|_| bad())?;
    if sec.is_empty() {
        return Err(bad());
    }
    Ok(RfcRef {
        rfc,
        section: sec.to_string(),
    })
}

/// Parse a transcript from text. `file` is used in messages and kept in the transcript;
/// `default_protocol` applies when the file has no `protocol` key.
pub fn parse_str(
    text: &str,
    file: &Path,
    default_protocol: Option<&str>,
) -> Result<Transcript, Vec<ParseError>> {
    let at = |line: Option<u32>, message: String| ParseError {
        file: file.to_path_buf(),
        line,
        message,
    };
    let (raw_script, doc) = match extract_script(text) {
        Some((content, line, blank)) => (Some((content, line)), blank),
        None => (None, text.to_string()),
    };
    let raw: RawMeta = toml::from_str(&doc).map_err(|e| {
        let line = e.span().map(|s| line_of(&doc, s.start));
        vec![at(line, e.message().trim().to_string())]
    })?;
    let key_line = |key: &str| {
        let re = regex::Regex::new(&format!(r"(?m)^[ \t]*{}[ \t]*=", regex::escape(key))).ok()?;
        re.find(text).map(|m| line_of(text, m.start()))
    };
    let mut errors = Vec::new();
    let (script_text, script_line) = match (raw_script, raw.script) {
        (Some(s), _) => s,
        (None, Some(s)) => (s, key_line("script").unwrap_or(1)),
        (None, None) => {
            return Err(vec![at(
                None,
                "missing key `script`: expected script = \"\"\" … \"\"\"".into(),
            )]);
        }
    };
    let level = match raw.level.as_str() {
        "MUST" => Level::Must,
        "SHOULD" => Level::Should,
        "MAY" => Level::May,
        l => {
            errors.push(at(
                key_line("level"),
                format!("`level`: expected \"MUST\", \"SHOULD\" or \"MAY\", got {l:?}"),
            ));
            Level::Must
        }
    };
    let role = match raw.role.as_deref() {
        None | Some("client") => Role::Client,
        Some("server") => Role::Server,
        Some(r) => {
            errors.push(at(
                key_line("role"),
                format!("`role`: expected \"client\" or \"server\", got {r:?}"),
            ));
            Role::Client
        }
    };
    let protocol = match (raw.protocol.as_deref(), default_protocol) {
        (Some(p), _) if PROTOCOLS.contains(&p) => p.to_string(),
        (Some(p), _) => {
            errors.push(at(
                key_line("protocol"),
                format!("`protocol`: expected one of {PROTOCOLS:?}, got {p:?}"),
            ));
            "smtp".to_string()
        }
        (None, Some(p)) => p.to_string(),
        (None, None) => {
            errors.push(at(None, "no `protocol` key, and the file is not under a protocol directory (smtp/, pop3/, …)".into()));
            "smtp".to_string()
        }
    };
    let refs = match raw.rfc {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    };
    if refs.is_empty() {
        errors.push(at(
            key_line("rfc"),
            "`rfc`: expected at least one \"NNNN#section\"".into(),
        ));
    }
    let mut rfc = Vec::new();
    for r in &refs {
        match parse_rfc_ref(r) {
            Ok(r) => rfc.push(r),
            Err(m) => errors.push(at(key_line("rfc"), m)),
        }
    }
    let mut timeouts = [DEFAULT_TIMEOUT, DEFAULT_STEP_TIMEOUT];
    for (slot, (key, v, d)) in timeouts.iter_mut().zip([
        ("timeout", raw.timeout.as_deref(), DEFAULT_TIMEOUT),
        (
            "step-timeout",
            raw.step_timeout.as_deref(),
            DEFAULT_STEP_TIMEOUT,
        ),
    ]) {
        match duration(v, key, d) {
            Ok(t) => *slot = t,
            Err(m) => errors.push(at(key_line(key), m)),
        }
    }
    let mut vars = BTreeMap::new();
    for (k, v) in raw.vars {
        let b = match v {
            toml::Value::String(s) => s.into_bytes(),
            toml::Value::Integer(i) => i.to_string().into_bytes(),
            toml::Value::Boolean(b) => b.to_string().into_bytes(),
            other => {
                errors.push(at(
                    key_line("vars"),
                    format!(
                        "`vars.{k}`: expected a string or a number, got {}",
                        other.type_str()
                    ),
                ));
                continue;
            }
        };
        vars.insert(k, b);
    }
    if raw.id.trim().is_empty() {
        errors.push(at(
            key_line("id"),
            "`id`: expected a dotted lower-case id, got an empty string".into(),
        ));
    }
    let meta = Meta {
        id: raw.id,
        title: raw.title,
        rfc,
        level,
        protocol,
        tags: raw.tags,
        points: raw.points.unwrap_or(1),
        role,
        timeout: timeouts[0],
        step_timeout: timeouts[1],
        extension: raw.extension,
        requires: raw.requires,
        vars,
        target_cmd: raw.target_cmd,
        notes: raw.notes,
        covers: raw.covers,
        script_line,
    };
    let ctx = Context {
        protocol: &meta.protocol,
        role: meta.role,
        first_line: script_line,
    };
    let steps = match script::parse(&script_text, ctx) {
        Ok(s) => s,
        Err(es) => {
            errors.extend(es.into_iter().map(|e| at(Some(e.line), e.message)));
            Vec::new()
        }
    };
    if errors.is_empty() {
        Ok(Transcript {
            meta,
            steps,
            file: file.to_path_buf(),
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::StepKind;

    const SPEC_EXAMPLE: &str = r#"id     = "smtp.sequence.rcpt-before-mail"
title  = "RCPT before MAIL is a bad sequence of commands"
rfc    = "5321#4.1.4"          # or a list: ["5321#4.1.4", "5321#4.3.2"]
level  = "MUST"                # MUST | SHOULD | MAY
tags   = ["sequence"]
points = 2                     # grading weight, default 1
script = """
S: 220 *
C: EHLO client.example.test
S: 250 *
C: RCPT TO:<bob@example.test>
S: 503 *                       # "bad sequence of commands"
C: QUIT
S: 221 *
"""
"#;

    fn parse(s: &str) -> Result<Transcript, Vec<ParseError>> {
        parse_str(s, Path::new("smtp/x.toml"), Some("smtp"))
    }

    #[test]
    fn the_spec_example_parses_with_file_lines() {
        let t = parse(SPEC_EXAMPLE).unwrap();
        assert_eq!(t.meta.id, "smtp.sequence.rcpt-before-mail");
        assert_eq!(t.meta.points, 2);
        assert_eq!(t.meta.rfc[0].to_string(), "5321#4.1.4");
        assert_eq!(t.meta.script_line, 8);
        assert_eq!(t.steps.len(), 7);
        assert_eq!(t.steps[4].line, 12);
        assert_eq!(t.meta.step_timeout, DEFAULT_STEP_TIMEOUT);
    }

    #[test]
    fn script_escapes_are_not_toml_escapes() {
        let s = SPEC_EXAMPLE.replace("C: QUIT", r"C> MAIL FROM:<\$x\#>\0\x80\r\n");
        let t = parse(&s).unwrap();
        match &t.steps[5].kind {
            StepKind::Send { data, .. } => assert_eq!(
                data.render(&Default::default()).unwrap(),
                b"MAIL FROM:<$x#>\0\x80\r\n"
            ),
            k => panic!("{k:?}"),
        }
        let lit = SPEC_EXAMPLE
            .replace("script = \"\"\"", "script = '''")
            .replace("\"\"\"\n", "'''\n");
        assert_eq!(parse(&lit).unwrap().steps.len(), 7);
    }

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let s = SPEC_EXAMPLE.replace("points = 2", "pionts = 2");
        let e = parse(&s).unwrap_err();
        assert!(e[0].message.contains("unknown field `pionts`"), "{e:?}");
        assert_eq!(e[0].line, Some(6));
        assert!(e[0].to_string().starts_with("smtp/x.toml:6: "));
    }

    #[test]
    fn bad_values_say_what_was_expected() {
        let s = SPEC_EXAMPLE
            .replace("\"MUST\"", "\"MUSTN'T\"")
            .replace("5321#4.1.4\"", "RFC5321\"");
        let e = parse(&s).unwrap_err();
        assert!(
            e.iter()
                .any(|e| e.message.contains("expected \"MUST\"") && e.line == Some(4)),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|e| e.message.contains("expected \"NNNN#section\"")),
            "{e:?}"
        );
        let e = parse(&SPEC_EXAMPLE.replace("S: 250 *", "S: 250 *\nwhat now")).unwrap_err();
        assert_eq!(e[0].line, Some(11));
        let e = parse(&SPEC_EXAMPLE.replace("title", "#title")).unwrap_err();
        assert!(e[0].message.contains("missing field `title`"), "{e:?}");
    }

    #[test]
    fn everything_optional() {
        let s = r#"id = "pop3.x.y"
title = "t"
rfc = ["1939#5", "2449#5"]
level = "SHOULD"
protocol = "pop3"
role = "server"
timeout = "10s"
step-timeout = "500ms"
extension = "STLS"
requires = ["user:alice", "mailbox:2"]
vars = { user = "bob", n = 3 }
target-cmd = "client {host} {port}"
notes = "n"
script = '''
S: +OK ready
C: CAPA
'''
"#;
        let t = parse(s).unwrap();
        assert_eq!(t.meta.role, Role::Server);
        assert_eq!(t.meta.level, Level::Should);
        assert_eq!(t.meta.step_timeout, Duration::from_millis(500));
        assert_eq!(t.meta.vars["n"], b"3");
        assert_eq!(t.meta.rfc.len(), 2);
    }

    #[test]
    fn protocol_from_directories() {
        assert_eq!(protocol_from_path(Path::new("smtp/a.toml")), Some("smtp"));
        assert_eq!(
            protocol_from_path(Path::new("imap/idle/a.toml")),
            Some("imap")
        );
        assert_eq!(protocol_from_path(Path::new("selftest/a.toml")), None);
        assert_eq!(protocol_from_path(Path::new("a.toml")), None);
    }
}
