//! POP3 commands (RFC 1939 §3: "a case-insensitive keyword, possibly followed by one or more
//! arguments ... separated by a single SPACE character").

/// One POP3 command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Command {
    /// RFC 1939 §7 `USER name`.
    User(String),
    /// RFC 1939 §7 `PASS string`: the rest of the line, spaces included.
    Pass(String),
    /// RFC 1939 §7 `APOP name digest`.
    Apop {
        /// The mailbox name.
        name: String,
        /// MD5 of the greeting's timestamp and the shared secret, 32 lower-case hex digits.
        digest: String,
    },
    /// RFC 1939 §5/§6 `QUIT`.
    Quit,
    /// RFC 1939 §5 `STAT`.
    Stat,
    /// RFC 1939 §5 `LIST [msg]`.
    List(Option<u32>),
    /// RFC 1939 §5 `RETR msg`.
    Retr(u32),
    /// RFC 1939 §5 `DELE msg`.
    Dele(u32),
    /// RFC 1939 §5 `NOOP`.
    Noop,
    /// RFC 1939 §5 `RSET`.
    Rset,
    /// RFC 1939 §7 `TOP msg n`.
    Top {
        /// The message number.
        msg: u32,
        /// Lines of the body to send.
        lines: u32,
    },
    /// RFC 1939 §7 `UIDL [msg]`.
    Uidl(Option<u32>),
    /// RFC 2449 §5 `CAPA`.
    Capa,
    /// RFC 2595 §4 `STLS`.
    Stls,
    /// RFC 5034 §4 `AUTH mechanism [initial-response]`; without a mechanism, the
    /// (RFC 1734-era, still widely answered) request to list the mechanisms.
    Auth {
        /// The SASL mechanism, as sent.
        mechanism: Option<String>,
        /// The base64 initial response, or `=` for an empty one.
        initial: Option<String>,
    },
}

