//! The data-connection side of the control session: the requests it makes of its driver
//! ([`Action`]), what the driver reports back ([`DataEvent`]), and the commands that set up
//! and run transfers (PORT, PASV, EPRT, EPSV, RETR, STOR, STOU, APPE, LIST, NLST, MLSD, ABOR).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::codec::{EpsvArg, format_epsv, format_port};
use crate::vfs::{FileReader, FileWriter, FsError, VirtualFs, VirtualPath, WriteMode};

use super::{Busy, DataMode, FtpSession};

/// Where the data connection of a transfer comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataConnection {
    /// Accept it on the passive listener opened by the last [`Action::Listen`] (RFC 959
    /// §4.1.2 PASV, RFC 2428 §3 EPSV). Only a connection from the control connection's peer
    /// address may be taken.
    Passive,
    /// Connect to this address (RFC 959 §4.1.2 PORT, RFC 2428 §2 EPRT); the session has checked
    /// it is the control connection's peer.
    Active(SocketAddr),
}

/// What a transfer moves.
pub enum Payload {
    /// Send these bytes (a listing, already in network form).
    Bytes(Vec<u8>),
    /// Send a file's contents.
    Read(FileReader),
    /// Receive into a file.
    Write(FileWriter),
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Payload::Read(_) => f.write_str("Read(..)"),
            Payload::Write(_) => f.write_str("Write(..)"),
        }
    }
}

/// One transfer the driver runs on a data connection.
#[derive(Debug)]
pub struct Transfer {
    /// Where the data connection comes from.
    pub connection: DataConnection,
    /// What to move.
    pub payload: Payload,
    /// TYPE A: convert line ends (LF -> CRLF sending, CRLF -> LF receiving; RFC 959 §3.1.1.1).
    /// Never set for [`Payload::Bytes`], which is already in network form.
    pub ascii: bool,
    /// Bytes of the (converted) outgoing stream to drop before sending: a `REST` offset in
    /// TYPE A, which counts octets of the transfer (RFC 3659 §5).
    pub skip: u64,
    /// MODE B: the data connection carries blocks (RFC 959 §3.4.2), the file ends with an EOF
    /// block; restart markers in an upload are reported as [`DataEvent::Mark`].
    pub block: bool,
    /// Where an upload starts in its file (the `REST` offset, or the old size for `APPE`):
    /// the server's side of a restart marker is this plus the bytes stored before it.
    pub offset: u64,
    /// RFC 4217 §9 `PROT P`: run TLS (server side) on the data connection.
    pub protect: bool,
    /// Most bytes to receive; more is `552` (RFC 959 §4.2 "exceeded storage allocation").
    pub max_bytes: u64,
}

/// A request of the session to its driver.
#[derive(Debug)]
#[non_exhaustive]
pub enum Action {
    /// Open a passive listener on `ip` (the control connection's local address), on an
    /// ephemeral port, replacing any earlier one; answer with [`DataEvent::Listening`] or
    /// [`DataEvent::ListenFailed`].
    Listen {
        /// The address to bind.
        ip: IpAddr,
    },
    /// Close the passive listener, if any (PORT replaced PASV, REIN, ABOR).
    CloseListener,
    /// Open the data connection and run a transfer; answer with [`DataEvent::Connected`] and
    /// then exactly one of `Done`, `Failed`, or (after [`Action::Abort`]) `Aborted`.
    Transfer(Transfer),
    /// Stop the running transfer and close its data connection; answer with
    /// [`DataEvent::Aborted`].
    Abort,
}

/// Why a transfer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferFailure {
    /// The data connection could not be opened: `425`.
    NoConnection,
    /// TLS on the data connection failed: `522` (RFC 4217 §10).
    Tls,
    /// The data connection broke: `426`.
    Network,
    /// Reading or writing the file failed: `451`.
    Local,
    /// The upload exceeded [`Transfer::max_bytes`]: `552`.
    TooLarge,
}

/// What the driver reports about data-connection work.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataEvent {
    /// The passive listener is bound to this address.
    Listening(SocketAddr),
    /// The passive listener could not be bound.
    ListenFailed,
    /// The data connection of the running transfer is open.
    Connected,
    /// The transfer finished; the data connection is closed.
    Done {
        /// Bytes moved over the data connection.
        bytes: u64,
    },
    /// The transfer failed.
    Failed(TransferFailure),
    /// The transfer was stopped after [`Action::Abort`].
    Aborted,
    /// MODE B upload: a restart marker block arrived (RFC 959 §3.4.2); `offset` is the
    /// server's equivalent, the file position after the data before it (in TYPE A the count
    /// of network bytes: REST is refused for TYPE A uploads anyway, `554`).
    Mark {
        /// The client's marker, as sent.
        marker: String,
        /// The file position it stands for.
        offset: u64,
    },
}

