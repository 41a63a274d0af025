//! The tokio authoritative server: UDP and TCP on one address, answering from [`Zones`] with
//! `crate::auth`.
//!
//! UDP hot path: a fixed set of worker tasks, each with its own `SO_REUSEPORT` socket on the
//! same address (the kernel spreads clients over them) and its own receive and send buffers,
//! loops `recv_from -> respond_into -> send_to`. No task is spawned per packet and no buffer is
//! allocated per packet beyond what decoding the query needs.
//!
//! TCP (RFC 7766): one task per connection, run by `wirecheck_wire::driver::drive` with a
//! [`TcpSession`]; idle connections are closed after [`ServerConfig::tcp_idle`] (§6.2.3), and at
//! most [`ServerConfig::max_tcp`] are open at once (§6.2.2: others wait in the backlog).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use wirecheck_wire::driver::{DriverConfig, drive};

use crate::auth::{self, Transport};
use crate::tcp::TcpSession;
use crate::zone::Zones;

/// How a server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// UDP worker sockets (default: the number of CPUs, at least 1).
    pub udp_workers: usize,
    /// Close a TCP connection idle this long (RFC 7766 §6.2.3).
    pub tcp_idle: Duration,
    /// Open TCP connections at most.
    pub max_tcp: usize,
    /// UDP workers on threads of their own, blocking in `recv_from`, instead of tokio tasks:
    /// no reactor wake-up and task switch per packet, which is most of the cost of a busy
    /// server (BENCHMARKS.md "DNS"). For a long-running server; the embedded ones (many
    /// small servers per test) keep tasks.
    pub udp_threads: bool,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            udp_workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            tcp_idle: Duration::from_secs(10),
            max_tcp: 256,
            udp_threads: false,
        }
    }
}

/// A running authoritative server. Dropping it stops it.
pub struct AuthServer {
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
    /// With [`ServerConfig::udp_threads`]: the worker threads, each with a handle on its
    /// socket that wakes it at shutdown.
    threads: Vec<(std::thread::JoinHandle<()>, socket2::Socket)>,
    stop: Arc<AtomicBool>,
}

impl AuthServer {
    /// Binds UDP and TCP on `addr` (port 0: one free port for both) and serves `zones`.
    pub async fn start(
        zones: Arc<Zones>,
        addr: SocketAddr,
        cfg: ServerConfig,
    ) -> io::Result<AuthServer> {
        let sockets = bind_pair(addr, cfg.udp_workers.max(1))?;
        AuthServer::serve(zones, sockets, cfg)
    }

    /// Serves `zones` on sockets already bound with [`bind_pair`].
    pub fn serve(zones: Arc<Zones>, sockets: Sockets, cfg: ServerConfig) -> io::Result<AuthServer> {
        let (udp, tcp) = sockets;
        let addr = tcp.local_addr()?;
        let mut tasks = Vec::new();
        let mut threads = Vec::new();
        let stop = Arc::new(AtomicBool::new(false));
        for sock in udp {
            if cfg.udp_threads {
                let sock = sock.into_std()?;
                sock.set_nonblocking(false)?;
                let waker = socket2::Socket::from(sock.try_clone()?);
                let (zones, stop) = (zones.clone(), stop.clone());
                let t = std::thread::Builder::new()
                    .name("dns-udp".into())
                    .spawn(move || udp_thread(&sock, &zones, &stop))?;
                threads.push((t, waker));
            } else {
                tasks.push(tokio::spawn(udp_worker(sock, zones.clone())));
            }
        }
        tasks.push(tokio::spawn(tcp_acceptor(tcp, zones, cfg)));
        Ok(AuthServer { addr, tasks, threads, stop })
    }

    /// The address (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving (open TCP connections finish their current exchange and close).
    pub fn shutdown(self) {}
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
        self.stop.store(true, Ordering::Release);
        for (t, waker) in self.threads.drain(..) {
            // Linux wakes a reader blocked on an unconnected UDP socket at shutdown (and
            // reports ENOTCONN here, which is expected).
            let _ = waker.shutdown(std::net::Shutdown::Read);
            let _ = t.join();
        }
    }
}

/// UDP sockets (one per worker) and the TCP listener of one address.
pub type Sockets = (Vec<UdpSocket>, TcpListener);

/// Binds `workers` UDP sockets (`SO_REUSEPORT`) and one TCP listener on the same address; with
/// port 0 a port free for both is found (bounded attempts). Needs a tokio runtime.
pub fn bind_pair(addr: SocketAddr, workers: usize) -> io::Result<Sockets> {
    let mut last_err = None;
    for _ in 0..32 {
        match try_bind_pair(addr, workers) {
            Ok(pair) => return Ok(pair),
            Err(e) if addr.port() == 0 && e.kind() == io::ErrorKind::AddrInUse => {
                last_err = Some(e)
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("no free port")))
}

fn try_bind_pair(addr: SocketAddr, workers: usize) -> io::Result<Sockets> {
    let first = udp_socket(addr)?;
    let bound = first.local_addr()?;
    let mut socks = vec![first];
    for _ in 1..workers {
        socks.push(udp_socket(bound)?);
    }
    let tcp = tcp_listener(bound)?;
    let socks = socks
        .into_iter()
        .map(UdpSocket::from_std)
        .collect::<io::Result<Vec<_>>>()?;
    Ok((socks, tcp))
}

fn udp_socket(addr: SocketAddr) -> io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_port(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    Ok(s.into())
}

fn tcp_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(1024)?;
    TcpListener::from_std(s.into())
}

async fn udp_worker(sock: UdpSocket, zones: Arc<Zones>) {
    let mut buf = vec![0u8; 65_535];
    let mut out = Vec::with_capacity(4096);
    loop {
        let (n, peer) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            // ICMP errors from earlier sends (ECONNREFUSED) and the like: keep serving.
            Err(_) => continue,
        };
        let query = buf.get(..n).unwrap_or_default();
        if auth::respond_into(&zones, query, Transport::Udp, &mut out) {
            let _ = sock.send_to(&out, peer).await;
        }
    }
}

/// [`udp_worker`] on a thread of its own: the same loop, blocking; ends when `stop` is set
/// (the socket is shut down to wake it).
fn udp_thread(sock: &std::net::UdpSocket, zones: &Zones, stop: &AtomicBool) {
    let mut buf = vec![0u8; 65_535];
    let mut out = Vec::with_capacity(4096);
    while !stop.load(Ordering::Acquire) {
        let Ok((n, peer)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let query = buf.get(..n).unwrap_or_default();
        if n > 0 && auth::respond_into(zones, query, Transport::Udp, &mut out) {
            let _ = sock.send_to(&out, peer);
        }
    }
}

async fn tcp_acceptor(listener: TcpListener, zones: Arc<Zones>, cfg: ServerConfig) {
    let limit = Arc::new(Semaphore::new(cfg.max_tcp.max(1)));
    let driver = Arc::new(DriverConfig {
        idle_timeout: cfg.tcp_idle,
        read_chunk: 16 * 1024,
        ..DriverConfig::default()
    });
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let zones = zones.clone();
        let driver = driver.clone();
        tokio::spawn(async move {
            let session = TcpSession::new(move |q: &[u8]| auth::respond(&zones, q, Transport::Tcp));
            let _ = drive(stream, session, &driver).await;
            drop(permit);
        });
    }
}
