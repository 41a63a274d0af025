//! `S:` patterns: reply codes and classes, POP3 status, globs, regexes, exact text.
//!
//! A pattern is parsed once, in the style of the connection's protocol ([`Style`]), and
//! matched against a framed [`Unit`] (or one [`UnitLine`] of it, for `S|`).

use regex::bytes::Regex;

use super::glob::{Glob, GlobError};
use super::template::{Expr, SyntaxError, Template, Vars, parse_braced};
use crate::protocol::{Status, Unit, UnitLine};

/// How the head of a pattern is read, by protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// smtp, ftp: `250 *`, `2xx *`, `250|251 *`.
    Code,
    /// pop3: `+OK *`, `-ERR *`, `+OK|-ERR *`, `+ *`.
    Status,
    /// imap, dns, client lines in the server role: the glob covers the whole unit.
    Whole,
}

/// One parsed pattern, with the text it was written as.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// As written after the `S:` (for reports: "expected ...").
    pub source: String,
    /// What it checks.
    pub form: Form,
}

/// The forms of [`Pattern`].
#[derive(Debug, Clone)]
pub enum Form {
    /// `*`: any unit.
    Any,
    /// `~ REGEX`: finds a match in the whole text.
    Regex(RegexPattern),
    /// `= TEXT`: the whole text, exactly.
    Exact(Template),
    /// A head (code / status / none) and a glob.
    Glob {
        /// The reply code alternatives or POP3 statuses to require.
        head: Head,
        /// Matched against the unit's subject (or the whole text when `head` is `None`).
        glob: Glob,
    },
}

/// The head of a glob pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// No head: the glob matches the whole text.
    None,
    /// Reply code alternatives; `None` digits are `x`.
    Codes(Vec<[Option<u8>; 3]>),
    /// POP3 status alternatives.
    Status(Vec<Status>),
}

/// A regex, possibly with `${…}` values spliced in (escaped) when it runs.
#[derive(Debug, Clone)]
pub struct RegexPattern {
    parts: Vec<RegexPart>,
    compiled: Option<Regex>,
}

#[derive(Debug, Clone)]
enum RegexPart {
    Text(String),
    Value(Expr),
}

/// The captures of a successful match, in order.
pub use super::glob::Captures;