/// What kind of transfer is running (for the reply texts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    Retr { path: VirtualPath, size: u64 },
    Stor,
    Stou { name: String },
    Listing,
}

/// The transfer in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Running {
    pub(super) kind: Kind,
    pub(super) connected: bool,
    pub(super) aborting: bool,
}

impl Running {
    /// One line for STAT during the transfer.
    pub(super) fn describe(&self) -> String {
        let state = if self.connected {
            "data connection open"
        } else {
            "opening data connection"
        };
        match &self.kind {
            Kind::Retr { path, size } => format!("Sending {path} ({size} bytes), {state}"),
            Kind::Stor => format!("Receiving a file, {state}"),
            Kind::Stou { name } => format!("Receiving {name}, {state}"),
            Kind::Listing => format!("Sending a directory listing, {state}"),
        }
    }
}

/// Which store command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Store {
    Stor,
    Appe,
    Stou,
}

impl<F: VirtualFs> FtpSession<F> {
    /// RFC 959 §4.1.2 PORT / RFC 2428 §2 EPRT. RFC 2577 (bounce attacks): only the control
    /// connection's own peer address, and no privileged port.
    pub(super) fn cmd_active(&mut self, verb: &str, addr: SocketAddr) {
        if self.epsv_all {
            return self.reply(501, &format!("{verb} not allowed after EPSV ALL."));
        }
        if addr.ip().to_canonical() != self.conn.peer.ip().to_canonical() || addr.port() < 1024 {
            return self.reply(
                501,
                "Illegal PORT command: the address must be your own, on a port >= 1024.",
            );
        }
        if self.data_mode == DataMode::Passive {
            self.actions.push_back(Action::CloseListener);
        }
        self.data_mode = DataMode::Active(addr);
        self.reply(200, &format!("{verb} command successful. Consider using PASV."));
    }

    /// RFC 959 §4.1.2 PASV and RFC 2428 §3 EPSV: ask the driver for a listener; the reply
    /// follows in [`FtpSession::handle_data_event`].
    pub(super) fn cmd_passive(&mut self, extended: bool, arg: Option<EpsvArg>) {
        let local = self.conn.local.ip().to_canonical();
        let family = if local.is_ipv4() { 1 } else { 2 };
        match arg {
            Some(EpsvArg::All) => {
                self.epsv_all = true;
                return self.reply(200, "EPSV ALL ok.");
            }
            Some(EpsvArg::Protocol(p)) if p != family => {
                return self.reply(522, &format!("Network protocol not supported, use ({family})"));
            }
            _ => {}
        }
        if !extended && self.epsv_all {
            return self.reply(501, "PASV not allowed after EPSV ALL.");
        }
        if !extended && !local.is_ipv4() {
            return self.reply(501, "PASV needs IPv4; use EPSV.");
        }
        self.data_mode = DataMode::None;
        self.actions.push_back(Action::Listen { ip: local });
        self.busy = Busy::Listening { extended };
    }

    /// The data connection to use, consuming the PASV/PORT setting (each transfer in stream
    /// mode needs a new one), or the `425` reply.
    fn take_data_connection(&mut self) -> Option<DataConnection> {
        match std::mem::replace(&mut self.data_mode, DataMode::None) {
            DataMode::None => {
                self.reply(425, "Use PORT, PASV, EPRT or EPSV first.");
                None
            }
            DataMode::Passive => Some(DataConnection::Passive),
            DataMode::Active(a) => Some(DataConnection::Active(a)),
        }
    }

    fn start(&mut self, connection: DataConnection, payload: Payload, ascii: bool, skip: u64, kind: Kind) {
        let offset = std::mem::take(&mut self.rest);
        self.actions.push_back(Action::Transfer(Transfer {
            connection,
            payload,
            ascii,
            skip,
            block: self.block_mode,
            offset,
            protect: self.prot_private,
            max_bytes: self.cfg.max_upload,
        }));
        self.busy = Busy::Transfer(Running {
            kind,
            connected: false,
            aborting: false,
        });
    }

