//! The script parser: one step per line (docs/transcripts.md, "The script").

use std::collections::BTreeMap;
use std::time::Duration;

use super::pattern::{Pattern, Style};
use super::template::{Expr, Part, SyntaxError, Template, parse_expr, parse_expr_prefix};
use super::{CheckOp, ConnectKind, Expect, Role, SendMode, Step, StepKind};

/// One error in a script: its line and what was wrong / expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line in the file.
    pub line: u32,
    /// The message.
    pub message: String,
}

/// What the parser needs to know about the transcript.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The transcript's protocol (`smtp`, …, `scenarios`).
    pub protocol: &'a str,
    /// Client or server.
    pub role: Role,
    /// The file line of the script's first line.
    pub first_line: u32,
}

/// The protocol whose codec frames a transcript's `main` connection.
pub fn framing_protocol(protocol: &str) -> &str {
    match protocol {
        "message" | "scenarios" => "smtp",
        p => p,
    }
}

fn style_of(protocol: &str, role: Role) -> Style {
    if role == Role::Server {
        return Style::Whole;
    }
    crate::protocol::by_name(protocol).map_or(Style::Whole, |p| p.style())
}

/// Remove a comment (`#` at the start, or after two or more blanks; `\#` is literal) and
/// surrounding white space.
pub fn strip_comment(line: &str) -> &str {
    let t = line.trim();
    if t.starts_with('#') {
        return "";
    }
    let b = t.as_bytes();
    let mut i = 0;
    let mut blanks = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                blanks = 0;
                i += 2;
                continue;
            }
            b'#' if blanks >= 2 => return t[..i].trim_end(),
            b' ' | b'\t' => blanks += 1,
            _ => blanks = 0,
        }
        i += 1;
    }
    t
}

struct Parser<'a> {
    ctx: Context<'a>,
    steps: Vec<Step>,
    errors: Vec<LineError>,
    /// Connection name -> protocol, as far as the script has opened them.
    conns: BTreeMap<String, String>,
    current: String,
    /// Inside `unordered {`: its line and expectations so far.
    unordered: Option<(u32, String, Vec<Expect>)>,
}

/// Parse a script. `text` is the script exactly as in the file.
pub fn parse(text: &str, ctx: Context<'_>) -> Result<Vec<Step>, Vec<LineError>> {
    let mut conns = BTreeMap::new();
    conns.insert(
        "main".to_string(),
        framing_protocol(ctx.protocol).to_string(),
    );
    let mut p = Parser {
        ctx,
        steps: Vec::new(),
        errors: Vec::new(),
        conns,
        current: "main".into(),
        unordered: None,
    };
    for (i, raw) in text.lines().enumerate() {
        let line = p.ctx.first_line + i as u32;
        let src = strip_comment(raw);
        if src.is_empty() {
            continue;
        }
        if let Err(e) = p.line(line, src) {
            p.errors.push(LineError { line, message: e.0 });
        }
    }
    if let Some((line, _, _)) = &p.unordered {
        p.errors.push(LineError {
            line: *line,
            message: "`unordered {` is never closed: expected a `}` line".into(),
        });
    }
    if p.errors.is_empty() {
        Ok(p.steps)
    } else {
        Err(p.errors)
    }
}

fn err<T>(m: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError(m.into()))
}

fn duration(s: &str) -> Result<Duration, SyntaxError> {
    humantime::parse_duration(s.trim()).map_err(|e| {
        SyntaxError(format!(
            "expected a duration like `500ms` or `5s`, got {s:?}: {e}"
        ))
    })
}

fn name(s: &str, what: &str) -> Result<String, SyntaxError> {
    let ok = s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-');
    if ok {
        Ok(s.to_string())
    } else {
        err(format!(
            "expected {what} (lower case letters, digits, `_`, `-`), got {s:?}"
        ))
    }
}

const STEPS: &str = "C:, C>, S:, S|, S!, S?, unordered {, skip-untagged, strict-untagged, expect close, \
expect silence DUR, close, shutdown, pause DUR, timeout DUR, connect, listen, accept, use, tls, recv-all, set, check";