/// A pattern that could not be evaluated (not the same as "did not match").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// The glob could not run.
    #[error(transparent)]
    Glob(#[from] GlobError),
    /// A value inside the pattern could not be evaluated.
    #[error(transparent)]
    Eval(#[from] super::template::EvalError),
    /// The regex with its values spliced in does not compile.
    #[error("regex: {0}")]
    Regex(String),
}

const REGEX_SIZE_LIMIT: usize = 4 * 1024 * 1024;

fn compile(src: &str) -> Result<Regex, String> {
    regex::bytes::RegexBuilder::new(src)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

impl RegexPattern {
    fn parse(src: &str) -> Result<RegexPattern, SyntaxError> {
        let mut parts = Vec::new();
        let mut rest = src;
        while let Some(i) = rest.find("${") {
            parts.push(RegexPart::Text(rest[..i].to_string()));
            let (e, used) = parse_braced(&rest[i + 2..])?;
            parts.push(RegexPart::Value(e));
            rest = &rest[i + 2 + used..];
        }
        parts.push(RegexPart::Text(rest.to_string()));
        let has_values = parts.iter().any(|p| matches!(p, RegexPart::Value(_)));
        // Compile now: with values replaced by a placeholder when there are some, so a bad
        // regex is a parse error with its line, not a run-time surprise.
        let probe: String = parts
            .iter()
            .map(|p| match p {
                RegexPart::Text(t) => t.as_str(),
                RegexPart::Value(_) => "x",
            })
            .collect();
        let re = compile(&probe).map_err(|e| SyntaxError(format!("bad regex: {e}")))?;
        Ok(RegexPattern {
            parts,
            compiled: (!has_values).then_some(re),
        })
    }

    fn regex(&self, vars: &Vars) -> Result<Regex, MatchError> {
        if let Some(re) = &self.compiled {
            return Ok(re.clone());
        }
        let mut src = String::new();
        for p in &self.parts {
            match p {
                RegexPart::Text(t) => src.push_str(t),
                RegexPart::Value(e) => {
                    src.push_str(&regex::escape(&String::from_utf8_lossy(&e.eval(vars)?)))
                }
            }
        }
        compile(&src).map_err(MatchError::Regex)
    }

    /// The names of the regex's capture groups.
    pub fn capture_names(&self) -> Vec<String> {
        let probe: String = self
            .parts
            .iter()
            .map(|p| match p {
                RegexPart::Text(t) => t.as_str(),
                RegexPart::Value(_) => "x",
            })
            .collect();
        compile(&probe)
            .map(|re| re.capture_names().flatten().map(str::to_string).collect())
            .unwrap_or_default()
    }

    fn find(&self, text: &[u8], vars: &Vars) -> Result<Option<Captures>, MatchError> {
        let re = self.regex(vars)?;
        Ok(re.captures(text).map(|c| {
            re.capture_names()
                .flatten()
                .filter_map(|n| c.name(n).map(|m| (n.to_string(), m.as_bytes().to_vec())))
                .collect()
        }))
    }
}

impl Pattern {
    /// Parse the text after `S: ` in `style`.
    pub fn parse(src: &str, style: Style) -> Result<Pattern, SyntaxError> {
        let source = src.to_string();
        let form = if src == "*" {
            Form::Any
        } else if let Some(re) = src.strip_prefix('~') {
            Form::Regex(RegexPattern::parse(re.trim_start())?)
        } else if let Some(t) = src
            .strip_prefix("= ")
            .or(if src == "=" { Some("") } else { None })
        {
            Form::Exact(Template::parse(t)?)
        } else {
            let (first, rest) = match src.split_once(' ') {
                Some((a, b)) => (a, Some(b)),
                None => (src, None),
            };
            let head = match style {
                Style::Code => parse_codes(first).map(Head::Codes),
                Style::Status => parse_statuses(first).map(Head::Status),
                Style::Whole => None,
            };
            match head {
                // `250` alone: the code, any text.
                Some(head) => Form::Glob {
                    head,
                    glob: Glob::parse(rest.unwrap_or("*"))?,
                },
                None => Form::Glob {
                    head: Head::None,
                    glob: Glob::parse(src)?,
                },
            }
        };
        Ok(Pattern { source, form })
    }

    /// The variables this pattern captures into.
    pub fn capture_names(&self) -> Vec<String> {
        match &self.form {
            Form::Glob { glob, .. } => glob.captures().map(str::to_string).collect(),
            Form::Regex(r) => r.capture_names(),
            _ => Vec::new(),
        }
    }

    /// Match a whole unit (an `S:` line with no `S|` after it).
    pub fn match_unit(&self, unit: &Unit, vars: &Vars) -> Result<Option<Captures>, MatchError> {
        match &self.form {
            Form::Any => Ok(Some(Vec::new())),
            Form::Regex(r) => r.find(&unit.text, vars),
            Form::Exact(t) => Ok((t.render(vars)? == unit.text).then(Vec::new)),
            Form::Glob { head, glob } => {
                let subject = match head {
                    Head::None => &unit.text,
                    Head::Codes(c) => {
                        if !unit.code.is_some_and(|code| codes_match(c, code)) {
                            return Ok(None);
                        }
                        &unit.subject
                    }
                    Head::Status(s) => {
                        if !unit.status.is_some_and(|st| s.contains(&st)) {
                            return Ok(None);
                        }
                        &unit.subject
                    }
                };
                Ok(glob.matches(subject, vars)?)
            }
        }
    }

    /// Match one line of a unit (`S:` followed by `S|` lines).
    pub fn match_line(&self, line: &UnitLine, vars: &Vars) -> Result<Option<Captures>, MatchError> {
        match &self.form {
            Form::Any => Ok(Some(Vec::new())),
            Form::Regex(r) => r.find(&line.wire, vars),
            Form::Exact(t) => Ok((t.render(vars)? == line.wire).then(Vec::new)),
            Form::Glob { head, glob } => match head {
                Head::None => Ok(glob.matches(&line.wire, vars)?),
                Head::Codes(c) if line.code.is_some_and(|code| codes_match(c, code)) => {
                    Ok(glob.matches(&line.text, vars)?)
                }
                Head::Status(s) if line.status.is_some_and(|st| s.contains(&st)) => {
                    Ok(glob.matches(&line.text, vars)?)
                }
                _ => Ok(None),
            },
        }
    }
}

/// `250`, `2xx`, `25x`, `250|251`, `2xx|354`.
fn parse_codes(s: &str) -> Option<Vec<[Option<u8>; 3]>> {
    s.split('|')
        .map(|alt| {
            let b = alt.as_bytes();
            if b.len() != 3 || !matches!(b[0], b'1'..=b'5' | b'x' | b'X') {
                return None;
            }
            let mut out = [None; 3];
            for (o, &c) in out.iter_mut().zip(b) {
                *o = match c {
                    b'0'..=b'9' => Some(c - b'0'),
                    b'x' | b'X' => None,
                    _ => return None,
                };
            }
            Some(out)
        })
        .collect()
}

fn codes_match(alts: &[[Option<u8>; 3]], code: u16) -> bool {
    let digits = [
        (code / 100 % 10) as u8,
        (code / 10 % 10) as u8,
        (code % 10) as u8,
    ];
    code < 1000
        && alts.iter().any(|a| {
            a.iter()
                .zip(digits)
                .all(|(want, got)| want.is_none_or(|w| w == got))
        })
}

/// `+OK`, `-ERR`, `+`, `+OK|-ERR` (case-insensitive: the codec normalises).
fn parse_statuses(s: &str) -> Option<Vec<Status>> {
    s.split('|')
        .map(|alt| match alt.to_ascii_uppercase().as_str() {
            "+OK" => Some(Status::Ok),
            "-ERR" => Some(Status::Err),
            "+" => Some(Status::Continuation),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, lines: &[&str]) -> Unit {
        let mut u = Unit {
            code: Some(code),
            ..Unit::default()
        };
        let n = lines.len();
        let mut text = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let sep = if i + 1 == n { ' ' } else { '-' };
            let wire = format!("{code}{sep}{l}");
            if i > 0 {
                text.push(b'\n');
                u.subject.push(b'\n');
            }
            text.extend_from_slice(wire.as_bytes());
            u.subject.extend_from_slice(l.as_bytes());
            u.lines.push(UnitLine {
                wire: wire.into_bytes(),
                code: Some(code),
                text: l.as_bytes().to_vec(),
                status: None,
            });
        }
        u.text = text;
        u
    }

    fn ok(p: &str, style: Style, u: &Unit) -> bool {
        Pattern::parse(p, style)
            .unwrap()
            .match_unit(u, &Vars::new())
            .unwrap()
            .is_some()
    }

    #[test]
    fn codes_classes_and_alternatives() {
        let u = reply(250, &["mail.example.test", "PIPELINING", "SIZE 1000"]);
        assert!(ok("250 *", Style::Code, &u));
        assert!(ok("250", Style::Code, &u));
        assert!(ok("2xx *", Style::Code, &u));
        assert!(ok("25x *", Style::Code, &u));
        assert!(ok("251|250 *", Style::Code, &u));
        assert!(ok("2xx|354 *", Style::Code, &u));
        assert!(!ok("251 *", Style::Code, &u));
        assert!(!ok("3xx *", Style::Code, &u));
        assert!(ok(
            "250 mail.example.test\nPIPELINING\nSIZE *",
            Style::Code,
            &u
        ));
        assert!(ok(r"~ (?m)^250[ -]PIPELINING$", Style::Code, &u));
        assert!(!ok(r"~ (?m)^250[ -]STARTTLS$", Style::Code, &u));
        assert!(ok(
            r"= 250-mail.example.test\n250-PIPELINING\n250 SIZE 1000",
            Style::Code,
            &u
        ));
        assert!(ok("*", Style::Code, &u));
        // Not a code list: the glob covers the whole text.
        assert!(ok("250-mail*", Style::Code, &u));
    }

    #[test]
    fn lines_match_code_form_or_wire_line() {
        let u = reply(250, &["mail.example.test", "PIPELINING"]);
        let p = |s| Pattern::parse(s, Style::Code).unwrap();
        assert!(
            p("250 mail.*")
                .match_line(&u.lines[0], &Vars::new())
                .unwrap()
                .is_some()
        );
        assert!(
            p("250-PIPELINING")
                .match_line(&u.lines[1], &Vars::new())
                .unwrap()
                .is_none()
        );
        assert!(
            p("250 PIPELINING")
                .match_line(&u.lines[1], &Vars::new())
                .unwrap()
                .is_some()
        );
        assert!(
            p("250-mail.example.test")
                .match_line(&u.lines[0], &Vars::new())
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn pop3_status() {
        let u = Unit {
            status: Some(Status::Ok),
            subject: b"2 320".to_vec(),
            text: b"+OK 2 320".to_vec(),
            ..Unit::default()
        };
        assert!(ok("+OK *", Style::Status, &u));
        assert!(ok("+ok 2 *", Style::Status, &u));
        assert!(ok("+OK|-ERR *", Style::Status, &u));
        assert!(!ok("-ERR *", Style::Status, &u));
        assert!(!ok("+ *", Style::Status, &u));
    }

    #[test]
    fn regex_captures_and_values() {
        let u = reply(227, &["Entering Passive Mode (127,0,0,1,4,1)"]);
        let p = Pattern::parse(r"~ \((?P<h>\d+),", Style::Code).unwrap();
        let caps = p.match_unit(&u, &Vars::new()).unwrap().unwrap();
        assert_eq!(caps, vec![("h".to_string(), b"127".to_vec())]);
        let mut v = Vars::new();
        v.insert("m".into(), b"(127".to_vec());
        let p = Pattern::parse(r"~ Mode ${m},", Style::Code).unwrap();
        assert!(
            p.match_unit(&u, &v).unwrap().is_some(),
            "values are regex-escaped"
        );
        assert!(Pattern::parse("~ (unclosed", Style::Code).is_err());
    }

    #[test]
    fn whole_style_does_not_read_codes() {
        let u = Unit {
            text: b"100 OK done".to_vec(),
            ..Unit::default()
        };
        assert!(
            ok("100 OK *", Style::Whole, &u),
            "an IMAP tag that looks like a code"
        );
    }
}
