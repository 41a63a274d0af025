//! The redaction table (`redactions.toml`, in data): what varies between runs against the
//! same server, replaced by `[name]` in snapshots.

use regex::Regex;
use serde::Deserialize;

/// The built-in table.
const BUILTIN: &str = include_str!("redactions.toml");

/// Learned values shorter than this are not replaced everywhere (too likely to be part of
/// something else).
const MIN_LEARNED: usize = 3;

/// A redaction table that could not be read.
pub type RedactionError = crate::grade::hints::TableError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    #[serde(default)]
    learn: Vec<RawRule>,
    #[serde(default)]
    redact: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    regex: String,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    regex: Regex,
}

/// Learn rules and redaction rules, in the order they are tried.
#[derive(Debug, Clone, Default)]
pub struct Redactions {
    learn: Vec<Rule>,
    redact: Vec<Rule>,
}

impl Redactions {
    /// The built-in table (`harness/src/snapshot/redactions.toml`).
    pub fn builtin() -> Result<Redactions, RedactionError> {
        Redactions::parse(BUILTIN, "built-in")
    }

    /// Parse a table; `file` names it in messages.
    pub fn parse(text: &str, file: &str) -> Result<Redactions, RedactionError> {
        let err = |message: String| RedactionError {
            file: file.to_string(),
            message,
        };
        let raw: RawTable = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let rules = |rs: Vec<RawRule>, learn: bool| {
            rs.into_iter()
                .map(|r| {
                    let regex = regex::RegexBuilder::new(&r.regex)
                        .multi_line(true)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|e| err(format!("{:?}: bad regex: {e}", r.name)))?;
                    let has_v = regex.capture_names().any(|n| n == Some("v"));
                    if learn && !has_v {
                        return Err(err(format!(
                            "[[learn]] {:?}: the regex needs a group (?P<v>…)",
                            r.name
                        )));
                    }
                    if r.name.is_empty() || r.name.contains(['[', ']']) {
                        return Err(err(format!("bad name {:?}", r.name)));
                    }
                    Ok(Rule {
                        name: r.name,
                        regex,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Redactions {
            learn: rules(raw.learn, true)?,
            redact: rules(raw.redact, false)?,
        })
    }

    /// These rules first, then `other`'s.
    pub fn then(mut self, other: Redactions) -> Redactions {
        self.learn.extend(other.learn);
        self.redact.extend(other.redact);
        self
    }

    /// Values the learn rules find anywhere in `body`, longest first (so that a value never
    /// replaces part of a longer one), with the rule's name.
    fn learned<'a>(&'a self, body: &str) -> Vec<(String, &'a str)> {
        let mut learned: Vec<(String, &str)> = Vec::new();
        for r in &self.learn {
            for caps in r.regex.captures_iter(body) {
                if let Some(v) = caps.name("v")
                    && v.as_str().len() >= MIN_LEARNED
                    && !learned.iter().any(|(x, _)| x == v.as_str())
                {
                    learned.push((v.as_str().to_string(), &r.name));
                }
            }
        }
        learned.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        learned
    }

    /// The byte ranges of `line` that vary (what [`Redactions::apply`] would replace),
    /// sorted and merged; values are learned from all of `body`. For drafts (`wirecheck
    /// import`), which turn them into globs.
    pub fn spans(&self, body: &str, line: &str) -> Vec<std::ops::Range<usize>> {
        let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
        for (v, _) in self.learned(body) {
            spans.extend(line.match_indices(v.as_str()).map(|(i, m)| i..i + m.len()));
        }
        for r in &self.redact {
            for caps in r.regex.captures_iter(line) {
                if let Some(m) = caps.name("v").or_else(|| caps.get(0)) {
                    spans.push(m.range());
                }
            }
        }
        spans.sort_by_key(|r| r.start);
        let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
        for r in spans {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    /// Redact a snapshot body.
    pub fn apply(&self, body: &str) -> String {
        let learned = self.learned(body);
        let mut out = body.to_string();
        for (v, name) in &learned {
            out = out.replace(v.as_str(), &format!("[{name}]"));
        }
        for r in &self.redact {
            let with = format!("[{}]", r.name);
            out = r
                .regex
                .replace_all(&out, |caps: &regex::Captures<'_>| {
                    let Some(all) = caps.get(0) else {
                        return String::new();
                    };
                    match caps.name("v") {
                        Some(v) => {
                            let a = all.as_str();
                            let (s, e) = (v.start() - all.start(), v.end() - all.start());
                            format!("{}{with}{}", &a[..s], &a[e..])
                        }
                        None => with.clone(),
                    }
                })
                .into_owned();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_table_redacts_what_varies() {
        let r = Redactions::builtin().unwrap();
        let body = "\
# connected to 127.0.0.1:40123
< 220 mx.example.org ESMTP Postfix
> EHLO client.example.test
< 250-mx.example.org
< 250 SIZE 10240000
< 250 2.0.0 Ok: queued as 4Xk2Lq0abcZ
< Received: from x by mx.example.org with ESMTP id 4Xk2Lq0abcZ; Tue, 3 Jun 2025 10:11:12 +0000 (UTC)
< * OK [UIDVALIDITY 1717400000] UIDs valid
< 227 Entering Passive Mode (127,0,0,1,156,64)
< 229 Entering Extended Passive Mode (|||40000|)
< +OK POP3 ready <1234.5678@pop.example.org>
< Message-ID: <abc.123@client.example.test>
< c OK [APPENDUID 1795249300 1] APPEND completed
< ;; opcode: QUERY, status: NOERROR, id: 55166
";
        let out = r.apply(body);
        assert_eq!(
            out,
            "\
# connected to 127.0.0.1:[port]
< 220 [host] ESMTP Postfix
> EHLO client.example.test
< 250-[host]
< 250 SIZE 10240000
< 250 2.0.0 Ok: queued as [queue-id]
< Received: from x by [host] with ESMTP id [queue-id]; [date]
< * OK [UIDVALIDITY [uidvalidity]] UIDs valid
< 227 Entering Passive Mode ([pasv-address])
< 229 Entering Extended Passive Mode (|||[port]|)
< +OK POP3 ready [apop-timestamp]
< Message-ID: [message-id]
< c OK [APPENDUID [uidvalidity] 1] APPEND completed
< ;; opcode: QUERY, status: NOERROR, id: [dns-id]
"
        );
    }

    #[test]
    fn spans_mark_what_varies_in_one_line() {
        let r = Redactions::builtin().unwrap();
        let body = "< 220 mx.example.org ESMTP\n< 250 ok queued as ABC123\n";
        let line = "< 250 mx.example.org ok queued as ABC123";
        let spans = r.spans(body, line);
        let parts: Vec<&str> = spans.iter().map(|s| &line[s.clone()]).collect();
        assert_eq!(parts, ["mx.example.org", "ABC123"]);
    }

    #[test]
    fn user_rules_come_first_and_bad_ones_are_named() {
        let mine = Redactions::parse(
            "[[redact]]\nname = \"serial\"\nregex = 'serial (?P<v>\\d+)'\n",
            "mine",
        )
        .unwrap();
        let all = mine.then(Redactions::builtin().unwrap());
        assert_eq!(
            all.apply("< serial 42 at 127.0.0.1:53\n"),
            "< serial [serial] at 127.0.0.1:[port]\n"
        );
        assert!(
            Redactions::parse("[[learn]]\nname = \"x\"\nregex = 'a'\n", "t")
                .unwrap_err()
                .message
                .contains("(?P<v>")
        );
        assert!(Redactions::parse("[[redact]]\nname = \"x\"\nregex = '('\n", "t").is_err());
    }
}
