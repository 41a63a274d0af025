//! Well-behaved fake servers (SMTP, IMAP, FTP, DNS over UDP): just enough of each protocol
//! for the harness's notation to be exercised end to end.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use wirecheck_wire::driver::{MaybeTls, TlsSide};

/// Accept connections on an ephemeral loopback port, one task each.
pub async fn serve<F, Fut>(f: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let f = Arc::new(f);
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let _ = s.set_nodelay(true);
            tokio::spawn(f(s));
        }
    });
    addr
}

/// A line-oriented server connection.
pub struct LineConn {
    pub s: MaybeTls,
    buf: Vec<u8>,
}

impl LineConn {
    pub fn new(s: TcpStream) -> LineConn {
        LineConn {
            s: MaybeTls::Plain(s),
            buf: Vec::new(),
        }
    }

    /// The next CRLF line (without it), `None` at EOF or past 64 KiB.
    pub async fn line(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l = self.buf[..i].to_vec();
                self.buf.drain(..i + 2);
                return Some(l);
            }
            if self.buf.len() > 64 * 1024 {
                return None;
            }
            let mut chunk = [0u8; 4096];
            match self.s.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    pub async fn send(&mut self, b: &[u8]) {
        let _ = self.s.write_all(b).await;
        let _ = self.s.flush().await;
    }

    pub async fn starttls(&mut self) -> bool {
        self.buf.clear();
        let cfg = wirecheck_wire::tls::self_signed_server_config().unwrap();
        let plain = std::mem::replace(&mut self.s, MaybeTls::Gone);
        match plain.upgrade(&TlsSide::Server(cfg)).await {
            Ok(s) => {
                self.s = s;
                true
            }
            Err(_) => false,
        }
    }
}

/// How the fake SMTP server misbehaves, if at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmtpBugs {
    /// Accept RCPT before MAIL (RFC 5321 §4.1.4 wants 503).
    pub rcpt_without_mail: bool,
}

static QUEUE_ID: AtomicU32 = AtomicU32::new(1000);

/// A small SMTP server: EHLO (multi-line), STARTTLS, AUTH PLAIN, MAIL/RCPT/DATA with
/// sequencing, VRFY not implemented, QUIT.
pub async fn smtp(bugs: SmtpBugs) -> SocketAddr {
    serve(move |s| smtp_session(s, bugs)).await
}

async fn smtp_session(s: TcpStream, bugs: SmtpBugs) {
    let mut c = LineConn::new(s);
    c.send(b"220 fake.example.test ESMTP ready\r\n").await;
    let (mut mail, mut rcpt) = (false, false);
    while let Some(line) = c.line().await {
        let text = String::from_utf8_lossy(&line).to_string();
        let upper = text.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or("").to_string();
        match verb.as_str() {
            "EHLO" => {
                c.send(b"250-fake.example.test\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-STARTTLS\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n").await
            }
            "HELO" => c.send(b"250 fake.example.test\r\n").await,
            "MAIL" => {
                mail = true;
                c.send(b"250 2.1.0 ok\r\n").await
            }
            "RCPT" if !mail && !bugs.rcpt_without_mail => c.send(b"503 5.5.1 bad sequence of commands\r\n").await,
            "RCPT" => {
                rcpt = true;
                c.send(b"250 2.1.5 ok\r\n").await
            }
            "DATA" if !rcpt => c.send(b"503 5.5.1 no recipients\r\n").await,
            "DATA" => {
                c.send(b"354 end with <CRLF>.<CRLF>\r\n").await;
                while let Some(l) = c.line().await {
                    if l == b"." {
                        break;
                    }
                }
                let q = QUEUE_ID.fetch_add(1, Ordering::Relaxed);
                c.send(format!("250 2.0.0 ok queued as Q{q}\r\n").as_bytes()).await;
                (mail, rcpt) = (false, false);
            }
            "AUTH" => {
                let arg = text.split(' ').nth(2).unwrap_or("");
                let ok = base64::engine::general_purpose::STANDARD.decode(arg).ok() == Some(b"\0alice\0secret".to_vec());
                c.send(if ok { b"235 2.7.0 authenticated\r\n" } else { b"535 5.7.8 bad credentials\r\n" }).await
            }
            "STARTTLS" => {
                c.send(b"220 2.0.0 Ready to start TLS\r\n").await;
                if !c.starttls().await {
                    return;
                }
                (mail, rcpt) = (false, false);
            }
            "NOOP" | "RSET" => c.send(b"250 2.0.0 ok\r\n").await,
            "VRFY" => c.send(b"502 5.5.1 VRFY not implemented\r\n").await,
            "QUIT" => {
                c.send(b"221 2.0.0 bye\r\n").await;
                let _ = c.s.shutdown().await;
                return;
            }
            _ => c.send(b"500 5.5.2 unrecognised command\r\n").await,
        }
    }
}

