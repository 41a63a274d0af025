//! Transcripts: the TOML metadata, the `C:`/`S:` script, and everything the script's
//! lines are made of (templates, globs, patterns). The notation is specified in
//! `docs/transcripts.md`; this module is its parser.
//!
//! ```text
//! id     = "smtp.sequence.rcpt-before-mail"
//! title  = "RCPT before MAIL is a bad sequence of commands"
//! rfc    = "5321#4.1.4"
//! level  = "MUST"
//! script = """
//! S: 220 *
//! C: RCPT TO:<bob@example.test>
//! S: 503 *
//! """
//! ```
//!
//! [`load::parse_file`] turns one file into a [`Transcript`]; parse errors carry the file,
//! the line and what was expected.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub mod glob;
pub mod load;
pub mod pattern;
pub mod script;
pub mod template;

pub use glob::Glob;
pub use load::{ParseError, parse_file, parse_str};
pub use pattern::{Pattern, Style};
pub use template::{Expr, Template, Vars};
pub use wirecheck_reports::Level;

/// One transcript file.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// The metadata.
    pub meta: Meta,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The file, relative to the corpus root.
    pub file: PathBuf,
}

/// Who plays which side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// wirecheck connects to the target and plays `C:`.
    #[default]
    Client,
    /// wirecheck listens and plays `S:`; the target is a client.
    Server,
}

/// An RFC reference, `5321#4.1.4` (or `5321#4.1.4-p3`, a paragraph).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RfcRef {
    /// The RFC number.
    pub rfc: u32,
    /// The section, `4.1.4` (maybe with `-pN`).
    pub section: String,
}

impl std::fmt::Display for RfcRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.rfc, self.section)
    }
}

/// The metadata of a transcript (docs/transcripts.md, "Metadata keys").
#[derive(Debug, Clone)]
pub struct Meta {
    /// Unique in the corpus, `<protocol>.<area>.<name>`.
    pub id: String,
    /// One line.
    pub title: String,
    /// At least one reference.
    pub rfc: Vec<RfcRef>,
    /// MUST / SHOULD / MAY.
    pub level: Level,
    /// `smtp`, `pop3`, `imap`, `ftp`, `dns`, `message`, `scenarios`, `line`.
    pub protocol: String,
    /// Free words.
    pub tags: Vec<String>,
    /// Grading weight.
    pub points: u32,
    /// Client (default) or server.
    pub role: Role,
    /// Whole-transcript limit.
    pub timeout: Duration,
    /// Per-expectation limit (the initial value; `timeout DUR` steps change it).
    pub step_timeout: Duration,
    /// The optional extension the case needs.
    pub extension: Option<String>,
    /// What the target must provide.
    pub requires: Vec<String>,
    /// Initial variables.
    pub vars: BTreeMap<String, Vec<u8>>,
    /// Server role: the command that starts the client under test.
    pub target_cmd: Option<String>,
    /// Free text.
    pub notes: Option<String>,
    /// Requirement ids (`transcripts/requirements/`) this case covers besides those of its
    /// `rfc` sections: `["5321#4.1.1.4-dot"]`.
    pub covers: Vec<String>,
    /// The line of the `script` key's first script line (1-based), for messages.
    pub script_line: u32,
}

/// One script step, with its line in the file.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based line in the file.
    pub line: u32,
    /// `NAME: STEP` runs the step on `NAME` without switching to it.
    pub conn: Option<String>,
    /// What the step does.
    pub kind: StepKind,
    /// The line as written (comments stripped), for reports.
    pub source: String,
}

/// How a send step's text becomes bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    /// `C: TEXT`: the protocol's line encoding (TEXT + CRLF; a DNS query for dns).
    Line,
    /// `C> TEXT`: exactly these bytes (a length prefix still added for DNS over TCP).
    Raw,
    /// `C> hex …`: hex digits to bytes (the DNS length prefix added on TCP).
    Hex,
    /// `C> rawhex …`: hex digits to bytes, nothing added.
    RawHex,
}

/// The kind of connection `connect` opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectKind {
    /// TCP.
    Tcp,
    /// UDP (a connected socket).
    Udp,
    /// TCP with TLS from the start.
    Tls,
    /// FTP passive data connection.
    Passive,
}

/// An expectation: one unit, optionally line by line.
#[derive(Debug, Clone)]
pub struct Expect {
    /// The line of the `S:`.
    pub line: u32,
    /// The pattern of the `S:` line.
    pub pattern: Pattern,
    /// `S|` lines: (line, pattern) for the unit's second, third… lines.
    pub lines: Vec<(u32, Pattern)>,
}

/// `check` comparisons.
#[derive(Debug, Clone)]
pub enum CheckOp {
    /// `==`.
    Eq(Expr),
    /// `!=`.
    Ne(Expr),
    /// `~ REGEX`.
    Matches(Pattern),
}

/// What one step does.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// Send bytes (`C:`/`C>` in the client role, `S:`/`S>` in the server role).
    Send {
        /// The text.
        data: Template,
        /// How it becomes bytes.
        mode: SendMode,
    },
    /// Wait for one unit and match it.
    Expect(Expect),
    /// `S! PATTERN`.
    MustNot(Pattern),
    /// `S? PATTERN`.
    Optional(Pattern),
    /// `unordered { … }`.
    Unordered(Vec<Expect>),
    /// `skip-untagged` (true) / `strict-untagged` (false).
    SkipUntagged(bool),
    /// `expect close`.
    ExpectClose,
    /// `expect silence DUR`.
    ExpectSilence(Duration),
    /// `close`.
    Close,
    /// `shutdown`.
    Shutdown,
    /// `pause DUR`.
    Pause(Duration),
    /// `timeout DUR`.
    StepTimeout(Duration),
    /// `connect NAME [tcp|udp|tls|passive] [PROTOCOL] [to ADDR]`.
    Connect {
        /// The connection's name.
        name: String,
        /// Its kind.
        kind: ConnectKind,
        /// Its address, when not the target.
        to: Option<Template>,
        /// The protocol that frames it (default: the transcript's, or the service named by
        /// `to ${pop3}`).
        protocol: String,
    },
    /// `listen NAME [udp] [at ADDR]`.
    Listen {
        /// The listener's name.
        name: String,
        /// UDP instead of TCP.
        udp: bool,
        /// The address (default `127.0.0.1:0`).
        at: Option<Template>,
        /// The protocol of connections accepted on it.
        protocol: String,
    },
    /// `accept NAME`.
    Accept {
        /// The listener (and the connection's name).
        name: String,
    },
    /// `use NAME`.
    Use {
        /// The connection.
        name: String,
    },
    /// `tls`.
    Tls,
    /// `recv-all [into VAR]`.
    RecvAll {
        /// The variable (default `_data`).
        into: String,
    },
    /// `set NAME = EXPR`.
    Set {
        /// The variable.
        name: String,
        /// The value.
        expr: Expr,
    },
    /// `check EXPR (==|!=) EXPR`, `check EXPR ~ REGEX`.
    Check {
        /// The left side.
        lhs: Expr,
        /// The comparison.
        op: CheckOp,
    },
}

impl Transcript {
    /// The case's reported protocol (`scenario` for `scenarios`).
    pub fn protocol(&self) -> &str {
        &self.meta.protocol
    }

    /// The RFC references as strings.
    pub fn rfc_strings(&self) -> Vec<String> {
        self.meta.rfc.iter().map(ToString::to_string).collect()
    }
}
