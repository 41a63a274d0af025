//! The IMAP server session (RFC 3501 / RFC 9051): a sans-IO state machine on the shared
//! message store. Bytes in through [`Session::handle_input`], bytes out through
//! [`Session::poll_output`]; [`ServerSession::poll_changes`] lets a driver push mailbox
//! updates during IDLE (RFC 2177) without client input.
//!
//! States (RFC 9051 §3): not authenticated -> authenticated -> selected -> logout. Commands
//! are framed by [`crate::codec::decode_command`]; a synchronizing literal is answered with a
//! `+` continuation request once per announcement (RFC 9051 §7.5).

mod auth;
mod fetch;
mod mailboxes;
mod search;
mod selected;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::Arc;

use wirecheck_store::{Store, StoreError};
use wirecheck_wire::{Output, Session, TlsInfo};

use crate::codec::{CommandDecode, CommandError, CommandLimits, Grammar, decode_command_as, literal_at_end};
use crate::types::{Command, CommandBody};
use selected::Selected;

/// How the server behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Our host name, in the greeting.
    pub hostname: String,
    /// Offer STARTTLS (the driver must have TLS configured).
    pub starttls: bool,
    /// RFC 9051 §6.2.3 / RFC 3501 §6.2.3: refuse LOGIN and AUTHENTICATE PLAIN before TLS
    /// (`LOGINDISABLED` advertised).
    pub login_disabled_without_tls: bool,
    /// Advertise `IMAP4rev2` next to `IMAP4rev1` (RFC 9051 §1; the client picks with ENABLE).
    pub rev2: bool,
    /// Command limits (line, literal, whole command).
    pub limits: CommandLimits,
    /// Protocol errors (BAD) before the session says BYE and closes.
    pub max_errors: usize,
    /// Failed authentications before BYE.
    pub max_auth_failures: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: "localhost".into(),
            starttls: false,
            login_disabled_without_tls: false,
            rev2: true,
            limits: CommandLimits::default(),
            max_errors: 50,
            max_auth_failures: 3,
        }
    }
}

/// RFC 9051 §3: the connection states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Before LOGIN / AUTHENTICATE.
    NotAuthenticated,
    /// Logged in, no mailbox selected.
    Authenticated,
    /// A mailbox is selected.
    Selected,
    /// After LOGOUT, BYE, or a fatal error: input is ignored.
    Logout,
}

/// What the bytes arriving next are.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Input {
    /// Commands.
    Command,
    /// An AUTHENTICATE exchange awaiting the client's response line (RFC 9051 §6.2.2).
    Authenticate { tag: String, mechanism: String },
    /// Inside IDLE, waiting for `DONE` (RFC 2177 §3).
    Idle { tag: String },
    /// Dropping `octets` of a rejected non-synchronizing literal, then the rest of its
    /// command (RFC 7888 §4 choice 1).
    SkipOctets { octets: u64 },
    /// Dropping up to the end of the current line (an over-long line, or what follows a
    /// rejected literal); a line ending in a literal announcement continues the skip.
    SkipLine { tail: Vec<u8> },
}

/// One IMAP server connection.
pub struct ServerSession {
    cfg: Arc<ServerConfig>,
    store: Store,
    buf: Vec<u8>,
    pending: Vec<u8>,
    out: VecDeque<Output>,
    input: Input,
    state: State,
    user: Option<String>,
    selected: Option<Selected>,
    tls: bool,
    /// `ENABLE IMAP4rev2` was accepted (RFC 9051 §6.3.1).
    rev2: bool,
    /// The buffer offset of the literal we already sent `+` for.
    literal_acked: Option<usize>,
    errors: usize,
    auth_failures: usize,
    /// `Output::Close` was queued: nothing may follow it (a BYE ended the session in the
    /// middle of a command, e.g. the selected mailbox vanished while syncing for NOOP).
    closed: bool,
}

impl ServerSession {
    /// A session that greets at once with `* OK [CAPABILITY …] …` (RFC 9051 §7.1.1).
    pub fn new(cfg: Arc<ServerConfig>, store: Store) -> Self {
        let mut s = ServerSession {
            cfg,
            store,
            buf: Vec::new(),
            pending: Vec::new(),
            out: VecDeque::new(),
            input: Input::Command,
            state: State::NotAuthenticated,
            user: None,
            selected: None,
            tls: false,
            rev2: false,
            literal_acked: None,
            errors: 0,
            auth_failures: 0,
            closed: false,
        };
        s.greet();
        s
    }

