//! The tokio server (feature `server`): an accept loop, one control-connection driver per
//! client, and the data connections the session asks for.
//!
//! The control driver is the loop of [`wirecheck_wire::driver::drive`] (read -> handle ->
//! poll -> write, TLS upgrade on `Output::StartTls`; the output half is the same
//! [`wirecheck_wire::driver::write_outputs`]) extended by the second source of input
//! an FTP session has: data-connection events. It `select!`s between the control socket and a
//! channel on which transfer tasks report, and carries out the session's [`Action`]s: bind a
//! passive listener, spawn a transfer, abort it. Transfers run in their own tasks
//! ([`transfer`]), so `ABOR` and `STAT` are read and answered while data flows.

mod transfer;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use wirecheck_wire::Session;
use wirecheck_wire::driver::{
    Drained, DriverError, MaybeTls, TlsSide, start_tls, write_before_close, write_outputs,
};

use crate::codec::Reply;
use crate::session::{Action, ConnInfo, DataEvent, FtpConfig, FtpSession};
use crate::vfs::RealFs;

/// How [`serve`] runs.
#[derive(Clone)]
pub struct ServeConfig {
    /// Each control session's configuration (`tls` is set from [`ServeConfig::tls`]).
    pub session: FtpConfig,
    /// The directory served as the virtual root.
    pub root: PathBuf,
    /// TLS for `AUTH TLS` and `PROT P` data connections (RFC 4217); `None` answers `AUTH`
    /// with `502`.
    pub tls: Option<TlsSide>,
    /// TLS from the first byte (FTPS on a dedicated port) instead of `AUTH TLS`.
    pub implicit_tls: bool,
    /// Close a control connection silent this long while no transfer runs (RFC 1123
    /// §4.1.3.2: at least 5 minutes by default).
    pub idle_timeout: Duration,
    /// Limit for opening a data connection (accept or connect, and its TLS handshake) and for
    /// a transfer making no progress.
    pub data_timeout: Duration,
    /// Control connections served at once; more are answered `421` and closed.
    pub max_connections: usize,
}

impl ServeConfig {
    /// Serve `root` with the default session configuration and no TLS.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ServeConfig {
            session: FtpConfig::default(),
            root: root.into(),
            tls: None,
            implicit_tls: false,
            idle_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(30),
            max_connections: 256,
        }
    }
}

/// Why serving a connection (or the accept loop) stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A socket or file-system error.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// The session asked for TLS but none is configured.
    #[error("TLS requested but not configured")]
    NoTls,
}

impl From<DriverError> for ServeError {
    fn from(e: DriverError) -> Self {
        match e {
            DriverError::Io(e) => ServeError::Io(e),
            DriverError::NoTls => ServeError::NoTls,
            // The output half of the driver raises nothing else.
            other => ServeError::Io(io::Error::other(other.to_string())),
        }
    }
}

