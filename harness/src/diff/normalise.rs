//! Normalised replies: the part of a reply unit two servers must agree on.
//!
//! Two conforming servers answer the same command with different free text, host names,
//! dates, queue ids and ports; they must not answer with a different reply code, enhanced
//! status code, POP3 status or body, IMAP response kind or status, or DNS rcode, flags and
//! records. [`normalise`] keeps exactly those, as an ordered list of named [`Field`]s, so a
//! difference can be named by the first field that differs ([`first_difference`]).
//!
//! | protocol | fields |
//! |---|---|
//! | smtp | `code`, `enhanced` (RFC 3463, first line), `keywords` (the EHLO reply's extension keywords) |
//! | ftp | `code`, `path` (257), `features` (FEAT), `value` (SIZE) |
//! | pop3 | `status`, `code` (RFC 2449 `[…]`), `data` (STAT, LIST n, UIDL n), `body` (LIST, UIDL, RETR, TOP), `capabilities` (CAPA), `stuffing` |
//! | imap | `kind` (untagged, continuation, tagged), `status`, `code` (the response code's atom), `type`, `number`, `data` (redacted) |
//! | dns | `rcode`, `opcode`, `flags`, `id`, `question`, `answer`, and without an answer `authority` and `additional`, `edns` |
//!
//! The command a unit answers (see [`super::attribute`]) selects the command-specific
//! fields; without it only the generic ones are kept.

use std::collections::BTreeSet;

use serde::Serialize;

pub use super::redact::redact;

use crate::protocol::{Status, Unit, UnitKind};

/// One normalised property of a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// What it is (`code`, `enhanced`, `status`, …).
    pub name: &'static str,
    /// Its value, as text (escaped bytes for bodies).
    pub value: String,
}

/// A unit reduced to what two servers must agree on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Norm {
    /// The fields, most significant first.
    pub fields: Vec<Field>,
}

impl Norm {
    fn push(&mut self, name: &'static str, value: impl Into<String>) {
        self.fields.push(Field {
            name,
            value: value.into(),
        });
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    }

    /// A short form for tables: the values of the first fields (`503 5.5.1`,
    /// `tagged NO TRYCREATE`, `NXDOMAIN qr aa`), each cut to 40 characters.
    pub fn short(&self) -> String {
        let parts: Vec<String> = self
            .fields
            .iter()
            .take(3)
            .filter(|f| !f.value.is_empty())
            .map(|f| cut(&f.value, 40))
            .collect();
        if parts.is_empty() {
            "(empty)".into()
        } else {
            parts.join(" ")
        }
    }
}

impl std::fmt::Display for Norm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for fl in self.fields.iter().filter(|f| !f.value.is_empty()) {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{}={}", fl.name, cut(&fl.value, 120))?;
        }
        Ok(())
    }
}

/// `s` cut to `n` characters, with `…` when cut.
pub fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(n).collect();
        c.push('…');
        c
    }
}

/// The first field (by name, in `a`'s order, then `b`'s extra ones) whose value differs,
/// skipping the `ignore`d names. `None`: the units agree.
pub fn first_difference(a: &Norm, b: &Norm, ignore: &[String]) -> Option<&'static str> {
    let ignored = |n: &str| ignore.iter().any(|i| i == n);
    for f in &a.fields {
        if ignored(f.name) {
            continue;
        }
        if b.get(f.name) != Some(f.value.as_str()) {
            return Some(f.name);
        }
    }
    b.fields
        .iter()
        .find(|f| !ignored(f.name) && a.get(f.name).is_none())
        .map(|f| f.name)
}

/// Normalise `unit` of `protocol`, which answers `command` (the command line, when known).
pub fn normalise(protocol: &str, command: Option<&[u8]>, unit: &Unit) -> Norm {
    let verb = command.map(verb_of).unwrap_or_default();
    match protocol {
        "smtp" => smtp(&verb, unit),
        "ftp" => ftp(&verb, unit),
        "pop3" => pop3(&verb, command, unit),
        "imap" => imap(unit),
        "dns" => dns(unit),
        _ => {
            let mut n = Norm::default();
            n.push("text", redact(&String::from_utf8_lossy(&unit.text)));
            n
        }
    }
}

