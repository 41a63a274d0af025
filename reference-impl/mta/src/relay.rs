//! Relaying one domain's mail: the exchangers [`route`] finds are tried in order
//! (RFC 5321 §5.1), each over one SMTP connection with the sans-IO [`ClientSession`] driven
//! by [`wirecheck_wire::driver::drive`] and opportunistic STARTTLS (RFC 3207 §4.1, with a
//! clear-text retry when the handshake fails). Each recipient ends with an [`Outcome`]:
//! the deciding reply (RFC 3461 §9.2 form) and its RFC 3463 status.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};
use wirecheck_smtp::client::{ClientConfig, ClientSession, OutgoingMessage, RcptStatus, TlsPolicy};
use wirecheck_smtp::codec::{Domain, Reply};
use wirecheck_wire::driver::{DriverConfig, TlsSide, drive};
use wirecheck_wire::{Output, Session, TlsInfo};

use crate::Ctx;
use crate::resolver::route;

/// What happened to one recipient in this attempt.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) status: RcptStatus,
    /// RFC 3463 code.
    pub(crate) code: String,
    /// The reply (RFC 3461 §9.2 form) or a local diagnostic.
    pub(crate) reply: String,
    /// The host that answered.
    pub(crate) remote_mta: Option<String>,
    /// That host offered DSN, so NOTIFY went on with the message (RFC 3461 §5.2).
    pub(crate) dsn_offered: bool,
}

impl Outcome {
    pub(crate) fn local(permanent: bool, code: &str, reply: String) -> Outcome {
        let status = if permanent {
            RcptStatus::Permanent
        } else {
            RcptStatus::Temporary
        };
        Outcome {
            status,
            code: code.to_string(),
            reply,
            remote_mta: None,
            dsn_offered: false,
        }
    }

    fn from_reply(status: RcptStatus, r: &Reply, remote_mta: String, dsn_offered: bool) -> Outcome {
        let class = r.class();
        let code = match r.enhanced() {
            Some((c, s, d)) if c == class => format!("{c}.{s}.{d}"),
            _ => format!("{class}.0.0"),
        };
        Outcome {
            status,
            code,
            reply: diagnostic(r),
            remote_mta: Some(remote_mta),
            dsn_offered,
        }
    }
}

/// RFC 3461 §9.2: "For multi-line SMTP replies, it is necessary to insert a SPACE before
/// each line after the first" — here, lines joined with a space, each with its code.
fn diagnostic(r: &Reply) -> String {
    let n = r.lines.len();
    let lines: Vec<String> = r
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let sep = if i + 1 < n { '-' } else { ' ' };
            format!("{:03}{sep}{}", r.code, String::from_utf8_lossy(l))
        })
        .collect();
    lines.join(" ")
}

/// Remote recipients of one entry for one domain.
pub(crate) struct Job {
    pub(crate) entry: usize,
    pub(crate) rcpts: Vec<usize>,
    pub(crate) message: OutgoingMessage,
}

/// Deliver `jobs` (all for `domain`) to the first mail exchanger that takes them.
pub(crate) async fn relay(ctx: &Ctx, domain: &str, jobs: Vec<Job>) -> Vec<(usize, usize, Outcome)> {
    let all = |o: Outcome| -> Vec<(usize, usize, Outcome)> {
        jobs.iter()
            .flat_map(|j| j.rcpts.iter().map(|&ri| (j.entry, ri, o.clone())))
            .collect()
    };
    let cfg = &ctx.config;
    let hops = match route(
        &*ctx.resolver,
        domain,
        cfg.relay_port,
        &cfg.hostname,
        &ctx.own_addrs,
    )
    .await
    {
        Ok(h) => h,
        Err(e) => return all(Outcome::local(e.permanent, e.status, e.message)),
    };
    let messages: Vec<OutgoingMessage> = jobs.iter().map(|j| j.message.clone()).collect();
    let mut last: Option<Vec<Vec<Outcome>>> = None;
    let mut errors = Vec::new();
    // RFC 5321 §5.1: try the exchangers in order until one takes the mail.
    'hosts: for hop in &hops {
        for &addr in &hop.addrs {
            let mut result = None;
            for tls in [TlsPolicy::Opportunistic, TlsPolicy::Never] {
                let tcp = match connect(addr, cfg.source_address, cfg.retry.connect_timeout).await {
                    Ok(t) => t,
                    Err(e) => {
                        errors.push(format!("connect to {} [{addr}]: {e}", hop.host));
                        break;
                    }
                };
                let r = smtp_session(ctx, tcp, &hop.host, addr, messages.clone(), tls).await;
                let again = r.tls_failed;
                result = Some(r.outcomes);
                // RFC 3207 §4.1: with opportunistic TLS a failed handshake means trying
                // again in clear text rather than not delivering.
                if !again {
                    break;
                }
                tracing::info!(
                    "STARTTLS with {} [{addr}] failed; retrying without TLS",
                    hop.host
                );
            }
            let Some(outcomes) = result else { continue };
            let all_temporary = outcomes
                .iter()
                .flatten()
                .all(|o| o.status == RcptStatus::Temporary);
            last = Some(outcomes);
            if !all_temporary {
                break 'hosts;
            }
        }
    }
    match last {
        Some(outcomes) => jobs
            .iter()
            .zip(outcomes)
            .flat_map(|(j, os)| {
                j.rcpts
                    .iter()
                    .zip(os)
                    .map(|(&ri, o)| (j.entry, ri, o))
                    .collect::<Vec<_>>()
            })
            .collect(),
        None => all(Outcome::local(
            false,
            "4.4.1",
            format!(
                "no mail exchanger of {domain} answered: {}",
                errors.join("; ")
            ),
        )),
    }
}

