//! SMTP commands (RFC 5321 §4.1.1) and the extension commands STARTTLS (RFC 3207),
//! AUTH (RFC 4954) and BDAT (RFC 3030).

use std::fmt;

use super::address::{AddressError, Domain, ForwardPath, ReversePath};
use super::param::{Param, ParamError};

/// One SMTP command line, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// RFC 5321 §4.1.1.1: `"EHLO" SP ( Domain / address-literal )`.
    Ehlo(Domain),
    /// RFC 5321 §4.1.1.1: `"HELO" SP Domain` (an address literal is accepted too).
    Helo(Domain),
    /// RFC 5321 §4.1.1.2: `"MAIL FROM:" Reverse-path [SP Mail-parameters]`.
    Mail {
        from: ReversePath,
        params: Vec<Param>,
    },
    /// RFC 5321 §4.1.1.3: `"RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
    /// Forward-path ) [SP Rcpt-parameters]`.
    Rcpt { to: ForwardPath, params: Vec<Param> },
    /// RFC 5321 §4.1.1.4.
    Data,
    /// RFC 5321 §4.1.1.5.
    Rset,
    /// RFC 5321 §4.1.1.6: `"VRFY" SP String`.
    Vrfy(String),
    /// RFC 5321 §4.1.1.7: `"EXPN" SP String`.
    Expn(String),
    /// RFC 5321 §4.1.1.8: `"HELP" [ SP String ]`.
    Help(Option<String>),
    /// RFC 5321 §4.1.1.9: `"NOOP" [ SP String ]`.
    Noop(Option<String>),
    /// RFC 5321 §4.1.1.10.
    Quit,
    /// RFC 3207 §4: `"STARTTLS"`.
    StartTls,
    /// RFC 4954 §4: `"AUTH" SP sasl-mech [SP initial-response]`; the response is base64 or `=`.
    Auth {
        mechanism: String,
        initial_response: Option<String>,
    },
    /// RFC 3030 §2: `"BDAT" SP chunk-size [ SP end-marker ]`, end-marker = "LAST".
    Bdat { size: u64, last: bool },
}

/// Why a command line was not accepted; each maps to one reply (RFC 5321 §4.2.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// Not a command verb this implementation knows: `500`.
    #[error("command unrecognized: {verb:?}")]
    Unrecognized { verb: String },
    /// A verb from the SMTP registry that is deliberately not implemented (TURN, ETRN,
    /// SEND, SOML, SAML, ...): `502` (RFC 5321 §4.2.4).
    #[error("command not implemented: {verb}")]
    NotImplemented { verb: String },
    /// A known command with malformed arguments: `501`.
    #[error("syntax error in {verb} arguments: {reason}")]
    Syntax { verb: &'static str, reason: String },
    /// A malformed path (MAIL / RCPT): `501` with 5.1.7 (sender) or 5.1.3 (recipient).
    #[error("bad path in {verb}: {source}")]
    Path {
        verb: &'static str,
        source: AddressError,
    },
    /// A malformed ESMTP parameter value: `501`.
    #[error("bad parameter in {verb}: {source}")]
    Param {
        verb: &'static str,
        source: ParamError,
    },
}

/// Verbs registered for SMTP that this implementation does not implement (502).
const NOT_IMPLEMENTED: &[&str] = &[
    "TURN", "ETRN", "ATRN", "SEND", "SOML", "SAML", "VERB", "ONEX", "XEXCH50", "XCLIENT",
    "XFORWARD",
];