/// The command verb of a line: its first word, upper case (`RCPT`, `EHLO`).
pub fn verb_of(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r\n").unwrap_or(line);
    let w = line
        .split(|b| b.is_ascii_whitespace())
        .find(|w| !w.is_empty())
        .unwrap_or_default();
    String::from_utf8_lossy(w).to_ascii_uppercase()
}

fn words(b: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(b)
        .split_ascii_whitespace()
        .map(str::to_string)
        .collect()
}

/// RFC 5321 §4.2: the code; RFC 2034 §4: the enhanced code starting the first line; for
/// EHLO (RFC 5321 §4.1.1.1) the keywords of the extension lines.
fn smtp(verb: &str, u: &Unit) -> Norm {
    let mut n = Norm::default();
    n.push(
        "code",
        u.code.map(|c| format!("{c:03}")).unwrap_or_default(),
    );
    let first = u
        .lines
        .first()
        .map(|l| l.text.as_slice())
        .unwrap_or_default();
    let word = first.split(|&b| b == b' ').next().unwrap_or_default();
    let enhanced = wirecheck_smtp::codec::parse_enhanced(word)
        .map(|(c, s, d)| format!("{c}.{s}.{d}"))
        .unwrap_or_default();
    n.push("enhanced", enhanced);
    if (verb == "EHLO") && u.code == Some(250) {
        n.push(
            "keywords",
            keywords(u.lines.iter().skip(1).map(|l| &l.text[..])),
        );
    }
    n
}

/// The upper-cased first words of `lines`, sorted and joined by spaces.
fn keywords<'a>(lines: impl Iterator<Item = &'a [u8]>) -> String {
    let set: BTreeSet<String> = lines
        .filter_map(|l| words(l).into_iter().next())
        .map(|w| w.to_ascii_uppercase())
        .collect();
    set.into_iter().collect::<Vec<_>>().join(" ")
}

/// RFC 959 §4.2: the code; the quoted path of `257` (§7 "MKD"/"PWD"), RFC 2389 FEAT's
/// feature names, RFC 3659 SIZE's value.
fn ftp(verb: &str, u: &Unit) -> Norm {
    let mut n = Norm::default();
    n.push(
        "code",
        u.code.map(|c| format!("{c:03}")).unwrap_or_default(),
    );
    match (u.code, verb) {
        (Some(257), _) => {
            let text =
                String::from_utf8_lossy(u.lines.first().map(|l| &l.text[..]).unwrap_or_default())
                    .into_owned();
            n.push("path", quoted_path(&text).unwrap_or_default());
        }
        (Some(211), "FEAT") => {
            let middle = u
                .lines
                .iter()
                .filter(|l| l.code.is_none())
                .map(|l| &l.wire[..]);
            n.push("features", keywords(middle));
        }
        (Some(213), "SIZE") => {
            n.push(
                "value",
                String::from_utf8_lossy(&u.subject).trim().to_string(),
            );
        }
        _ => {}
    }
    n
}