/// A running server.
pub struct ServeHandle {
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl ServeHandle {
    /// The address the control listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stop accepting and drop every open connection.
    pub async fn shutdown(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Serve FTP on `listener`. Must be called inside a tokio runtime; returns at once.
pub fn serve(listener: TcpListener, cfg: ServeConfig) -> io::Result<ServeHandle> {
    let local_addr = listener.local_addr()?;
    let cfg = Arc::new(cfg);
    let task = tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
        let mut conns = JoinSet::new();
        loop {
            // Reap finished connections so the set stays small.
            while conns.try_join_next().is_some() {}
            let Ok((tcp, peer)) = listener.accept().await else {
                continue;
            };
            let cfg = cfg.clone();
            match slots.clone().try_acquire_owned() {
                Ok(permit) => {
                    conns.spawn(async move {
                        if let Err(e) = serve_connection(tcp, &cfg).await {
                            tracing::debug!(%peer, "ftp connection ended: {e}");
                        }
                        drop(permit);
                    });
                }
                Err(_) => {
                    conns.spawn(async move {
                        let mut tcp = tcp;
                        let _ = tcp
                            .write_all(&Reply::new(421, "Too many connections, try later.").raw)
                            .await;
                        let _ = tcp.shutdown().await;
                    });
                }
            }
        }
    });
    Ok(ServeHandle { local_addr, task })
}

/// The data-connection side the driver keeps for one control connection.
struct DataSide {
    listener: Option<TcpListener>,
    current: Option<(u64, JoinHandle<()>)>,
    next_id: u64,
}

impl DataSide {
    fn abort(&mut self) {
        if let Some((_, h)) = self.current.take() {
            h.abort();
        }
        self.listener = None;
    }
}

/// Serve one control connection until it closes.
pub async fn serve_connection(tcp: TcpStream, cfg: &ServeConfig) -> Result<(), ServeError> {
    let _ = tcp.set_nodelay(true);
    // RFC 959 §4.1.3: a client may send ABOR after Telnet "Synch", i.e. TCP urgent data. Keep
    // the urgent byte in the stream (where strip_telnet drops it) instead of losing it.
    let _ = socket2::SockRef::from(&tcp).set_out_of_band_inline(true);
    let conn = ConnInfo {
        local: tcp.local_addr()?,
        peer: tcp.peer_addr()?,
    };
    let fs = RealFs::new(&cfg.root)?;
    let session_cfg = FtpConfig {
        tls: cfg.tls.is_some(),
        ..cfg.session.clone()
    };
    let mut session = FtpSession::new(session_cfg, fs, conn);
    let mut stream = MaybeTls::Plain(tcp);
    if cfg.implicit_tls {
        start_tls(&mut stream, cfg.tls.as_ref(), &mut session).await?;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<(u64, DataEvent)>();
    let mut data = DataSide {
        listener: None,
        current: None,
        next_id: 0,
    };
    let result = control_loop(&mut session, &mut stream, &mut data, &tx, &mut rx, cfg, conn).await;
    data.abort();
    let _ = stream.shutdown().await;
    result
}

async fn control_loop(
    session: &mut FtpSession<RealFs>,
    stream: &mut MaybeTls,
    data: &mut DataSide,
    tx: &mpsc::UnboundedSender<(u64, DataEvent)>,
    rx: &mut mpsc::UnboundedReceiver<(u64, DataEvent)>,
    cfg: &ServeConfig,
    conn: ConnInfo,
) -> Result<(), ServeError> {
    let mut buf = vec![0u8; 16 * 1024];
    // Set once the client has closed its sending side: nothing more is read, but every
    // complete command received before is still answered (like `wirecheck_wire::driver`).
    let mut eof = false;
    loop {
        // The control connection's outputs, `AUTH TLS` included (RFC 4217 §4); the caller
        // shuts the stream down after the data side.
        if write_outputs(session, stream, cfg.tls.as_ref()).await? == Drained::Close {
            return Ok(());
        }
        let mut acted = false;
        while let Some(a) = session.poll_action() {
            acted = true;
            act(a, session, data, tx, cfg, conn).await;
        }
        if acted {
            continue; // the events may have produced replies
        }
        stream.flush().await?;
        if eof {
            // RFC 959 §4.1.3 / §5.4: every command gets its reply. A transfer still running
            // (its data connection bounded by `data_timeout`) ends with one, and may release
            // commands queued behind it; then the connection closes.
            if !session.transfer_running() {
                return Ok(());
            }
            match rx.recv().await {
                Some((id, ev)) => data_event(session, data, id, ev),
                None => return Ok(()),
            }
            continue;
        }
        let idle = if session.transfer_running() {
            None
        } else {
            Some(cfg.idle_timeout)
        };
        tokio::select! {
            r = read_within(stream, &mut buf, idle) => match r {
                None => {
                    write_before_close(stream, session.handle_timeout()).await;
                    return Ok(());
                }
                Some(Ok(0)) => {
                    session.handle_eof();
                    eof = true;
                }
                Some(Ok(n)) => {
                    session.handle_input(buf.get(..n).unwrap_or_default());
                    let mut more = Vec::new();
                    eof = read_past_urgent_mark(stream, &mut more);
                    session.handle_input(&more);
                    if eof {
                        session.handle_eof();
                    }
                }
                Some(Err(e)) => return Err(e.into()),
            },
            Some((id, ev)) = rx.recv() => data_event(session, data, id, ev),
        }
    }
}

/// Hand a transfer task's report to the session; events of a transfer that was aborted
/// meanwhile are stale.
fn data_event(session: &mut FtpSession<RealFs>, data: &mut DataSide, id: u64, ev: DataEvent) {
    if data.current.as_ref().is_some_and(|(cur, _)| *cur == id) {
        // Connected and Mark come while the transfer goes on; the others end it.
        if !matches!(ev, DataEvent::Connected | DataEvent::Mark { .. }) {
            data.current = None;
        }
        session.handle_data_event(ev);
    }
}

/// tokio takes a short read as "socket drained" and waits for the next readiness edge. A read
/// that stopped at the TCP urgent mark leaves bytes behind that no edge announces: the ABOR a
/// client sends as urgent data (RFC 959 §4.1.3 Synch; Python's ftplib does) would wait for
/// the next packet. Pick such bytes up with direct non-blocking reads; true at EOF.
fn read_past_urgent_mark(stream: &MaybeTls, out: &mut Vec<u8>) -> bool {
    use std::io::Read;
    let MaybeTls::Plain(tcp) = stream else { return false };
    let sock = socket2::SockRef::from(tcp);
    let mut buf = [0u8; 4096];
    for _ in 0..4 {
        match (&*sock).read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => out.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(_) => break,
        }
    }
    false
}

/// Read once, giving up (`None`) after `limit`.
async fn read_within(stream: &mut MaybeTls, buf: &mut [u8], limit: Option<Duration>) -> Option<io::Result<usize>> {
    match limit {
        Some(d) => tokio::time::timeout(d, stream.read(buf)).await.ok(),
        None => Some(stream.read(buf).await),
    }
}

/// Carry out one of the session's requests.
async fn act(
    a: Action,
    session: &mut FtpSession<RealFs>,
    data: &mut DataSide,
    tx: &mpsc::UnboundedSender<(u64, DataEvent)>,
    cfg: &ServeConfig,
    conn: ConnInfo,
) {
    match a {
        Action::Listen { ip } => {
            data.listener = None;
            match TcpListener::bind(SocketAddr::new(ip, 0))
                .await
                .and_then(|l| Ok((l.local_addr()?, l)))
            {
                Ok((addr, l)) => {
                    data.listener = Some(l);
                    session.handle_data_event(DataEvent::Listening(addr));
                }
                Err(_) => session.handle_data_event(DataEvent::ListenFailed),
            }
        }
        Action::CloseListener => data.listener = None,
        Action::Transfer(t) => {
            data.next_id += 1;
            let id = data.next_id;
            let job = transfer::Job {
                transfer: t,
                listener: data.listener.take(),
                peer: conn.peer.ip(),
                tls: cfg.tls.clone(),
                timeout: cfg.data_timeout,
            };
            let tx = tx.clone();
            let handle = tokio::spawn(async move {
                transfer::run(job, |ev| {
                    let _ = tx.send((id, ev));
                })
                .await
            });
            if let Some((_, old)) = data.current.replace((id, handle)) {
                old.abort();
            }
        }
        Action::Abort => {
            if let Some((_, h)) = data.current.take() {
                h.abort();
                // Wait until the task is gone, so its data connection is closed before the
                // 426 goes out (RFC 959 §4.1.3 ABOR).
                let _ = h.await;
                session.handle_data_event(DataEvent::Aborted);
            }
        }
        // `Action` is non-exhaustive; a request this driver does not know is ignored.
        #[allow(unreachable_patterns)]
        _ => {}
    }
}
