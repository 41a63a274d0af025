//! A deliberately broken SMTP server: the "student" of `examples/roster.toml` that loses
//! points. It is small and mostly right, with two classic bugs:
//!
//! * it reads lines up to LF and drops a CR before it, so a bare LF ends a line, and
//!   `<LF>.<LF>` ends DATA (SMTP smuggling; RFC 5321 §4.1.1.4 forbids it);
//! * it answers RCPT with 250 even when no MAIL came first (RFC 5321 §4.1.4 wants 503).
//!
//! Standard library only, so the roster builds it with a plain `rustc` call.
//! Usage: `broken-smtp PORT` (listens on 127.0.0.1).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

/// The longest command line read (RFC 5321 §4.5.3.1.4: 512 octets; generous here).
const MAX_LINE: u64 = 4096;

fn main() {
    let port = std::env::args()
        .skip(1)
        .find(|a| a.parse::<u16>().is_ok())
        .unwrap_or_else(|| "2525".to_string());
    let listener = match TcpListener::bind(format!("127.0.0.1:{port}")) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("broken-smtp: cannot listen on port {port}: {e}");
            std::process::exit(1);
        }
    };
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || {
            let _ = session(stream);
        });
    }
}

/// One line, LF-terminated, CR before the LF dropped (the bug: a bare LF ends a line too).
/// `None` at end of input.
fn read_line(r: &mut impl BufRead) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    r.by_ref().take(MAX_LINE).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

fn session(stream: TcpStream) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    out.write_all(b"220 broken.example.test ESMTP ready\r\n")?;
    let (mut hello, mut mail, mut rcpt) = (false, false, false);
    while let Some(line) = read_line(&mut r)? {
        let text = String::from_utf8_lossy(&line).to_string();
        let verb = text
            .split(' ')
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => {
                hello = true;
                b"250-broken.example.test greets you\r\n250 HELP\r\n"
            }
            "HELO" => {
                hello = true;
                b"250 broken.example.test\r\n"
            }
            "MAIL" if !hello => b"503 5.5.1 say EHLO first\r\n",
            "MAIL" => {
                mail = true;
                b"250 2.1.0 ok\r\n"
            }
            // The bug: no check that MAIL came first.
            "RCPT" => {
                rcpt = true;
                b"250 2.1.5 ok\r\n"
            }
            "DATA" if !mail || !rcpt => b"503 5.5.1 need MAIL and RCPT first\r\n",
            "DATA" => {
                out.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")?;
                // The bug: any line holding a single dot ends the data, bare LFs included.
                while let Some(l) = read_line(&mut r)? {
                    if l == b"." {
                        break;
                    }
                }
                (mail, rcpt) = (false, false);
                b"250 2.0.0 ok: queued\r\n"
            }
            "RSET" => {
                (mail, rcpt) = (false, false);
                b"250 2.0.0 ok\r\n"
            }
            "NOOP" => b"250 2.0.0 ok\r\n",
            "VRFY" => b"252 2.5.0 cannot verify, will attempt delivery\r\n",
            "HELP" => b"214 2.0.0 see RFC 5321\r\n",
            "QUIT" => {
                out.write_all(b"221 2.0.0 bye\r\n")?;
                return Ok(());
            }
            _ => b"500 5.5.2 command not recognised\r\n",
        };
        out.write_all(reply)?;
    }
    Ok(())
}