    /// RFC 959 §4.1.3 RETR, from the `REST` offset (RFC 3659 §5).
    pub(super) fn cmd_retr(&mut self, arg: &str) {
        if self.data_mode == DataMode::None {
            return self.reply(425, "Use PORT, PASV, EPRT or EPSV first.");
        }
        let Some(path) = self.resolve_or_reply(arg, 550) else {
            return;
        };
        let size = match self.fs.metadata(&path) {
            Ok(m) if m.kind == crate::vfs::FileKind::File => m.size,
            _ => return self.reply(550, "Failed to open file."),
        };
        let ascii = self.ascii;
        let (offset, skip) = if ascii { (0, self.rest) } else { (self.rest, 0) };
        let reader = match self.fs.open_read(&path, offset) {
            Ok(r) => r,
            Err(FsError::BadOffset) => {
                self.rest = 0;
                return self.reply(554, "Invalid REST parameter: beyond the end of the file.");
            }
            Err(_) => return self.reply(550, "Failed to open file."),
        };
        let Some(conn) = self.take_data_connection() else {
            return;
        };
        self.start(conn, Payload::Read(reader), ascii, skip, Kind::Retr { path, size });
    }

    /// RFC 959 §4.1.3 STOR, APPE, STOU (with RFC 1123 §4.1.2.9's `150 FILE: name`), and
    /// REST + STOR (RFC 3659 §5: write from the offset on).
    pub(super) fn cmd_store(&mut self, store: Store, arg: Option<&str>) {
        if self.data_mode == DataMode::None {
            return self.reply(425, "Use PORT, PASV, EPRT or EPSV first.");
        }
        // RFC 959 §5.4: STOR/STOU have no 550; a name that cannot be stored is 553.
        let denied = if store == Store::Appe { 550 } else { 553 };
        let path = match (store, arg) {
            (Store::Stou, _) => match self.unique_name() {
                Some(p) => p,
                None => return self.reply(553, "Could not create a unique file name."),
            },
            (_, Some(a)) => match self.resolve_or_reply(a, denied) {
                Some(p) => p,
                None => return,
            },
            (_, None) => return self.reply(501, "Syntax error in parameters or arguments."),
        };
        if !self.may_write(&path) {
            return self.reply(denied, "Permission denied.");
        }
        if self.ascii && self.rest > 0 {
            self.rest = 0;
            return self.reply(554, "REST with TYPE A uploads is not supported; use TYPE I.");
        }
        let mode = match store {
            Store::Stou => WriteMode::CreateNew,
            _ if self.rest > 0 => WriteMode::At(self.rest),
            Store::Appe => WriteMode::Append,
            Store::Stor => WriteMode::Truncate,
        };
        let writer = match self.fs.open_write(&path, mode) {
            Ok(w) => w,
            Err(FsError::BadOffset) => {
                self.rest = 0;
                return self.reply(554, "Invalid REST parameter: beyond the end of the file.");
            }
            Err(_) => return self.reply(denied, "Could not create file."),
        };
        let Some(conn) = self.take_data_connection() else {
            return;
        };
        let kind = match store {
            Store::Stou => Kind::Stou {
                name: path.file_name().unwrap_or_default().to_owned(),
            },
            _ => Kind::Stor,
        };
        if store == Store::Appe && self.rest == 0 {
            // Where the appended data starts: the server's side of a MODE B restart marker.
            self.rest = self.fs.metadata(&path).map(|m| m.size).unwrap_or(0);
        }
        let ascii = self.ascii;
        self.start(conn, Payload::Write(writer), ascii, 0, kind);
    }

    /// A name in the working directory that does not exist yet.
    fn unique_name(&self) -> Option<VirtualPath> {
        (1..=1000u32)
            .map(|n| self.cwd.join(&format!("ftp{n:04}.stou")))
            .find(|p| matches!(self.fs.metadata(p), Err(FsError::NotFound)))
    }

    /// LIST, NLST, MLSD: send `body` (already CRLF-terminated lines) as a listing.
    pub(super) fn start_listing(&mut self, body: Vec<u8>) {
        let Some(conn) = self.take_data_connection() else {
            return;
        };
        self.start(conn, Payload::Bytes(body), false, 0, Kind::Listing);
    }

