//! The POP3 server session (RFC 1939 §3-§7): AUTHORIZATION -> TRANSACTION -> UPDATE, as a
//! sans-IO [`Session`]. It reads the maildrop through [`wirecheck_store`] (file I/O: run it
//! with `DriverConfig { blocking: true, .. }`), and is given its APOP timestamp rather than
//! reading a clock.

use std::collections::VecDeque;
use std::sync::Arc;

use wirecheck_store::{Folder, INBOX, MaildropLock, Store, StoreError, Uid};
use wirecheck_wire::{LineBuffer, LineEvent, Output, Session, TlsInfo};

use crate::codec::{Command, CommandError, decode_command, encode_body, encode_message, encode_status};
use crate::md5::md5_hex;
use crate::sasl::Mechanism;

/// RFC 2449 §4: "Servers which support the CAPA command MUST support commands up to 255
/// octets", CRLF included.
pub const MAX_COMMAND_LINE: usize = 255;

/// Longest SASL client response line (RFC 5034 §4: responses "may be of arbitrary length";
/// PLAIN and LOGIN need far less than this).
pub const MAX_SASL_LINE: usize = 8 * 1024;

/// How a server session behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Our host name: the greeting, QUIT's farewell and the APOP timestamp.
    pub hostname: String,
    /// Offer STLS (RFC 2595 §4): set when the driver has TLS and the connection starts plain.
    pub stls: bool,
    /// Refuse USER/PASS and AUTH PLAIN/LOGIN until TLS is active (RFC 5034 §4: a server
    /// "MUST implement a configuration in which it does NOT advertise or permit any plaintext
    /// password mechanisms" without TLS). APOP stays available.
    pub require_tls_for_plaintext: bool,
    /// Offer APOP: the greeting carries the timestamp (RFC 1939 §7).
    pub apop: bool,
    /// Failed authentications after which the connection is closed (RFC 1939 §7 lets a
    /// server close after a number of failures).
    pub max_auth_failures: u32,
    /// The text after IMPLEMENTATION in CAPA (RFC 2449 §6.9).
    pub implementation: String,
    /// Queued output (octets) past which pipelined commands wait until it drains.
    pub max_pending_output: usize,
    /// Largest message RETR/TOP will load; bigger ones get `-ERR [SYS/PERM]`.
    pub max_message: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: "localhost".into(),
            stls: false,
            require_tls_for_plaintext: false,
            apop: true,
            max_auth_failures: 5,
            implementation: concat!("wirecheck-pop3 ", env!("CARGO_PKG_VERSION")).into(),
            max_pending_output: 4 * 1024 * 1024,
            max_message: 256 * 1024 * 1024,
        }
    }
}

/// The RFC 1939 §7 APOP timestamp `<process-ID.clock@hostname>`; the caller passes the
/// clock (anything that differs per connection, e.g. nanoseconds since the epoch).
pub fn apop_timestamp(pid: u32, clock: u64, hostname: &str) -> String {
    format!("<{pid}.{clock}@{hostname}>")
}

/// One message of the maildrop as the session sees it.
#[derive(Debug, Clone, Copy)]
struct Message {
    uid: Uid,
    /// RFC 1939 §11: octets as CRLF-terminated lines.
    size: u64,
    deleted: bool,
}

/// The locked maildrop of the TRANSACTION state.
#[derive(Debug)]
struct Maildrop {
    /// Held for the session's life, released when the maildrop is dropped (RFC 1939 §8).
    _lock: MaildropLock,
    folder: Folder,
    /// Numbered from 1 (RFC 1939 §5: "message-number ... relative to the maildrop").
    messages: Vec<Message>,
}

impl Maildrop {
    fn visible(&self) -> impl Iterator<Item = (usize, &Message)> {
        self.messages.iter().enumerate().filter(|(_, m)| !m.deleted).map(|(i, m)| (i + 1, m))
    }

    fn totals(&self) -> (usize, u64) {
        self.visible().fold((0, 0), |(n, s), (_, m)| (n + 1, s + m.size))
    }
}