/// RFC 959 Appendix II: `257 "PATHNAME" …`, a `""` inside standing for one `"`.
fn quoted_path(text: &str) -> Option<String> {
    let start = text.find('"')? + 1;
    let mut out = String::new();
    let mut chars = text.get(start..)?.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                out.push('"');
            } else {
                return Some(out);
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// RFC 1939 §3: the status; RFC 2449 §8: the response code in brackets; the data of the
/// commands whose status line carries data (STAT, LIST n, UIDL n, §5), and the bodies.
fn pop3(verb: &str, command: Option<&[u8]>, u: &Unit) -> Norm {
    let mut n = Norm::default();
    let status = match u.status {
        Some(Status::Ok) => "+OK",
        Some(Status::Err) => "-ERR",
        Some(Status::Continuation) => "+",
        None => "?",
    };
    n.push("status", status);
    let subject = String::from_utf8_lossy(&u.subject).into_owned();
    let code = subject
        .trim_start()
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(c, _)| c.to_ascii_uppercase())
        .unwrap_or_default();
    n.push("code", code);
    if u.status != Some(Status::Ok) {
        return n;
    }
    let has_arg = command.is_some_and(|c| words(c).len() > 1);
    let w = words(&u.subject);
    match (verb, has_arg) {
        ("STAT", _) | ("LIST", true) => n.push(
            "data",
            w.iter().take(2).cloned().collect::<Vec<_>>().join(" "),
        ),
        // The unique-id is the server's choice (RFC 1939 §7): only the message number.
        ("UIDL", true) => n.push("data", w.first().cloned().unwrap_or_default()),
        _ => {}
    }
    if let Some(body) = &u.body {
        match verb {
            "UIDL" => {
                let numbers: Vec<String> = u
                    .lines
                    .iter()
                    .skip(1)
                    .map(|l| words(&l.wire).into_iter().next().unwrap_or_default())
                    .collect();
                n.push("body", numbers.join(" "));
            }
            "CAPA" => n.push(
                "capabilities",
                keywords(u.lines.iter().skip(1).map(|l| &l.wire[..])),
            ),
            "AUTH" => n.push(
                "mechanisms",
                keywords(u.lines.iter().skip(1).map(|l| &l.wire[..])),
            ),
            _ => n.push("body", wirecheck_reports::escape_bytes(body)),
        }
    }
    if !u.violations.is_empty() {
        n.push(
            "stuffing",
            format!("{} unstuffed line(s)", u.violations.len()),
        );
    }
    n
}

/// RFC 9051 §7: the kind of response; for status responses the status and the response
/// code's atom (§7.1); for data responses the type, the message number and the data with
/// what varies between servers redacted.
fn imap(u: &Unit) -> Norm {
    let mut n = Norm::default();
    let text = String::from_utf8_lossy(&u.text).into_owned();
    let mut toks = text.splitn(3, ' ');
    let _tag = toks.next();
    let second = toks.next().unwrap_or_default().to_string();
    let rest = toks.next().unwrap_or_default().to_string();
    match &u.kind {
        UnitKind::Continuation => n.push("kind", "continuation"),
        UnitKind::Tagged(_) | UnitKind::Reply => {
            n.push("kind", "tagged");
            n.push("status", second.to_ascii_uppercase());
            n.push("code", code_atom(&rest));
        }
        UnitKind::Untagged => {
            n.push("kind", "untagged");
            let upper = second.to_ascii_uppercase();
            if upper.bytes().all(|b| b.is_ascii_digit()) && !upper.is_empty() {
                let (ty, data) = rest.split_once(' ').unwrap_or((&rest, ""));
                n.push("type", ty.to_ascii_uppercase());
                n.push("number", upper);
                if !data.is_empty() {
                    n.push("data", redact(&collapse(data)));
                }
            } else if matches!(upper.as_str(), "OK" | "NO" | "BAD" | "BYE" | "PREAUTH") {
                n.push("type", upper);
                n.push("code", code_atom(&rest));
            } else if upper == "CAPABILITY" {
                n.push("type", upper);
                let caps: BTreeSet<String> = rest
                    .split_ascii_whitespace()
                    .map(|c| c.to_ascii_uppercase())
                    .collect();
                n.push("data", caps.into_iter().collect::<Vec<_>>().join(" "));
            } else {
                n.push("type", upper);
                n.push("data", redact(&collapse(&rest)));
            }
        }
    }
    n
}

/// The atom of a response code at the start of `text` (`[TRYCREATE] …` → `TRYCREATE`).
fn code_atom(text: &str) -> String {
    text.strip_prefix('[')
        .map(|r| {
            r.split([']', ' '])
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase()
        })
        .unwrap_or_default()
}

