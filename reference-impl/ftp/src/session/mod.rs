//! The sans-IO FTP control session (RFC 959 and extensions).
//!
//! [`FtpSession`] implements [`wirecheck_wire::Session`]: command bytes go in through
//! `handle_input`, replies come out of `poll_output` as [`Output::Send`] (plus
//! [`Output::StartTls`] after `AUTH TLS`, [`Output::Close`] after `QUIT`). Data connections
//! are the driver's business: the session asks for them with [`Action`]s from
//! [`FtpSession::poll_action`] and learns the outcome through
//! [`FtpSession::handle_data_event`] (the quinn-proto pattern). Files are reached only
//! through a [`VirtualFs`].
//!
//! While the driver works on a request (binding a passive listener, running a transfer),
//! further commands wait in a bounded queue, except `ABOR`, `STAT` and `QUIT` during a
//! transfer, which RFC 959 §4.1.3 / RFC 1123 §4.1.3.3 want answered at once.

mod data;
mod files;

use std::collections::VecDeque;
use std::net::SocketAddr;

use wirecheck_wire::{LineBuffer, LineEvent, Output, Session, TlsInfo};

use crate::codec::{Command, ModeCode, ProtLevel, Reply, StructureCode, TypeCode, strip_telnet};
use crate::listing::{Fact, feat_mlst};
use crate::vfs::{RealFs, VirtualFs, VirtualPath};

pub use data::{Action, DataConnection, DataEvent, Payload, Transfer, TransferFailure};

/// How a control session behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpConfig {
    /// Accounts: user name and password.
    pub users: Vec<(String, String)>,
    /// Allow `USER anonymous` / `USER ftp` with any password, read-only.
    pub anonymous: bool,
    /// Directories (virtual, e.g. `/upload`) below which logged-in users may create, change
    /// and remove entries. Empty: the whole tree. Anonymous users never write.
    pub writable: Vec<String>,
    /// Text of the `220` greeting.
    pub greeting: String,
    /// Offer `AUTH TLS` (the driver has a TLS configuration).
    pub tls: bool,
    /// Longest command line in bytes (longer: `500`).
    pub max_line: usize,
    /// Most commands waiting while a transfer runs (more: `421` and close).
    pub max_queued: usize,
    /// Most entries in one listing.
    pub max_listing: usize,
    /// Largest upload in bytes (more: `552`).
    pub max_upload: u64,
    /// Largest file whose TYPE A size `SIZE` computes by reading it (larger: `550`).
    pub max_ascii_size: u64,
}

impl Default for FtpConfig {
    fn default() -> Self {
        FtpConfig {
            users: vec![("alice".into(), "secret".into())],
            anonymous: true,
            writable: vec!["/upload".into()],
            greeting: "wirecheck FTP ready.".into(),
            tls: false,
            max_line: 8192,
            max_queued: 64,
            max_listing: 10_000,
            max_upload: 1 << 30,
            max_ascii_size: 16 << 20,
        }
    }
}