/// Decode one command line (without its CRLF). Never panics.
pub fn decode_command(line: &[u8]) -> Result<Command, CommandError> {
    let verb_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let verb_bytes = line.get(..verb_end).unwrap_or_default();
    let verb = String::from_utf8_lossy(verb_bytes).to_ascii_uppercase();
    let rest = line.get(verb_end..).unwrap_or_default();
    let known = match verb.as_str() {
        "EHLO" => "EHLO",
        "HELO" => "HELO",
        "MAIL" => "MAIL",
        "RCPT" => "RCPT",
        "DATA" => "DATA",
        "RSET" => "RSET",
        "VRFY" => "VRFY",
        "EXPN" => "EXPN",
        "HELP" => "HELP",
        "NOOP" => "NOOP",
        "QUIT" => "QUIT",
        "STARTTLS" => "STARTTLS",
        "AUTH" => "AUTH",
        "BDAT" => "BDAT",
        v if NOT_IMPLEMENTED.contains(&v) => return Err(CommandError::NotImplemented { verb }),
        _ => {
            return Err(CommandError::Unrecognized {
                verb: truncate(verb, 32),
            });
        }
    };
    let syntax = |reason: &str| CommandError::Syntax {
        verb: known,
        reason: reason.to_string(),
    };
    // RFC 5321 §2.3.8 / §4.1.2: no control characters in commands; RFC 6531 allows UTF-8.
    let rest = std::str::from_utf8(rest).map_err(|_| syntax("not UTF-8"))?;
    if rest.chars().any(|c| c.is_control()) {
        return Err(syntax("control character"));
    }
    // `arg` is the text after exactly one SP, or None when the line is the bare verb.
    let arg = match rest {
        "" => None,
        r => Some(r.strip_prefix(' ').ok_or_else(|| syntax("expected SP"))?),
    };
    let no_arg = |c: Command| {
        if arg.is_none() {
            Ok(c)
        } else {
            Err(syntax("takes no argument"))
        }
    };
    let required = || {
        arg.filter(|a| !a.is_empty())
            .ok_or_else(|| syntax("argument required"))
    };
    match known {
        "EHLO" | "HELO" => {
            let a = required()?;
            let d = Domain::parse(a).map_err(|_| syntax("expected a domain or address literal"))?;
            Ok(if known == "EHLO" {
                Command::Ehlo(d)
            } else {
                Command::Helo(d)
            })
        }
        "MAIL" => {
            let a = required()?;
            let (path, params) = split_path_args(a, "FROM:")
                .ok_or_else(|| syntax("expected FROM:<reverse-path>"))?;
            let from = ReversePath::parse(path).map_err(|source| CommandError::Path {
                verb: "MAIL",
                source,
            })?;
            Ok(Command::Mail {
                from,
                params: parse_params(params, "MAIL")?,
            })
        }
        "RCPT" => {
            let a = required()?;
            let (path, params) =
                split_path_args(a, "TO:").ok_or_else(|| syntax("expected TO:<forward-path>"))?;
            let to = ForwardPath::parse(path).map_err(|source| CommandError::Path {
                verb: "RCPT",
                source,
            })?;
            Ok(Command::Rcpt {
                to,
                params: parse_params(params, "RCPT")?,
            })
        }
        "DATA" => no_arg(Command::Data),
        "RSET" => no_arg(Command::Rset),
        "QUIT" => no_arg(Command::Quit),
        "STARTTLS" => no_arg(Command::StartTls),
        "VRFY" => Ok(Command::Vrfy(required()?.to_string())),
        "EXPN" => Ok(Command::Expn(required()?.to_string())),
        "HELP" => Ok(Command::Help(arg.map(str::to_string))),
        "NOOP" => Ok(Command::Noop(arg.map(str::to_string))),
        "AUTH" => {
            let a = required()?;
            let (mech, initial) = match a.split_once(' ') {
                Some((m, i)) => (m, Some(i)),
                None => (a, None),
            };
            // sasl-mech = 1*20mech-char; mech-char = UPPER-ALPHA / DIGIT / HYPHEN / UNDERSCORE
            // (RFC 4422 §3.1; compared case-insensitively here).
            let mech_ok = !mech.is_empty()
                && mech.len() <= 20
                && mech
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            let initial_ok = initial.is_none_or(|i| i == "=" || is_base64(i));
            if !mech_ok || !initial_ok {
                return Err(syntax("expected AUTH mechanism [initial-response]"));
            }
            Ok(Command::Auth {
                mechanism: mech.to_ascii_uppercase(),
                initial_response: initial.map(str::to_string),
            })
        }
        "BDAT" => {
            let a = required()?;
            let (n, last) = match a.split_once(' ') {
                Some((n, l)) if l.eq_ignore_ascii_case("LAST") => (n, true),
                Some(_) => return Err(syntax("expected BDAT chunk-size [LAST]")),
                None => (a, false),
            };
            // chunk-size = 1*DIGIT
            if n.is_empty() || n.len() > 20 || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax("bad chunk size"));
            }
            let size = n.parse().map_err(|_| syntax("chunk size out of range"))?;
            Ok(Command::Bdat { size, last })
        }
        _ => Err(CommandError::Unrecognized { verb }),
    }
}

