//! The one generic tokio driver: read -> handle -> poll -> write, for every line protocol,
//! on either side of a connection (servers and the MTA's SMTP client alike).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::{Output, Session, TlsInfo};

/// Which side of TLS this connection plays, when it plays TLS at all.
#[derive(Clone)]
pub enum TlsSide {
    /// We accept TLS (a server).
    Server(Arc<rustls::ServerConfig>),
    /// We start TLS (a client), verifying the peer as `server_name`.
    Client(Arc<rustls::ClientConfig>, rustls_pki_types::ServerName<'static>),
}

/// How a connection is driven.
#[derive(Clone)]
pub struct DriverConfig {
    /// Close (after [`Session::handle_timeout`]) when the peer is silent this long.
    pub idle_timeout: Duration,
    /// Bytes read per `read` call.
    pub read_chunk: usize,
    /// TLS for [`Output::StartTls`] and for `implicit_tls`; `None` refuses upgrades.
    pub tls: Option<TlsSide>,
    /// Start TLS at connect (SMTPS/465, POP3S/995, IMAPS/993, FTPS/990).
    pub implicit_tls: bool,
    /// Run [`Session::handle_input`] on tokio's blocking pool: for sessions that do file I/O
    /// (fsync before `250`) so they never stall the runtime.
    pub blocking: bool,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            idle_timeout: Duration::from_secs(300),
            read_chunk: 16 * 1024,
            tls: None,
            implicit_tls: false,
            blocking: false,
        }
    }
}

/// Why a connection ended other than by the session's [`Output::Close`] or a clean EOF.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// A socket error.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// The session asked for TLS but the driver has none configured.
    #[error("TLS requested but not configured")]
    NoTls,
    /// The blocking task running the session panicked (a bug, reported, never silent).
    #[error("session task failed: {0}")]
    Task(String),
}

/// A TCP stream that may have been upgraded to TLS.
pub enum MaybeTls {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS accepted by us.
    Server(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// TLS started by us.
    Client(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// Transitional state during an upgrade; never read or written.
    Gone,
}

impl MaybeTls {
    /// The negotiated version and cipher suite, or empty values on a plain stream.
    pub fn tls_info(&self) -> TlsInfo {
        let conn: Option<&rustls::CommonState> = match self {
            MaybeTls::Server(s) => Some(s.get_ref().1),
            MaybeTls::Client(s) => Some(s.get_ref().1),
            _ => None,
        };
        conn.map(|c| TlsInfo {
            version: c.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default(),
            cipher: c.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())).unwrap_or_default(),
        })
        .unwrap_or_default()
    }

    /// Upgrade a plain stream to TLS on `side`.
    pub async fn upgrade(self, side: &TlsSide) -> io::Result<MaybeTls> {
        let MaybeTls::Plain(tcp) = self else {
            return Err(io::Error::other("TLS is already active"));
        };
        match side {
            TlsSide::Server(cfg) => {
                let s = TlsAcceptor::from(cfg.clone()).accept(tcp).await?;
                Ok(MaybeTls::Server(Box::new(s)))
            }
            TlsSide::Client(cfg, name) => {
                let s = TlsConnector::from(cfg.clone()).connect(name.clone(), tcp).await?;
                Ok(MaybeTls::Client(Box::new(s)))
            }
        }
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr, $gone:expr) => {
        match $self.get_mut() {
            MaybeTls::Plain($s) => $e,
            MaybeTls::Server($s) => $e,
            MaybeTls::Client($s) => $e,
            MaybeTls::Gone => $gone,
        }
    };
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "stream lost during TLS upgrade")
}

impl AsyncRead for MaybeTls {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_read(cx, buf), Poll::Ready(Err(gone())))
    }
}

impl AsyncWrite for MaybeTls {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write(cx, buf), Poll::Ready(Err(gone())))
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_flush(cx), Poll::Ready(Err(gone())))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_shutdown(cx), Poll::Ready(Err(gone())))
    }
}