    /// A session on a connection that is already TLS (implicit TLS, port 993 semantics,
    /// RFC 8314): the greeting advertises no STARTTLS.
    pub fn new_tls(cfg: Arc<ServerConfig>, store: Store) -> Self {
        let mut s = Self::new(cfg, store);
        s.pending.clear();
        s.tls = true;
        s.greet();
        s
    }

    fn greet(&mut self) {
        let caps = self.capabilities();
        self.untagged(&format!("OK [CAPABILITY {caps}] {} IMAP4rev1 wirecheck ready", self.cfg.hostname));
    }

    /// The connection state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The logged-in user.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// Is the session inside IDLE (and so wants [`poll_changes`](Self::poll_changes) called
    /// now and then)?
    pub fn idling(&self) -> bool {
        matches!(self.input, Input::Idle { .. })
    }

    /// Look for changes to the selected mailbox made by other sessions and, inside IDLE,
    /// send them (RFC 2177 §3: "the server is now free to send untagged EXISTS, EXPUNGE, and
    /// other messages at any time"). Outside IDLE, changes wait for the next command.
    pub fn poll_changes(&mut self) {
        if self.idling() {
            self.sync_selected(true);
            self.flush();
        }
    }

    // ---- output ----

    fn send(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    fn untagged(&mut self, text: &str) {
        self.pending.extend_from_slice(b"* ");
        self.pending.extend_from_slice(text.as_bytes());
        self.pending.extend_from_slice(b"\r\n");
    }

    fn tagged(&mut self, tag: &str, status: &str, text: &str) {
        if status == "BAD" {
            self.errors += 1;
        }
        let line = format!("{tag} {status} {text}\r\n");
        self.pending.extend_from_slice(line.as_bytes());
    }

    fn flush(&mut self) {
        if self.closed {
            self.pending.clear();
        } else if !self.pending.is_empty() {
            self.out.push_back(Output::Send(std::mem::take(&mut self.pending)));
        }
    }

    fn push(&mut self, o: Output) {
        self.flush();
        if self.closed {
            return;
        }
        self.closed = matches!(o, Output::Close);
        self.out.push_back(o);
    }

    fn bye_and_close(&mut self, text: &str) {
        self.untagged(&format!("BYE {text}"));
        self.state = State::Logout;
        self.buf.clear();
        self.push(Output::Close);
    }

    /// RFC 9051 §7.2.2 capability list for the current state.
    fn capabilities(&self) -> String {
        let mut c = vec!["IMAP4rev1"];
        if self.cfg.rev2 {
            c.push("IMAP4rev2");
        }
        c.extend(["LITERAL+", "SASL-IR", "ENABLE", "IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT", "CHILDREN"]);
        c.extend(["LIST-EXTENDED", "LIST-STATUS", "ESEARCH", "SEARCHRES", "BINARY", "STATUS=SIZE"]);
        if self.state == State::NotAuthenticated {
            if self.cfg.starttls && !self.tls {
                c.push("STARTTLS");
            }
            if self.login_allowed() {
                c.push("AUTH=PLAIN");
            } else {
                c.push("LOGINDISABLED");
            }
        }
        c.join(" ")
    }

    fn login_allowed(&self) -> bool {
        self.tls || !self.cfg.login_disabled_without_tls
    }

    // ---- input ----

    fn process(&mut self) {
        while self.state != State::Logout {
            let progressed = match self.input.clone() {
                Input::Command => self.next_command(),
                Input::Authenticate { tag, mechanism } => self.auth_line(&tag, &mechanism),
                Input::Idle { tag } => self.idle_line(&tag),
                Input::SkipOctets { octets } => {
                    let n = usize::try_from(octets).unwrap_or(usize::MAX).min(self.buf.len());
                    self.buf.drain(..n);
                    let left = octets - n as u64;
                    if left == 0 {
                        self.input = Input::SkipLine { tail: Vec::new() };
                        true
                    } else {
                        self.input = Input::SkipOctets { octets: left };
                        false
                    }
                }
                Input::SkipLine { tail } => self.skip_line(tail),
            };
            if !progressed {
                break;
            }
            if self.errors >= self.cfg.max_errors {
                self.bye_and_close("Too many invalid commands");
            }
        }
        self.flush();
    }

    /// Drop bytes up to the next CRLF; `tail` keeps the last octets seen so that a line
    /// ending in a literal announcement is recognised even when cut across reads.
    fn skip_line(&mut self, mut tail: Vec<u8>) -> bool {
        match self.buf.windows(2).position(|w| w == b"\r\n") {
            Some(i) => {
                tail.extend_from_slice(&self.buf[..i]);
                self.buf.drain(..i + 2);
                self.input = match literal_at_end(&tail) {
                    Some(lit) => Input::SkipOctets { octets: lit.length },
                    None => Input::Command,
                };
                true
            }
            None => {
                // Keep the CR that may start the CRLF, and enough of the tail for `{n+}`.
                let keep_cr = self.buf.last() == Some(&b'\r');
                let end = self.buf.len() - usize::from(keep_cr);
                tail.extend_from_slice(&self.buf[..end]);
                let cut = tail.len().saturating_sub(32);
                tail.drain(..cut);
                self.buf.drain(..end);
                self.input = Input::SkipLine { tail };
                false
            }
        }
    }

    fn next_command(&mut self) -> bool {
        // RFC 9051 Appendix A: IMAP4rev1's grammar until the client enabled IMAP4rev2.
        let grammar = if self.rev2 { Grammar::Imap4rev2 } else { Grammar::Imap4rev1 };
        match decode_command_as(&self.buf, &self.cfg.limits, grammar) {
            Ok(CommandDecode::Incomplete) => false,
            Ok(CommandDecode::LiteralFound { non_sync, at, .. }) => {
                if !non_sync && self.literal_acked != Some(at) {
                    self.literal_acked = Some(at);
                    // RFC 9051 §7.5: "ready to accept the continuation of a command".
                    self.send(b"+ Ready for literal data\r\n");
                }
                false
            }
            Ok(CommandDecode::Complete(n, cmd)) => {
                self.buf.drain(..n);
                self.literal_acked = None;
                self.execute(cmd);
                true
            }
            Err(e) => {
                self.literal_acked = None;
                self.command_error(e);
                true
            }
        }
    }

    fn command_error(&mut self, e: CommandError) {
        let tag = e.tag().map(str::to_string);
        let reply = |s: &mut Self, text: &str| match &tag {
            Some(t) => s.tagged(t, "BAD", text),
            None => {
                s.errors += 1;
                s.untagged(&format!("BAD {text}"));
            }
        };
        match e {
            CommandError::LineTooLong { consumed, .. } => {
                // RFC 9051 §7.1.3 example: "* BAD Command line too long".
                reply(self, "Command line too long");
                match consumed {
                    Some(n) => {
                        self.buf.drain(..n.min(self.buf.len()));
                    }
                    None => {
                        self.buf.clear();
                        self.input = Input::SkipLine { tail: Vec::new() };
                    }
                }
            }
            CommandError::LiteralTooLarge { non_sync, consumed, length, .. } => {
                // RFC 7888 §4-5: reject with a tagged BAD carrying TOOBIG; the client of a
                // non-synchronizing literal sends it anyway, so its octets are read and
                // dropped with the rest of the command.
                reply(self, "[TOOBIG] Literal too large");
                self.buf.drain(..consumed.min(self.buf.len()));
                if non_sync {
                    self.input = Input::SkipOctets { octets: length };
                }
            }
            CommandError::Syntax { consumed, reason, .. } => {
                self.buf.drain(..consumed.min(self.buf.len()));
                if tag.is_none() && consumed <= 2 {
                    reply(self, "Empty command line");
                } else {
                    reply(self, &format!("Syntax error: {reason}"));
                }
            }
        }
    }

    /// Is the command valid in the current state (RFC 9051 §6)?
    fn allowed(&self, body: &CommandBody) -> bool {
        use CommandBody::*;
        match body {
            Capability | Noop | Logout => true,
            StartTls | Authenticate { .. } | Login { .. } => self.state == State::NotAuthenticated,
            Enable(_)
            | Select(_)
            | Examine(_)
            | Create(_)
            | Delete(_)
            | Rename { .. }
            | Subscribe(_)
            | Unsubscribe(_)
            | List { .. }
            | Lsub { .. }
            | Namespace
            | Status { .. }
            | Append { .. }
            | Idle => {
                matches!(self.state, State::Authenticated | State::Selected)
            }
            _ => self.state == State::Selected,
        }
    }

    fn execute(&mut self, cmd: Command) {
        let Command { tag, body } = cmd;
        if !self.allowed(&body) {
            let why = match self.state {
                State::NotAuthenticated => "Not authenticated",
                State::Authenticated
                    if matches!(
                        body,
                        CommandBody::StartTls | CommandBody::Login { .. } | CommandBody::Authenticate { .. }
                    ) =>
                {
                    "Already authenticated"
                }
                State::Selected
                    if matches!(
                        body,
                        CommandBody::StartTls | CommandBody::Login { .. } | CommandBody::Authenticate { .. }
                    ) =>
                {
                    "Already authenticated"
                }
                _ => "No mailbox selected",
            };
            self.tagged(&tag, "BAD", &format!("{} not allowed now: {why}", body.name()));
            return;
        }
        use CommandBody::*;
        match body {
            Capability => {
                let caps = self.capabilities();
                self.untagged(&format!("CAPABILITY {caps}"));
                self.tagged(&tag, "OK", "CAPABILITY completed");
            }
            Noop | Check => {
                self.sync_selected(true);
                self.tagged(&tag, "OK", &format!("{} completed", body.name()));
            }
            Logout => {
                // RFC 9051 §6.1.3: BYE, then the tagged OK, then close.
                self.untagged("BYE Logging out");
                self.tagged(&tag, "OK", "LOGOUT completed");
                self.state = State::Logout;
                self.buf.clear();
                self.push(Output::Close);
            }
            StartTls => self.starttls(&tag),
            Authenticate { mechanism, initial } => self.authenticate(&tag, &mechanism, initial),
            Login { username, password } => self.login(&tag, &username, &password),
            Enable(caps) => self.enable(&tag, &caps),
            Select(m) => self.select(&tag, &m, false),
            Examine(m) => self.select(&tag, &m, true),
            Create(m) => self.create(&tag, &m),
            Delete(m) => self.delete(&tag, &m),
            Rename { from, to } => self.rename(&tag, &from, &to),
            Subscribe(m) => self.subscribe(&tag, &m, true),
            Unsubscribe(m) => self.subscribe(&tag, &m, false),
            List { select, reference, patterns, returns } => self.list(&tag, &select, &reference, &patterns, &returns),
            Lsub { reference, pattern } => self.lsub(&tag, &reference, &pattern),
            Namespace => {
                // RFC 2342 §5: one personal namespace, no others.
                self.untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
                self.tagged(&tag, "OK", "NAMESPACE completed");
            }
            Status { mailbox, items } => self.status(&tag, &mailbox, &items),
            Append { mailbox, flags, date, message } => self.append(&tag, &mailbox, &flags, date, &message),
            Idle => {
                // RFC 2177 §3: a continuation request, then updates until DONE.
                self.send(b"+ idling\r\n");
                self.input = Input::Idle { tag };
                self.sync_selected(true);
            }
            Close => self.close(&tag),
            Unselect => {
                self.selected = None;
                self.state = State::Authenticated;
                self.tagged(&tag, "OK", "UNSELECT completed");
            }
            Expunge => self.expunge(&tag, None),
            UidExpunge(set) => self.expunge(&tag, Some(set)),
            Search { uid, returns, charset, criteria } => self.search(&tag, uid, returns, charset, &criteria),
            Fetch { uid, set, items, .. } => self.fetch(&tag, uid, &set, &items),
            Store { uid, set, mode, silent, flags } => self.store_flags(&tag, uid, &set, mode, silent, &flags),
            Copy { uid, set, mailbox } => self.copy_move(&tag, uid, &set, &mailbox, false),
            Move { uid, set, mailbox } => self.copy_move(&tag, uid, &set, &mailbox, true),
        }
    }

    fn starttls(&mut self, tag: &str) {
        if !self.cfg.starttls || self.tls {
            // RFC 9051 §6.2.1: only when offered; never twice.
            self.tagged(tag, "BAD", "STARTTLS not available");
            return;
        }
        self.tagged(tag, "OK", "Begin TLS negotiation now");
        // RFC 9051 §6.2.1 / RFC 3207 §4.2-style injection defence: what the client sent
        // after STARTTLS in the clear is discarded.
        self.buf.clear();
        self.push(Output::StartTls);
    }

    /// RFC 5161 §3.1: ENABLE IMAP4rev2 (RFC 9051 §6.3.1); other extensions are ignored.
    fn enable(&mut self, tag: &str, caps: &[String]) {
        let mut enabled = Vec::new();
        for c in caps {
            if c == "IMAP4REV2" && self.cfg.rev2 && !self.rev2 {
                self.rev2 = true;
                enabled.push("IMAP4rev2");
            }
        }
        self.untagged(&format!("ENABLED{}", enabled.iter().map(|c| format!(" {c}")).collect::<String>()));
        self.tagged(tag, "OK", "ENABLE completed");
    }

    /// The next line of an exchange inside a command (IDLE's DONE, a SASL response), without
    /// its CRLF; `None` when incomplete. An over-long one ends the exchange with a tagged BAD.
    fn exchange_line(&mut self, tag: &str, too_long: &str) -> Option<Vec<u8>> {
        let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") else {
            if self.buf.len() > self.cfg.limits.max_line {
                self.buf.clear();
                self.input = Input::SkipLine { tail: Vec::new() };
                self.tagged(tag, "BAD", too_long);
            }
            return None;
        };
        self.input = Input::Command;
        Some(self.buf.drain(..i + 2).take(i).collect())
    }