fn truncate(mut s: String, n: usize) -> String {
    if s.len() > n {
        let mut cut = n;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// True for base64 text (RFC 4648 §4 alphabet with `=` padding at the end only).
pub(crate) fn is_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    s.len().is_multiple_of(4)
        && s.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// Split `FROM:<path> params` (keyword case-insensitive, RFC 5321 §3.3: no space around
/// the colon). The path ends at the first `>` outside a quoted string.
fn split_path_args<'a>(arg: &'a str, keyword: &str) -> Option<(&'a str, &'a str)> {
    let kw = arg.get(..keyword.len())?;
    if !kw.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg.get(keyword.len()..)?;
    if !rest.starts_with('<') {
        return None;
    }
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == '>' && !quoted {
            return Some((rest.get(..=i)?, rest.get(i + 1..)?));
        }
    }
    None
}

/// `Mail-parameters = esmtp-param *(SP esmtp-param)` after the path.
fn parse_params(s: &str, verb: &'static str) -> Result<Vec<Param>, CommandError> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let s = s.strip_prefix(' ').ok_or(CommandError::Syntax {
        verb,
        reason: "expected SP after the path".into(),
    })?;
    s.split(' ')
        .map(|p| Param::parse(p).map_err(|source| CommandError::Param { verb, source }))
        .collect()
}

impl Command {
    /// The verb, upper case.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Ehlo(_) => "EHLO",
            Command::Helo(_) => "HELO",
            Command::Mail { .. } => "MAIL",
            Command::Rcpt { .. } => "RCPT",
            Command::Data => "DATA",
            Command::Rset => "RSET",
            Command::Vrfy(_) => "VRFY",
            Command::Expn(_) => "EXPN",
            Command::Help(_) => "HELP",
            Command::Noop(_) => "NOOP",
            Command::Quit => "QUIT",
            Command::StartTls => "STARTTLS",
            Command::Auth { .. } => "AUTH",
            Command::Bdat { .. } => "BDAT",
        }
    }

    /// The command line with its CRLF.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = self.to_string().into_bytes();
        s.extend_from_slice(b"\r\n");
        s
    }
}