/// Where an AUTH exchange stands.
#[derive(Debug)]
enum SaslStep {
    /// PLAIN: waiting for the credentials after the empty challenge.
    Plain,
    /// LOGIN: waiting for the user name.
    LoginUser,
    /// LOGIN: waiting for the password.
    LoginPass(String),
}

#[derive(Debug)]
enum State {
    /// RFC 1939 §4; `user` is the name given by USER.
    Authorization { user: Option<String> },
    /// Inside an AUTH exchange (still AUTHORIZATION).
    Sasl(SaslStep),
    /// RFC 1939 §5.
    Transaction(Box<Maildrop>),
    /// After QUIT (UPDATE done), a timeout or EOF: nothing more is read.
    Done,
}

/// A POP3 server session.
#[derive(Debug)]
pub struct ServerSession {
    store: Store,
    cfg: Arc<ServerConfig>,
    timestamp: String,
    lines: LineBuffer,
    out: VecDeque<Output>,
    pending: usize,
    state: State,
    tls: bool,
    /// STLS answered; input waits for the handshake.
    awaiting_tls: bool,
    auth_failures: u32,
}

impl ServerSession {
    /// A session that greets at once; `timestamp` is the APOP banner (see
    /// [`apop_timestamp`]).
    pub fn new(store: Store, cfg: Arc<ServerConfig>, timestamp: String) -> ServerSession {
        let mut s = ServerSession {
            store,
            cfg,
            timestamp,
            lines: LineBuffer::new(MAX_COMMAND_LINE - 2),
            out: VecDeque::new(),
            pending: 0,
            state: State::Authorization { user: None },
            tls: false,
            awaiting_tls: false,
            auth_failures: 0,
        };
        // RFC 1939 §4 greeting; with APOP, §7: the timestamp in the banner.
        let greeting = if s.cfg.apop {
            format!("{} POP3 server ready {}", s.cfg.hostname, s.timestamp)
        } else {
            format!("{} POP3 server ready", s.cfg.hostname)
        };
        s.send(encode_status(true, &greeting));
        s
    }

    /// True once the session is in the TRANSACTION state.
    pub fn is_authenticated(&self) -> bool {
        matches!(self.state, State::Transaction(_))
    }