/// Run `session` on `tcp` until it closes, the peer goes away or stays silent too long.
/// Returns the session so the caller can inspect its final state.
pub async fn drive<S>(tcp: TcpStream, session: S, cfg: &DriverConfig) -> Result<S, DriverError>
where
    S: Session + Send + 'static,
{
    let _ = tcp.set_nodelay(true);
    let mut stream = MaybeTls::Plain(tcp);
    let mut session = Some(session);
    if cfg.implicit_tls {
        let Some(s) = session.as_mut() else { unreachable_session() };
        start_tls(&mut stream, cfg.tls.as_ref(), s).await?;
    }
    let mut buf = vec![0u8; cfg.read_chunk.max(512)];
    loop {
        // Drain everything the session wants to do, one output at a time, so that what it
        // says right after TLS is up (a client's second EHLO) is sent before we read again.
        let Some(s) = session.as_mut() else { unreachable_session() };
        if write_outputs(s, &mut stream, cfg.tls.as_ref()).await? == Drained::Close {
            let _ = stream.shutdown().await;
            return session.ok_or_else(|| DriverError::Task("session lost".into()));
        }
        stream.flush().await?;
        let n = match tokio::time::timeout(cfg.idle_timeout, stream.read(&mut buf)).await {
            Err(_elapsed) => {
                let Some(s) = session.as_mut() else { unreachable_session() };
                write_before_close(&mut stream, s.handle_timeout()).await;
                let _ = stream.shutdown().await;
                return session.ok_or_else(|| DriverError::Task("session lost".into()));
            }
            Ok(Ok(0)) => {
                let Some(s) = session.as_mut() else { unreachable_session() };
                s.handle_eof();
                // Let the session say its last words (e.g. nothing, or a final reply).
                while let Some(o) = s.poll_output() {
                    match o {
                        Output::Send(bytes) => {
                            if stream.write_all(&bytes).await.is_err() {
                                break;
                            }
                        }
                        Output::StartTls | Output::Close => break,
                    }
                }
                let _ = stream.shutdown().await;
                return session.ok_or_else(|| DriverError::Task("session lost".into()));
            }
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return Err(e.into()),
        };
        if cfg.blocking {
            let mut s = session.take().ok_or_else(|| DriverError::Task("session lost".into()))?;
            let data = buf[..n].to_vec();
            let s = tokio::task::spawn_blocking(move || {
                s.handle_input(&data);
                s
            })
            .await
            .map_err(|e| DriverError::Task(e.to_string()))?;
            session = Some(s);
        } else if let Some(s) = session.as_mut() {
            s.handle_input(&buf[..n]);
        }
    }
}

/// What a session wants once [`write_outputs`] has carried out everything it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// It waits for input (or another event the caller watches).
    Waiting,
    /// It asked to close ([`Output::Close`]): what it sent is flushed; the caller shuts the
    /// stream down (after whatever else it must end first, e.g. FTP data connections).
    Close,
}

/// Carry out `session`'s outputs until it has none: write what it sends, start TLS when it
/// asks ([`start_tls`]), stop at [`Output::Close`]. One output at a time, so what a session
/// says right after TLS is up goes out on the TLS stream. Flushes only before TLS and close:
/// the caller flushes before it waits.
///
/// The one output loop of [`drive`] and of the servers that need a driver loop of their own
/// (IMAP IDLE, FTP data connections).
pub async fn write_outputs<S: Session + ?Sized>(
    session: &mut S,
    stream: &mut MaybeTls,
    tls: Option<&TlsSide>,
) -> Result<Drained, DriverError> {
    while let Some(o) = session.poll_output() {
        match o {
            Output::Send(bytes) => stream.write_all(&bytes).await?,
            Output::StartTls => start_tls(stream, tls, session).await?,
            Output::Close => {
                stream.flush().await?;
                return Ok(Drained::Close);
            }
        }
    }
    Ok(Drained::Waiting)
}

/// Flush what was sent, upgrade the plain `stream` to TLS on `tls` and tell `session`
/// ([`Session::handle_tls`]): for [`Output::StartTls`] and for implicit TLS at connect.
/// [`DriverError::NoTls`] when no TLS is configured. On a failed handshake the stream is
/// left unusable ([`MaybeTls::Gone`]) and the error returned.
pub async fn start_tls<S: Session + ?Sized>(
    stream: &mut MaybeTls,
    tls: Option<&TlsSide>,
    session: &mut S,
) -> Result<(), DriverError> {
    stream.flush().await?;
    let side = tls.ok_or(DriverError::NoTls)?;
    let plain = std::mem::replace(stream, MaybeTls::Gone);
    *stream = plain.upgrade(side).await?;
    session.handle_tls(stream.tls_info());
    Ok(())
}

