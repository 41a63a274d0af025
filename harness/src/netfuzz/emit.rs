//! A discrepancy as a transcript that reproduces it: the session's chunks as `C:`/`C>`
//! lines and the oracle's units as `S:` expectations — coarse (code, status, kind) up to
//! the differing unit, precise on it (the field that differs) — level `SHOULD`, tag
//! `fuzz`. [`verify`] runs it through the real runner before it is written: it must pass
//! against a fresh oracle and not pass against the target.

use std::path::Path;

use super::Sequence;
use super::session::{End, SessionRun};
use crate::diff::OracleSpec;
use crate::diff::attribute::Label;
use crate::diff::compare::{NO_REPLY, StepDiff};
use crate::diff::normalise::{normalise, redact};
use crate::protocol::{Status, Unit, UnitKind};
use crate::runner::{self, RunOptions};
use crate::target::TargetSpec;
use wirecheck_reports::Outcome;

/// What the transcript's metadata says about where it comes from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The run's seed.
    pub seed: u64,
    /// The case that first showed the discrepancy.
    pub case: u64,
    /// Chunks before minimisation.
    pub original_chunks: usize,
}

/// The section each protocol's findings cite: where its commands and replies are defined.
fn rfc(protocol: &str) -> &'static str {
    match protocol {
        "smtp" => "5321#4.1",
        "pop3" => "1939#3",
        "imap" => "9051#6",
        "ftp" => "959#4.1",
        _ => "1035#4.1",
    }
}

