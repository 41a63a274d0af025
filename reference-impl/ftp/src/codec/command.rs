//! FTP commands (RFC 959 §5.3, RFC 2389, RFC 2428, RFC 3659, RFC 4217): decoding a command
//! line into a [`Command`] and encoding it back.

use std::net::{SocketAddr, SocketAddrV4};

use thiserror::Error;

use super::address::{format_eprt, format_port, parse_eprt, parse_port};

/// Why a command line is not a command this codec knows.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CommandError {
    /// An empty line or an unknown verb: `500` (RFC 959 §4.2.1 "Syntax error, command
    /// unrecognized").
    #[error("command unrecognized: {verb:?}")]
    Unrecognized {
        /// The verb as sent (upper-cased, at most 16 bytes).
        verb: String,
    },
    /// A verb of an FTP extension this implementation does not provide: `502` (RFC 959
    /// §4.2.1 "Command not implemented").
    #[error("command not implemented: {verb}")]
    NotImplemented {
        /// The verb.
        verb: String,
    },
    /// A known verb with a missing, superfluous or malformed argument: `501` (RFC 959
    /// §4.2.1 "Syntax error in parameters or arguments").
    #[error("syntax error in parameters of {verb}")]
    Syntax {
        /// The verb.
        verb: String,
    },
    /// `EPRT` / `EPSV` naming a network protocol other than 1 (IPv4) or 2 (IPv6): `522`
    /// (RFC 2428 §2, §3).
    #[error("network protocol not supported")]
    NetworkProtocol,
}

impl CommandError {
    /// The reply code RFC 959 / RFC 2428 give for this error.
    pub fn reply_code(&self) -> u16 {
        match self {
            CommandError::Unrecognized { .. } => 500,
            CommandError::NotImplemented { .. } => 502,
            CommandError::Syntax { .. } => 501,
            CommandError::NetworkProtocol => 522,
        }
    }
}

/// RFC 959 §3.1.1.5 format control for ASCII and EBCDIC types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatControl {
    /// `N`: non-print (the default).
    NonPrint,
    /// `T`: Telnet format effectors.
    Telnet,
    /// `C`: carriage control (ASA).
    Asa,
}

/// RFC 959 §3.1.1: the representation type of `TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeCode {
    /// `A [N|T|C]`: ASCII; `None` when no format was given (defaults to non-print).
    Ascii(Option<FormatControl>),
    /// `E [N|T|C]`: EBCDIC.
    Ebcdic(Option<FormatControl>),
    /// `I`: image (binary).
    Image,
    /// `L <byte size>`: local byte size.
    Local(u8),
}

/// RFC 959 §3.1.2: file structure of `STRU`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StructureCode {
    /// `F`: file (no record structure), the default.
    File,
    /// `R`: record structure.
    Record,
    /// `P`: page structure.
    Page,
}

/// RFC 959 §3.4: transmission mode of `MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeCode {
    /// `S`: stream, the default.
    Stream,
    /// `B`: block.
    Block,
    /// `C`: compressed.
    Compressed,
}

/// RFC 2428 §3: the argument of `EPSV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpsvArg {
    /// `EPSV 1` / `EPSV 2`: a network protocol.
    Protocol(u8),
    /// `EPSV ALL`: only EPSV from now on.
    All,
}

/// RFC 4217 §9 / RFC 2228: the data channel protection level of `PROT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtLevel {
    /// `C`: clear.
    Clear,
    /// `S`: safe (integrity only).
    Safe,
    /// `E`: confidential.
    Confidential,
    /// `P`: private (TLS on the data connection).
    Private,
}