/// The two ends of the control connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// Our address (passive listeners bind its IP).
    pub local: SocketAddr,
    /// The client's address (the only one PORT/EPRT may name, and the only one a passive
    /// listener accepts).
    pub peer: SocketAddr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Login {
    None,
    /// USER given, PASS awaited.
    User(String),
    In {
        user: String,
        anonymous: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataMode {
    None,
    Passive,
    Active(SocketAddr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Busy {
    Idle,
    Listening { extended: bool },
    Transfer(data::Running),
}

/// One FTP control connection, server side.
pub struct FtpSession<F: VirtualFs = RealFs> {
    cfg: FtpConfig,
    fs: F,
    conn: ConnInfo,
    lines: LineBuffer,
    queued: VecDeque<Vec<u8>>,
    out: VecDeque<Output>,
    actions: VecDeque<Action>,
    closed: bool,
    login: Login,
    cwd: VirtualPath,
    ascii: bool,
    /// MODE B (RFC 959 §3.4.2) instead of MODE S.
    block_mode: bool,
    data_mode: DataMode,
    epsv_all: bool,
    rest: u64,
    rnfr: Option<VirtualPath>,
    tls_active: bool,
    pbsz: bool,
    prot_private: bool,
    facts: Vec<Fact>,
    busy: Busy,
    quit_pending: bool,
}

impl<F: VirtualFs> FtpSession<F> {
    /// A new session on connection `conn`; the `220` greeting is ready in `poll_output`.
    pub fn new(cfg: FtpConfig, fs: F, conn: ConnInfo) -> Self {
        let mut s = FtpSession {
            lines: LineBuffer::new(cfg.max_line),
            fs,
            conn,
            queued: VecDeque::new(),
            out: VecDeque::new(),
            actions: VecDeque::new(),
            closed: false,
            login: Login::None,
            cwd: VirtualPath::root(),
            ascii: true,
            block_mode: false,
            data_mode: DataMode::None,
            epsv_all: false,
            rest: 0,
            rnfr: None,
            tls_active: false,
            pbsz: false,
            prot_private: false,
            facts: Fact::ALL.to_vec(),
            busy: Busy::Idle,
            quit_pending: false,
            cfg,
        };
        let greeting = s.cfg.greeting.clone();
        s.reply(220, &greeting);
        s
    }

    /// The next request for the driver's data-connection side, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// True once the session has asked to close.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// True while a transfer is running (the driver suspends the idle timeout meanwhile).
    pub fn transfer_running(&self) -> bool {
        matches!(self.busy, Busy::Transfer(_))
    }

    /// The logged-in user, if any.
    pub fn user(&self) -> Option<&str> {
        match &self.login {
            Login::In { user, .. } => Some(user),
            _ => None,
        }
    }

    fn reply(&mut self, code: u16, text: &str) {
        self.out.push_back(Output::Send(Reply::new(code, text).raw));
    }

    fn reply_lines<S: AsRef<str>>(&mut self, code: u16, lines: &[S]) {
        self.out.push_back(Output::Send(Reply::multi(code, lines).raw));
    }

    fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            if self.transfer_running() {
                self.actions.push_back(Action::Abort);
            }
            self.out.push_back(Output::Close);
        }
    }

    /// Work through queued and buffered command lines as far as the session is not waiting
    /// for the driver.
    fn pump(&mut self) {
        while !self.closed && self.busy == Busy::Idle {
            let Some(line) = self.queued.pop_front() else { break };
            self.command(&line);
        }
        while !self.closed {
            let Some(ev) = self.lines.next_line() else { break };
            let line = match ev {
                LineEvent::Line(l) => l,
                LineEvent::TooLong => {
                    // RFC 959 §4.2.1: 500 "may include errors such as command line too long".
                    self.reply(500, "Command line too long.");
                    continue;
                }
            };
            let now = (self.busy == Busy::Idle && self.queued.is_empty())
                || (self.transfer_running() && self.is_urgent(&line));
            if now {
                self.command(&line);
            } else if self.queued.len() >= self.cfg.max_queued {
                self.reply(421, "Too many commands while busy; closing control connection.");
                self.close();
            } else {
                self.queued.push_back(line);
            }
        }
    }

    /// ABOR, STAT and QUIT are answered while a transfer runs (RFC 959 §4.1.3, RFC 1123
    /// §4.1.3.3). An ABOR while the transfer is already being aborted is not: it waits
    /// until the 426/226 pair is out and is then answered like any ABOR without a transfer
    /// (`225`), so it gets exactly one reply of its own (RFC 959 §4.2, §5.4).
    fn is_urgent(&self, line: &[u8]) -> bool {
        match Command::decode(&strip_telnet(line)) {
            Ok(Command::Abor) => !self.aborting(),
            Ok(Command::Stat(None) | Command::Quit) => true,
            _ => false,
        }
    }

    /// Run one command line.
    fn command(&mut self, raw: &[u8]) {
        let line = strip_telnet(raw);
        let cmd = match Command::decode(&line) {
            Ok(c) => c,
            Err(e) => {
                self.rnfr = None;
                let code = e.reply_code();
                let text = match code {
                    500 => "Syntax error, command unrecognized.".to_owned(),
                    502 => format!("{} not implemented.", e_verb(&e)),
                    522 => "Network protocol not supported, use (1,2)".to_owned(),
                    _ => "Syntax error in parameters or arguments.".to_owned(),
                };
                return self.reply(code, &text);
            }
        };
        let rnfr = self.rnfr.take();
        if self.transfer_running() {
            return self.command_during_transfer(cmd);
        }
        if self.user().is_none() && !allowed_before_login(&cmd) {
            return self.reply(530, "Please login with USER and PASS.");
        }
        self.dispatch(cmd, rnfr);
    }

    fn command_during_transfer(&mut self, cmd: Command) {
        match cmd {
            Command::Abor => self.cmd_abor(),
            Command::Quit => self.quit_pending = true,
            _ => {
                let what = match &self.busy {
                    Busy::Transfer(r) => r.describe(),
                    _ => String::new(),
                };
                self.reply_lines(
                    211,
                    &[
                        "Status: a transfer is in progress",
                        &format!(" {what}"),
                        "End of status",
                    ],
                );
            }
        }
    }

    fn dispatch(&mut self, cmd: Command, rnfr: Option<VirtualPath>) {
        use Command as C;
        match cmd {
            C::User(u) => self.cmd_user(u),
            C::Pass(p) => self.cmd_pass(&p),
            C::Acct(_) => match self.login {
                Login::In { .. } => self.reply(202, "ACCT not needed at this site."),
                _ => self.reply(503, "Login with USER and PASS first."),
            },
            C::Cwd(p) => self.cmd_cwd(&p),
            C::Cdup => self.cmd_cwd(".."),
            C::Smnt(_) => self.reply(502, "SMNT not implemented."),
            C::Rein => self.cmd_rein(),
            C::Quit => {
                self.reply(221, "Goodbye.");
                self.close();
            }
            C::Port(a) => self.cmd_active("PORT", SocketAddr::V4(a)),
            C::Eprt(a) => self.cmd_active("EPRT", a),
            C::Pasv => self.cmd_passive(false, None),
            C::Epsv(arg) => self.cmd_passive(true, arg),
            C::Type(t) => self.cmd_type(t),
            C::Stru(StructureCode::File) => self.reply(200, "Structure set to F."),
            C::Stru(_) => self.reply(504, "Only STRU F is supported."),
            C::Mode(ModeCode::Stream) => {
                self.block_mode = false;
                self.reply(200, "Mode set to S.")
            }
            // RFC 959 §3.4.2 block mode, with restart markers (§3.5).
            C::Mode(ModeCode::Block) => {
                self.block_mode = true;
                self.reply(200, "Mode set to B.")
            }
            C::Mode(_) => self.reply(504, "Only MODE S and MODE B are supported."),
            C::Retr(p) => self.cmd_retr(&p),
            C::Stor(p) => self.cmd_store(data::Store::Stor, Some(&p)),
            C::Appe(p) => self.cmd_store(data::Store::Appe, Some(&p)),
            C::Stou => self.cmd_store(data::Store::Stou, None),
            C::Allo(..) => self.reply(202, "ALLO not needed at this site."),
            C::Rest(n) => {
                self.rest = n;
                self.reply(350, &format!("Restarting at {n}. Send RETR or STOR to continue."));
            }
            C::Rnfr(p) => self.cmd_rnfr(&p),
            C::Rnto(p) => self.cmd_rnto(rnfr, &p),
            C::Abor => self.cmd_abor(),
            C::Dele(p) => self.cmd_dele(&p),
            C::Rmd(p) => self.cmd_rmd(&p),
            C::Mkd(p) => self.cmd_mkd(&p),
            C::Pwd => {
                let text = format!("{} is the current directory", quote_path(self.cwd.as_str()));
                self.reply(257, &text)
            }
            C::List(a) => self.cmd_list(a.as_deref(), files::ListKind::List),
            C::Nlst(a) => self.cmd_list(a.as_deref(), files::ListKind::Nlst),
            C::Mlsd(a) => self.cmd_list(a.as_deref(), files::ListKind::Mlsd),
            C::Mlst(a) => self.cmd_mlst(a.as_deref()),
            C::Site(s) => self.cmd_site(&s),
            C::Syst => self.reply(215, "UNIX Type: L8"),
            C::Stat(None) => self.cmd_stat(),
            C::Stat(Some(p)) => self.cmd_stat_path(&p),
            C::Help(a) => self.cmd_help(a.as_deref()),
            C::Noop => self.reply(200, "NOOP ok."),
            C::Feat => self.cmd_feat(),
            C::Opts(name, value) => self.cmd_opts(&name, value.as_deref()),
            C::Size(p) => self.cmd_size(&p),
            C::Mdtm(p) => self.cmd_mdtm(&p),
            C::Auth(m) => self.cmd_auth(&m),
            C::Pbsz(_) => {
                if !self.tls_active {
                    return self.reply(503, "PBSZ needs a protected control connection (AUTH TLS first).");
                }
                self.pbsz = true;
                // RFC 4217 §8: for TLS the buffer size is 0.
                self.reply(200, "PBSZ=0");
            }
            C::Prot(level) => self.cmd_prot(level),
            // `Command` is non-exhaustive for other crates; every variant is handled above.
            #[allow(unreachable_patterns)]
            other => self.reply(502, &format!("{} not implemented.", other.verb())),
        }
    }

    /// RFC 959 §4.1.1 USER: a new USER starts a new login.
    fn cmd_user(&mut self, user: String) {
        self.login = Login::User(user);
        self.reply(331, "Please specify the password.");
    }

    /// RFC 959 §4.1.1 PASS.
    fn cmd_pass(&mut self, pass: &str) {
        let user = match &self.login {
            Login::User(u) => u.clone(),
            Login::In { .. } => return self.reply(230, "Already logged in."),
            Login::None => return self.reply(503, "Login with USER first."),
        };
        let anonymous = user.eq_ignore_ascii_case("anonymous") || user.eq_ignore_ascii_case("ftp");
        let ok = if anonymous {
            self.cfg.anonymous
        } else {
            self.cfg.users.iter().any(|(u, p)| *u == user && p == pass)
        };
        if ok {
            self.login = Login::In { user, anonymous };
            self.cwd = VirtualPath::root();
            self.reply(230, "Login successful.");
        } else {
            self.login = Login::None;
            self.reply(530, "Login incorrect.");
        }
    }

    /// RFC 959 §4.1.1 REIN: back to the state right after the greeting (TLS stays).
    fn cmd_rein(&mut self) {
        if self.data_mode == DataMode::Passive {
            self.actions.push_back(Action::CloseListener);
        }
        self.login = Login::None;
        self.cwd = VirtualPath::root();
        self.ascii = true;
        self.block_mode = false;
        self.data_mode = DataMode::None;
        self.epsv_all = false;
        self.rest = 0;
        self.pbsz = false;
        self.prot_private = false;
        self.facts = Fact::ALL.to_vec();
        self.reply(220, "Service ready for new user.");
    }

    /// RFC 959 §4.1.2 TYPE: A (N), I and L 8 are provided (RFC 1123 §4.1.2.13).
    fn cmd_type(&mut self, t: TypeCode) {
        use crate::codec::FormatControl::NonPrint;
        match t {
            TypeCode::Ascii(None | Some(NonPrint)) => {
                self.ascii = true;
                self.reply(200, "Switching to ASCII mode.");
            }
            TypeCode::Image | TypeCode::Local(8) => {
                self.ascii = false;
                self.reply(200, "Switching to Binary mode.");
            }
            _ => self.reply(504, "Command not implemented for that parameter."),
        }
    }

    /// RFC 959 §4.1.3 SITE: only `SITE HELP`.
    fn cmd_site(&mut self, s: &str) {
        if s.trim().eq_ignore_ascii_case("HELP") {
            self.reply(214, "SITE commands: HELP");
        } else {
            self.reply(500, "Unknown SITE command.");
        }
    }

    /// RFC 959 §4.1.3 STAT without argument: status of the server (211).
    fn cmd_stat(&mut self) {
        let user = self.user().unwrap_or("-").to_owned();
        let data = match self.data_mode {
            DataMode::None => "none".to_owned(),
            DataMode::Passive => "passive listener open".to_owned(),
            DataMode::Active(a) => format!("active to {a}"),
        };
        let lines = [
            "FTP server status:".to_owned(),
            format!(" Connected to {}", self.conn.peer.ip()),
            format!(" Logged in as {user}"),
            format!(
                " TYPE: {}, STRU: File, MODE: {}",
                if self.ascii { "ASCII" } else { "BINARY" },
                if self.block_mode { "Block" } else { "Stream" }
            ),
            format!(" Control connection: {}", if self.tls_active { "TLS" } else { "plain" }),
            format!(" Data connection: {data}"),
            "End of status".to_owned(),
        ];
        self.reply_lines(211, &lines);
    }

    /// RFC 959 §4.1.3 HELP.
    fn cmd_help(&mut self, arg: Option<&str>) {
        match arg {
            None => {
                let mut lines = vec!["The following commands are recognized.".to_owned()];
                for chunk in HELP_VERBS.chunks(8) {
                    lines.push(format!(" {}", chunk.join(" ")));
                }
                lines.push("Help OK.".to_owned());
                self.reply_lines(214, &lines);
            }
            Some(v) => {
                let v = v.trim().to_ascii_uppercase();
                if HELP_VERBS.contains(&v.as_str()) {
                    self.reply(214, &format!("{v} is recognized; see RFC 959 and its extensions."));
                } else {
                    self.reply(502, &format!("Unknown command {v}."));
                }
            }
        }
    }

    /// RFC 2389 §3 FEAT: one feature per line, each indented by one space.
    fn cmd_feat(&mut self) {
        let mut lines = vec!["Features:".to_owned()];
        if self.cfg.tls {
            lines.push(" AUTH TLS".into());
        }
        for f in ["EPRT", "EPSV", "MDTM"] {
            lines.push(format!(" {f}"));
        }
        lines.push(format!(" {}", feat_mlst(&self.facts)));
        if self.cfg.tls {
            lines.push(" PBSZ".into());
            lines.push(" PROT".into());
        }
        for f in ["REST STREAM", "SIZE", "TVFS", "UTF8"] {
            lines.push(format!(" {f}"));
        }
        lines.push("End".into());
        self.reply_lines(211, &lines);
    }

    /// RFC 2389 §4 OPTS: `UTF8` (RFC 2640) and `MLST` (RFC 3659 §7.9).
    fn cmd_opts(&mut self, name: &str, value: Option<&str>) {
        match name {
            "UTF8" if value.is_none_or(|v| v.eq_ignore_ascii_case("ON")) => self.reply(200, "Always in UTF8 mode."),
            "MLST" => {
                self.facts = value
                    .unwrap_or("")
                    .split(';')
                    .filter_map(|f| Fact::from_name(f.trim()))
                    .collect();
                let mut list = String::new();
                for f in Fact::ALL.into_iter().filter(|f| self.facts.contains(f)) {
                    list.push_str(f.name());
                    list.push(';');
                }
                self.reply(200, &format!("MLST OPTS {list}"));
            }
            _ => self.reply(501, "Option not understood."),
        }
    }

    /// RFC 4217 §4 AUTH TLS: `234`, then TLS on the control connection. Login state is reset
    /// (RFC 2228 §3); what the client sent after AUTH before the handshake is dropped.
    fn cmd_auth(&mut self, mechanism: &str) {
        if !self.cfg.tls {
            return self.reply(502, "AUTH not available: no TLS configured.");
        }
        if self.tls_active {
            return self.reply(503, "TLS is already active.");
        }
        if !["TLS", "TLS-C", "SSL"]
            .iter()
            .any(|m| m.eq_ignore_ascii_case(mechanism.trim()))
        {
            return self.reply(504, "Unknown AUTH type.");
        }
        self.reply(234, "Proceed with negotiation.");
        self.lines.clear();
        self.queued.clear();
        self.login = Login::None;
        self.out.push_back(Output::StartTls);
    }

    /// RFC 4217 §9 PROT: C and P; S and E are `536` (RFC 2228 §3).
    fn cmd_prot(&mut self, level: ProtLevel) {
        if !self.tls_active {
            return self.reply(503, "PROT needs a protected control connection (AUTH TLS first).");
        }
        if !self.pbsz {
            return self.reply(503, "PBSZ first.");
        }
        match level {
            ProtLevel::Clear => {
                self.prot_private = false;
                self.reply(200, "PROT now Clear.");
            }
            ProtLevel::Private => {
                self.prot_private = true;
                self.reply(200, "PROT now Private.");
            }
            _ => self.reply(536, "PROT level not supported by mechanism."),
        }
    }

    /// Resolve a client pathname against the working directory, or reply `code`.
    fn resolve_or_reply(&mut self, arg: &str, code: u16) -> Option<VirtualPath> {
        match VirtualPath::resolve(&self.cwd, arg) {
            Ok(p) => Some(p),
            Err(e) => {
                self.reply(code, &format!("Invalid pathname: {e}."));
                None
            }
        }
    }

    /// May this session create, change or remove `path`? Anonymous never; users below a
    /// configured writable directory (not the directory itself), or anywhere but the root
    /// when none is configured.
    fn may_write(&self, path: &VirtualPath) -> bool {
        match &self.login {
            Login::In { anonymous: false, .. } => {}
            _ => return false,
        }
        if path.is_root() {
            return false;
        }
        if self.cfg.writable.is_empty() {
            return true;
        }
        self.cfg.writable.iter().any(|w| {
            VirtualPath::resolve(&VirtualPath::root(), w).is_ok_and(|dir| path.starts_with(&dir) && *path != dir)
        })
    }
}

/// Commands that need no login. RFC 959 §5.4 gives no 530 for these (or, for AUTH, PBSZ,
/// PROT, FEAT and OPTS, RFC 4217 and RFC 2389 expect them before login).
fn allowed_before_login(cmd: &Command) -> bool {
    use Command as C;
    matches!(
        cmd,
        C::User(_)
            | C::Pass(_)
            | C::Acct(_)
            | C::Quit
            | C::Noop
            | C::Help(_)
            | C::Syst
            | C::Feat
            | C::Opts(..)
            | C::Auth(_)
            | C::Pbsz(_)
            | C::Prot(_)
            | C::Rein
            | C::Abor
    )
}

fn e_verb(e: &crate::codec::CommandError) -> String {
    match e {
        crate::codec::CommandError::NotImplemented { verb } => verb.clone(),
        _ => "Command".into(),
    }
}

/// RFC 959 Appendix II: a pathname in a 257 reply is enclosed in `"`, and a `"` inside it is
/// doubled.
pub fn quote_path(path: &str) -> String {
    format!("\"{}\"", path.replace('"', "\"\""))
}

const HELP_VERBS: &[&str] = &[
    "ABOR", "ACCT", "ALLO", "APPE", "AUTH", "CDUP", "CWD", "DELE", "EPRT", "EPSV", "FEAT", "HELP", "LIST", "MDTM",
    "MKD", "MLSD", "MLST", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PBSZ", "PORT", "PROT", "PWD", "QUIT",
    "REIN", "REST", "RETR", "RMD", "RNFR", "RNTO", "SITE", "SIZE", "SMNT", "STAT", "STOR", "STOU", "STRU", "SYST",
    "TYPE", "USER",
];

impl<F: VirtualFs> Session for FtpSession<F> {
    fn handle_input(&mut self, data: &[u8]) {
        if self.closed {
            return;
        }
        self.lines.push(data);
        self.pump();
    }

    /// RFC 959 §4.2.1 421 "Service not available, closing control connection" on the idle
    /// timeout (RFC 1123 §4.1.3.2).
    fn handle_timeout(&mut self) -> Vec<Output> {
        self.closed = true;
        vec![
            Output::Send(Reply::new(421, "Timeout: closing control connection.").raw),
            Output::Close,
        ]
    }

    fn handle_tls(&mut self, _info: TlsInfo) {
        self.tls_active = true;
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }
}

#[cfg(test)]
mod tests;