/// FNV-1a, 64 bits: a stable name for a session's bytes.
fn fnv(seq: &Sequence) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in seq {
        for &b in c.iter().chain(b"\0") {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The file stem and id suffix of a finding: `rcpt-code-class-1a2b3c4d`.
pub fn slug(d: &StepDiff, seq: &Sequence) -> String {
    let mut s: String = format!("{}-{}", d.verb, d.kind)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_matches('-');
    format!(
        "{}-{:08x}",
        if s.is_empty() { "x" } else { s },
        fnv(seq) as u32
    )
}

/// Bytes as template text (docs/transcripts.md "Sending"): escapes for control and 8-bit
/// bytes, `\`, `$`, `#`, `'` (the script is a `'''` string), and white space at either end
/// (a script line is trimmed).
pub fn escape(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 8);
    let last = b.len().saturating_sub(1);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0 => s.push_str("\\0"),
            b'\\' => s.push_str("\\\\"),
            b'$' => s.push_str("\\$"),
            b'#' => s.push_str("\\#"),
            b'\'' => s.push_str("\\x27"),
            b' ' if i == 0 || i == last => s.push_str("\\x20"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// [`escape`], and `*` `?` literal: text for a glob.
fn glob(b: &[u8]) -> String {
    escape(b).replace('*', "\\*").replace('?', "\\?")
}

/// One send line for a chunk: `C: TEXT` when it is one printable line ending in CRLF.
fn send_line(protocol: &str, c: &[u8]) -> String {
    if protocol == "dns" {
        let hex: String = c.iter().map(|b| format!("{b:02x}")).collect();
        return format!("C> hex {hex}");
    }
    if let Some(text) = c.strip_suffix(b"\r\n")
        && !text.is_empty()
        && text.iter().all(|&b| (0x20..0x7f).contains(&b))
    {
        return format!("C: {}", escape(text));
    }
    format!("C> {}", escape(c))
}

/// The expectation lines for one oracle unit; `field`: the field that must match exactly.
fn expect(protocol: &str, label: &Label, u: &Unit, field: Option<&str>) -> Vec<String> {
    let n = normalise(protocol, label.command(), u);
    let code = u.code.map(|c| format!("{c:03}")).unwrap_or_default();
    match protocol {
        "smtp" | "ftp" => match field {
            Some("enhanced") => match n.get("enhanced") {
                Some(e) if !e.is_empty() => vec![format!("S: {code} {}*", glob(e.as_bytes()))],
                _ => vec![format!("S: ~ \\A{code}[ -](?:$|[^245]|[245][^.])")],
            },
            Some("keywords" | "features") => {
                let mut v = vec![format!("S: {code} *")];
                for l in u.lines.iter().skip(1) {
                    let kw = l
                        .text
                        .split(|b| b.is_ascii_whitespace())
                        .find(|w| !w.is_empty())
                        .unwrap_or_default();
                    v.push(if kw.is_empty() {
                        "S| *".into()
                    } else {
                        format!("S| *{}*", glob(kw))
                    });
                }
                v
            }
            Some("path") => vec![format!(
                "S: 257 *\"{}\"*",
                glob(
                    n.get("path")
                        .unwrap_or_default()
                        .replace('"', "\"\"")
                        .as_bytes()
                )
            )],
            Some("value") => vec![format!(
                "S: {code} {}",
                glob(n.get("value").unwrap_or_default().as_bytes())
            )],
            _ => vec![format!("S: {code} *")],
        },
        "pop3" => {
            let status = match u.status {
                Some(Status::Ok) => "+OK",
                Some(Status::Err) => "-ERR",
                _ => return vec!["S: ~ \\A\\+(?: |$)".into()],
            };
            match field {
                Some("code") => match n.get("code") {
                    Some(c) if !c.is_empty() => {
                        vec![format!("S: {status} [{}]*", glob(c.as_bytes()))]
                    }
                    _ => vec![format!("S: ~ \\A{}(?: [^\\[]|$)", regex::escape(status))],
                },
                Some("data") => vec![format!(
                    "S: {status} {}*",
                    glob(n.get("data").unwrap_or_default().as_bytes())
                )],
                Some("body" | "capabilities" | "mechanisms" | "stuffing") => {
                    let mut v = vec![format!("S: {status} *")];
                    for l in u.lines.iter().skip(1) {
                        v.push(if l.wire.is_empty() {
                            "S| ~ \\A\\z".into()
                        } else {
                            format!("S| = {}", escape(&l.wire))
                        });
                    }
                    v
                }
                _ => vec![format!("S: {status} *")],
            }
        }
        "imap" => {
            let text = &u.text;
            let mut words = text.split(|&b| b == b' ');
            let first = words.next().unwrap_or_default();
            let second = words.next().unwrap_or_default();
            match &u.kind {
                UnitKind::Continuation => vec!["S: +*".into()],
                UnitKind::Tagged(_) | UnitKind::Reply => match (field, n.get("code")) {
                    (Some("code"), Some(c)) if !c.is_empty() => vec![format!(
                        "S: {} {} [{}*",
                        glob(first),
                        glob(second),
                        glob(c.as_bytes())
                    )],
                    (Some("code"), _) => vec![format!(
                        "S: ~ \\A{} {}(?: [^\\[]|$)",
                        regex::escape(&String::from_utf8_lossy(first)),
                        regex::escape(&String::from_utf8_lossy(second))
                    )],
                    _ => vec![format!("S: {} {} *", glob(first), glob(second))],
                },
                UnitKind::Untagged => match field {
                    Some("data") => {
                        let red = redact(&String::from_utf8_lossy(text));
                        vec![format!("S: ~ \\A{}\\z", redacted_regex(&red))]
                    }
                    Some("code") => match n.get("code") {
                        Some(c) if !c.is_empty() => {
                            vec![format!("S: \\* {} [{}*", glob(second), glob(c.as_bytes()))]
                        }
                        _ => vec![format!("S: \\* {} *", glob(second))],
                    },
                    _ if second.iter().all(u8::is_ascii_digit) => {
                        let third = words.next().unwrap_or_default();
                        vec![format!("S: \\* {} {}*", glob(second), glob(third))]
                    }
                    _ => vec![format!("S: \\* {}*", glob(second))],
                },
            }
        }
        "dns" => vec![format!("S: ~ {}", dns_regex(u))],
        _ => vec![format!("S: = {}", escape(&u.text))],
    }
}

/// A regex for redacted text: placeholders match anything, white space any run of it.
fn redacted_regex(red: &str) -> String {
    let mut out = String::new();
    let mut rest = red;
    let holes = [
        "<date>", "<time>", "<ip>", "<host>", "<id>", "<addr>", "<port>",
    ];
    'outer: while !rest.is_empty() {
        for h in holes {
            if let Some(r) = rest.strip_prefix(h) {
                out.push_str(".+?");
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            out.push_str("\\s+");
            rest = rest.trim_start();
        } else {
            out.push_str(&regex::escape(&c.to_string()));
            rest = &rest[c.len_utf8()..];
        }
    }
    out.replace("\\s+\\s+", "\\s+")
}

/// The presentation form's header, counts and records in the oracle's order, case-blind
/// like the normaliser; with an answer, only the answer section (the rest is the server's
/// choice, see `diff::normalise`).
fn dns_regex(u: &Unit) -> String {
    let text = String::from_utf8_lossy(&u.text);
    let mut parts = Vec::new();
    let mut answers = false;
    let mut section = "";
    for line in text.lines() {
        if let Some(name) = line
            .strip_prefix(";; ")
            .and_then(|r| r.strip_suffix(" SECTION:"))
        {
            section = match name {
                "ANSWER" => "answer",
                "QUESTION" => "question",
                _ => "other",
            };
            answers |= section == "answer";
            continue;
        }
        if line.starts_with(";; opcode:") {
            parts.push(format!("^{}$", regex::escape(line)));
        } else if line.starts_with(";; flags:") {
            // AUTHORITY and ADDITIONAL (which counts the OPT record) are compared through the
            // records and the EDNS line.
            let cut = line.split(" AUTHORITY:").next().unwrap_or(line);
            parts.push(format!(
                "^{} AUTHORITY: \\d+, ADDITIONAL: \\d+$",
                regex::escape(cut)
            ));
        } else if line.starts_with("; EDNS:") {
            let cut = line.split(';').nth(1).unwrap_or_default();
            parts.push(format!("^;{};", regex::escape(cut)));
        } else if !line.starts_with(';') && !line.is_empty() && (section == "answer" || !answers) {
            parts.push(format!("^{}$", regex::escape(line)));
        }
    }
    format!("(?msi){}", parts.join(".*"))
}

/// The transcript that reproduces `diff` with `seq`, from the oracle's `run`.
pub fn transcript(
    protocol: &str,
    udp: bool,
    seq: &Sequence,
    oracle: &SessionRun,
    d: &StepDiff,
    origin: &Origin,
) -> Result<(String, String), String> {
    let slug = slug(d, seq);
    let id = format!("{protocol}.fuzz.{slug}");
    let mut script = Vec::new();
    let unit_at = |i: usize| -> Result<Option<(&Label, &Unit)>, String> {
        match oracle.items.get(i) {
            None => Ok(None),
            Some(it) => match &it.unit {
                Ok(u) => Ok(Some((&it.label, u))),
                Err(e) if e == NO_REPLY => Ok(None),
                Err(e) => Err(format!("the oracle's unit {i} is not framed: {e}")),
            },
        }
    };
    let field = |i: usize| {
        (i == d.index)
            .then_some(d.kind.as_str())
            .map(|k| if k == "code class" { "code" } else { k })
    };
    if protocol == "dns" && udp {
        for (i, c) in seq.iter().enumerate().take(d.index + 1) {
            script.push(send_line(protocol, c));
            match unit_at(i)? {
                Some((l, u)) => script.extend(expect(protocol, l, u, field(i))),
                None => script.push("expect silence 500ms".into()),
            }
        }
    } else {
        if protocol == "imap" {
            script.push("strict-untagged".into());
        }
        let mut next = 0;
        if protocol == "dns" {
            script.push("connect main tcp".into());
        } else {
            let Some((l, u)) = unit_at(0)? else {
                return Err("the oracle sent no greeting".into());
            };
            script.extend(expect(protocol, l, u, field(0)));
            next = 1;
        }
        if d.index >= next {
            let closing = super::session::closing_chunk(protocol, seq);
            for c in seq.iter().chain(closing.as_ref()) {
                script.push(send_line(protocol, c));
            }
            if protocol != "ftp" {
                // FTP ends with QUIT and the server's close (see `session::closing_chunk`).
                script.push("shutdown".into());
            }
            for i in next..=d.index {
                if let Some((l, u)) = unit_at(i)? {
                    script.extend(expect(protocol, l, u, field(i)));
                }
            }
        }
        if d.kind == "extra reply" {
            script.push(if oracle.end == End::Closed {
                "expect close".into()
            } else {
                "expect silence 1s".into()
            });
        }
    }
    let title = format!(
        "fuzz: {} — the oracle answers {}, this target {} ({})",
        d.verb, d.oracle, d.target, d.kind
    );
    let notes = format!(
        "Found by `wirecheck fuzz {protocol} --seed {}` (case {}), minimised from {} to {} chunk(s). The oracle answered {} to {}; the target answered {}.",
        origin.seed,
        origin.case,
        origin.original_chunks,
        seq.len(),
        d.oracle_detail,
        d.command,
        d.target_detail
    );
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let tag = d.kind.replace(' ', "-");
    let text = format!(
        "id     = {}\ntitle  = {}\nrfc    = \"{}\"\nlevel  = \"SHOULD\"\ntags   = [\"fuzz\", {}]\nstep-timeout = \"2s\"\nnotes  = {}\nscript = '''\n{}\n'''\n",
        quote(&id),
        quote(&title),
        rfc(protocol),
        quote(&tag),
        quote(&notes),
        script.join("\n")
    );
    Ok((slug, text))
}

/// Check an emitted transcript: it parses and lints clean, passes against a fresh oracle
/// (twice, so a flaky pass is not enough) and does not pass against the target.
pub async fn verify(
    text: &str,
    rel: &Path,
    protocol: &str,
    d: &StepDiff,
    oracle: &OracleSpec,
    target: &TargetSpec,
    run: &RunOptions,
) -> Result<Outcome, String> {
    let t = crate::transcript::parse_str(text, rel, Some(protocol)).map_err(|e| {
        let v: Vec<String> = e.iter().map(ToString::to_string).collect();
        format!("does not parse: {}", v.join("; "))
    })?;
    let lint: Vec<String> = crate::lint::lint_transcript(&t)
        .into_iter()
        .filter(|f| f.severity == crate::lint::Severity::Error)
        .map(|f| f.to_string())
        .collect();
    if !lint.is_empty() {
        return Err(format!("lint: {}", lint.join("; ")));
    }
    let mut opts = run.clone();
    opts.progress = None;
    opts.jobs = 1;
    opts.step_timeout = None;
    for _ in 0..2 {
        let r = match oracle {
            OracleSpec::Reference => crate::demo::run_case(&t, &opts).await,
            OracleSpec::Addr(a) => {
                match runner::run_transcripts(&[&t], &TargetSpec::addr(a.clone()), &opts).await {
                    Ok(mut r) => r.cases.pop().ok_or("no result")?,
                    Err(e) => return Err(format!("oracle: {e}")),
                }
            }
        };
        if r.outcome != Outcome::Pass {
            return Err(format!(
                "the oracle does not pass it ({:?} at line {:?}: {})",
                r.outcome,
                r.line,
                r.message.unwrap_or_default()
            ));
        }
    }
    let r = runner::run_transcripts(&[&t], target, &opts)
        .await
        .map_err(|e| format!("target: {e}"))?;
    let r = r.cases.into_iter().next().ok_or("no result")?;
    match r.outcome {
        Outcome::Pass => Err("the target passes it".into()),
        Outcome::Skipped => Err(format!(
            "skipped for the target: {}",
            r.message.unwrap_or_default()
        )),
        Outcome::Error if d.kind != "missing reply" => Err(format!(
            "the target's run ended in error: {}",
            r.message.unwrap_or_default()
        )),
        o => Ok(o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_script_line_would_lose() {
        assert_eq!(
            escape(b" a#b$c\\'\r\n\0\xff "),
            "\\x20a\\#b\\$c\\\\\\x27\\r\\n\\0\\xff\\x20"
        );
        assert_eq!(send_line("smtp", b"RCPT TO:<a@b>\r\n"), "C: RCPT TO:<a@b>");
        assert_eq!(send_line("smtp", b"RCPT\n"), "C> RCPT\\n");
        assert_eq!(send_line("dns", &[0, 1, 0xab]), "C> hex 0001ab");
        assert_eq!(glob(b"a*b?"), "a\\*b\\?");
    }

    #[test]
    fn redacted_text_becomes_a_regex() {
        let re = regex::Regex::new(&redacted_regex("* OK [UIDVALIDITY <id>]  x")).unwrap();
        assert!(re.is_match("* OK [UIDVALIDITY 1712345678] x"));
        assert!(!re.is_match("* NO [UIDVALIDITY 1] x"));
    }
}