struct SessionResult {
    /// Per message, per recipient.
    outcomes: Vec<Vec<Outcome>>,
    /// The connection failed while STARTTLS was being negotiated.
    tls_failed: bool,
}

async fn smtp_session(
    ctx: &Ctx,
    tcp: TcpStream,
    host: &str,
    addr: SocketAddr,
    messages: Vec<OutgoingMessage>,
    tls: TlsPolicy,
) -> SessionResult {
    let cfg = &ctx.config;
    let helo = Domain::parse(&cfg.hostname).unwrap_or_else(|_| Domain::Name("localhost".into()));
    let mut client = ClientConfig::new(helo);
    client.tls = tls;
    let shape: Vec<usize> = messages.iter().map(|m| m.recipients.len()).collect();
    let session = Arc::new(Mutex::new(ClientSession::new(client, messages)));
    let label = host_label(host, addr);
    let name = wirecheck_wire::tls::server_name(&label)
        .or_else(|_| wirecheck_wire::tls::server_name(&addr.ip().to_string()))
        .ok();
    let driver = DriverConfig {
        idle_timeout: cfg.retry.command_timeout,
        tls: name.map(|n| TlsSide::Client(ctx.tls_client.clone(), n)),
        ..DriverConfig::default()
    };
    let ended = tokio::time::timeout(
        cfg.retry.session_timeout,
        drive(tcp, Shared(session.clone()), &driver),
    )
    .await;
    let error = match ended {
        Err(_) => Some("session time limit reached".to_string()),
        Ok(Err(e)) => Some(e.to_string()),
        Ok(Ok(_)) => None,
    };
    let s = lock(&session);
    let dsn_offered = s.extension("DSN").is_some();
    let outcomes = shape
        .iter()
        .enumerate()
        .map(|(m, &n)| {
            (0..n)
                .map(|i| {
                    match s
                        .outcomes()
                        .get(m)
                        .and_then(|v| v.get(i))
                        .cloned()
                        .flatten()
                    {
                        Some(o) => {
                            Outcome::from_reply(o.status, &o.reply, label.clone(), dsn_offered)
                        }
                        None => Outcome {
                            status: RcptStatus::Temporary,
                            code: "4.4.2".into(),
                            reply: format!(
                                "421 4.4.2 connection lost: {}",
                                error.as_deref().unwrap_or("closed")
                            ),
                            remote_mta: Some(label.clone()),
                            dsn_offered,
                        },
                    }
                })
                .collect()
        })
        .collect();
    let tls_failed = error.is_some()
        && tls == TlsPolicy::Opportunistic
        && s.tls().is_none()
        && s.extension("STARTTLS").is_some();
    SessionResult {
        outcomes,
        tls_failed,
    }
}

/// The exchanger's name for `Remote-MTA` and TLS: the host name, or the address for a
/// static `ip:port` entry.
fn host_label(host: &str, addr: SocketAddr) -> String {
    if host.parse::<SocketAddr>().is_ok() || host.parse::<IpAddr>().is_ok() {
        addr.ip().to_string()
    } else {
        host.trim_end_matches('.').to_string()
    }
}

/// Connect to `addr` from `source` (when it is of the same family) within `limit`.
async fn connect(
    addr: SocketAddr,
    source: Option<IpAddr>,
    limit: Duration,
) -> io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = source.filter(|ip| ip.is_ipv4() == addr.is_ipv4()) {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    tokio::time::timeout(limit, socket.connect(addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?
}

/// The client session behind a lock, so its outcomes survive a driver error (`drive`
/// returns the session only when the connection ends cleanly).
struct Shared(Arc<Mutex<ClientSession>>);

fn lock(s: &Mutex<ClientSession>) -> MutexGuard<'_, ClientSession> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Session for Shared {
    fn handle_input(&mut self, data: &[u8]) {
        lock(&self.0).handle_input(data);
    }
    fn handle_eof(&mut self) {
        lock(&self.0).handle_eof();
    }
    fn handle_timeout(&mut self) -> Vec<Output> {
        lock(&self.0).handle_timeout()
    }
    fn handle_tls(&mut self, info: TlsInfo) {
        lock(&self.0).handle_tls(info);
    }
    fn poll_output(&mut self) -> Option<Output> {
        lock(&self.0).poll_output()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_codes_follow_rfc_3461_9_2() {
        let r = Reply::new(
            550,
            &[
                "mailbox unavailable",
                "user has moved with no forwarding address",
            ],
        );
        assert_eq!(
            diagnostic(&r),
            "550-mailbox unavailable 550 user has moved with no forwarding address"
        );
        let o = Outcome::from_reply(
            RcptStatus::Permanent,
            &Reply::single(550, "5.1.1 User unknown"),
            "h".into(),
            true,
        );
        assert_eq!(o.code, "5.1.1");
        // An enhanced code of the wrong class is not believed.
        let o = Outcome::from_reply(
            RcptStatus::Temporary,
            &Reply::single(451, "5.1.1 odd"),
            "h".into(),
            true,
        );
        assert_eq!(o.code, "4.0.0");
    }

    #[test]
    fn host_labels() {
        let a: SocketAddr = "127.0.0.3:2525".parse().unwrap();
        assert_eq!(host_label("127.0.0.3:2525", a), "127.0.0.3");
        assert_eq!(host_label("mx.beta.test.", a), "mx.beta.test");
    }
}