    /// RFC 2177 §3: "The IDLE command is terminated by the receipt of a "DONE" continuation
    /// from the client".
    fn idle_line(&mut self, tag: &str) -> bool {
        let Some(line) = self.exchange_line(tag, "Expected DONE") else { return false };
        self.sync_selected(true);
        if line.eq_ignore_ascii_case(b"DONE") {
            self.tagged(tag, "OK", "IDLE terminated");
        } else {
            self.tagged(tag, "BAD", "Expected DONE");
        }
        true
    }

    /// Sync the selected mailbox with the store and send what changed.
    fn sync_selected(&mut self, allow_expunge: bool) {
        let rev2 = self.rev2;
        if let Some(sel) = self.selected.as_mut() {
            match sel.sync(allow_expunge, rev2) {
                Ok(lines) => {
                    for l in lines {
                        self.untagged(&l);
                    }
                }
                Err(StoreError::NoSuchFolder(_)) => {
                    // The mailbox was deleted under us (RFC 9051 §6.3.5 lets the server
                    // end the session).
                    self.selected = None;
                    self.bye_and_close("Selected mailbox was deleted");
                }
                Err(_) => {}
            }
        }
    }
}

/// The reply for a store failure: RFC 9051 §7.1 response codes.
pub(crate) fn store_error_text(e: &StoreError) -> String {
    match e {
        StoreError::NoSuchFolder(_) => "[NONEXISTENT] Mailbox does not exist".into(),
        StoreError::FolderExists(_) => "[ALREADYEXISTS] Mailbox already exists".into(),
        StoreError::BadFolderName { reason, .. } => format!("[CANNOT] Invalid mailbox name: {reason}"),
        StoreError::InboxNotAllowed => "[CANNOT] INBOX cannot be deleted".into(),
        StoreError::BadRename { .. } => "[CANNOT] Cannot rename that way".into(),
        StoreError::BadKeyword(_) => "[CANNOT] Invalid keyword".into(),
        StoreError::TooManyKeywords => "[LIMIT] Too many keywords in this mailbox".into(),
        StoreError::UidsExhausted => "[LIMIT] UID space exhausted".into(),
        _ => "[SERVERBUG] Internal error".into(),
    }
}

impl Session for ServerSession {
    fn handle_input(&mut self, data: &[u8]) {
        if self.state == State::Logout {
            return;
        }
        self.buf.extend_from_slice(data);
        self.process();
    }

    fn handle_eof(&mut self) {
        self.state = State::Logout;
    }

    /// RFC 9051 §5.4: the autologout timer; "* BYE Autologout; idle for too long".
    fn handle_timeout(&mut self) -> Vec<Output> {
        self.untagged("BYE Autologout; idle for too long");
        self.state = State::Logout;
        let mut out: Vec<Output> = self.out.drain(..).collect();
        if !self.pending.is_empty() {
            out.push(Output::Send(std::mem::take(&mut self.pending)));
        }
        out.push(Output::Close);
        out
    }

    fn handle_tls(&mut self, _info: TlsInfo) {
        self.tls = true;
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.flush();
        self.out.pop_front()
    }
}