    /// True once the session is over (QUIT, timeout or EOF).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn send(&mut self, bytes: Vec<u8>) {
        self.pending += bytes.len();
        self.out.push_back(Output::Send(bytes));
    }

    fn ok(&mut self, text: &str) {
        self.send(encode_status(true, text));
    }

    fn err(&mut self, text: &str) {
        self.send(encode_status(false, text));
    }

    /// Handle the complete lines buffered, until the output backlog is too large, STLS or QUIT.
    fn process(&mut self) {
        while self.pending < self.cfg.max_pending_output && !self.awaiting_tls && !self.is_done() {
            let Some(ev) = self.lines.next_line() else { break };
            match (ev, &self.state) {
                (LineEvent::TooLong, State::Sasl(_)) => self.fail_sasl("[AUTH] response too long"),
                // RFC 2449 §4: command lines are at most 255 octets.
                (LineEvent::TooLong, _) => {
                    self.forget_user();
                    self.err("line too long (255 octets at most, RFC 2449)");
                }
                (LineEvent::Line(l), State::Sasl(_)) => self.sasl_response(&l),
                (LineEvent::Line(l), _) => match decode_command(&l) {
                    Ok(cmd) => self.command(cmd),
                    Err(e) => {
                        self.forget_user();
                        self.err(&command_error_text(&e));
                    }
                },
            }
        }
    }

    /// RFC 1939 §7 PASS: "may only be given in the AUTHORIZATION state immediately after a
    /// successful USER command": any other command line (CAPA, NOOP, a refused or unknown
    /// one) in between forgets the name, so a later PASS gets -ERR. Returns the name.
    fn forget_user(&mut self) -> Option<String> {
        match &mut self.state {
            State::Authorization { user } => user.take(),
            _ => None,
        }
    }

    fn command(&mut self, cmd: Command) {
        let user = self.forget_user();
        if let Command::Capa = cmd {
            return self.capa();
        }
        if let State::Transaction(_) = self.state {
            return self.transaction(cmd);
        }
        match cmd {
            Command::User(name) => {
                if self.plaintext_refused() {
                    return;
                }
                // RFC 1939 §7: the server may accept any name here; whether it exists is only
                // said after PASS, so USER does not reveal which users exist.
                self.state = State::Authorization { user: Some(name) };
                self.ok("send PASS");
            }
            Command::Pass(password) => {
                let Some(user) = user else {
                    return self.err("send USER first");
                };
                if self.plaintext_refused() {
                    return;
                }
                if self.store.users().verify(&user, password.as_bytes()) {
                    self.open_maildrop(&user);
                } else {
                    self.auth_failed();
                }
            }
            Command::Apop { name, digest } => {
                if !self.cfg.apop {
                    return self.err("APOP not supported");
                }
                // RFC 1939 §7: MD5(timestamp + shared secret), lower-case hex.
                let expected = self
                    .store
                    .users()
                    .get(&name)
                    .map(|u| md5_hex(format!("{}{}", self.timestamp, u.password).as_bytes()));
                if expected.is_some_and(|e| e.eq_ignore_ascii_case(&digest)) {
                    self.open_maildrop(&name);
                } else {
                    self.auth_failed();
                }
            }
            Command::Auth { mechanism: None, .. } => {
                let mut out = encode_status(true, "SASL mechanisms follow");
                let names: Vec<&str> = if self.plaintext_allowed() {
                    Mechanism::ALL.iter().map(|m| m.name()).collect()
                } else {
                    Vec::new()
                };
                encode_body(&names, &mut out);
                self.send(out);
            }
            Command::Auth { mechanism: Some(m), initial } => self.auth(&m, initial),
            Command::Stls => self.stls(),
            Command::Quit => {
                // RFC 1939 §4: QUIT in AUTHORIZATION ends the session without UPDATE.
                let text = format!("{} POP3 server signing off", self.cfg.hostname);
                self.ok(&text);
                self.finish();
            }
            _ => self.err("command not valid in the AUTHORIZATION state"),
        }
    }

    fn plaintext_allowed(&self) -> bool {
        self.tls || !self.cfg.require_tls_for_plaintext
    }

    /// Answers and returns true when plaintext passwords are refused on this connection.
    fn plaintext_refused(&mut self) -> bool {
        if self.plaintext_allowed() {
            return false;
        }
        self.err("[AUTH] plaintext authentication is not allowed without TLS (use STLS)");
        true
    }

    /// RFC 2595 §4: STLS, AUTHORIZATION state only; anything the client sent after it and
    /// before the handshake is discarded.
    fn stls(&mut self) {
        if self.tls {
            return self.err("command not permitted when TLS active");
        }
        if !self.cfg.stls {
            return self.err("STLS not available");
        }
        self.ok("Begin TLS negotiation");
        self.lines.clear();
        self.out.push_back(Output::StartTls);
        self.awaiting_tls = true;
        self.state = State::Authorization { user: None };
    }

    /// RFC 2449 §5 CAPA, in either state.
    fn capa(&mut self) {
        let authz = !self.is_authenticated();
        let mut caps: Vec<String> = vec!["TOP".into(), "UIDL".into()];
        if self.plaintext_allowed() {
            caps.push("USER".into());
            let mechs: Vec<&str> = Mechanism::ALL.iter().map(|m| m.name()).collect();
            caps.push(format!("SASL {}", mechs.join(" ")));
        }
        caps.extend(["RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"].map(String::from));
        if authz && self.cfg.stls && !self.tls {
            caps.push("STLS".into());
        }
        caps.push(format!("IMPLEMENTATION {}", self.cfg.implementation));
        let mut out = encode_status(true, "Capability list follows");
        encode_body(&caps, &mut out);
        self.send(out);
    }

    /// RFC 3206 §4 `[AUTH]`: the credentials are wrong.
    fn auth_failed(&mut self) {
        self.auth_failures += 1;
        self.state = State::Authorization { user: None };
        self.err("[AUTH] invalid user name or password");
        if self.auth_failures >= self.cfg.max_auth_failures {
            self.finish();
        }
    }

    /// Authenticated: take the maildrop lock (RFC 1939 §4, §8) and enter TRANSACTION.
    fn open_maildrop(&mut self, user: &str) {
        self.state = State::Authorization { user: None };
        match self.load_maildrop(user) {
            Ok(m) => {
                let (n, size) = m.totals();
                self.state = State::Transaction(Box::new(m));
                let text = format!("{user}'s maildrop has {n} message{} ({size} octets)", plural(n));
                self.ok(&text);
            }
            // RFC 2449 §8.1.2: authentication succeeded but the maildrop is in use.
            Err(StoreError::MaildropLocked(_)) => self.err("[IN-USE] maildrop already locked"),
            // RFC 3206 §4: a temporary system problem.
            Err(_) => self.err("[SYS/TEMP] unable to open the maildrop"),
        }
    }

    fn load_maildrop(&self, user: &str) -> Result<Maildrop, StoreError> {
        let lock = self.store.try_lock_maildrop(user)?;
        let folder = self.store.folder(user, INBOX)?;
        let messages =
            folder.messages()?.into_iter().map(|m| Message { uid: m.uid, size: m.crlf_size, deleted: false }).collect();
        Ok(Maildrop { _lock: lock, folder, messages })
    }

    /// The TRANSACTION state, RFC 1939 §5 and §7.
    fn transaction(&mut self, cmd: Command) {
        let State::Transaction(md) = &mut self.state else { return };
        let reply: Result<Vec<u8>, String> = match cmd {
            Command::Stat => {
                let (n, size) = md.totals();
                Ok(encode_status(true, &format!("{n} {size}")))
            }
            Command::List(None) => {
                let (n, size) = md.totals();
                let mut out = encode_status(true, &format!("{n} message{} ({size} octets)", plural(n)));
                let lines: Vec<String> = md.visible().map(|(i, m)| format!("{i} {}", m.size)).collect();
                encode_body(&lines, &mut out);
                Ok(out)
            }
            Command::List(Some(n)) => lookup(md, n).map(|m| encode_status(true, &format!("{n} {}", m.size))),
            Command::Uidl(None) => {
                let mut out = encode_status(true, "unique-id listing follows");
                let v = md.folder.uidvalidity();
                let lines: Vec<String> = md.visible().map(|(i, m)| format!("{i} {}", unique_id(v, m.uid))).collect();
                encode_body(&lines, &mut out);
                Ok(out)
            }
            Command::Uidl(Some(n)) => {
                let v = md.folder.uidvalidity();
                lookup(md, n).map(|m| encode_status(true, &format!("{n} {}", unique_id(v, m.uid))))
            }
            Command::Retr(n) => self.retrieve(n, None),
            Command::Top { msg, lines } => self.retrieve(msg, Some(lines)),
            // RFC 1939 §5 DELE example: "-ERR message 2 already deleted".
            Command::Dele(n) if is_deleted(md, n) => Err(format!("message {n} already deleted")),
            Command::Dele(n) => lookup(md, n).map(|_| {
                if let Some(m) = (n as usize).checked_sub(1).and_then(|i| md.messages.get_mut(i)) {
                    m.deleted = true;
                }
                encode_status(true, &format!("message {n} deleted"))
            }),
            Command::Noop => Ok(encode_status(true, "")),
            Command::Rset => {
                md.messages.iter_mut().for_each(|m| m.deleted = false);
                let (n, size) = md.totals();
                Ok(encode_status(true, &format!("maildrop has {n} message{} ({size} octets)", plural(n))))
            }
            Command::Quit => return self.update(),
            _ => Err("command not valid in the TRANSACTION state".into()),
        };
        match reply {
            Ok(bytes) => self.send(bytes),
            Err(text) => self.err(&text),
        }
    }

    /// RETR (`body_lines` None) or TOP.
    fn retrieve(&self, n: u32, body_lines: Option<u32>) -> Result<Vec<u8>, String> {
        let State::Transaction(md) = &self.state else { return Err("no maildrop".into()) };
        let m = lookup(md, n)?;
        if m.size > self.cfg.max_message {
            return Err("[SYS/PERM] message too large to send".into());
        }
        let bytes = md.folder.read(m.uid).map_err(|e| match e {
            StoreError::NoSuchMessage(_) => "[SYS/PERM] message was removed by another client".to_string(),
            _ => "[SYS/TEMP] unable to read the message".to_string(),
        })?;
        let status = match body_lines {
            None => format!("{} octets", m.size),
            Some(_) => "top of message follows".to_string(),
        };
        let mut out = encode_status(true, &status);
        encode_message(&bytes, body_lines.map(|l| l as usize), &mut out);
        Ok(out)
    }

    /// RFC 1939 §6: QUIT from TRANSACTION enters UPDATE: remove the messages marked deleted,
    /// release the maildrop, say goodbye.
    fn update(&mut self) {
        let State::Transaction(md) = std::mem::replace(&mut self.state, State::Done) else { return };
        let deleted: Vec<Uid> = md.messages.iter().filter(|m| m.deleted).map(|m| m.uid).collect();
        let left = md.messages.len() - deleted.len();
        let text = match md.folder.remove(&deleted) {
            Ok(_) if left == 0 => Ok(format!("{} POP3 server signing off (maildrop empty)", self.cfg.hostname)),
            Ok(_) => Ok(format!("{} POP3 server signing off ({left} message{} left)", self.cfg.hostname, plural(left))),
            Err(_) => Err("[SYS/TEMP] some deleted messages not removed"),
        };
        // The maildrop lock is released only now, after the removals are on disk.
        drop(md);
        match text {
            Ok(t) => self.ok(&t),
            Err(t) => self.err(t),
        }
        self.finish();
    }

    /// Close the connection; the maildrop (if any) is released without UPDATE.
    fn finish(&mut self) {
        self.state = State::Done;
        self.lines.clear();
        self.out.push_back(Output::Close);
    }
}

