//! `wirecheck serve`: the oracle for as long as the user wants it; and `wirecheck relay-once`:
//! the oracle's SMTP client side as a target for server-role transcripts.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::oracle::{Oracle, OracleConfig, Ports};

/// Default ports of `wirecheck serve` when none is named: unprivileged neighbours of the
/// well-known ones.
pub const DEFAULT_PORTS: Ports =
    Ports { smtp: Some(2525), submission: Some(5870), pop3: Some(1110), imap: Some(1430), ftp: Some(2121), dns: Some(5353) };

/// What `wirecheck serve` was asked for.
#[derive(Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    pub ip: IpAddr,
    /// Ports; when every one is `None`, [`DEFAULT_PORTS`] are used.
    pub ports: Ports,
    /// Keep mail, queue and FTP files here (persistent across runs).
    pub dir: Option<PathBuf>,
    /// Also run the loopback DNS hierarchy and route mail by MX lookups through it.
    pub hierarchy: bool,
}

/// Start the oracle, print where each service listens, run until Ctrl-C or SIGTERM.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let none = Ports { smtp: None, submission: None, pop3: None, imap: None, ftp: None, dns: None };
    let ports = if args.ports == none { DEFAULT_PORTS } else { args.ports };
    let oracle = Oracle::start(&OracleConfig { ip: args.ip, ports, dir: args.dir, hierarchy: args.hierarchy }).await?;
    for (service, addr) in oracle.services() {
        println!("{service}={addr}");
    }
    println!("store={}", oracle.dir().display());
    eprintln!("wirecheck serve: user alice / secret, domain example.test; Ctrl-C stops");
    wait_for_stop().await;
    oracle.shutdown().await;
    Ok(())
}

async fn wait_for_stop() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// `wirecheck relay-once HOST:PORT`: the oracle's SMTP client (the one the MTA relays with:
/// EHLO with HELO fallback, opportunistic STARTTLS, PIPELINING when offered, dot-stuffing,
/// QUIT) relays one message with one recipient to `to`, then exits. The target of
/// server-role SMTP transcripts when the client under test is our own.
pub async fn relay_once(to: SocketAddr, timeout: Duration) -> anyhow::Result<String> {
    use wirecheck_smtp::client::{ClientConfig, ClientSession, OutgoingMessage};
    use wirecheck_smtp::codec::{Domain, ForwardPath, Mailbox, ReversePath};
    use wirecheck_smtp::server::Recipient;
    use wirecheck_wire::driver::{DriverConfig, TlsSide, drive};
    use wirecheck_wire::tls;

    let domain = |s: &str| Domain::parse(s).map_err(|e| anyhow::anyhow!("{s}: {e:?}"));
    let mailbox = |s: &str| Mailbox::parse(s).map_err(|e| anyhow::anyhow!("{s}: {e:?}"));
    let msg = OutgoingMessage {
        from: ReversePath::Mailbox(mailbox("sender@client.example.test")?),
        recipients: vec![Recipient {
            path: ForwardPath::Mailbox(mailbox("alice@example.test")?),
            notify: None,
            orcpt: None,
        }],
        ret: None,
        envid: None,
        content: b"From: <sender@client.example.test>\r\nTo: <alice@example.test>\r\nSubject: relayed once\r\n\r\n.a line with a leading dot\r\n".to_vec(),
    };
    let session = ClientSession::new(ClientConfig::new(domain("relay.example.test")?), vec![msg]);
    let driver = DriverConfig {
        // RFC 3207 §4.1: a relaying client may proceed when it cannot verify the certificate.
        tls: Some(TlsSide::Client(tls::insecure_client_config()?, tls::server_name("localhost")?)),
        idle_timeout: timeout,
        ..DriverConfig::default()
    };
    let tcp = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(to)).await??;
    let done = tokio::time::timeout(timeout * 2, drive(tcp, session, &driver)).await??;
    Ok(format!("done={} outcomes={:?}", done.is_done(), done.outcomes()))
}
