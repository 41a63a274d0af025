//! The thin tokio server: accept, spawn [`wirecheck_wire::driver::drive`] per connection
//! with a [`ServerSession`], bound the number of connections, shut down gracefully.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use wirecheck_wire::driver::{DriverConfig, drive};

use super::{MailSink, ServerConfig, ServerSession};

/// How [`serve`] runs.
#[derive(Clone)]
pub struct ServeConfig {
    /// Each session's configuration.
    pub session: ServerConfig,
    /// The driver's; `blocking` is forced on (delivery does file I/O). Set `tls` when
    /// `session.starttls` is on.
    pub driver: DriverConfig,
    /// Connections served at once; more are greeted with `421 4.3.2` and closed
    /// (RFC 5321 §3.1 lets a server refuse a connection with 421).
    pub max_connections: usize,
    /// How long [`ServeHandle::shutdown`] waits for open connections before dropping them.
    pub grace: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            session: ServerConfig::default(),
            driver: DriverConfig::default(),
            max_connections: 256,
            grace: Duration::from_secs(5),
        }
    }
}

/// Errors of the accept loop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Accepting failed.
    #[error("accept: {0}")]
    Io(#[from] std::io::Error),
    /// The accept task panicked or was cancelled.
    #[error("server task: {0}")]
    Task(String),
}

/// A running server.
pub struct ServeHandle {
    local_addr: std::net::SocketAddr,
    stop: Arc<Notify>,
    shutting_down: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Result<(), ServeError>>,
}

impl ServeHandle {
    /// The address the listener is bound to.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.local_addr
    }

    /// Stop accepting; sessions answer their next command with `421 4.3.2` and close;
    /// connections still open after the grace period are dropped.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        self.shutting_down.store(true, Ordering::Relaxed);
        self.stop.notify_one();
        self.task
            .await
            .map_err(|e| ServeError::Task(e.to_string()))?
    }
}

/// Serve SMTP on `listener`, one [`ServerSession`] with a fresh sink from `make_sink` per
/// connection. Must be called inside a tokio runtime; returns at once.
pub fn serve<P, F>(
    listener: TcpListener,
    make_sink: F,
    cfg: ServeConfig,
) -> std::io::Result<ServeHandle>
where
    P: MailSink + Send + 'static,
    F: Fn() -> P + Send + 'static,
{
    let local_addr = listener.local_addr()?;
    let stop = Arc::new(Notify::new());
    let shutting_down = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn(accept_loop(
        listener,
        make_sink,
        cfg,
        stop.clone(),
        shutting_down.clone(),
    ));
    Ok(ServeHandle {
        local_addr,
        stop,
        shutting_down,
        task,
    })
}

async fn accept_loop<P, F>(
    listener: TcpListener,
    make_sink: F,
    cfg: ServeConfig,
    stop: Arc<Notify>,
    shutting_down: Arc<AtomicBool>,
) -> Result<(), ServeError>
where
    P: MailSink + Send + 'static,
    F: Fn() -> P + Send + 'static,
{
    let session_cfg = Arc::new(cfg.session.clone());
    let driver = Arc::new(DriverConfig {
        blocking: true,
        ..cfg.driver.clone()
    });
    let slots = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = stop.notified() => break,
            a = listener.accept() => a,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        let (mut tcp, peer) = match accepted {
            Ok(a) => a,
            // Out of descriptors and the like: keep serving the open connections.
            Err(e) => {
                tracing::warn!("smtp accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            conns.spawn(async move {
                let _ = tcp
                    .write_all(b"421 4.3.2 Too many connections, try again later\r\n")
                    .await;
                let _ = tcp.shutdown().await;
            });
            continue;
        };
        let session = ServerSession::new(session_cfg.clone(), make_sink(), Some(peer))
            .with_shutdown(shutting_down.clone());
        let driver = driver.clone();
        conns.spawn(async move {
            if let Err(e) = drive(tcp, session, &driver).await {
                tracing::debug!("smtp connection from {peer}: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(cfg.grace, drain).await.is_err() {
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
    Ok(())
}
