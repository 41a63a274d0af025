//! The reference MTA: "Alice sends a message to Bob".
//!
//! Alice's client submits to her MTA's submission port (RFC 6409: AUTH first, then any
//! recipient). Her MTA delivers local recipients into its maildir store and queues the
//! rest on disk; the queue runner finds each domain's mail exchangers (RFC 5321 §5.1),
//! relays over SMTP with opportunistic STARTTLS, retries on `4yz` and unreachable hosts on
//! a schedule, and sends an RFC 3464 DSN back when a recipient fails for good or the
//! message expires. Bob's MTA takes it on its MX port (our domains only, no open relay)
//! and delivers it into Bob's maildir, where POP3 and IMAP find it.
//!
//! Pieces, each its own module:
//! * [`config`]: [`Config`] (TOML) for one instance;
//! * [`policy`]: the [`wirecheck_smtp::server::MailSink`] behind both listeners;
//! * [`queue`]: the on-disk queue (message + envelope files, fsync, rename);
//! * [`runner`]: the queue runner (relay, retry, expiry, DSN);
//! * [`dsn`]: DSN messages; [`resolver`]: next-hop lookup ([`MxResolver`]);
//! * [`clock`]: injected time ([`Clock`]), so tests move past retry delays instantly.
//!
//! The protocol work is the smtp crate's sans-IO sessions; this crate is policy, storage
//! and scheduling around them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wirecheck_mta::MtaError> {
//! use wirecheck_mta::{Config, Mta};
//! let config = Config::new("mx.alpha.test", "alpha.test", "127.0.0.2".parse().unwrap(), "/tmp/alpha".as_ref())
//!     .with_user("alice", "secret");
//! let mta = Mta::start(config).await?;
//! println!("MX on {}, submission on {:?}", mta.mx_addr(), mta.submission_addr());
//! mta.kick(); // try everything queued now
//! mta.shutdown().await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod clock;
pub mod config;
pub mod dns;
pub mod dsn;
pub mod policy;
pub mod queue;
mod relay;
pub mod resolver;
pub mod runner;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, oneshot};
use wirecheck_smtp::server::{
    Extensions, ServeConfig, ServeError, ServeHandle, ServerConfig, serve,
};
use wirecheck_store::{Store, StoreError};
use wirecheck_wire::driver::{DriverConfig, TlsSide};
use wirecheck_wire::tls::TlsError;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, ConfigError, RetryPolicy};
pub use policy::{Policy, Port};
pub use queue::{Queue, QueueEntry, QueueError, QueuedRecipient, RcptState};
pub use dns::DnsResolver;
pub use resolver::{MxHost, MxResolver, ResolveError, StaticResolver};
pub use runner::PassReport;

