//! The embedded oracle: every reference server, in this process, on loopback, over one
//! freshly seeded fixture (the same one the real peers are started with).
//!
//! `wirecheck serve` runs one for as long as the user wants; `wirecheck demo` and the corpus
//! test start a fresh one per transcript ([`OracleFactory`]), so that cases which change
//! state (DELE, EXPUNGE, STOR) never disturb each other and every case sees the fixture.
//!
//! One self-signed certificate serves every TLS port; [`Oracle::certificate`] hands it to
//! the runner, which then verifies TLS for real instead of running `--insecure`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use wirecheck_store::{Store, fixture};
use wirecheck_wire::driver::TlsSide;
use wirecheck_wire::tls::SelfSigned;

/// Ports to listen on; `0` picks a free one, `None` leaves the service off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports {
    /// SMTP, the MTA's MX port (mail for `example.test`, AUTH after STARTTLS).
    pub smtp: Option<u16>,
    /// SMTP submission (RFC 6409: AUTH before MAIL).
    pub submission: Option<u16>,
    /// POP3 (STLS offered).
    pub pop3: Option<u16>,
    /// IMAP (STARTTLS offered).
    pub imap: Option<u16>,
    /// FTP (AUTH TLS offered).
    pub ftp: Option<u16>,
    /// DNS, UDP and TCP on one port (authoritative for `example.test`).
    pub dns: Option<u16>,
}

impl Ports {
    /// Every service on a free port.
    pub fn ephemeral() -> Ports {
        Ports { smtp: Some(0), submission: Some(0), pop3: Some(0), imap: Some(0), ftp: Some(0), dns: Some(0) }
    }
}

/// How an oracle is started.
#[derive(Debug, Clone)]
pub struct OracleConfig {
    /// Where to listen.
    pub ip: IpAddr,
    /// Which services, on which ports.
    pub ports: Ports,
    /// Keep mail, queue and FTP files here (created when missing; seeded when empty);
    /// `None`: a temporary directory removed when the oracle stops.
    pub dir: Option<PathBuf>,
    /// Also run the loopback DNS hierarchy (a root, `test.`, `example.test.`, `alpha.test.`,
    /// `beta.test.` on 127.0.0.x, and a recursive resolver on 127.0.0.2); the MTA then finds
    /// next hops by MX lookups through that resolver.
    pub hierarchy: bool,
}

impl Default for OracleConfig {
    fn default() -> Self {
        OracleConfig { ip: IpAddr::V4(Ipv4Addr::LOCALHOST), ports: Ports::ephemeral(), dir: None, hierarchy: false }
    }
}

/// Why the oracle could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OracleError {
    /// A listener could not be bound, or a directory made.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A server refused its configuration.
    #[error("{0}")]
    Setup(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> OracleError {
    let what = what.into();
    move |source| OracleError::Io { what, source }
}

fn setup(what: &str) -> impl FnOnce(String) -> OracleError + '_ {
    move |e| OracleError::Setup(format!("{what}: {e}"))
}

