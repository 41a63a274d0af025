//! The command line: `wirecheck run`, `wirecheck lint`, and room for the other subcommands.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// wirecheck: conformance tests for SMTP, POP3, IMAP, FTP and DNS servers (and clients).
#[derive(Debug, Parser)]
#[command(name = "wirecheck", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run transcripts against a target.
    Run(Box<RunArgs>),
    /// Check a corpus: syntax, ids, RFC references, unreachable steps.
    Lint(LintArgs),
    /// Start the embedded reference servers, run the whole corpus against them, write an
    /// HTML report (reports/out/index.html).
    Demo(DemoArgs),
    /// Run the reference servers (the oracle) until stopped: SMTP (MX and submission), POP3,
    /// IMAP, FTP, DNS, with user alice / secret in example.test.
    Serve(ServeArgs),
    /// The oracle's SMTP client relays one message to HOST:PORT (a client under test for
    /// server-role SMTP transcripts).
    #[command(hide = true)]
    RelayOnce(RelayOnceArgs),
    /// The oracle's iterative resolver looks NAME [TYPE]... up from the given root and prints
    /// the answers (a client under test for server-role DNS transcripts).
    #[command(hide = true)]
    DnsResolve(DnsResolveArgs),
    /// Grade many targets from a roster: per-student reports, gradebook.csv, class matrix.
    Grade(wirecheck::grade::cli::GradeArgs),
    /// Compare a target's replies with the oracle's, transcript by transcript, after
    /// normalisation.
    Diff(Box<wirecheck::diff::cli::DiffArgs>),
    /// Differential network fuzzing against the oracle; discrepancies minimised into
    /// transcripts.
    Fuzz(Box<wirecheck::netfuzz::cli::FuzzArgs>),
    /// Turn a captured session (pcap, pcapng) into a draft transcript.
    Import(wirecheck::import::ImportArgs),
    /// Which MUST/SHOULD clauses of the RFCs the corpus checks; prints the uncovered ones.
    Coverage(wirecheck::coverage::CoverageArgs),
}

/// `wirecheck demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The corpus.
    #[arg(long, default_value = "transcripts")]
    pub corpus: PathBuf,
    /// Where the reports go (index.html, a page per target, report.json, junit.xml).
    #[arg(long, default_value = "reports/out")]
    pub out: PathBuf,
    /// Transcripts at once (each against its own fresh oracle). Cases mostly wait on the
    /// network or on their own `pause` / `expect silence`, so many run well on few cores.
    #[arg(long, default_value_t = 48)]
    pub jobs: usize,
}

/// `wirecheck serve`. Without any port flag every service starts on its default port.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen on this (loopback) address.
    #[arg(long, default_value = "127.0.0.1")]
    pub ip: std::net::IpAddr,
    /// SMTP (the MTA's MX port; default 2525).
    #[arg(long)]
    pub smtp: Option<u16>,
    /// SMTP submission, AUTH required (default 5870).
    #[arg(long)]
    pub submission: Option<u16>,
    /// POP3 (default 1110).
    #[arg(long)]
    pub pop3: Option<u16>,
    /// IMAP (default 1430).
    #[arg(long)]
    pub imap: Option<u16>,
    /// FTP (default 2121).
    #[arg(long)]
    pub ftp: Option<u16>,
    /// DNS over UDP and TCP, authoritative for example.test (default 5353).
    #[arg(long)]
    pub dns: Option<u16>,
    /// Keep mail, queue and FTP files in this directory (default: a temporary one).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Also run a loopback DNS hierarchy (root, test., example.test., alpha.test., beta.test.
    /// on 127.0.0.x, a recursive resolver on 127.0.0.2) and let the MTA find next hops by MX
    /// lookups through it.
    #[arg(long)]
    pub dns_hierarchy: bool,
}

/// `wirecheck relay-once`.
#[derive(Debug, Args)]
pub struct RelayOnceArgs {
    /// The SMTP server to relay to.
    pub to: std::net::SocketAddr,
    /// Connect and idle timeout.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// `wirecheck dns-resolve`.
#[derive(Debug, Args)]
pub struct DnsResolveArgs {
    /// A root server (HOST:PORT, loopback); repeatable.
    #[arg(long = "root", required = true)]
    pub roots: Vec<std::net::SocketAddr>,
    /// The port every server of the hierarchy answers on (default: the first root's).
    #[arg(long)]
    pub port: Option<u16>,
    /// NAME [TYPE] [NAME [TYPE]]...
    #[arg(required = true)]
    pub questions: Vec<String>,
}

const RUN_HELP: &str = "\
TRANSCRIPTS
  A transcript is a TOML file: metadata (id, title, rfc, level, …) and a script in the
  C:/S: notation of the RFCs, one step per line:

    S: 220 *                  wait for one complete reply; code 220, any text
    C: EHLO client.example    send the line (CRLF added)
    S: 250 *                  a multi-line reply is one unit; 2xx and 250|251 work too
    S| 250-PIPELINING         …or match it line by line
    S: ~ (?m)^250[ -]SIZE     a regex anywhere in the reply
    C> RCPT TO:<a@b>\\n        raw bytes, no CRLF added (escapes \\r \\n \\0 \\xHH)
    C: AUTH PLAIN ${base64(\"\\0\" + user + \"\\0\" + pass)}
    S: 227 *($(h),$(p))*      captures into variables
    expect close              the server closes the connection

  Outcomes: pass, fail (MUST broken), non-strict (SHOULD), unimplemented (optional
  extension refused), informational (MAY), error (could not run), skipped.
  Exit status: 0 nothing failed, 1 some case failed, 2 the run could not be done.

  The whole notation: docs/transcripts.md.";

/// `wirecheck run`.
#[derive(Debug, Args)]
#[command(after_long_help = RUN_HELP, after_help = "Run with --help for the transcript notation's basics.")]
pub struct RunArgs {
    /// The protocol: smtp, pop3, imap, ftp, dns, message, scenarios (or `all`).
    pub protocol: String,
    /// Run only cases whose id contains one of these.
    pub filters: Vec<String>,
    /// The target server, HOST:PORT.
    #[arg(long, conflicts_with = "target_cmd", required_unless_present_any = ["target_cmd", "list", "client_cmd"])]
    pub target: Option<String>,
    /// Start the target: a shell command with {port} (and {host}) substituted.
    #[arg(long)]
    pub target_cmd: Option<String>,
    /// With --target-cmd: a freshly started target for every transcript.
    #[arg(long, requires = "target_cmd")]
    pub isolate: bool,
    /// Server-role cases: start the client under test with this command, once per case
    /// ({host} and {port}: where wirecheck listens).
    #[arg(long, value_name = "CMD")]
    pub client_cmd: Option<String>,
    /// Filters match whole ids exactly.
    #[arg(long)]
    pub exact: bool,
    /// Skip cases whose id contains this (repeatable).
    #[arg(long)]
    pub skip: Vec<String>,
    /// List the selected cases, run nothing.
    #[arg(long)]
    pub list: bool,
    /// Only cases with this tag (repeatable).
    #[arg(long)]
    pub tag: Vec<String>,
    /// Only cases citing this RFC (section): 5321, 5321#4.1, 5321#4.1.4 (repeatable).
    #[arg(long)]
    pub rfc: Vec<String>,
    /// The corpus directory.
    #[arg(long, default_value = "transcripts")]
    pub corpus: PathBuf,
    /// Cases run at once.
    #[arg(long, visible_alias = "jobs", value_name = "N")]
    pub test_threads: Option<usize>,
    /// Write the report as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the HTML report (index.html and one page per target) into DIR.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Write JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// The per-step timeout for every case (overrides the transcripts' step-timeout).
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DUR")]
    pub timeout: Option<Duration>,
    /// How long a started target has to accept connections.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s", value_name = "DUR")]
    pub startup_timeout: Duration,
    /// --insecure, --ca.
    #[command(flatten)]
    pub trust: wirecheck::args::TrustArgs,
    /// The longest reply line accepted, in bytes.
    #[arg(long, default_value_t = 64 * 1024, value_name = "N")]
    pub max_line: usize,
    /// The largest reply unit accepted, in bytes (also caps continuation lines).
    #[arg(long, default_value_t = 1024 * 1024, value_name = "N")]
    pub max_reply: usize,
    /// --user, --pass, --domain, --mailbox-count, --tls.
    #[command(flatten)]
    pub fixtures: wirecheck::args::FixtureArgs,
    /// Another service of the target, for scenarios: NAME=HOST:PORT (repeatable).
    #[arg(long, value_name = "NAME=HOST:PORT")]
    pub service: Vec<String>,
    /// The target's name in reports.
    #[arg(long)]
    pub name: Option<String>,
    /// --snapshot, --snapshot-update, --pcap, --pcap-real-ports.
    #[command(flatten)]
    pub record: wirecheck::snapshot::cli::RecordArgs,
}

/// `wirecheck lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// The corpus directory.
    #[arg(default_value = "transcripts")]
    pub dir: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_flags() {
        let c = Cli::try_parse_from([
            "wirecheck",
            "run",
            "smtp",
            "--target",
            "127.0.0.1:25",
            "rcpt",
            "--exact",
            "--skip",
            "x",
            "--tag",
            "t",
            "--rfc",
            "5321#4.1.4",
            "--jobs",
            "3",
            "--timeout",
            "2s",
            "--insecure",
            "--max-line",
            "100",
        ])
        .unwrap();
        let Command::Run(r) = c.command else { panic!() };
        assert_eq!(r.filters, vec!["rcpt"]);
        assert_eq!(r.test_threads, Some(3));
        assert_eq!(r.timeout, Some(Duration::from_secs(2)));
        assert!(
            Cli::try_parse_from(["wirecheck", "run", "smtp"]).is_err(),
            "a target is required"
        );
        assert!(Cli::try_parse_from(["wirecheck", "run", "smtp", "--list"]).is_ok());
        assert!(
            Cli::try_parse_from([
                "wirecheck",
                "run",
                "smtp",
                "--target",
                "a:1",
                "--target-cmd",
                "x"
            ])
            .is_err()
        );
    }
}