/// One FTP command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// RFC 959 §4.1.1 `USER <username>`.
    User(String),
    /// RFC 959 §4.1.1 `PASS <password>`.
    Pass(String),
    /// RFC 959 §4.1.1 `ACCT <account-information>`.
    Acct(String),
    /// RFC 959 §4.1.1 `CWD <pathname>`.
    Cwd(String),
    /// RFC 959 §4.1.1 `CDUP`.
    Cdup,
    /// RFC 959 §4.1.1 `SMNT <pathname>`.
    Smnt(String),
    /// RFC 959 §4.1.1 `REIN`.
    Rein,
    /// RFC 959 §4.1.1 `QUIT`.
    Quit,
    /// RFC 959 §4.1.2 `PORT h1,h2,h3,h4,p1,p2`.
    Port(SocketAddrV4),
    /// RFC 959 §4.1.2 `PASV`.
    Pasv,
    /// RFC 959 §4.1.2 `TYPE <type-code>`.
    Type(TypeCode),
    /// RFC 959 §4.1.2 `STRU <structure-code>`.
    Stru(StructureCode),
    /// RFC 959 §4.1.2 `MODE <mode-code>`.
    Mode(ModeCode),
    /// RFC 959 §4.1.3 `RETR <pathname>`.
    Retr(String),
    /// RFC 959 §4.1.3 `STOR <pathname>`.
    Stor(String),
    /// RFC 959 §4.1.3 `STOU`.
    Stou,
    /// RFC 959 §4.1.3 `APPE <pathname>`.
    Appe(String),
    /// RFC 959 §4.1.3 `ALLO <size> [R <record size>]`.
    Allo(u64, Option<u64>),
    /// RFC 959 §4.1.3 / RFC 3659 §5 `REST <marker>`: a byte offset in stream mode.
    Rest(u64),
    /// RFC 959 §4.1.3 `RNFR <pathname>`.
    Rnfr(String),
    /// RFC 959 §4.1.3 `RNTO <pathname>`.
    Rnto(String),
    /// RFC 959 §4.1.3 `ABOR`.
    Abor,
    /// RFC 959 §4.1.3 `DELE <pathname>`.
    Dele(String),
    /// RFC 959 §4.1.3 `RMD <pathname>`.
    Rmd(String),
    /// RFC 959 §4.1.3 `MKD <pathname>`.
    Mkd(String),
    /// RFC 959 §4.1.3 `PWD`.
    Pwd,
    /// RFC 959 §4.1.3 `LIST [<pathname>]`.
    List(Option<String>),
    /// RFC 959 §4.1.3 `NLST [<pathname>]`.
    Nlst(Option<String>),
    /// RFC 959 §4.1.3 `SITE <string>`.
    Site(String),
    /// RFC 959 §4.1.3 `SYST`.
    Syst,
    /// RFC 959 §4.1.3 `STAT [<pathname>]`.
    Stat(Option<String>),
    /// RFC 959 §4.1.3 `HELP [<string>]`.
    Help(Option<String>),
    /// RFC 959 §4.1.3 `NOOP`.
    Noop,
    /// RFC 2428 §2 `EPRT |net-prt|net-addr|tcp-port|`.
    Eprt(SocketAddr),
    /// RFC 2428 §3 `EPSV [<net-prt> | ALL]`.
    Epsv(Option<EpsvArg>),
    /// RFC 2389 §3 `FEAT`.
    Feat,
    /// RFC 2389 §4 `OPTS <command-name> [<command-options>]`.
    Opts(String, Option<String>),
    /// RFC 3659 §4 `SIZE <pathname>`.
    Size(String),
    /// RFC 3659 §3 `MDTM <pathname>`.
    Mdtm(String),
    /// RFC 3659 §7 `MLST [<pathname>]`.
    Mlst(Option<String>),
    /// RFC 3659 §7 `MLSD [<pathname>]`.
    Mlsd(Option<String>),
    /// RFC 4217 §4 / RFC 2228 `AUTH <mechanism>`.
    Auth(String),
    /// RFC 4217 §8 / RFC 2228 `PBSZ <decimal-integer>`.
    Pbsz(u64),
    /// RFC 4217 §9 / RFC 2228 `PROT <level>`.
    Prot(ProtLevel),
}