/// Why an MTA could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MtaError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The queue could not be opened.
    #[error("queue: {0}")]
    Queue(#[from] QueueError),
    /// TLS set-up failed.
    #[error("tls: {0}")]
    Tls(#[from] TlsError),
    /// A certificate or key file could not be read.
    #[error("reading {path}: {source}")]
    ReadFile {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A listener could not be bound.
    #[error("bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// A server did not stop cleanly.
    #[error("server: {0}")]
    Serve(#[from] ServeError),
}

/// Everything the sinks and the runner share.
pub(crate) struct Ctx {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) queue: Queue,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) resolver: Arc<dyn MxResolver>,
    pub(crate) tls_client: Arc<rustls::ClientConfig>,
    /// Our MX listener: never a next hop (RFC 5321 §5.1).
    pub(crate) own_addrs: Vec<SocketAddr>,
    /// Mail was queued: the runner should look.
    pub(crate) wake: Notify,
}

/// Starts MTAs.
pub struct Mta;

impl Mta {
    /// Start an MTA with the system clock and the configuration's static MX map.
    pub async fn start(config: Config) -> Result<MtaHandle, MtaError> {
        Mta::builder(config).start().await
    }

    /// Start with a clock or resolver of one's own.
    pub fn builder(config: Config) -> MtaBuilder {
        MtaBuilder {
            config,
            clock: None,
            resolver: None,
        }
    }
}

/// An MTA about to start.
pub struct MtaBuilder {
    config: Config,
    clock: Option<Arc<dyn Clock>>,
    resolver: Option<Arc<dyn MxResolver>>,
}

impl MtaBuilder {
    /// Use this clock (tests: [`ManualClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Use this resolver instead of the configuration's `[mx]` / `[hosts]` maps.
    pub fn resolver(mut self, resolver: Arc<dyn MxResolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Open the store and the queue, bind the listeners, start serving and the runner
    /// (whose first pass resumes what a previous run left in the queue).
    pub async fn start(self) -> Result<MtaHandle, MtaError> {
        let config = self.config;
        config.validate()?;
        let store = Store::open(&config.store, config.load_users()?)?;
        let queue = Queue::open(&config.queue)?;
        let server_tls = server_tls(&config)?;
        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| MtaError::Bind { addr, source })
        };
        let mx = bind(config.mx_listen).await?;
        let submission = match config.submission_listen {
            Some(a) => Some(bind(a).await?),
            None => None,
        };
        let submissions = match config.submissions_listen {
            Some(a) => Some(bind(a).await?),
            None => None,
        };
        let local = |l: &TcpListener| {
            l.local_addr().map_err(|source| MtaError::Bind {
                addr: config.mx_listen,
                source,
            })
        };
        let mx_addr = local(&mx)?;
        let submission_addr = submission.as_ref().map(local).transpose()?;
        let submissions_addr = submissions.as_ref().map(local).transpose()?;
        let resolver: Arc<dyn MxResolver> = match (self.resolver, config.dns_resolver) {
            (Some(r), _) => r,
            (None, Some(server)) => Arc::new(
                DnsResolver::stub(server, false).map_err(|e| ConfigError::Invalid(format!("dns-resolver: {e}")))?,
            ),
            (None, None) => Arc::new(StaticResolver::new(&config.mx, &config.hosts, config.relay_port)),
        };
        let ctx = Arc::new(Ctx {
            store,
            queue,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            resolver,
            tls_client: wirecheck_wire::tls::insecure_client_config()?,
            own_addrs: vec![mx_addr],
            wake: Notify::new(),
            config,
        });

        let session = |port: Port, implicit_tls: bool| -> ServeConfig {
            let cfg = &ctx.config;
            ServeConfig {
                session: ServerConfig {
                    hostname: cfg.hostname.clone(),
                    max_message_size: cfg.max_message_size,
                    starttls: !implicit_tls,
                    auth: true,
                    // RFC 4954 §4: no passwords in clear text on the MX port, ever.
                    auth_requires_tls: port == Port::Mx || cfg.auth_requires_tls,
                    // RFC 6409 §4.3: submission needs authentication.
                    require_auth: port == Port::Submission,
                    // Relaying binary content needs BDAT on the client side, which the
                    // relay does not do: BINARYMIME is not offered.
                    extensions: Extensions {
                        binarymime: false,
                        ..Extensions::default()
                    },
                    ..ServerConfig::default()
                },
                driver: DriverConfig {
                    tls: Some(TlsSide::Server(server_tls.clone())),
                    implicit_tls,
                    blocking: true,
                    ..DriverConfig::default()
                },
                ..ServeConfig::default()
            }
        };
        let mut servers = Vec::new();
        let listeners = [
            (Some(mx), Port::Mx, false),
            (submission, Port::Submission, false),
            (submissions, Port::Submission, true),
        ];
        for (listener, port, implicit_tls) in listeners {
            let Some(listener) = listener else { continue };
            let c = ctx.clone();
            let handle = serve(
                listener,
                move || Policy::new(c.clone(), port),
                session(port, implicit_tls),
            )
            .map_err(|source| MtaError::Bind {
                addr: mx_addr,
                source,
            })?;
            servers.push(handle);
        }
        let (requests, rx) = mpsc::unbounded_channel();
        let runner = tokio::spawn(runner::run(ctx.clone(), rx));
        tracing::info!(
            "mta {}: MX {mx_addr}, submission {submission_addr:?}, submissions {submissions_addr:?}",
            ctx.config.hostname
        );
        Ok(MtaHandle {
            mx_addr,
            submission_addr,
            submissions_addr,
            ctx,
            servers,
            requests,
            runner,
        })
    }
}