/// A small IMAP server: greeting, SELECT with untagged data, FETCH with a literal, NOOP
/// with unsolicited untagged data, LOGOUT.
pub async fn imap() -> SocketAddr {
    serve(|s| async move {
        let mut c = LineConn::new(s);
        c.send(b"* OK [CAPABILITY IMAP4rev1] fake ready\r\n").await;
        while let Some(line) = c.line().await {
            let text = String::from_utf8_lossy(&line).to_string();
            let mut w = text.splitn(3, ' ');
            let (tag, cmd) = (w.next().unwrap_or("*").to_string(), w.next().unwrap_or("").to_ascii_uppercase());
            let reply = match cmd.as_str() {
                "SELECT" => format!(
                    "* FLAGS (\\Seen \\Deleted)\r\n* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 42] ok\r\n{tag} OK [READ-WRITE] done\r\n"
                ),
                "FETCH" => format!("* 1 FETCH (BODY[] {{5}}\r\nhello)\r\n{tag} ok done\r\n"),
                "NOOP" => format!("* 3 EXISTS\r\n{tag} OK noop\r\n"),
                "LOGOUT" => format!("* BYE fake\r\n{tag} OK bye\r\n"),
                _ => format!("{tag} BAD unknown command\r\n"),
            };
            c.send(reply.as_bytes()).await;
            if cmd == "LOGOUT" {
                return;
            }
        }
    })
    .await
}

/// A small FTP server: USER/PASS, PASV, EPSV, PORT, RETR (of a fixed file), QUIT.
pub async fn ftp() -> SocketAddr {
    serve(|s| async move {
        let mut c = LineConn::new(s);
        c.send(b"220 fake FTP ready\r\n").await;
        let mut passive: Option<TcpListener> = None;
        let mut active: Option<SocketAddr> = None;
        while let Some(line) = c.line().await {
            let text = String::from_utf8_lossy(&line).to_string();
            let (verb, arg) = text.split_once(' ').unwrap_or((&text, ""));
            match verb.to_ascii_uppercase().as_str() {
                "USER" => c.send(b"331 password please\r\n").await,
                "PASS" => c.send(b"230 logged in\r\n").await,
                "PASV" | "EPSV" => {
                    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let p = l.local_addr().unwrap().port();
                    passive = Some(l);
                    let r = if verb.eq_ignore_ascii_case("PASV") {
                        format!(
                            "227 Entering Passive Mode (127,0,0,1,{},{})\r\n",
                            p >> 8,
                            p & 0xff
                        )
                    } else {
                        format!("229 Entering Extended Passive Mode (|||{p}|)\r\n")
                    };
                    c.send(r.as_bytes()).await;
                }
                "PORT" => {
                    let n: Vec<u16> = arg
                        .split(',')
                        .filter_map(|x| x.trim().parse().ok())
                        .collect();
                    if n.len() == 6 {
                        active = Some(SocketAddr::from(([127, 0, 0, 1], n[4] * 256 + n[5])));
                        c.send(b"200 PORT ok\r\n").await;
                    } else {
                        c.send(b"501 bad PORT\r\n").await;
                    }
                }
                "RETR" => {
                    let data: Option<TcpStream> = if let Some(l) = passive.take() {
                        c.send(b"150 opening data connection\r\n").await;
                        l.accept().await.ok().map(|(s, _)| s)
                    } else if let Some(a) = active.take() {
                        c.send(b"150 connecting\r\n").await;
                        TcpStream::connect(a).await.ok()
                    } else {
                        c.send(b"425 use PASV or PORT first\r\n").await;
                        None
                    };
                    if let Some(mut d) = data {
                        let _ = d.write_all(b"hello, world\r\n").await;
                        let _ = d.shutdown().await;
                        c.send(b"226 transfer complete\r\n").await;
                    }
                }
                "QUIT" => {
                    c.send(b"221 bye\r\n").await;
                    return;
                }
                _ => c.send(b"502 not implemented\r\n").await,
            }
        }
    })
    .await
}

/// A DNS "server" over UDP that answers each query with the query itself, QR and AA set.
pub async fn dns_udp() -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = s.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65535];
        while let Ok((n, peer)) = s.recv_from(&mut buf).await {
            let mut m = buf[..n].to_vec();
            if m.len() >= 12 {
                m[2] |= 0x84;
            }
            let _ = s.send_to(&m, peer).await;
        }
    });
    addr
}

/// A small POP3 server: USER/PASS, STAT, LIST (multi-line), RETR 1 (a stuffed body),
/// RETR 2 (a body that is not stuffed: a bug), CAPA refused, QUIT.
pub async fn pop3() -> SocketAddr {
    serve(|s| async move {
        let mut c = LineConn::new(s);
        c.send(b"+OK fake POP3 ready\r\n").await;
        while let Some(line) = c.line().await {
            let text = String::from_utf8_lossy(&line).to_ascii_uppercase();
            let reply: &[u8] = match text.as_str() {
                t if t.starts_with("USER") || t.starts_with("PASS") => b"+OK\r\n",
                "STAT" => b"+OK 2 320\r\n",
                "LIST" => b"+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n",
                "RETR 1" => b"+OK 120 octets\r\nSubject: one\r\n\r\n..a line that starts with a dot\r\n.\r\n",
                "RETR 2" => b"+OK 200 octets\r\n.not stuffed\r\n.\r\n",
                "QUIT" => {
                    c.send(b"+OK bye\r\n").await;
                    return;
                }
                _ => b"-ERR unknown command\r\n",
            };
            c.send(reply).await;
        }
    })
    .await
}