fn collapse(s: &str) -> String {
    s.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

/// RFC 1035 §4.1: header flags and codes, the question, and each section's records
/// (sorted: RRset order is not significant, RFC 2181 §5); of EDNS (RFC 6891 §6.1.3) the
/// version and the DO bit, not the server's buffer size or options.
fn dns(u: &Unit) -> Norm {
    use wirecheck_dns::{codec, presentation};
    let mut n = Norm::default();
    let msg = codec::decode(&u.raw).or_else(|e| match codec::tcp_frame(&u.raw) {
        Some((used, m)) if used == u.raw.len() => codec::decode(m),
        _ => Err(e),
    });
    let Ok(msg) = msg else {
        n.push("rcode", "(undecodable)");
        return n;
    };
    let h = &msg.header;
    n.push("rcode", h.rcode().to_string());
    n.push("opcode", h.opcode().to_string());
    n.push("flags", presentation::flag_names(h).join(" "));
    n.push("id", h.id.to_string());
    let q: Vec<String> = msg
        .questions
        .iter()
        .map(|q| {
            format!(
                "{} {} {}",
                q.name.to_string().to_ascii_lowercase(),
                q.qclass,
                q.qtype
            )
        })
        .collect();
    n.push("question", q.join("; "));
    // With an answer, what else a server adds (NS in authority, glue) is its choice
    // (RFC 2181 §6.1, "minimal responses"); without one, the authority section is the
    // answer (RFC 2308 §3 SOA, referrals).
    let sections: &[(&'static str, &Vec<_>)] = if msg.answers.is_empty() {
        &[
            ("answer", &msg.answers),
            ("authority", &msg.authorities),
            ("additional", &msg.additionals),
        ]
    } else {
        &[("answer", &msg.answers)]
    };
    for &(name, section) in sections {
        let mut rrs: Vec<String> = section
            .iter()
            .map(|r| fold_case(&presentation::render_record(r)))
            .collect();
        rrs.sort();
        n.push(name, rrs.join("; ").replace('\t', " "));
    }
    n.push(
        "edns",
        msg.edns
            .as_ref()
            .map(|e| {
                format!(
                    "version {}{}",
                    e.version,
                    if e.dnssec_ok { " do" } else { "" }
                )
            })
            .unwrap_or_default(),
    );
    n
}

/// A record line with its names in lower case (RFC 4343: names compare case-insensitively;
/// a server may answer in the query's case); TXT data keeps its case.
fn fold_case(line: &str) -> String {
    let mut parts: Vec<String> = line.splitn(5, '\t').map(str::to_string).collect();
    let txt = parts.get(3).is_some_and(|t| t.eq_ignore_ascii_case("TXT"));
    for (i, p) in parts.iter_mut().enumerate() {
        if i == 0 || (i == 4 && !txt) {
            *p = p.to_ascii_lowercase();
        }
    }
    parts.join("\t")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Limits, Transport, by_name};

    fn units(protocol: &str, sent: &[u8], wire: &[u8]) -> Vec<Unit> {
        let p = by_name(protocol).unwrap();
        let mut f = p.reply_framer(Transport::Stream).unwrap();
        let mut out = Vec::new();
        let mut buf = wire;
        let mut greeted = false;
        while let Ok(Some((n, u))) = f.decode(buf, &Limits::default()) {
            out.push(u);
            buf = &buf[n..];
            if !greeted {
                f.sent(sent);
                greeted = true;
            }
        }
        out
    }

    #[test]
    fn smtp_compares_codes_not_text() {
        let a = &units("smtp", b"", b"250 2.1.0 Sender ok\r\n")[0];
        let b = &units("smtp", b"", b"250 2.1.0 OK, fine\r\n")[0];
        let c = &units("smtp", b"", b"250 OK\r\n")[0];
        let na = normalise("smtp", Some(b"MAIL FROM:<a@b>"), a);
        assert_eq!(na, normalise("smtp", Some(b"MAIL FROM:<a@b>"), b));
        let nc = normalise("smtp", Some(b"MAIL FROM:<a@b>"), c);
        assert_eq!(first_difference(&na, &nc, &[]), Some("enhanced"));
        assert_eq!(first_difference(&na, &nc, &["enhanced".into()]), None);
        assert_eq!(na.short(), "250 2.1.0");
    }

    #[test]
    fn ehlo_keywords_are_a_set() {
        let a = &units(
            "smtp",
            b"",
            b"250-mx.one\r\n250-SIZE 100\r\n250 PIPELINING\r\n",
        )[0];
        let b = &units(
            "smtp",
            b"",
            b"250-other.host says hi\r\n250-pipelining\r\n250 SIZE 5\r\n",
        )[0];
        let c = &units("smtp", b"", b"250-x\r\n250 SIZE 5\r\n")[0];
        let n = |u| normalise("smtp", Some(b"EHLO me"), u);
        assert_eq!(n(a), n(b));
        assert_eq!(n(a).get("keywords"), Some("PIPELINING SIZE"));
        assert_eq!(first_difference(&n(a), &n(c), &[]), Some("keywords"));
    }

    #[test]
    fn pop3_status_data_and_bodies() {
        let u = units(
            "pop3",
            b"STAT\r\nLIST\r\nUIDL 1\r\nRETR 1\r\n",
            b"+OK hi <1.2@host>\r\n+OK 2 320\r\n+OK\r\n1 120\r\n2 200\r\n.\r\n+OK 1 abc\r\n+OK\r\nSubject: x\r\n\r\n..dot\r\n.\r\n",
        );
        assert_eq!(u.len(), 5);
        assert_eq!(
            normalise("pop3", Some(b"STAT"), &u[1]).get("data"),
            Some("2 320")
        );
        assert_eq!(
            normalise("pop3", Some(b"LIST"), &u[2]).get("body"),
            Some("1 120\\r\\n2 200\\r\\n")
        );
        assert_eq!(
            normalise("pop3", Some(b"UIDL 1"), &u[3]).get("data"),
            Some("1")
        );
        assert_eq!(
            normalise("pop3", Some(b"RETR 1"), &u[4]).get("body"),
            Some("Subject: x\\r\\n\\r\\n.dot\\r\\n")
        );
        let err = &units("pop3", b"", b"-ERR [IN-USE] locked\r\n")[0];
        assert_eq!(
            normalise("pop3", Some(b"PASS x"), err).short(),
            "-ERR IN-USE"
        );
    }

    #[test]
    fn imap_kinds_codes_and_redacted_data() {
        let u = units(
            "imap",
            b"",
            b"* OK [CAPABILITY IMAP4rev2] ready\r\n* 2 EXISTS\r\n* OK [UIDVALIDITY 1712345678] x\r\na1 NO [TRYCREATE] no\r\n+ go\r\n* 1 FETCH (INTERNALDATE \"01-Jan-2024 10:00:00 +0000\" FLAGS (\\Seen))\r\n",
        );
        let n: Vec<Norm> = u.iter().map(|u| normalise("imap", None, u)).collect();
        assert_eq!(n[0].short(), "untagged OK CAPABILITY");
        assert_eq!(n[1].get("number"), Some("2"));
        assert_eq!(n[3].short(), "tagged NO TRYCREATE");
        assert_eq!(n[4].short(), "continuation");
        assert_eq!(
            n[5].get("data"),
            Some("(INTERNALDATE \"<date>\" FLAGS (\\Seen))")
        );
    }

    #[test]
    fn ftp_path_and_features() {
        let u = units(
            "ftp",
            b"",
            b"257 \"/a \"\"b\"\"\" is current\r\n211-Features:\r\n MDTM\r\n SIZE 1\r\n211 End\r\n",
        )[..]
            .to_vec();
        assert_eq!(
            normalise("ftp", Some(b"PWD"), &u[0]).get("path"),
            Some("/a \"b\"")
        );
        assert_eq!(
            normalise("ftp", Some(b"FEAT"), &u[1]).get("features"),
            Some("MDTM SIZE")
        );
    }

    #[test]
    fn dns_flags_rcode_and_sorted_records() {
        use wirecheck_dns::{codec, presentation};
        let mut q = presentation::parse_query("example.test. A +rd id=7").unwrap();
        q.header.qr = true;
        q.header.aa = true;
        let raw = codec::encode(&q);
        let u = Unit {
            raw,
            ..Unit::default()
        };
        let n = normalise("dns", None, &u);
        assert_eq!(n.get("rcode"), Some("NOERROR"));
        assert_eq!(n.get("flags"), Some("qr aa rd"));
        assert_eq!(n.get("id"), Some("7"));
        let bad = Unit {
            raw: vec![1, 2, 3],
            ..Unit::default()
        };
        assert_eq!(
            normalise("dns", None, &bad).get("rcode"),
            Some("(undecodable)")
        );
    }
}
