//! Opening connections: `main` (to the target, or the client we start in the server role),
//! `connect`, implicit and upgraded TLS, FTP passive data connections, `listen`/`accept`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use tokio::time::Instant;
use wirecheck_wire::driver::{MaybeTls, TlsSide};

use super::CaseTarget;
use super::case::{Exec, Failure, Listener, Stop, error, mismatch, shown};
use super::conn::{self, Conn};
use crate::protocol::{self, Protocol, Transport};
use crate::target::{Process, substitute};
use crate::transcript::script::framing_protocol;
use crate::transcript::{ConnectKind, Role};

impl Exec<'_> {
    /// Open `main`: connect to the target (client role) or wait for the client (server role).
    pub(super) async fn open_main(&mut self) -> Result<(), Stop> {
        let proto_name = framing_protocol(&self.t.meta.protocol);
        match (&self.env.target, self.t.meta.role) {
            (_, Role::Server) => self.accept_client(proto_name).await,
            (CaseTarget::Addr(addr), Role::Client) => {
                let (host, port) = addr.rsplit_once(':').unwrap_or((addr.as_str(), ""));
                self.vars.insert(
                    "host".into(),
                    host.trim_matches(['[', ']']).as_bytes().to_vec(),
                );
                self.vars.insert("port".into(), port.as_bytes().to_vec());
                if self.t.meta.protocol == "scenarios" {
                    // Opened when a step first uses it, unless the script connects it
                    // somewhere else first (`connect main to ${pop3}`).
                    self.lazy_main = true;
                    return Ok(());
                }
                self.open_main_to_target(proto_name).await
            }
            (CaseTarget::ClientCmd(_), Role::Client) => Err(error(
                self.line,
                "a client-role case needs a target address",
            )),
        }
    }

    /// Client role: connect `main` to the target.
    pub(super) async fn open_main_to_target(&mut self, proto_name: &str) -> Result<(), Stop> {
        self.lazy_main = false;
        let CaseTarget::Addr(addr) = &self.env.target else {
            return Err(error(
                self.line,
                "a client-role case needs a target address",
            ));
        };
        let addr = addr.clone();
        {
            let p = self.protocol(proto_name)?;
            let kind = if p.default_transport() == Transport::Datagram {
                ConnectKind::Udp
            } else {
                ConnectKind::Tcp
            };
            self.connect("main", kind, &addr, p).await
        }
    }

    /// Server role: listen, start the client under test, accept it as `main` (over UDP,
    /// `main` is the socket itself: replies go to whoever sent the last datagram).
    pub(super) async fn accept_client(&mut self, proto_name: &str) -> Result<(), Stop> {
        let line = self.line;
        let p = self.protocol(proto_name)?;
        let udp = p.default_transport() == Transport::Datagram;
        let (tcp, sock, addr) = if udp {
            let (u, a) = udp_with_tcp_twin(&mut self.listeners, proto_name)
                .await
                .map_err(|e| error(line, format!("cannot listen on UDP: {e}")))?;
            (None, Some(u), a)
        } else {
            let l = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| error(line, format!("cannot listen: {e}")))?;
            let a = l.local_addr().map_err(|e| error(line, e.to_string()))?;
            (Some(l), None, a)
        };
        self.vars.insert("host".into(), b"127.0.0.1".to_vec());
        self.vars
            .insert("port".into(), addr.port().to_string().into_bytes());
        let user_cmd = match &self.env.target {
            CaseTarget::ClientCmd(c) => c.clone(),
            CaseTarget::Addr(_) => None,
        };
        let Some(cmd) = user_cmd else {
            return Err(error(
                line,
                "a server-role case needs a client command: --client-cmd or the transcript's `target-cmd`",
            ));
        };
        let cmd = substitute(&cmd, "127.0.0.1", addr.port());
        let how = if udp { "UDP" } else { "TCP" };
        self.rec.note(
            "main",
            format!("listening on {addr} ({how}); starting the client: {cmd}"),
        );
        let mut client = Process::spawn(&cmd).map_err(|e| error(line, e.to_string()))?;
        if let Some(sock) = sock {
            self.client = Some(client);
            let framer = self.framer(p.as_ref(), Transport::Datagram)?;
            self.conns.insert(
                "main".into(),
                Conn::datagram_server("main", sock, addr, p, framer),
            );
            return Ok(());
        }
        let Some(l) = tcp else {
            return Err(error(line, "no listener"));
        };
        let deadline = Instant::now() + self.env.options.startup_timeout.max(self.step_timeout);
        let accepted = loop {
            let tick = (Instant::now() + Duration::from_millis(100)).min(deadline);
            match tokio::time::timeout_at(tick, l.accept()).await {
                Ok(Ok(a)) => break Ok(a),
                Ok(Err(e)) => break Err(format!("accept failed: {e}")),
                Err(_) if Instant::now() >= deadline => {
                    break Err("the client did not connect in time".to_string());
                }
                Err(_) => {
                    if let Some(st) = client.exited() {
                        break Err(format!(
                            "the client exited ({st}) without connecting; its stderr: {}",
                            client.stderr_tail().trim()
                        ));
                    }
                }
            }
        };
        self.client = Some(client);
        let (tcp, peer) = accepted.map_err(|m| error(line, m))?;
        let _ = tcp.set_nodelay(true);
        self.rec
            .note("main", format!("client connected from {peer}"));
        let framer = self.framer(p.as_ref(), Transport::Stream)?;
        self.conns.insert(
            "main".into(),
            Conn::stream("main", MaybeTls::Plain(tcp), peer, "localhost", p, framer),
        );
        Ok(())
    }
}