/// A running oracle. Dropping it stops every server (and removes a temporary directory).
pub struct Oracle {
    services: BTreeMap<String, SocketAddr>,
    cert: CertificateDer<'static>,
    store: Store,
    mta: Option<wirecheck_mta::MtaHandle>,
    ftp: Option<wirecheck_ftp::server::ServeHandle>,
    _dns: Option<wirecheck_dns::server::AuthServer>,
    hierarchy: Option<wirecheck_dns::hierarchy::Hierarchy>,
    tasks: Vec<JoinHandle<()>>,
    dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Oracle {
    /// Start the services `cfg` names.
    pub async fn start(cfg: &OracleConfig) -> Result<Oracle, OracleError> {
        let (tmp, dir) = match &cfg.dir {
            Some(d) => (None, d.clone()),
            None => {
                let t =
                    tempfile::Builder::new().prefix("wirecheck-oracle").tempdir().map_err(io("temporary directory"))?;
                let d = t.path().to_path_buf();
                (Some(t), d)
            }
        };
        std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        let tls = SelfSigned::generate(&["localhost", "127.0.0.1", &cfg.ip.to_string()])
            .map_err(|e| OracleError::Setup(format!("certificate: {e}")))?;
        let server_tls = tls.server_config().map_err(|e| OracleError::Setup(format!("TLS: {e}")))?;
        let side = TlsSide::Server(server_tls);
        let mut services = BTreeMap::new();
        let mut tasks = Vec::new();
        let ip = cfg.ip;

        let hierarchy = if cfg.hierarchy {
            let h = wirecheck_dns::hierarchy::Hierarchy::start(Default::default())
                .await
                .map_err(|e| OracleError::Setup(format!("DNS hierarchy: {e}")))?;
            for (addr, zones) in h.servers() {
                let names: Vec<String> = zones.iter().map(|z| z.to_string()).collect();
                services.insert(format!("dns[{}]", names.join(",")), addr);
            }
            if let Some(r) = h.resolver_addr() {
                services.insert("dns-resolver".to_string(), r);
            }
            Some(h)
        } else {
            None
        };
        let dns_resolver = hierarchy.as_ref().and_then(|h| h.resolver_addr());

        // SMTP: the MTA owns the store (it delivers into it); POP3 and IMAP share it.
        let (mta, store) = if cfg.ports.smtp.is_some() || cfg.ports.submission.is_some() {
            let mta = start_mta(&dir, ip, &cfg.ports, &tls, dns_resolver).await?;
            services.insert("smtp".to_string(), mta.mx_addr());
            if let Some(a) = mta.submission_addr() {
                services.insert("submission".to_string(), a);
            }
            let store = mta.store().clone();
            (Some(mta), store)
        } else {
            let users = fixture::peer_users().map_err(|e| OracleError::Setup(format!("users: {e}")))?;
            let store = Store::open(dir.join("mail"), users).map_err(|e| OracleError::Setup(format!("store: {e}")))?;
            (None, store)
        };
        fixture::seed(&store).map_err(|e| OracleError::Setup(format!("seeding the mailbox: {e}")))?;

        if let Some(port) = cfg.ports.pop3 {
            let l = bind(ip, port, "pop3").await?;
            services.insert("pop3".to_string(), l.local_addr().map_err(io("pop3"))?);
            let Some(pop3_tls) = server_config_of(&side) else { unreachable_side() };
            let pcfg = wirecheck_pop3::server::ServeConfig::new("localhost").with_stls(pop3_tls);
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = wirecheck_pop3::server::serve(l, store, pcfg).await {
                    tracing::warn!("pop3 oracle stopped: {e}");
                }
            }));
        }
        if let Some(port) = cfg.ports.imap {
            let l = bind(ip, port, "imap").await?;
            services.insert("imap".to_string(), l.local_addr().map_err(io("imap"))?);
            let session = Arc::new(wirecheck_imap::session::ServerConfig {
                hostname: "localhost".to_string(),
                starttls: true,
                ..Default::default()
            });
            let icfg = wirecheck_imap::server::ServeConfig { session, tls: Some(side.clone()), ..Default::default() };
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = wirecheck_imap::server::serve(l, store, icfg).await {
                    tracing::warn!("imap oracle stopped: {e}");
                }
            }));
        }
        let ftp = match cfg.ports.ftp {
            Some(port) => {
                let root = dir.join("ftp");
                if !root.exists() {
                    std::fs::create_dir_all(&root).map_err(io("ftp root"))?;
                    wirecheck_ftp::fixtures::create_peer_tree(&root).map_err(io("ftp fixture tree"))?;
                }
                let l = bind(ip, port, "ftp").await?;
                let mut fcfg = wirecheck_ftp::server::ServeConfig::new(root);
                fcfg.session.users = vec![(fixture::USER.to_string(), fixture::PASSWORD.to_string())];
                fcfg.session.anonymous = true;
                fcfg.session.writable = vec!["/upload".to_string()];
                fcfg.session.tls = true;
                fcfg.tls = Some(side.clone());
                let h = wirecheck_ftp::server::serve(l, fcfg).map_err(io("ftp"))?;
                services.insert("ftp".to_string(), h.local_addr());
                Some(h)
            }
            None => None,
        };
        let dns = match cfg.ports.dns {
            Some(port) => {
                let mut zones = wirecheck_dns::zone::Zones::new();
                zones.insert(wirecheck_dns::zone::example_test_zone());
                let scfg = wirecheck_dns::server::ServerConfig { udp_workers: 1, ..Default::default() };
                let s = wirecheck_dns::server::AuthServer::start(Arc::new(zones), SocketAddr::new(ip, port), scfg)
                    .await
                    .map_err(io("dns"))?;
                services.insert("dns".to_string(), s.local_addr());
                Some(s)
            }
            None => None,
        };
        Ok(Oracle { services, cert: tls.cert.clone(), store, mta, ftp, _dns: dns, hierarchy, tasks, dir, _tmp: tmp })
    }

    /// The services and their addresses (`smtp`, `submission`, `pop3`, `imap`, `ftp`, `dns`).
    pub fn services(&self) -> &BTreeMap<String, SocketAddr> {
        &self.services
    }

    /// The address of one service.
    pub fn addr(&self, service: &str) -> Option<SocketAddr> {
        self.services.get(service).copied()
    }

    /// The certificate every TLS port presents.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The message store (POP3 and IMAP read it, the MTA delivers into it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Where the oracle keeps its files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The MTA, when SMTP runs.
    pub fn mta(&self) -> Option<&wirecheck_mta::MtaHandle> {
        self.mta.as_ref()
    }

    /// Stop every server.
    pub async fn shutdown(mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        if let Some(f) = self.ftp.take() {
            f.shutdown().await;
        }
        if let Some(m) = self.mta.take() {
            let _ = m.shutdown().await;
        }
        self.hierarchy.take();
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn server_config_of(side: &TlsSide) -> Option<Arc<rustls::ServerConfig>> {
    match side {
        TlsSide::Server(c) => Some(c.clone()),
        TlsSide::Client(..) => None,
    }
}

#[cold]
fn unreachable_side() -> ! {
    unreachable!("the oracle's TLS side is always a server side")
}

async fn bind(ip: IpAddr, port: u16, what: &str) -> Result<TcpListener, OracleError> {
    TcpListener::bind(SocketAddr::new(ip, port)).await.map_err(io(format!("{what}: binding {ip}:{port}")))
}

async fn start_mta(
    dir: &Path,
    ip: IpAddr,
    ports: &Ports,
    tls: &SelfSigned,
    dns_resolver: Option<SocketAddr>,
) -> Result<wirecheck_mta::MtaHandle, OracleError> {
    let etc = dir.join("etc");
    std::fs::create_dir_all(&etc).map_err(io("etc"))?;
    std::fs::write(etc.join("cert.pem"), &tls.cert_pem).map_err(io("writing cert.pem"))?;
    std::fs::write(etc.join("key.pem"), &tls.key_pem).map_err(io("writing key.pem"))?;
    let toml = format!(
        r#"hostname = "mail.{domain}"
domains = ["{domain}"]
store = "{store}"
queue = "{queue}"
mx-listen = "{mx}"
{submission}
{resolver}
[tls]
cert = "{cert}"
key = "{key}"

[[user]]
name = "{user}"
password = "{pass}"
aliases = ["postmaster", "abuse"]
"#,
        domain = fixture::DOMAIN,
        store = toml_path(&dir.join("mail")),
        queue = toml_path(&dir.join("queue")),
        mx = SocketAddr::new(ip, ports.smtp.unwrap_or(0)),
        submission = match ports.submission {
            Some(p) => format!("submission-listen = \"{}\"", SocketAddr::new(ip, p)),
            None => String::new(),
        },
        resolver = match dns_resolver {
            Some(r) => format!("dns-resolver = \"{r}\""),
            None => String::new(),
        },
        cert = toml_path(&etc.join("cert.pem")),
        key = toml_path(&etc.join("key.pem")),
        user = fixture::USER,
        pass = fixture::PASSWORD,
    );
    let config = wirecheck_mta::Config::from_toml(&toml).map_err(|e| setup("MTA configuration")(e.to_string()))?;
    wirecheck_mta::Mta::start(config).await.map_err(|e| setup("MTA")(e.to_string()))
}

fn toml_path(p: &Path) -> String {
    p.display().to_string().replace('\\', "\\\\").replace('"', "\\\"")
}

/// Starts a fresh oracle per transcript: the runner's `--isolate` for the embedded servers.
///
/// Each oracle gets a new, empty directory (so a case never sees another case's state), on
/// tmpfs (`/dev/shm`) when there is one: a throw-away oracle gains nothing from `fsync`, and
/// on a disk the fixture's fsynced folder creation and deliveries were most of a case's cost
/// (BENCHMARKS.md). The servers still call `fsync` exactly as they do on a disk.
#[derive(Debug, Clone, Default)]
pub struct OracleFactory {
    /// Which services each oracle runs (ports are always ephemeral).
    pub ports: Option<Ports>,
}

impl OracleFactory {
    /// A fresh oracle with every service on free ports, its files in a new temporary
    /// directory (removed when the oracle is dropped).
    pub async fn start(&self) -> Result<Oracle, OracleError> {
        let tmp = scratch_dir()?;
        let cfg = OracleConfig {
            ports: self.ports.clone().unwrap_or_else(Ports::ephemeral),
            dir: Some(tmp.path().to_path_buf()),
            ..Default::default()
        };
        let mut oracle = Oracle::start(&cfg).await?;
        oracle._tmp = Some(tmp);
        Ok(oracle)
    }
}

/// A new temporary directory for one oracle: under `/dev/shm` when that is a directory we
/// can write, else under the system's temporary directory.
fn scratch_dir() -> Result<tempfile::TempDir, OracleError> {
    let builder = || {
        let mut b = tempfile::Builder::new();
        b.prefix("wirecheck-oracle");
        b
    };
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(t) = builder().tempdir_in(shm)
    {
        return Ok(t);
    }
    builder().tempdir().map_err(io("temporary directory"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    async fn greeting(addr: SocketAddr) -> String {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut r = BufReader::new(tcp);
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        let _ = r.get_mut().write_all(b"QUIT\r\n").await;
        line
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_service_answers_on_its_port() {
        let o = Oracle::start(&OracleConfig::default()).await.unwrap();
        assert!(greeting(o.addr("smtp").unwrap()).await.starts_with("220 "));
        assert!(greeting(o.addr("submission").unwrap()).await.starts_with("220 "));
        assert!(greeting(o.addr("pop3").unwrap()).await.starts_with("+OK"));
        assert!(greeting(o.addr("imap").unwrap()).await.starts_with("* OK"));
        assert!(greeting(o.addr("ftp").unwrap()).await.starts_with("220"));
        assert!(o.addr("dns").is_some());
        let inbox = o.store().folder("alice", "INBOX").unwrap().messages().unwrap();
        assert_eq!(inbox.len(), 2, "the fixture is seeded");
        o.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_the_hierarchy_the_mta_looks_next_hops_up_in_dns() {
        if std::net::UdpSocket::bind("127.0.0.11:0").is_err() {
            println!("SKIPPED: 127.0.0.11 cannot be bound here");
            return;
        }
        let cfg = OracleConfig {
            hierarchy: true,
            ports: Ports {
                smtp: Some(0),
                ..Ports { smtp: None, submission: None, pop3: None, imap: None, ftp: None, dns: None }
            },
            ..Default::default()
        };
        let o = Oracle::start(&cfg).await.unwrap();
        let resolver = o.addr("dns-resolver").expect("the hierarchy's resolver runs");
        assert!(o.services().keys().any(|k| k == "dns[.]"), "{:?}", o.services());
        assert_eq!(o.mta().unwrap().config().dns_resolver, Some(resolver));
        let stub = wirecheck_dns::client::Resolver::stub(resolver, false).unwrap();
        let mx = stub.lookup_mx("beta.test").await.unwrap();
        assert_eq!(mx.first().map(|m| m.1.as_str()), Some("mx.beta.test"));
        o.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_oracles_are_independent() {
        let a = OracleFactory::default().start().await.unwrap();
        let b = OracleFactory::default().start().await.unwrap();
        assert_ne!(a.addr("pop3"), b.addr("pop3"));
        assert_ne!(a.dir(), b.dir());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_factory_oracle_starts_seeded_and_takes_its_files_with_it() {
        let factory = OracleFactory::default();
        let o = factory.start().await.unwrap();
        let dir = o.dir().to_path_buf();
        assert!(dir.is_dir());
        assert_eq!(o.store().folder("alice", "INBOX").unwrap().messages().unwrap().len(), 2);
        o.store().deliver("alice", "INBOX", b"Subject: only here\r\n\r\n").unwrap();
        o.shutdown().await;
        assert!(!dir.exists(), "{} is left behind", dir.display());
        let fresh = factory.start().await.unwrap();
        assert_eq!(fresh.store().folder("alice", "INBOX").unwrap().messages().unwrap().len(), 2, "a new fixture");
    }
}
