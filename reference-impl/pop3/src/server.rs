//! The tokio POP3 server: accept, then one [`ServerSession`] per connection driven by
//! [`wirecheck_wire::driver::drive`] on the blocking pool (the session reads the store).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use wirecheck_store::Store;
use wirecheck_wire::driver::{DriverConfig, TlsSide, drive};

use crate::{ServerConfig, ServerSession, apop_timestamp};

/// RFC 1939 §3: the autologout timer "MUST be of at least 10 minutes' duration".
pub const MIN_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// How [`serve`] runs.
#[derive(Clone)]
pub struct ServeConfig {
    /// The session's behaviour. `stls` is set by [`serve`] itself: offered exactly when TLS
    /// is configured and not implicit.
    pub session: ServerConfig,
    /// Idle timeout (raised to [`MIN_IDLE_TIMEOUT`] if lower), TLS, implicit TLS. `blocking`
    /// is forced on.
    pub driver: DriverConfig,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
}

impl ServeConfig {
    /// A plain-text server (no STLS) calling itself `hostname`.
    pub fn new(hostname: &str) -> ServeConfig {
        ServeConfig {
            session: ServerConfig { hostname: hostname.to_string(), ..ServerConfig::default() },
            driver: DriverConfig { idle_timeout: MIN_IDLE_TIMEOUT, blocking: true, ..DriverConfig::default() },
            max_connections: 1024,
        }
    }

    /// Offer STLS (RFC 2595 §4) with this TLS configuration.
    pub fn with_stls(mut self, tls: Arc<rustls::ServerConfig>) -> ServeConfig {
        self.driver.tls = Some(TlsSide::Server(tls));
        self.driver.implicit_tls = false;
        self
    }

    /// POP3S: TLS from the first octet (RFC 8314 §3.3, port 995 semantics); no STLS.
    pub fn with_implicit_tls(mut self, tls: Arc<rustls::ServerConfig>) -> ServeConfig {
        self.driver.tls = Some(TlsSide::Server(tls));
        self.driver.implicit_tls = true;
        self
    }
}

/// Accept connections on `listener` forever, each served by a [`ServerSession`] on `store`.
/// Returns only if accepting fails in a way that will not pass (transient errors such as
/// running out of file descriptors are logged and retried).
pub async fn serve(listener: TcpListener, store: Store, cfg: ServeConfig) -> io::Result<()> {
    let mut session_cfg = cfg.session.clone();
    session_cfg.stls = cfg.driver.tls.is_some() && !cfg.driver.implicit_tls;
    let session_cfg = Arc::new(session_cfg);
    let mut driver = cfg.driver.clone();
    driver.blocking = true;
    driver.idle_timeout = driver.idle_timeout.max(MIN_IDLE_TIMEOUT);
    let driver = Arc::new(driver);
    let slots = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
    let clock = Arc::new(AtomicU64::new(0));
    loop {
        let permit = slots.clone().acquire_owned().await.map_err(io::Error::other)?;
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) if is_transient(&e) => {
                tracing::warn!("pop3 accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let timestamp = apop_timestamp(std::process::id(), next_clock(&clock), &session_cfg.hostname);
        let session = ServerSession::new(store.clone(), session_cfg.clone(), timestamp);
        let driver = driver.clone();
        tokio::spawn(async move {
            if let Err(e) = drive(tcp, session, &driver).await {
                tracing::debug!("pop3 {peer}: {e}");
            }
            drop(permit);
        });
    }
}

/// Nanoseconds since the epoch, strictly increasing across calls: each connection's APOP
/// timestamp is unique (RFC 1939 §7).
fn next_clock(last: &AtomicU64) -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let prev = last.fetch_max(now, Ordering::Relaxed);
    if prev >= now { last.fetch_add(1, Ordering::Relaxed) + 1 } else { now }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::OutOfMemory
    ) || e.raw_os_error().is_some_and(|c| c == 23 || c == 24) // ENFILE, EMFILE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_strictly_increasing() {
        let c = AtomicU64::new(u64::MAX / 2); // far in the future: must still increase
        let a = next_clock(&c);
        let b = next_clock(&c);
        assert!(b > a);
    }
}