/// Where the TCP twin of a datagram server-role listener waits for `listen NAME at ${host}:${port}`
/// (a key no transcript can name).
const TCP_TWIN: &str = "main tcp";

/// The server role's UDP socket on an ephemeral loopback port whose TCP port of the same number
/// is bound too (kept under [`TCP_TWIN`]), so that a transcript's `listen tcp dns at
/// ${host}:${port}` gets it and never races another process for it: a DNS client retries over
/// TCP on the same address and port (RFC 7766 §5, RFC 1035 §4.2.2).
async fn udp_with_tcp_twin(
    listeners: &mut std::collections::BTreeMap<String, Listener>,
    protocol: &str,
) -> std::io::Result<(UdpSocket, std::net::SocketAddr)> {
    let mut last = None;
    for _ in 0..16 {
        let u = UdpSocket::bind("127.0.0.1:0").await?;
        let a = u.local_addr()?;
        match TcpListener::bind(a).await {
            Ok(t) => {
                listeners.insert(
                    TCP_TWIN.to_string(),
                    Listener {
                        tcp: Some(t),
                        udp: None,
                        protocol: protocol.to_string(),
                    },
                );
                return Ok((u, a));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free UDP and TCP port pair")))
}

impl Exec<'_> {
    pub(super) async fn connect(
        &mut self,
        name: &str,
        kind: ConnectKind,
        addr: &str,
        p: Arc<dyn Protocol>,
    ) -> Result<(), Stop> {
        let line = self.line;
        let deadline = Instant::now() + self.env.options.connect_timeout;
        let refused = |m: String| {
            Stop::Error(Failure {
                line,
                hint: Some(format!("is the server running and listening on {addr}?")),
                message: m,
                ..Failure::default()
            })
        };
        let host = addr
            .rsplit_once(':')
            .map_or(addr, |(h, _)| h)
            .trim_matches(['[', ']'])
            .to_string();
        // A failed connect is part of the exchange too (a reset can beat the handshake's
        // completion on loopback: the report must still say what happened).
        let c = if kind == ConnectKind::Udp {
            let (sock, peer) = match conn::connect_udp(addr).await {
                Ok(x) => x,
                Err(m) => {
                    self.rec.note(name, m.clone());
                    return Err(refused(m));
                }
            };
            let framer = self.framer(p.as_ref(), Transport::Datagram)?;
            Conn::datagram(name, sock, peer, p, framer)
        } else {
            let (tcp, peer) = match conn::connect_tcp(addr, deadline).await {
                Ok(x) => x,
                Err(m) => {
                    self.rec.note(name, m.clone());
                    return Err(refused(m));
                }
            };
            let framer = self.framer(p.as_ref(), Transport::Stream)?;
            Conn::stream(name, MaybeTls::Plain(tcp), peer, &host, p, framer)
        };
        self.rec.note(name, format!("connected to {addr}"));
        self.conns.insert(name.to_string(), c);
        if kind == ConnectKind::Tls {
            self.tls(name).await?;
        }
        Ok(())
    }

    pub(super) async fn tls(&mut self, name: &str) -> Result<(), Stop> {
        let line = self.line;
        let side = match self.t.meta.role {
            Role::Client => {
                let host = self.conn(name)?.host.clone();
                let sni = if host.is_empty() {
                    "localhost".to_string()
                } else {
                    host
                };
                let sn = wirecheck_wire::tls::server_name(&sni)
                    .map_err(|e| error(line, e.to_string()))?;
                TlsSide::Client(self.env.tls.client.clone(), sn)
            }
            Role::Server => {
                let cfg = self
                    .env
                    .tls
                    .server
                    .get_or_try_init(|| async { wirecheck_wire::tls::self_signed_server_config() })
                    .await
                    .map_err(|e| error(line, format!("TLS set-up: {e}")))?;
                TlsSide::Server(cfg.clone())
            }
        };
        let deadline = self.deadline();
        let c = self
            .conns
            .get_mut(name)
            .ok_or_else(|| error(line, format!("no open connection `{name}`")))?;
        c.upgrade(&side, deadline, &mut self.rec).await.map_err(|m| {
            let cert = m.contains("certificate") || m.contains("UnknownIssuer");
            let hint = cert.then(|| "the certificate could not be verified: pass --insecure for a self-signed one".to_string());
            let f = Failure { line, message: m, hint, ..Failure::default() };
            if cert { Stop::Error(f) } else { Stop::Mismatch(f) }
        })
    }

    pub(super) fn passive_address(&self) -> Result<SocketAddr, Stop> {
        let line = self.line;
        let (unit, control) = self.last_data_reply.as_ref().ok_or_else(|| {
            error(
                line,
                "`connect NAME passive`: no 227 (PASV) or 229 (EPSV) reply before",
            )
        })?;
        let ftp = protocol::by_name("ftp").ok_or_else(|| error(line, "no ftp adapter"))?;
        match ftp.data_address(unit, *control) {
            Ok(Some(a)) => Ok(a),
            Ok(None) => Err(Stop::Mismatch(Failure {
                line,
                message: "the 227/229 reply holds no address wirecheck can read".into(),
                actual: Some(shown(&unit.text)),
                ..Failure::default()
            })),
            Err(e) => Err(error(line, e.to_string())),
        }
    }

    pub(super) async fn listen(
        &mut self,
        name: &str,
        udp: bool,
        at: Option<&crate::transcript::Template>,
        protocol: &str,
    ) -> Result<(), Stop> {
        let line = self.line;
        let at = match at {
            Some(t) => String::from_utf8_lossy(
                &t.render(&self.vars)
                    .map_err(|e| error(line, e.to_string()))?,
            )
            .into_owned(),
            None => "127.0.0.1:0".into(),
        };
        let cannot = |e: std::io::Error| error(line, format!("cannot listen on {at}: {e}"));
        let twin = self.listeners.remove(TCP_TWIN);
        let twin_addr = twin
            .as_ref()
            .and_then(|l| l.tcp.as_ref()?.local_addr().ok());
        let (listener, addr) = if let (false, Some(twin), Some(a)) = (udp, twin, twin_addr)
            && at.parse::<std::net::SocketAddr>().ok() == Some(a)
        {
            // the TCP side of the server role's DNS port, bound with it (`udp_with_tcp_twin`)
            let tcp = twin.tcp;
            (
                Listener {
                    tcp,
                    udp: None,
                    protocol: protocol.to_string(),
                },
                a,
            )
        } else if udp {
            let u = UdpSocket::bind(&at).await.map_err(cannot)?;
            let a = u.local_addr().map_err(|e| error(line, e.to_string()))?;
            (
                Listener {
                    tcp: None,
                    udp: Some(u),
                    protocol: protocol.to_string(),
                },
                a,
            )
        } else {
            let l = TcpListener::bind(&at).await.map_err(cannot)?;
            let a = l.local_addr().map_err(|e| error(line, e.to_string()))?;
            (
                Listener {
                    tcp: Some(l),
                    udp: None,
                    protocol: protocol.to_string(),
                },
                a,
            )
        };
        self.vars
            .insert(format!("{name}.port"), addr.port().to_string().into_bytes());
        self.vars
            .insert(format!("{name}.addr"), addr.to_string().into_bytes());
        if let Some(ftp) = protocol::by_name("ftp")
            && let Ok(args) = ftp.port_args(addr)
        {
            for (k, v) in args {
                self.vars.insert(format!("{name}.{k}"), v.into_bytes());
            }
        }
        let how = if udp { "UDP" } else { "TCP" };
        self.rec.note(name, format!("listening on {addr} ({how})"));
        self.listeners.insert(name.to_string(), listener);
        Ok(())
    }

    /// `accept NAME`: the next TCP connection on the listener, or (UDP) the socket itself,
    /// answering whoever sends to it.
    pub(super) async fn accept(&mut self, name: &str) -> Result<(), Stop> {
        let line = self.line;
        let deadline = self.deadline();
        let l = self
            .listeners
            .get_mut(name)
            .ok_or_else(|| error(line, format!("no listener `{name}`")))?;
        let proto = l.protocol.clone();
        if let Some(sock) = l.udp.take() {
            let local = sock.local_addr().map_err(|e| error(line, e.to_string()))?;
            let p = self.protocol(&proto)?;
            let framer = self.framer(p.as_ref(), Transport::Datagram)?;
            self.conns.insert(
                name.to_string(),
                Conn::datagram_server(name, sock, local, p, framer),
            );
            return Ok(());
        }
        let Some(tcp_listener) = l.tcp.as_ref() else {
            return Err(error(
                line,
                format!("listener `{name}` was already accepted (UDP)"),
            ));
        };
        let (tcp, peer) = match tokio::time::timeout_at(deadline, tcp_listener.accept()).await {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return Err(error(line, format!("accept on `{name}` failed: {e}"))),
            Err(_) => {
                return Err(mismatch(
                    line,
                    format!("nothing connected to listener `{name}` in time"),
                ));
            }
        };
        let p = self.protocol(&proto)?;
        let framer = self.framer(p.as_ref(), Transport::Stream)?;
        self.rec
            .note(name, format!("accepted a connection from {peer}"));
        self.conns.insert(
            name.to_string(),
            Conn::stream(name, MaybeTls::Plain(tcp), peer, "localhost", p, framer),
        );
        Ok(())
    }
}