/// The TLS server configuration: PEM files, or a fresh self-signed certificate for the
/// host name, `localhost` and the listeners' addresses.
fn server_tls(config: &Config) -> Result<Arc<rustls::ServerConfig>, MtaError> {
    if let Some(files) = &config.tls {
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|source| MtaError::ReadFile {
                path: p.to_path_buf(),
                source,
            })
        };
        return Ok(wirecheck_wire::tls::server_config_from_pem(
            &read(&files.cert)?,
            &read(&files.key)?,
        )?);
    }
    let mut names = vec![config.hostname.clone(), "localhost".to_string()];
    let ips = [
        Some(config.mx_listen),
        config.submission_listen,
        config.submissions_listen,
    ];
    for ip in ips
        .into_iter()
        .flatten()
        .map(|a| a.ip())
        .filter(|ip: &IpAddr| !ip.is_unspecified())
    {
        if !names.contains(&ip.to_string()) {
            names.push(ip.to_string());
        }
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (cert, key) = wirecheck_wire::tls::self_signed(&names)?;
    Ok(wirecheck_wire::tls::server_config(vec![cert], key)?)
}

/// A running MTA.
pub struct MtaHandle {
    mx_addr: SocketAddr,
    submission_addr: Option<SocketAddr>,
    submissions_addr: Option<SocketAddr>,
    ctx: Arc<Ctx>,
    servers: Vec<ServeHandle>,
    requests: mpsc::UnboundedSender<runner::Request>,
    runner: tokio::task::JoinHandle<()>,
}

impl MtaHandle {
    /// Where the MX listener is bound.
    pub fn mx_addr(&self) -> SocketAddr {
        self.mx_addr
    }

    /// Where the submission listener is bound, if configured.
    pub fn submission_addr(&self) -> Option<SocketAddr> {
        self.submission_addr
    }

    /// Where the implicit-TLS submission listener is bound, if configured.
    pub fn submissions_addr(&self) -> Option<SocketAddr> {
        self.submissions_addr
    }

    /// The maildir store (for POP3 / IMAP servers sharing it, and for tests).
    pub fn store(&self) -> &Store {
        &self.ctx.store
    }

    /// The outgoing queue (inspection: [`Queue::list`]).
    pub fn queue(&self) -> &Queue {
        &self.ctx.queue
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &Config {
        &self.ctx.config
    }

    /// Try everything in the queue now, whatever its schedule; returns at once.
    pub fn kick(&self) {
        let _ = self.requests.send(runner::Request {
            flush: true,
            reply: None,
        });
    }

    /// Try everything in the queue now and wait until that pass is over.
    pub async fn flush(&self) -> PassReport {
        self.request(true).await
    }

    /// Run a pass over what is due by the MTA's clock and wait until it is over.
    pub async fn run_due(&self) -> PassReport {
        self.request(false).await
    }

    async fn request(&self, flush: bool) -> PassReport {
        let (tx, rx) = oneshot::channel();
        if self
            .requests
            .send(runner::Request {
                flush,
                reply: Some(tx),
            })
            .is_err()
        {
            return PassReport::default();
        }
        rx.await.unwrap_or_default()
    }

    /// Stop: the listeners stop accepting and close their sessions (RFC 5321 §3.8 `421`),
    /// the runner ends after its current pass (or is stopped after a grace period; what it
    /// was relaying stays queued). The queue is unlocked when this returns.
    pub async fn shutdown(self) -> Result<(), MtaError> {
        let mut result = Ok(());
        for s in self.servers {
            if let Err(e) = s.shutdown().await {
                result = Err(MtaError::Serve(e));
            }
        }
        drop(self.requests);
        let mut runner = self.runner;
        if tokio::time::timeout(Duration::from_secs(5), &mut runner)
            .await
            .is_err()
        {
            runner.abort();
            let _ = runner.await;
        }
        result
    }
}