/// Best effort before closing (after [`Session::handle_timeout`]): write the bytes among
/// `outputs` and flush, ignoring errors; the connection is going away anyway.
pub async fn write_before_close(stream: &mut MaybeTls, outputs: impl IntoIterator<Item = Output>) {
    for o in outputs {
        if let Output::Send(bytes) = o {
            let _ = stream.write_all(&bytes).await;
        }
    }
    let _ = stream.flush().await;
}

#[cold]
fn unreachable_session() -> ! {
    // `session` is only `None` inside the blocking hand-off above, which puts it back before
    // the loop continues or returns an error.
    unreachable!("session is always present between iterations")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// Echoes lines in upper case, closes on "QUIT".
    struct Upper {
        lines: crate::LineBuffer,
        out: std::collections::VecDeque<Output>,
    }

    impl Session for Upper {
        fn handle_input(&mut self, data: &[u8]) {
            self.lines.push(data);
            while let Some(ev) = self.lines.next_line() {
                match ev {
                    crate::LineEvent::Line(l) if l == b"QUIT" => self.out.push_back(Output::Close),
                    crate::LineEvent::Line(l) => {
                        let mut r = l.to_ascii_uppercase();
                        r.extend_from_slice(b"\r\n");
                        self.out.push_back(Output::Send(r));
                    }
                    crate::LineEvent::TooLong => self.out.push_back(Output::Send(b"TOO LONG\r\n".to_vec())),
                }
            }
        }
        fn poll_output(&mut self) -> Option<Output> {
            self.out.pop_front()
        }
    }

    async fn run_pair(blocking: bool) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let s = Upper { lines: crate::LineBuffer::new(8), out: Default::default() };
            let cfg = DriverConfig { blocking, ..Default::default() };
            drive(tcp, s, &cfg).await.map(|_| ())
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"abc\r\n0123456789xyz\r\nQUIT\r\n").await.unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"ABC\r\nTOO LONG\r\n");
        server.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn drives_a_session_over_tcp() {
        run_pair(false).await;
    }

    #[tokio::test]
    async fn drives_a_blocking_session_over_tcp() {
        run_pair(true).await;
    }

    /// A client-side session that asks for TLS, then must speak first on the TLS stream.
    struct SpeaksAfterTls {
        stage: u8,
        got: Vec<u8>,
    }

    impl Session for SpeaksAfterTls {
        fn handle_input(&mut self, data: &[u8]) {
            self.got.extend_from_slice(data);
        }
        fn handle_tls(&mut self, _info: TlsInfo) {
            self.stage = 2;
        }
        fn poll_output(&mut self) -> Option<Output> {
            match self.stage {
                0 => {
                    self.stage = 1;
                    Some(Output::StartTls)
                }
                2 => {
                    self.stage = 3;
                    Some(Output::Send(b"EHLO after tls\r\n".to_vec()))
                }
                3 if self.got.ends_with(b"\r\n") => {
                    self.stage = 4;
                    Some(Output::Close)
                }
                _ => None,
            }
        }
    }

    // Regression: the driver used to read right after the upgrade without polling the
    // session, so a client's post-TLS EHLO was never sent and both sides waited.
    #[tokio::test]
    async fn client_speaks_first_after_tls_upgrade() {
        use crate::tls;
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server_cfg = tls::self_signed_server_config().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut s = MaybeTls::Plain(tcp).upgrade(&TlsSide::Server(server_cfg)).await.unwrap();
            let mut line = vec![0u8; 64];
            let n = s.read(&mut line).await.unwrap();
            s.write_all(b"250 ok\r\n").await.unwrap();
            s.flush().await.unwrap();
            line.truncate(n);
            line
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let cfg = DriverConfig {
            idle_timeout: Duration::from_secs(10),
            tls: Some(TlsSide::Client(tls::insecure_client_config().unwrap(), tls::server_name("localhost").unwrap())),
            ..Default::default()
        };
        let s = drive(tcp, SpeaksAfterTls { stage: 0, got: vec![] }, &cfg).await.unwrap();
        assert_eq!(s.stage, 4);
        assert_eq!(server.await.unwrap(), b"EHLO after tls\r\n");
    }

    #[tokio::test]
    async fn idle_timeout_closes() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let s = Upper { lines: crate::LineBuffer::new(8), out: Default::default() };
            let cfg = DriverConfig { idle_timeout: Duration::from_millis(100), ..Default::default() };
            drive(tcp, s, &cfg).await.map(|_| ())
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).await.unwrap();
        assert!(got.is_empty());
        server.await.unwrap().unwrap();
    }
}