/// Verbs of FTP extensions this implementation knows of but does not provide (`502`).
const NOT_IMPLEMENTED: &[&str] = &[
    "ADAT", "MIC", "CONF", "ENC", "CCC", "LANG", "MFMT", "MFCT", "MFF", "HOST",
];

/// Remove Telnet commands from a control line (RFC 959 §4.1.3 sends `ABOR` after Telnet
/// IP and Synch): `IAC IAC` is a data byte 255, `IAC WILL|WONT|DO|DONT <option>` and every
/// other `IAC <command>` are dropped.
pub fn strip_telnet(line: &[u8]) -> Vec<u8> {
    const IAC: u8 = 255;
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while let Some(&b) = line.get(i) {
        if b != IAC {
            out.push(b);
            i += 1;
            continue;
        }
        match line.get(i + 1) {
            Some(&IAC) => {
                out.push(IAC);
                i += 2;
            }
            Some(251..=254) => i += 3,
            Some(_) => i += 2,
            None => i += 1,
        }
    }
    out
}

impl Command {
    /// Decode one control line (without its CRLF, Telnet commands already stripped).
    ///
    /// RFC 959 §5.3: the verb is case-insensitive and separated from its argument by one
    /// space; pathnames may contain spaces, so a path argument is everything after it. Text
    /// arguments must be UTF-8 (RFC 2640 §2.2).
    pub fn decode(line: &[u8]) -> Result<Command, CommandError> {
        let (verb_bytes, arg_bytes) = match line.iter().position(|&b| b == b' ') {
            Some(i) => (line.get(..i).unwrap_or_default(), line.get(i + 1..)),
            None => (line, None),
        };
        let verb_shown = String::from_utf8_lossy(verb_bytes.get(..verb_bytes.len().min(16)).unwrap_or_default())
            .to_ascii_uppercase();
        if verb_bytes.is_empty() || verb_bytes.len() > 4 || !verb_bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(CommandError::Unrecognized { verb: verb_shown });
        }
        let verb = verb_shown;
        let syntax = || CommandError::Syntax { verb: verb.clone() };
        // RFC 959 §4.1.3: <CRLF> ends a command, and §5.3.2 <char> is any ASCII character
        // except CR and LF: a bare CR or LF the line reader left inside an argument is a
        // syntax error of a known verb (501), never part of a path or a text.
        let stray_line_end = arg_bytes.is_some_and(|b| b.iter().any(|&c| c == b'\r' || c == b'\n'));
        let arg: Option<&str> = match arg_bytes {
            None => None,
            Some(b) => Some(std::str::from_utf8(b).map_err(|_| syntax())?),
        };
        // A required, non-empty argument.
        let req = || arg.filter(|a| !a.is_empty()).map(str::to_owned).ok_or_else(syntax);
        // An optional argument (an empty one is as if absent).
        let opt = || arg.filter(|a| !a.is_empty()).map(str::to_owned);
        let none = |c: Command| if arg.is_none() { Ok(c) } else { Err(syntax()) };
        let one_letter = || -> Result<char, CommandError> {
            let a = arg.ok_or_else(syntax)?;
            let mut cs = a.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => Ok(c.to_ascii_uppercase()),
                _ => Err(syntax()),
            }
        };
        let decimal = |s: &str| -> Result<u64, CommandError> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            s.parse().map_err(|_| syntax())
        };
        let cmd = match verb.as_str() {
            "USER" => Command::User(req()?),
            // An empty password is a password (anonymous logins send one).
            "PASS" => Command::Pass(arg.unwrap_or_default().to_owned()),
            "ACCT" => Command::Acct(req()?),
            "CWD" | "XCWD" => Command::Cwd(req()?),
            "CDUP" | "XCUP" => none(Command::Cdup)?,
            "SMNT" => Command::Smnt(req()?),
            "REIN" => none(Command::Rein)?,
            "QUIT" => none(Command::Quit)?,
            "PORT" => Command::Port(parse_port(&req()?).ok_or_else(syntax)?),
            "PASV" => none(Command::Pasv)?,
            "TYPE" => Command::Type(decode_type(arg.ok_or_else(syntax)?).ok_or_else(syntax)?),
            "STRU" => Command::Stru(match one_letter()? {
                'F' => StructureCode::File,
                'R' => StructureCode::Record,
                'P' => StructureCode::Page,
                _ => return Err(syntax()),
            }),
            "MODE" => Command::Mode(match one_letter()? {
                'S' => ModeCode::Stream,
                'B' => ModeCode::Block,
                'C' => ModeCode::Compressed,
                _ => return Err(syntax()),
            }),
            "RETR" => Command::Retr(req()?),
            "STOR" => Command::Stor(req()?),
            "STOU" => none(Command::Stou)?,
            "APPE" => Command::Appe(req()?),
            "ALLO" => {
                let a = req()?;
                let parts: Vec<&str> = a.split(' ').collect();
                match parts.as_slice() {
                    [n] => Command::Allo(decimal(n)?, None),
                    [n, r, m] if r.eq_ignore_ascii_case("R") => Command::Allo(decimal(n)?, Some(decimal(m)?)),
                    _ => return Err(syntax()),
                }
            }
            "REST" => Command::Rest(decimal(&req()?)?),
            "RNFR" => Command::Rnfr(req()?),
            "RNTO" => Command::Rnto(req()?),
            "ABOR" => none(Command::Abor)?,
            "DELE" => Command::Dele(req()?),
            "RMD" | "XRMD" => Command::Rmd(req()?),
            "MKD" | "XMKD" => Command::Mkd(req()?),
            "PWD" | "XPWD" => none(Command::Pwd)?,
            "LIST" => Command::List(opt()),
            "NLST" => Command::Nlst(opt()),
            "SITE" => Command::Site(req()?),
            "SYST" => none(Command::Syst)?,
            "STAT" => Command::Stat(opt()),
            "HELP" => Command::Help(opt()),
            "NOOP" => none(Command::Noop)?,
            "EPRT" => {
                let a = req()?;
                match parse_eprt(&a) {
                    Some(addr) => Command::Eprt(addr),
                    None if eprt_shape_with_other_protocol(&a) => return Err(CommandError::NetworkProtocol),
                    None => return Err(syntax()),
                }
            }
            "EPSV" => Command::Epsv(match opt() {
                None => None,
                Some(a) if a.eq_ignore_ascii_case("ALL") => Some(EpsvArg::All),
                Some(a) => match decimal(&a).ok() {
                    Some(n @ (1 | 2)) => Some(EpsvArg::Protocol(n as u8)),
                    Some(_) => return Err(CommandError::NetworkProtocol),
                    None => return Err(syntax()),
                },
            }),
            "FEAT" => none(Command::Feat)?,
            "OPTS" => {
                let a = req()?;
                match a.split_once(' ') {
                    Some((c, o)) => Command::Opts(c.to_ascii_uppercase(), Some(o.to_owned())),
                    None => Command::Opts(a.to_ascii_uppercase(), None),
                }
            }
            "SIZE" => Command::Size(req()?),
            "MDTM" => Command::Mdtm(req()?),
            "MLST" => Command::Mlst(opt()),
            "MLSD" => Command::Mlsd(opt()),
            "AUTH" => Command::Auth(req()?),
            "PBSZ" => Command::Pbsz(decimal(&req()?)?),
            "PROT" => Command::Prot(match one_letter()? {
                'C' => ProtLevel::Clear,
                'S' => ProtLevel::Safe,
                'E' => ProtLevel::Confidential,
                'P' => ProtLevel::Private,
                _ => return Err(syntax()),
            }),
            v if NOT_IMPLEMENTED.contains(&v) => return Err(CommandError::NotImplemented { verb }),
            _ => return Err(CommandError::Unrecognized { verb }),
        };
        if stray_line_end {
            return Err(syntax());
        }
        Ok(cmd)
    }

    /// The command's verb, upper case.
    pub fn verb(&self) -> &'static str {
        use Command::*;
        match self {
            User(_) => "USER",
            Pass(_) => "PASS",
            Acct(_) => "ACCT",
            Cwd(_) => "CWD",
            Cdup => "CDUP",
            Smnt(_) => "SMNT",
            Rein => "REIN",
            Quit => "QUIT",
            Port(_) => "PORT",
            Pasv => "PASV",
            Type(_) => "TYPE",
            Stru(_) => "STRU",
            Mode(_) => "MODE",
            Retr(_) => "RETR",
            Stor(_) => "STOR",
            Stou => "STOU",
            Appe(_) => "APPE",
            Allo(..) => "ALLO",
            Rest(_) => "REST",
            Rnfr(_) => "RNFR",
            Rnto(_) => "RNTO",
            Abor => "ABOR",
            Dele(_) => "DELE",
            Rmd(_) => "RMD",
            Mkd(_) => "MKD",
            Pwd => "PWD",
            List(_) => "LIST",
            Nlst(_) => "NLST",
            Site(_) => "SITE",
            Syst => "SYST",
            Stat(_) => "STAT",
            Help(_) => "HELP",
            Noop => "NOOP",
            Eprt(_) => "EPRT",
            Epsv(_) => "EPSV",
            Feat => "FEAT",
            Opts(..) => "OPTS",
            Size(_) => "SIZE",
            Mdtm(_) => "MDTM",
            Mlst(_) => "MLST",
            Mlsd(_) => "MLSD",
            Auth(_) => "AUTH",
            Pbsz(_) => "PBSZ",
            Prot(_) => "PROT",
        }
    }

    /// The command line, CRLF included, in the canonical form [`Command::decode`] reads back.
    pub fn encode(&self) -> Vec<u8> {
        use Command::*;
        let arg: Option<String> = match self {
            User(s) | Pass(s) | Acct(s) | Cwd(s) | Smnt(s) | Retr(s) | Stor(s) | Appe(s) | Rnfr(s) | Rnto(s)
            | Dele(s) | Rmd(s) | Mkd(s) | Site(s) | Size(s) | Mdtm(s) | Auth(s) => Some(s.clone()),
            List(o) | Nlst(o) | Stat(o) | Help(o) | Mlst(o) | Mlsd(o) => o.clone(),
            Cdup | Rein | Quit | Pasv | Stou | Abor | Pwd | Syst | Noop | Feat => None,
            Port(a) => Some(format_port(*a)),
            Eprt(a) => Some(format_eprt(*a)),
            Type(t) => Some(encode_type(*t)),
            Stru(s) => Some(
                match s {
                    StructureCode::File => "F",
                    StructureCode::Record => "R",
                    StructureCode::Page => "P",
                }
                .into(),
            ),
            Mode(m) => Some(
                match m {
                    ModeCode::Stream => "S",
                    ModeCode::Block => "B",
                    ModeCode::Compressed => "C",
                }
                .into(),
            ),
            Allo(n, None) => Some(n.to_string()),
            Allo(n, Some(r)) => Some(format!("{n} R {r}")),
            Rest(n) | Pbsz(n) => Some(n.to_string()),
            Epsv(None) => None,
            Epsv(Some(EpsvArg::All)) => Some("ALL".into()),
            Epsv(Some(EpsvArg::Protocol(p))) => Some(p.to_string()),
            Opts(c, None) => Some(c.clone()),
            Opts(c, Some(o)) => Some(format!("{c} {o}")),
            Prot(p) => Some(
                match p {
                    ProtLevel::Clear => "C",
                    ProtLevel::Safe => "S",
                    ProtLevel::Confidential => "E",
                    ProtLevel::Private => "P",
                }
                .into(),
            ),
        };
        let mut out = self.verb().as_bytes().to_vec();
        if let Some(a) = arg {
            out.push(b' ');
            out.extend(a.bytes().filter(|&b| b != b'\r' && b != b'\n'));
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// `A [N|T|C]`, `E [N|T|C]`, `I`, `L <byte size>` (RFC 959 §5.3.2, case-insensitive).
fn decode_type(arg: &str) -> Option<TypeCode> {
    let parts: Vec<&str> = arg.split(' ').collect();
    let format = |s: &str| match s.to_ascii_uppercase().as_str() {
        "N" => Some(FormatControl::NonPrint),
        "T" => Some(FormatControl::Telnet),
        "C" => Some(FormatControl::Asa),
        _ => None,
    };
    let code = parts.first()?.to_ascii_uppercase();
    match (code.as_str(), parts.get(1..).unwrap_or_default()) {
        ("A", []) => Some(TypeCode::Ascii(None)),
        ("A", [f]) => Some(TypeCode::Ascii(Some(format(f)?))),
        ("E", []) => Some(TypeCode::Ebcdic(None)),
        ("E", [f]) => Some(TypeCode::Ebcdic(Some(format(f)?))),
        ("I", []) => Some(TypeCode::Image),
        ("L", [n]) if !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()) => {
            n.parse::<u8>().ok().filter(|&b| b > 0).map(TypeCode::Local)
        }
        _ => None,
    }
}

fn encode_type(t: TypeCode) -> String {
    let f = |f: Option<FormatControl>| match f {
        None => "",
        Some(FormatControl::NonPrint) => " N",
        Some(FormatControl::Telnet) => " T",
        Some(FormatControl::Asa) => " C",
    };
    match t {
        TypeCode::Ascii(x) => format!("A{}", f(x)),
        TypeCode::Ebcdic(x) => format!("E{}", f(x)),
        TypeCode::Image => "I".into(),
        TypeCode::Local(n) => format!("L {n}"),
    }
}

/// True for `<d><net-prt><d>…` where net-prt is a number other than 1 or 2 (RFC 2428 §2:
/// answered with `522`, not `501`).
fn eprt_shape_with_other_protocol(arg: &str) -> bool {
    let Some(d) = arg.trim().chars().next() else {
        return false;
    };
    let mut parts = arg.trim().split(d);
    let _ = parts.next();
    let proto = parts.next().unwrap_or_default();
    !proto.is_empty() && proto.bytes().all(|b| b.is_ascii_digit()) && proto != "1" && proto != "2"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Result<Command, CommandError> {
        Command::decode(s.as_bytes())
    }

    #[test]
    fn decodes_the_rfc959_command_set() {
        assert_eq!(dec("user alice"), Ok(Command::User("alice".into())));
        assert_eq!(dec("PASS"), Ok(Command::Pass(String::new())));
        assert_eq!(dec("CWD my dir"), Ok(Command::Cwd("my dir".into())));
        assert_eq!(dec("cdup"), Ok(Command::Cdup));
        assert_eq!(dec("XPWD"), Ok(Command::Pwd));
        assert_eq!(
            dec("PORT 127,0,0,1,4,1"),
            Ok(Command::Port("127.0.0.1:1025".parse().unwrap()))
        );
        assert_eq!(dec("TYPE a"), Ok(Command::Type(TypeCode::Ascii(None))));
        assert_eq!(
            dec("TYPE A T"),
            Ok(Command::Type(TypeCode::Ascii(Some(FormatControl::Telnet))))
        );
        assert_eq!(dec("TYPE L 8"), Ok(Command::Type(TypeCode::Local(8))));
        assert_eq!(dec("STRU r"), Ok(Command::Stru(StructureCode::Record)));
        assert_eq!(dec("MODE B"), Ok(Command::Mode(ModeCode::Block)));
        assert_eq!(dec("ALLO 10 R 2"), Ok(Command::Allo(10, Some(2))));
        assert_eq!(dec("REST 100"), Ok(Command::Rest(100)));
        assert_eq!(dec("LIST"), Ok(Command::List(None)));
        assert_eq!(dec("LIST -la"), Ok(Command::List(Some("-la".into()))));
        assert_eq!(dec("EPSV ALL"), Ok(Command::Epsv(Some(EpsvArg::All))));
        assert_eq!(dec("OPTS utf8 on"), Ok(Command::Opts("UTF8".into(), Some("on".into()))));
        assert_eq!(dec("PROT P"), Ok(Command::Prot(ProtLevel::Private)));
    }

    #[test]
    fn errors_map_to_rfc_reply_codes() {
        let code = |s: &str| dec(s).map(|_| 0).unwrap_or_else(|e| e.reply_code());
        assert_eq!(code(""), 500);
        assert_eq!(code("FOOBAR"), 500);
        assert_eq!(code("XYZZ"), 500);
        assert_eq!(code("12\0"), 500);
        assert_eq!(code("CCC"), 502);
        assert_eq!(code("RETR"), 501);
        assert_eq!(code("RETR "), 501);
        assert_eq!(code("PWD x"), 501);
        assert_eq!(code("PORT 1,2,3"), 501);
        assert_eq!(code("TYPE X"), 501);
        assert_eq!(code("TYPE L"), 501);
        assert_eq!(code("REST abc"), 501);
        assert_eq!(code("EPRT |3|x|5|"), 522);
        assert_eq!(code("EPRT |1|x|5|"), 501);
        assert_eq!(code("EPSV 7"), 522);
        assert_eq!(code("EPSV x"), 501);
        assert_eq!(Command::decode(b"RETR \xc0\xaf").map_err(|e| e.reply_code()), Err(501));
    }

    /// RFC 959 §4.1.3, §5.3.2: a bare CR or LF inside an argument is refused (fuzz finding
    /// F3), for paths and texts alike; an unknown verb stays 500.
    #[test]
    fn bare_cr_or_lf_in_an_argument_is_501() {
        let code = |s: &str| dec(s).map(|_| 0).unwrap_or_else(|e| e.reply_code());
        for line in [
            "RNFR upload/renam\r\ne-late",
            "RETR a\rb",
            "USER al\nice",
            "PASS se\rcret",
            "SITE HELP\n",
            "OPTS UTF8\r ON",
            "TYPE A\r",
            "CWD \n",
        ] {
            assert_eq!(code(line), 501, "{line:?}");
        }
        assert_eq!(code("XYZZ a\rb"), 500);
        assert_eq!(code("NOOP\r"), 500);
    }

    #[test]
    fn encode_decode_round_trip() {
        let cmds = vec![
            Command::User("alice".into()),
            Command::Pass("se cret".into()),
            Command::Port("127.0.0.1:40000".parse().unwrap()),
            Command::Eprt("[::1]:40000".parse().unwrap()),
            Command::Type(TypeCode::Ebcdic(Some(FormatControl::Asa))),
            Command::Type(TypeCode::Local(8)),
            Command::Stru(StructureCode::Page),
            Command::Mode(ModeCode::Compressed),
            Command::Allo(5, Some(1)),
            Command::Epsv(Some(EpsvArg::Protocol(2))),
            Command::Epsv(None),
            Command::Opts("MLST".into(), Some("type;size;".into())),
            Command::Pbsz(0),
            Command::Prot(ProtLevel::Clear),
            Command::Mlsd(None),
            Command::Stat(Some("pub".into())),
            Command::Stou,
        ];
        for c in cmds {
            let line = c.encode();
            assert!(line.ends_with(b"\r\n"));
            assert_eq!(Command::decode(&line[..line.len() - 2]), Ok(c));
        }
    }

    #[test]
    fn telnet_commands_are_stripped() {
        assert_eq!(strip_telnet(b"\xff\xf4\xff\xf2ABOR"), b"ABOR");
        assert_eq!(strip_telnet(b"A\xff\xffB"), b"A\xffB");
        assert_eq!(strip_telnet(b"\xff\xfb\x01NOOP\xff"), b"NOOP");
    }
}