    /// RFC 959 §4.1.3 ABOR: with a transfer running, the driver stops it and the `426`/`226`
    /// pair follows its [`DataEvent::Aborted`]; otherwise `225`.
    pub(super) fn cmd_abor(&mut self) {
        match &mut self.busy {
            Busy::Transfer(r) if !r.aborting => {
                r.aborting = true;
                self.actions.push_back(Action::Abort);
            }
            // Not reached through `pump` (`is_urgent` queues it); should a repeated ABOR
            // arrive here, it too waits for the abort to finish rather than go unanswered.
            Busy::Transfer(_) => self.queued.push_back(b"ABOR".to_vec()),
            _ => {
                if self.data_mode == DataMode::Passive {
                    self.actions.push_back(Action::CloseListener);
                }
                self.data_mode = DataMode::None;
                self.reply(225, "No transfer to ABOR.");
            }
        }
    }

    /// True while a running transfer is being aborted (ABOR sent, `Aborted` not yet heard).
    pub(super) fn aborting(&self) -> bool {
        matches!(&self.busy, Busy::Transfer(r) if r.aborting)
    }

    /// Handle what the driver reports about data-connection work.
    pub fn handle_data_event(&mut self, event: DataEvent) {
        match (std::mem::replace(&mut self.busy, Busy::Idle), event) {
            (Busy::Listening { extended }, DataEvent::Listening(addr)) => {
                self.data_mode = DataMode::Passive;
                match (extended, addr) {
                    (false, SocketAddr::V4(a)) => {
                        self.reply(227, &format!("Entering Passive Mode ({}).", format_port(a)))
                    }
                    _ => self.reply(
                        229,
                        &format!("Entering Extended Passive Mode {}", format_epsv(addr.port())),
                    ),
                }
            }
            (Busy::Listening { .. }, DataEvent::ListenFailed) => self.reply(425, "Cannot open passive connection."),
            (Busy::Transfer(mut r), DataEvent::Connected) => {
                if !r.connected && !r.aborting {
                    self.reply_opening(&r.kind);
                }
                r.connected = true;
                self.busy = Busy::Transfer(r);
                return;
            }
            (Busy::Transfer(r), DataEvent::Done { .. }) => {
                if !r.connected {
                    self.reply_opening(&r.kind);
                }
                match &r.kind {
                    Kind::Listing => self.reply(226, "Directory send OK."),
                    Kind::Stou { name } => self.reply(226, &format!("Transfer complete ({name}).")),
                    _ => self.reply(226, "Transfer complete."),
                }
                if r.aborting {
                    self.reply(226, "ABOR: the transfer had already completed.");
                }
            }
            (Busy::Transfer(r), DataEvent::Failed(f)) => {
                let (code, text) = match f {
                    TransferFailure::NoConnection => (425, "Cannot open data connection."),
                    TransferFailure::Tls => (522, "TLS negotiation on the data connection failed."),
                    TransferFailure::Network => (426, "Connection closed; transfer aborted."),
                    TransferFailure::Local => (451, "Requested action aborted: local error in processing."),
                    TransferFailure::TooLarge => (552, "Requested file action aborted: exceeded storage allocation."),
                };
                self.reply(code, text);
                if r.aborting {
                    self.reply(226, "ABOR successful.");
                }
            }
            (Busy::Transfer(r), DataEvent::Mark { marker, offset }) => {
                // RFC 959 §4.2 reply 110: "the text is exact ...: MARK yyyy = mmmm", yyyy the
                // user's marker and mmmm the server's; our markers are file positions, which
                // `REST mmmm` takes back (RFC 959 §4.1.3 REST).
                if !r.aborting {
                    self.reply(110, &format!("MARK {marker} = {offset}"));
                }
                self.busy = Busy::Transfer(r);
                return;
            }
            (Busy::Transfer(_), DataEvent::Aborted) => {
                self.reply(426, "Connection closed; transfer aborted.");
                self.reply(226, "ABOR successful.");
            }
            (busy, _) => {
                // An event that does not belong to what the session waits for: ignore it.
                self.busy = busy;
                return;
            }
        }
        if self.quit_pending {
            self.reply(221, "Goodbye.");
            self.close();
            return;
        }
        self.pump();
    }

    fn reply_opening(&mut self, kind: &Kind) {
        let mode = if self.ascii { "ASCII" } else { "BINARY" };
        match kind {
            Kind::Retr { path, size } => self.reply(
                150,
                &format!("Opening {mode} mode data connection for {path} ({size} bytes)."),
            ),
            Kind::Stor => self.reply(150, "Ok to send data."),
            // RFC 1123 §4.1.2.9: the exact format "150 FILE: pppp".
            Kind::Stou { name } => self.reply(150, &format!("FILE: {name}")),
            Kind::Listing => self.reply(150, "Here comes the directory listing."),
        }
    }
}