/// Why a line is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The line is empty.
    #[error("empty command")]
    Empty,
    /// The keyword is not a POP3 command.
    #[error("unknown command {0:?}")]
    Unknown(String),
    /// A required argument is missing.
    #[error("{0}: missing argument")]
    MissingArgument(&'static str),
    /// More arguments than the command takes.
    #[error("{0}: too many arguments")]
    TooManyArguments(&'static str),
    /// A message number or line count is not a decimal number that fits 32 bits.
    #[error("{0}: bad number")]
    BadNumber(&'static str),
    /// An argument is not UTF-8 or holds control characters.
    #[error("{0}: bad argument")]
    BadArgument(&'static str),
}

impl Command {
    /// The command's keyword in upper case.
    pub fn keyword(&self) -> &'static str {
        match self {
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Apop { .. } => "APOP",
            Command::Quit => "QUIT",
            Command::Stat => "STAT",
            Command::List(_) => "LIST",
            Command::Retr(_) => "RETR",
            Command::Dele(_) => "DELE",
            Command::Noop => "NOOP",
            Command::Rset => "RSET",
            Command::Top { .. } => "TOP",
            Command::Uidl(_) => "UIDL",
            Command::Capa => "CAPA",
            Command::Stls => "STLS",
            Command::Auth { .. } => "AUTH",
        }
    }

    /// Whether a `+OK` answer to this command carries a multi-line body (RFC 1939 §5, §7;
    /// RFC 2449 §5 CAPA; AUTH without a mechanism lists mechanisms).
    pub fn is_multiline(&self) -> bool {
        matches!(
            self,
            Command::List(None)
                | Command::Uidl(None)
                | Command::Retr(_)
                | Command::Top { .. }
                | Command::Capa
                | Command::Auth { mechanism: None, .. }
        )
    }

    /// The command line, CRLF included.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = String::from(self.keyword());
        let mut arg = |a: &dyn std::fmt::Display| {
            s.push(' ');
            s.push_str(&a.to_string());
        };
        match self {
            Command::User(x) | Command::Pass(x) => arg(x),
            Command::Apop { name, digest } => {
                arg(name);
                arg(digest);
            }
            Command::List(Some(n)) | Command::Uidl(Some(n)) | Command::Retr(n) | Command::Dele(n) => arg(n),
            Command::Top { msg, lines } => {
                arg(msg);
                arg(lines);
            }
            Command::Auth { mechanism, initial } => {
                if let Some(m) = mechanism {
                    arg(m);
                }
                if let Some(i) = initial {
                    arg(i);
                }
            }
            Command::Quit
            | Command::Stat
            | Command::List(None)
            | Command::Noop
            | Command::Rset
            | Command::Uidl(None)
            | Command::Capa
            | Command::Stls => {}
        }
        let mut out = s.into_bytes();
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// Decode one command line (without its CRLF).
pub fn decode_command(line: &[u8]) -> Result<Command, CommandError> {
    let (kw, rest) = match line.iter().position(|&b| b == b' ') {
        Some(i) => (line.get(..i).unwrap_or_default(), line.get(i + 1..).unwrap_or_default()),
        None => (line, &[][..]),
    };
    if kw.is_empty() {
        return Err(CommandError::Empty);
    }
    let kw_up = kw.to_ascii_uppercase();
    let name: &'static str = match kw_up.as_slice() {
        b"USER" => "USER",
        b"PASS" => "PASS",
        b"APOP" => "APOP",
        b"QUIT" => "QUIT",
        b"STAT" => "STAT",
        b"LIST" => "LIST",
        b"RETR" => "RETR",
        b"DELE" => "DELE",
        b"NOOP" => "NOOP",
        b"RSET" => "RSET",
        b"TOP" => "TOP",
        b"UIDL" => "UIDL",
        b"CAPA" => "CAPA",
        b"STLS" => "STLS",
        b"AUTH" => "AUTH",
        _ => return Err(CommandError::Unknown(String::from_utf8_lossy(kw).into_owned())),
    };
    if name == "PASS" {
        // RFC 1939 §7: "a POP3 server may treat spaces in the argument as part of the
        // password, instead of as argument separators".
        if rest.is_empty() {
            return Err(CommandError::MissingArgument(name));
        }
        return Ok(Command::Pass(text(rest, name)?));
    }
    let args: Vec<&[u8]> = rest.split(|&b| b == b' ').filter(|a| !a.is_empty()).collect();
    let arity = |min: usize, max: usize| {
        if args.len() < min {
            Err(CommandError::MissingArgument(name))
        } else if args.len() > max {
            Err(CommandError::TooManyArguments(name))
        } else {
            Ok(())
        }
    };
    let arg = |i: usize| args.get(i).copied().unwrap_or_default();
    let num = |i: usize| number(arg(i), name);
    let cmd = match name {
        "USER" => {
            arity(1, 1)?;
            Command::User(text(arg(0), name)?)
        }
        "APOP" => {
            arity(2, 2)?;
            Command::Apop { name: text(arg(0), name)?, digest: text(arg(1), name)? }
        }
        "LIST" | "UIDL" => {
            arity(0, 1)?;
            let n = if args.is_empty() { None } else { Some(num(0)?) };
            if name == "LIST" { Command::List(n) } else { Command::Uidl(n) }
        }
        "RETR" | "DELE" => {
            arity(1, 1)?;
            if name == "RETR" { Command::Retr(num(0)?) } else { Command::Dele(num(0)?) }
        }
        "TOP" => {
            arity(2, 2)?;
            Command::Top { msg: num(0)?, lines: num(1)? }
        }
        "AUTH" => {
            arity(0, 2)?;
            let opt = |i: usize| args.get(i).map(|a| text(a, name)).transpose();
            Command::Auth { mechanism: opt(0)?, initial: opt(1)? }
        }
        _ => {
            arity(0, 0)?;
            match name {
                "QUIT" => Command::Quit,
                "STAT" => Command::Stat,
                "NOOP" => Command::Noop,
                "RSET" => Command::Rset,
                "CAPA" => Command::Capa,
                _ => Command::Stls,
            }
        }
    };
    Ok(cmd)
}

/// Whether the response to `command_line` (with or without its CRLF) is multi-line when it
/// is `+OK`: LIST and UIDL without argument, RETR, TOP (RFC 1939), CAPA (RFC 2449), AUTH
/// without argument. A line that is not a valid command gets a single-line `-ERR`.
pub fn response_is_multiline(command_line: &[u8]) -> bool {
    let line = command_line.strip_suffix(b"\r\n").unwrap_or(command_line);
    decode_command(line).is_ok_and(|c| c.is_multiline())
}

fn number(a: &[u8], name: &'static str) -> Result<u32, CommandError> {
    if a.is_empty() || !a.iter().all(u8::is_ascii_digit) {
        return Err(CommandError::BadNumber(name));
    }
    std::str::from_utf8(a).ok().and_then(|s| s.parse().ok()).ok_or(CommandError::BadNumber(name))
}

fn text(a: &[u8], name: &'static str) -> Result<String, CommandError> {
    match std::str::from_utf8(a) {
        Ok(s) if !s.chars().any(char::is_control) => Ok(s.to_string()),
        _ => Err(CommandError::BadArgument(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_command() {
        let cases: &[(&[u8], Command)] = &[
            (b"user alice", Command::User("alice".into())),
            (b"PASS my secret ", Command::Pass("my secret ".into())),
            (
                b"APOP mrose c4c9334bac560ecc979e58001b3e22fb",
                Command::Apop { name: "mrose".into(), digest: "c4c9334bac560ecc979e58001b3e22fb".into() },
            ),
            (b"QUIT", Command::Quit),
            (b"stat", Command::Stat),
            (b"LIST", Command::List(None)),
            (b"LIST 2", Command::List(Some(2))),
            (b"RETR 1", Command::Retr(1)),
            (b"DELE 10", Command::Dele(10)),
            (b"NOOP", Command::Noop),
            (b"RSET", Command::Rset),
            (b"TOP 1 0", Command::Top { msg: 1, lines: 0 }),
            (b"UIDL", Command::Uidl(None)),
            (b"UIDL 3", Command::Uidl(Some(3))),
            (b"CAPA", Command::Capa),
            (b"STLS", Command::Stls),
            (b"AUTH", Command::Auth { mechanism: None, initial: None }),
            (b"AUTH PLAIN", Command::Auth { mechanism: Some("PLAIN".into()), initial: None }),
            (b"AUTH PLAIN =", Command::Auth { mechanism: Some("PLAIN".into()), initial: Some("=".into()) }),
        ];
        for (line, cmd) in cases {
            assert_eq!(&decode_command(line).unwrap(), cmd, "{}", String::from_utf8_lossy(line));
            let enc = cmd.encode();
            assert_eq!(&decode_command(enc.strip_suffix(b"\r\n").unwrap()).unwrap(), cmd);
        }
    }

    #[test]
    fn refuses_malformed_commands() {
        assert_eq!(decode_command(b""), Err(CommandError::Empty));
        assert_eq!(decode_command(b" LIST"), Err(CommandError::Empty));
        assert_eq!(decode_command(b"XYZZY"), Err(CommandError::Unknown("XYZZY".into())));
        assert_eq!(decode_command(b"RETR"), Err(CommandError::MissingArgument("RETR")));
        assert_eq!(decode_command(b"RETR 1 2"), Err(CommandError::TooManyArguments("RETR")));
        assert_eq!(decode_command(b"RETR x"), Err(CommandError::BadNumber("RETR")));
        assert_eq!(decode_command(b"RETR -1"), Err(CommandError::BadNumber("RETR")));
        assert_eq!(decode_command(b"RETR 99999999999"), Err(CommandError::BadNumber("RETR")));
        assert_eq!(decode_command(b"QUIT now"), Err(CommandError::TooManyArguments("QUIT")));
        assert_eq!(decode_command(b"PASS"), Err(CommandError::MissingArgument("PASS")));
        assert_eq!(decode_command(b"USER \xff"), Err(CommandError::BadArgument("USER")));
        assert_eq!(decode_command(b"USER a\tb"), Err(CommandError::BadArgument("USER")));
    }

    #[test]
    fn multiline_responses() {
        for yes in [&b"LIST"[..], b"uidl\r\n", b"RETR 1", b"TOP 1 5", b"CAPA", b"AUTH"] {
            assert!(response_is_multiline(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [&b"LIST 1"[..], b"UIDL 1", b"STAT", b"AUTH PLAIN", b"USER a", b"DELE 1", b"bogus", b"RETR"] {
            assert!(!response_is_multiline(no), "{}", String::from_utf8_lossy(no));
        }
    }
}