impl Parser<'_> {
    fn style(&self, conn: &str) -> Style {
        let proto = self
            .conns
            .get(conn)
            .map_or(framing_protocol(self.ctx.protocol), String::as_str);
        style_of(proto, self.ctx.role)
    }

    fn push(&mut self, line: u32, conn: Option<String>, kind: StepKind, source: &str) {
        self.steps.push(Step {
            line,
            conn,
            kind,
            source: source.to_string(),
        });
    }

    fn line(&mut self, line: u32, src: &str) -> Result<(), SyntaxError> {
        // A step prefixed with a connection name: `data: expect close`.
        let (conn, body) = match src.split_once(": ") {
            Some((n, rest)) if name(n, "").is_ok() => (Some(n.to_string()), rest.trim_start()),
            _ => (None, src),
        };
        if let Some(c) = &conn
            && !self.conns.contains_key(c)
        {
            return err(format!(
                "no connection `{c}` is open here: expected `connect {c}` or `accept {c}` before"
            ));
        }
        let target = conn.clone().unwrap_or_else(|| self.current.clone());
        let (expect_p, more_p) = self.expect_prefixes();
        let ustyle = self.unordered.as_ref().map(|(_, c, _)| self.style(c));
        if let Some((open_line, uconn, list)) = self.unordered.as_mut() {
            if body == "}" {
                let list = std::mem::take(list);
                let (open_line, uconn) = (*open_line, uconn.clone());
                self.unordered = None;
                if list.is_empty() {
                    return err("an empty `unordered { }`: expected S: lines inside");
                }
                let c = (uconn != self.current).then_some(uconn);
                self.steps.push(Step {
                    line: open_line,
                    conn: c,
                    kind: StepKind::Unordered(list),
                    source: "unordered {".into(),
                });
                return Ok(());
            }
            let style = ustyle.unwrap_or(Style::Whole);
            return match prefix(body) {
                Some((p, rest)) if p == expect_p => {
                    list.push(Expect {
                        line,
                        pattern: Pattern::parse(rest, style)?,
                        lines: Vec::new(),
                    });
                    Ok(())
                }
                Some((p, rest)) if p == more_p => match list.last_mut() {
                    Some(e) => {
                        e.lines.push((line, Pattern::parse(rest, style)?));
                        Ok(())
                    }
                    None => err(format!("`{more_p}` must follow a `{expect_p}` line")),
                },
                _ => err(format!(
                    "inside `unordered {{` expected `{expect_p} PATTERN`, `{more_p} PATTERN` or `}}`"
                )),
            };
        }
        let kind = self.step(line, body, &target, conn.is_some())?;
        if let Some(kind) = kind {
            self.push(line, conn, kind, src);
        }
        Ok(())
    }

    /// The (expectation, continuation) prefixes for the role.
    fn expect_prefixes(&self) -> (&'static str, &'static str) {
        match self.ctx.role {
            Role::Client => ("S:", "S|"),
            Role::Server => ("C:", "C|"),
        }
    }

    /// Parse one step; `None` when it was folded into the previous step (`S|`).
    fn step(
        &mut self,
        line: u32,
        body: &str,
        target: &str,
        prefixed: bool,
    ) -> Result<Option<StepKind>, SyntaxError> {
        let client = self.ctx.role == Role::Client;
        let (send, send_raw, expect, more, must_not, optional) = if client {
            ("C:", "C>", "S:", "S|", "S!", "S?")
        } else {
            ("S:", "S>", "C:", "C|", "C!", "C?")
        };
        if let Some((p, rest)) = prefix(body) {
            let style = self.style(target);
            let dns = self.conns.get(target).is_some_and(|p| p == "dns");
            return Ok(Some(match p {
                _ if p == send => StepKind::Send {
                    data: Template::parse(rest)?,
                    mode: SendMode::Line,
                },
                _ if p == send_raw => {
                    if let Some(h) = rest.strip_prefix("hex ").filter(|_| dns) {
                        StepKind::Send {
                            data: Template::parse(h)?,
                            mode: SendMode::Hex,
                        }
                    } else if let Some(h) = rest.strip_prefix("rawhex ").filter(|_| dns) {
                        StepKind::Send {
                            data: Template::parse(h)?,
                            mode: SendMode::RawHex,
                        }
                    } else {
                        StepKind::Send {
                            data: Template::parse(rest)?,
                            mode: SendMode::Raw,
                        }
                    }
                }
                _ if p == expect => StepKind::Expect(Expect {
                    line,
                    pattern: Pattern::parse(rest, style)?,
                    lines: Vec::new(),
                }),
                _ if p == more => {
                    match self.steps.last_mut() {
                        Some(Step {
                            kind: StepKind::Expect(e),
                            ..
                        }) if !prefixed => {
                            e.lines.push((line, Pattern::parse(rest, style)?));
                        }
                        _ => {
                            return err(format!(
                                "`{more}` must follow a `{expect}` line (or another `{more}`)"
                            ));
                        }
                    }
                    return Ok(None);
                }
                _ if p == must_not => StepKind::MustNot(Pattern::parse(rest, style)?),
                _ if p == optional => StepKind::Optional(Pattern::parse(rest, style)?),
                _ => {
                    let role = if client { "client" } else { "server" };
                    return err(format!(
                        "`{p}` is not valid in the {role} role: expected {send} or {send_raw} to send, {expect} {more} {must_not} {optional} to expect"
                    ));
                }
            }));
        }
        let (word, rest) = match body.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (body, ""),
        };
        let no_args = |k: StepKind| {
            if rest.is_empty() {
                Ok(Some(k))
            } else {
                err(format!("`{word}` takes no arguments"))
            }
        };
        Ok(Some(match word {
            "unordered" => {
                if rest != "{" {
                    return err("expected `unordered {`");
                }
                if prefixed {
                    return err(
                        "`unordered {` cannot take a connection prefix: `use` the connection first",
                    );
                }
                self.unordered = Some((line, target.to_string(), Vec::new()));
                return Ok(None);
            }
            "skip-untagged" => return no_args(StepKind::SkipUntagged(true)),
            "strict-untagged" => return no_args(StepKind::SkipUntagged(false)),
            "close" => return no_args(StepKind::Close),
            "shutdown" => return no_args(StepKind::Shutdown),
            "tls" => return no_args(StepKind::Tls),
            "expect" => match rest.split_once(char::is_whitespace).unwrap_or((rest, "")) {
                ("close", "") => StepKind::ExpectClose,
                ("silence", d) => StepKind::ExpectSilence(duration(d)?),
                _ => return err("expected `expect close` or `expect silence DUR`"),
            },
            "pause" => StepKind::Pause(duration(rest)?),
            "timeout" => StepKind::StepTimeout(duration(rest)?),
            "connect" => self.connect(rest)?,
            "listen" => self.listen(rest)?,
            "accept" => {
                let n = name(rest, "`accept NAME`")?;
                let proto = self.conns.get(&format!("listener:{n}")).cloned();
                let Some(proto) = proto else {
                    return err(format!("`accept {n}` without a `listen {n}` before"));
                };
                self.conns.insert(n.clone(), proto);
                StepKind::Accept { name: n }
            }
            "use" => {
                if prefixed {
                    return err("`use` cannot take a connection prefix");
                }
                let n = name(rest, "`use NAME`")?;
                if !self.conns.contains_key(&n) {
                    return err(format!(
                        "`use {n}`: no connection `{n}` is open here (expected `connect {n}` before)"
                    ));
                }
                self.current = n.clone();
                StepKind::Use { name: n }
            }
            "recv-all" => match rest.split_once(char::is_whitespace) {
                None if rest.is_empty() => StepKind::RecvAll {
                    into: "_data".into(),
                },
                Some(("into", v)) => StepKind::RecvAll {
                    into: var_name(v.trim())?,
                },
                _ => return err("expected `recv-all` or `recv-all into VAR`"),
            },
            "set" => {
                let Some((n, e)) = rest.split_once('=') else {
                    return err("expected `set NAME = EXPR`");
                };
                StepKind::Set {
                    name: var_name(n.trim())?,
                    expr: parse_expr(e.trim())?,
                }
            }
            "check" => {
                let (lhs, used) = parse_expr_prefix(rest)?;
                let tail = rest[used..].trim_start();
                let op = if let Some(r) = tail.strip_prefix("==") {
                    CheckOp::Eq(parse_expr(r.trim())?)
                } else if let Some(r) = tail.strip_prefix("!=") {
                    CheckOp::Ne(parse_expr(r.trim())?)
                } else if tail.starts_with('~') {
                    CheckOp::Matches(Pattern::parse(tail, Style::Whole)?)
                } else {
                    return err(
                        "expected `check EXPR == EXPR`, `check EXPR != EXPR` or `check EXPR ~ REGEX`",
                    );
                };
                StepKind::Check { lhs, op }
            }
            w => return err(format!("unknown step `{w}`: expected one of {STEPS}")),
        }))
    }

    /// `connect NAME [tcp|udp|tls|passive] [PROTOCOL] [to ADDR]`.
    fn connect(&mut self, rest: &str) -> Result<StepKind, SyntaxError> {
        let (head, to) = match rest.split_once(" to ") {
            Some((h, a)) => (h, Some(a.trim())),
            None => (rest, None),
        };
        let mut words = head.split_whitespace();
        let n = name(words.next().unwrap_or(""), "`connect NAME`")?;
        let mut kind = ConnectKind::Tcp;
        let mut proto = None;
        for w in words {
            match w {
                "tcp" => kind = ConnectKind::Tcp,
                "udp" => kind = ConnectKind::Udp,
                "tls" => kind = ConnectKind::Tls,
                "passive" => kind = ConnectKind::Passive,
                p if crate::protocol::NAMES.contains(&p) => proto = Some(p.to_string()),
                w => {
                    return err(format!(
                        "unexpected {w:?} in `connect`: expected `connect NAME [tcp|udp|tls|passive] [PROTOCOL] [to ADDR]`"
                    ));
                }
            }
        }
        if kind == ConnectKind::Passive && to.is_some() {
            return err(
                "`connect NAME passive` takes its address from the last 227/229 reply: no `to`",
            );
        }
        let to = to.map(Template::parse).transpose()?;
        let inferred = to.as_ref().and_then(service_of);
        let proto = match (proto, inferred) {
            (Some(p), _) => p,
            (None, Some(p)) => p,
            // A data connection carries bytes, not replies: frame it as lines (recv-all reads it).
            (None, None) if kind == ConnectKind::Passive => "line".to_string(),
            (None, None) => framing_protocol(self.ctx.protocol).to_string(),
        };
        self.conns.insert(n.clone(), proto.clone());
        Ok(StepKind::Connect {
            name: n,
            kind,
            to,
            protocol: proto,
        })
    }

    /// `listen NAME [udp] [PROTOCOL] [at ADDR]`.
    fn listen(&mut self, rest: &str) -> Result<StepKind, SyntaxError> {
        let (head, at) = match rest.split_once(" at ") {
            Some((h, a)) => (h, Some(a.trim())),
            None => (rest, None),
        };
        let mut words = head.split_whitespace();
        let n = name(words.next().unwrap_or(""), "`listen NAME`")?;
        let mut udp = false;
        let mut proto = None;
        for w in words {
            match w {
                "udp" => udp = true,
                "tcp" => udp = false,
                p if crate::protocol::NAMES.contains(&p) => proto = Some(p.to_string()),
                w => {
                    return err(format!(
                        "unexpected {w:?}: expected `listen NAME [udp] [PROTOCOL] [at ADDR]`"
                    ));
                }
            }
        }
        // An FTP active-mode data connection carries bytes: lines unless told otherwise.
        let proto = proto.unwrap_or_else(|| "line".to_string());
        self.conns.insert(format!("listener:{n}"), proto.clone());
        Ok(StepKind::Listen {
            name: n,
            udp,
            at: at.map(Template::parse).transpose()?,
            protocol: proto,
        })
    }
}