/// The message numbered `n`, unless there is none or it is marked deleted (RFC 1939 §5:
/// the argument "may NOT refer to a message marked as deleted").
fn lookup(md: &Maildrop, n: u32) -> Result<Message, String> {
    match (n as usize).checked_sub(1).and_then(|i| md.messages.get(i)) {
        Some(m) if !m.deleted => Ok(*m),
        Some(_) => Err("no such message".into()),
        None => Err(format!("no such message, only {} messages in maildrop", md.messages.len())),
    }
}

fn is_deleted(md: &Maildrop, n: u32) -> bool {
    (n as usize).checked_sub(1).and_then(|i| md.messages.get(i)).is_some_and(|m| m.deleted)
}

/// RFC 1939 §7 UIDL: "1 to 70 characters in the range 0x21 to 0x7E", persistent across
/// sessions: the folder's UIDVALIDITY and the message's UID.
fn unique_id(uidvalidity: u32, uid: Uid) -> String {
    format!("{uidvalidity}.{uid}")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn command_error_text(e: &CommandError) -> String {
    match e {
        CommandError::Unknown(_) | CommandError::Empty => "unknown command".into(),
        other => other.to_string(),
    }
}

impl Session for ServerSession {
    fn handle_input(&mut self, data: &[u8]) {
        if self.is_done() || self.awaiting_tls {
            return;
        }
        self.lines.push(data);
        self.process();
    }

    /// The peer went away: no UPDATE (RFC 1939 §6: only QUIT from TRANSACTION removes
    /// messages); the maildrop is released.
    fn handle_eof(&mut self) {
        self.state = State::Done;
    }

    /// RFC 1939 §3: on the autologout timer the server closes "without removing any messages
    /// or sending any response".
    fn handle_timeout(&mut self) -> Vec<Output> {
        self.state = State::Done;
        vec![Output::Close]
    }

    /// RFC 2595 §4: after STLS the session stays in AUTHORIZATION; the client starts over.
    fn handle_tls(&mut self, _info: TlsInfo) {
        self.tls = true;
        self.awaiting_tls = false;
        self.lines.clear();
    }

    fn poll_output(&mut self) -> Option<Output> {
        if self.out.is_empty() && !self.lines.is_empty() {
            // Pipelined commands held back by the output bound.
            self.process();
        }
        let o = self.out.pop_front()?;
        if let Output::Send(b) = &o {
            self.pending = self.pending.saturating_sub(b.len());
        }
        Some(o)
    }
}

mod auth;
#[cfg(test)]
mod tests;