impl fmt::Display for Command {
    /// The command line without CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params = |f: &mut fmt::Formatter<'_>, ps: &[Param]| {
            ps.iter().try_for_each(|p| write!(f, " {p}"))
        };
        match self {
            Command::Ehlo(d) => write!(f, "EHLO {d}"),
            Command::Helo(d) => write!(f, "HELO {d}"),
            Command::Mail { from, params: ps } => {
                write!(f, "MAIL FROM:{from}")?;
                params(f, ps)
            }
            Command::Rcpt { to, params: ps } => {
                write!(f, "RCPT TO:{to}")?;
                params(f, ps)
            }
            Command::Vrfy(s) => write!(f, "VRFY {s}"),
            Command::Expn(s) => write!(f, "EXPN {s}"),
            Command::Help(Some(s)) => write!(f, "HELP {s}"),
            Command::Noop(Some(s)) => write!(f, "NOOP {s}"),
            Command::Auth {
                mechanism,
                initial_response: Some(i),
            } => write!(f, "AUTH {mechanism} {i}"),
            Command::Auth {
                mechanism,
                initial_response: None,
            } => write!(f, "AUTH {mechanism}"),
            Command::Bdat { size, last: true } => write!(f, "BDAT {size} LAST"),
            Command::Bdat { size, last: false } => write!(f, "BDAT {size}"),
            other => f.write_str(other.verb()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::address::Mailbox;

    fn ok(s: &str) -> Command {
        decode_command(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn round_trips() {
        for s in [
            "EHLO client.example",
            "EHLO [127.0.0.1]",
            "HELO client.example",
            "MAIL FROM:<>",
            "MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME",
            "RCPT TO:<Postmaster>",
            "RCPT TO:<\"a b\"@c.example> NOTIFY=NEVER ORCPT=rfc822;a@c.example",
            "DATA",
            "RSET",
            "VRFY alice",
            "EXPN staff",
            "HELP",
            "HELP MAIL",
            "NOOP",
            "NOOP x",
            "QUIT",
            "STARTTLS",
            "AUTH PLAIN",
            "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
            "AUTH LOGIN =",
            "BDAT 100",
            "BDAT 0 LAST",
        ] {
            let c = ok(s);
            assert_eq!(c.to_string(), s);
            let enc = c.encode();
            let line = enc.strip_suffix(b"\r\n").unwrap();
            assert_eq!(decode_command(line).unwrap(), c);
        }
    }

    #[test]
    fn case_insensitive_verbs_and_keywords() {
        assert_eq!(
            ok("mail from:<a@b.example>"),
            Command::Mail {
                from: ReversePath::Mailbox(Mailbox::parse("a@b.example").unwrap()),
                params: vec![]
            }
        );
        assert_eq!(
            ok("bdat 5 last"),
            Command::Bdat {
                size: 5,
                last: true
            }
        );
    }

    #[test]
    fn quoted_gt_does_not_end_the_path() {
        let c = ok("RCPT TO:<\"a>b\"@c.example> NOTIFY=SUCCESS");
        let Command::Rcpt { to, params } = c else {
            panic!()
        };
        assert_eq!(to.mailbox().unwrap().local_part(), "\"a>b\"");
        assert_eq!(params.len(), 1);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            decode_command(b"FOO bar"),
            Err(CommandError::Unrecognized { .. })
        ));
        assert!(matches!(
            decode_command(b""),
            Err(CommandError::Unrecognized { .. })
        ));
        assert!(matches!(
            decode_command(b"TURN"),
            Err(CommandError::NotImplemented { .. })
        ));
        for bad in [
            "EHLO",
            "EHLO ",
            "HELO a_b",
            "MAIL FROM: <a@b>",
            "MAIL FROM:a@b",
            "MAIL TO:<a@b>",
            "MAIL FROM:<a@b>  SIZE=1",
            "MAIL FROM:<a@b> SIZE=x",
            "RCPT TO:<>",
            "RCPT TO:<a@b",
            "DATA x",
            "QUIT ",
            "VRFY",
            "AUTH",
            "AUTH PLAIN !!!",
            "BDAT",
            "BDAT x",
            "BDAT 1 FIRST",
            "NOOP a\u{0}",
            "MAIL FROM:<a@b>\u{7f}",
        ] {
            let e = decode_command(bad.as_bytes());
            assert!(
                matches!(
                    e,
                    Err(CommandError::Syntax { .. }
                        | CommandError::Path { .. }
                        | CommandError::Param { .. })
                ),
                "{bad:?}: {e:?}"
            );
        }
        assert!(decode_command(b"NOOP \xff").is_err());
    }
}