/// `to ${pop3}` names the service `pop3`.
fn service_of(t: &Template) -> Option<String> {
    match t.parts.as_slice() {
        [Part::Expr(Expr::Var(v))] if crate::protocol::NAMES.contains(&v.as_str()) => {
            Some(v.clone())
        }
        _ => None,
    }
}

fn var_name(s: &str) -> Result<String, SyntaxError> {
    let ok = s
        .as_bytes()
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        && s.bytes().all(super::template::is_name_char);
    if ok {
        Ok(s.to_string())
    } else {
        err(format!("expected a variable name, got {s:?}"))
    }
}

/// A two-character step prefix (`C:`, `S|`, …) and the text after it and its one space.
fn prefix(body: &str) -> Option<(&str, &str)> {
    let b = body.as_bytes();
    if b.len() < 2
        || !matches!(b[0], b'C' | b'S')
        || !matches!(b[1], b':' | b'>' | b'|' | b'!' | b'?')
    {
        return None;
    }
    match b.get(2) {
        None => Some((&body[..2], "")),
        Some(b' ') => Some((&body[..2], &body[3..])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_client(proto: &str, s: &str) -> Result<Vec<Step>, Vec<LineError>> {
        parse(
            s,
            Context {
                protocol: proto,
                role: Role::Client,
                first_line: 10,
            },
        )
    }

    fn one(proto: &str, s: &str) -> StepKind {
        let mut v = parse_client(proto, s).unwrap();
        assert_eq!(v.len(), 1, "{s}");
        v.remove(0).kind
    }

    #[test]
    fn comments() {
        assert_eq!(strip_comment("  # whole line"), "");
        assert_eq!(strip_comment("S: 503 *   # bad sequence"), "S: 503 *");
        assert_eq!(
            strip_comment("C: a # b"),
            "C: a # b",
            "one space is not enough"
        );
        assert_eq!(strip_comment(r"C: a  \# b"), r"C: a  \# b");
        assert_eq!(strip_comment("C: x\t\t# tabbed"), "C: x");
    }

    #[test]
    fn sends() {
        match one("smtp", "C: EHLO client.example.test") {
            StepKind::Send {
                mode: SendMode::Line,
                data,
            } => {
                assert_eq!(
                    data.render(&Default::default()).unwrap(),
                    b"EHLO client.example.test"
                )
            }
            k => panic!("{k:?}"),
        }
        match one("smtp", "C:") {
            StepKind::Send {
                mode: SendMode::Line,
                data,
            } => assert!(data.parts.is_empty()),
            k => panic!("{k:?}"),
        }
        match one("smtp", r"C> MAIL FROM:<a@b>\nRCPT TO:<c@d>\r\n") {
            StepKind::Send {
                mode: SendMode::Raw,
                data,
            } => {
                assert_eq!(
                    data.render(&Default::default()).unwrap(),
                    b"MAIL FROM:<a@b>\nRCPT TO:<c@d>\r\n"
                )
            }
            k => panic!("{k:?}"),
        }
        assert!(matches!(
            one("dns", "C> hex 0001 0000"),
            StepKind::Send {
                mode: SendMode::Hex,
                ..
            }
        ));
        assert!(matches!(
            one("dns", "C> rawhex 0001"),
            StepKind::Send {
                mode: SendMode::RawHex,
                ..
            }
        ));
        assert!(matches!(
            one("smtp", "C> hex 0001"),
            StepKind::Send {
                mode: SendMode::Raw,
                ..
            }
        ));
    }

    #[test]
    fn expectations_and_lines() {
        let v = parse_client("pop3", "C: LIST\nS: +OK *\nS| 1 *\nS| 2 *").unwrap();
        assert_eq!(v.len(), 2);
        match &v[1].kind {
            StepKind::Expect(e) => {
                assert_eq!(e.lines.len(), 2);
                assert_eq!((e.line, e.lines[1].0), (11, 13));
            }
            k => panic!("{k:?}"),
        }
        assert!(matches!(
            one("imap", "S! * * EXPUNGE"),
            StepKind::MustNot(_)
        ));
        assert!(matches!(one("smtp", "S? 220-*"), StepKind::Optional(_)));
        let e = parse_client("smtp", "C: x\nS| 250 *").unwrap_err();
        assert!(e[0].message.contains("must follow"), "{e:?}");
    }

    #[test]
    fn unordered_blocks() {
        let v = parse_client(
            "imap",
            "C: a1 SELECT INBOX\nunordered {\n S: * 2 EXISTS\n S: * FLAGS *\n}\nS: a1 OK *",
        )
        .unwrap();
        assert!(matches!(&v[1].kind, StepKind::Unordered(l) if l.len() == 2));
        assert_eq!(v[1].line, 11);
        assert!(parse_client("imap", "unordered {\nS: *").is_err());
        assert!(parse_client("imap", "unordered {\n}").is_err());
        assert!(parse_client("imap", "unordered {\nC: x\n}").is_err());
    }

    #[test]
    fn connections() {
        let s = "C: PASV\nS: 227 *\nconnect data passive\nC: RETR hello.txt\nS: 150 *\ndata: recv-all into file\nS: 226 *\nuse data\nexpect close";
        let v = parse_client("ftp", s).unwrap();
        assert!(
            matches!(&v[2].kind, StepKind::Connect { kind: ConnectKind::Passive, protocol, .. } if protocol == "line")
        );
        assert_eq!(v[5].conn.as_deref(), Some("data"));
        assert!(matches!(&v[5].kind, StepKind::RecvAll { into } if into == "file"));
        let v = parse_client("scenarios", "connect p to ${pop3}\nuse p\nS: +OK *").unwrap();
        assert!(matches!(&v[0].kind, StepKind::Connect { protocol, .. } if protocol == "pop3"));
        assert!(
            parse_client("smtp", "use nowhere").unwrap_err()[0]
                .message
                .contains("no connection")
        );
        assert!(
            parse_client("smtp", "data: close").unwrap_err()[0]
                .message
                .contains("no connection")
        );
        let v = parse_client(
            "ftp",
            "listen act\nC: PORT ${act.port-arg}\naccept act\nact: recv-all",
        )
        .unwrap();
        assert_eq!(v.len(), 4);
        assert!(parse_client("ftp", "accept act").is_err());
        assert!(matches!(
            one("smtp", "connect s tls to 127.0.0.1:465"),
            StepKind::Connect {
                kind: ConnectKind::Tls,
                ..
            }
        ));
        assert!(matches!(
            one("dns", "connect main tcp"),
            StepKind::Connect {
                kind: ConnectKind::Tcp,
                ..
            }
        ));
    }

    #[test]
    fn keywords() {
        assert!(matches!(one("smtp", "expect close"), StepKind::ExpectClose));
        assert!(
            matches!(one("smtp", "expect silence 500ms"), StepKind::ExpectSilence(d) if d == Duration::from_millis(500))
        );
        assert!(matches!(one("smtp", "pause 200ms"), StepKind::Pause(_)));
        assert!(
            matches!(one("smtp", "timeout 10s"), StepKind::StepTimeout(d) if d.as_secs() == 10)
        );
        assert!(matches!(
            one("smtp", "set msg = \"hi\" + user"),
            StepKind::Set { .. }
        ));
        assert!(matches!(
            one("smtp", "check _body == msg"),
            StepKind::Check {
                op: CheckOp::Eq(_),
                ..
            }
        ));
        assert!(matches!(
            one("smtp", "check _body != msg"),
            StepKind::Check {
                op: CheckOp::Ne(_),
                ..
            }
        ));
        assert!(matches!(
            one("smtp", "check _reply ~ ^250"),
            StepKind::Check {
                op: CheckOp::Matches(_),
                ..
            }
        ));
        assert!(matches!(
            one("imap", "skip-untagged"),
            StepKind::SkipUntagged(true)
        ));
        assert!(matches!(
            one("imap", "strict-untagged"),
            StepKind::SkipUntagged(false)
        ));
        assert!(matches!(one("smtp", "tls"), StepKind::Tls));
    }

    #[test]
    fn errors_name_the_line_and_what_was_expected() {
        let e = parse_client("smtp", "S: 220 *\nfrobnicate\npause soon\nS> 220 x").unwrap_err();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].line, 11);
        assert!(
            e[0].message
                .contains("unknown step `frobnicate`: expected one of C:")
        );
        assert!(e[1].message.contains("expected a duration"));
        assert!(e[2].message.contains("not valid in the client role"));
    }

    #[test]
    fn server_role_swaps_prefixes() {
        let v = parse(
            "S: 220 mx.example.test\nC: EHLO *\nS> 250 ok\\r\\n",
            Context {
                protocol: "smtp",
                role: Role::Server,
                first_line: 1,
            },
        )
        .unwrap();
        assert!(matches!(
            &v[0].kind,
            StepKind::Send {
                mode: SendMode::Line,
                ..
            }
        ));
        assert!(matches!(&v[1].kind, StepKind::Expect(_)));
        assert!(matches!(
            &v[2].kind,
            StepKind::Send {
                mode: SendMode::Raw,
                ..
            }
        ));
    }
}
