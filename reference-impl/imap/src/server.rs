//! The tokio server (feature `server`): accept, then run one [`ServerSession`] per
//! connection. Plain with STARTTLS (port 143) or implicit TLS (port 993, RFC 8314).
//!
//! The driver is the generic read -> handle -> poll -> write loop of
//! `wirecheck_wire::driver::drive` (its output half, TLS upgrade included, is the same
//! `driver::write_outputs`), plus one thing that driver cannot do: IMAP IDLE
//! (RFC 2177) needs the server to speak without client input. While the session is inside
//! IDLE the loop wakes every [`ServeConfig::idle_poll`] and calls
//! [`ServerSession::poll_changes`], which compares the store's change counter and sends
//! EXISTS / EXPUNGE / FETCH when another session (or SMTP delivery) changed the mailbox.
//! Session work runs on tokio's blocking pool (the store does file I/O and fsync).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use wirecheck_store::Store;
use wirecheck_wire::Session;
use wirecheck_wire::driver::{
    Drained, DriverError, MaybeTls, TlsSide, start_tls, write_before_close, write_outputs,
};

use crate::session::{ServerConfig, ServerSession};

/// How the server runs.
#[derive(Clone)]
pub struct ServeConfig {
    /// The session's behaviour.
    pub session: Arc<ServerConfig>,
    /// TLS for STARTTLS and implicit TLS (`TlsSide::Server`); `None` refuses both.
    pub tls: Option<TlsSide>,
    /// TLS from the first byte (IMAPS, port 993 semantics).
    pub implicit_tls: bool,
    /// RFC 9051 §5.4: "an inactivity autologout timer MUST be at least 30 minutes".
    pub idle_timeout: Duration,
    /// How often the store is checked for changes while a client is in IDLE.
    pub idle_poll: Duration,
    /// Bytes read per `read`.
    pub read_chunk: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            session: Arc::new(ServerConfig::default()),
            tls: None,
            implicit_tls: false,
            idle_timeout: Duration::from_secs(30 * 60),
            idle_poll: Duration::from_millis(500),
            read_chunk: 16 * 1024,
        }
    }
}

/// Accept connections on `listener` forever, one task per connection.
pub async fn serve(listener: TcpListener, store: Store, cfg: ServeConfig) -> io::Result<()> {
    let cfg = Arc::new(cfg);
    loop {
        let (tcp, peer) = listener.accept().await?;
        let (store, cfg) = (store.clone(), cfg.clone());
        tokio::spawn(async move {
            if let Err(e) = serve_connection(tcp, store, &cfg).await {
                tracing::debug!(%peer, error = %e, "imap connection ended with an error");
            }
        });
    }
}

/// Run a session on `session` off the async threads.
async fn blocking(
    session: ServerSession,
    f: impl FnOnce(&mut ServerSession) + Send + 'static,
) -> Result<ServerSession, DriverError> {
    tokio::task::spawn_blocking(move || {
        let mut s = session;
        f(&mut s);
        s
    })
    .await
    .map_err(|e| DriverError::Task(e.to_string()))
}

/// Serve one connection until LOGOUT, EOF, an error, or the autologout timer.
pub async fn serve_connection(tcp: TcpStream, store: Store, cfg: &ServeConfig) -> Result<(), DriverError> {
    let _ = tcp.set_nodelay(true);
    let mut stream = MaybeTls::Plain(tcp);
    let mut session = if cfg.implicit_tls {
        let mut s = ServerSession::new_tls(cfg.session.clone(), store);
        start_tls(&mut stream, cfg.tls.as_ref(), &mut s).await?;
        s
    } else {
        ServerSession::new(cfg.session.clone(), store)
    };
    let mut buf = vec![0u8; cfg.read_chunk.max(512)];
    let mut last_input = Instant::now();
    loop {
        if write_outputs(&mut session, &mut stream, cfg.tls.as_ref()).await? == Drained::Close {
            let _ = stream.shutdown().await;
            return Ok(());
        }
        stream.flush().await?;
        let deadline = last_input + cfg.idle_timeout;
        let wake = if session.idling() { deadline.min(Instant::now() + cfg.idle_poll) } else { deadline };
        tokio::select! {
            r = stream.read(&mut buf) => {
                let n = r?;
                if n == 0 {
                    session.handle_eof();
                    let _ = stream.shutdown().await;
                    return Ok(());
                }
                last_input = Instant::now();
                let data = buf[..n].to_vec();
                session = blocking(session, move |s| s.handle_input(&data)).await?;
            }
            _ = tokio::time::sleep_until(wake) => {
                if Instant::now() >= deadline {
                    write_before_close(&mut stream, session.handle_timeout()).await;
                    let _ = stream.shutdown().await;
                    return Ok(());
                }
                session = blocking(session, ServerSession::poll_changes).await?;
            }
        }
    }
}
