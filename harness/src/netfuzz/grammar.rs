//! Commands from each protocol's grammar, with arguments drawn from small dictionaries of
//! valid, boundary and hostile values; and what the fuzzer must not send.
//!
//! A generated session opens the way a client does (SMTP `EHLO`, a POP3/FTP/IMAP log-in)
//! most of the time, then sends a few random commands. [`sanitise`] removes what the
//! fuzzer cannot or should not do over a plain connection: TLS upgrades (it does not speak
//! TLS), and commands whose effect outlives the session (POP3 `DELE` committed by `QUIT`,
//! IMAP mailbox changes — `SELECT` becomes `EXAMINE` so nothing sets flags —, FTP uploads,
//! deletions and data transfers), so that every session meets both servers in the same
//! state: the fixture.

use super::Sequence;
use super::rng::Rng;

const HOSTS: &[&str] = &[
    "client.example.test",
    "[127.0.0.1]",
    "localhost",
    "x",
    "[IPv6:::1]",
    "-bad-",
    "a.b.c.d.e.f.g",
];
const ADDRS: &[&str] = &[
    "alice@example.test",
    "postmaster@example.test",
    "Postmaster",
    "abuse@example.test",
    "bob@example.test",
    "someone@elsewhere.test",
    "alice@EXAMPLE.TEST",
    "\"alice smith\"@example.test",
    "@relay.test:alice@example.test",
    "alice@[127.0.0.1]",
    "alice",
    "",
    "alice@example.test>",
    "<alice@example.test",
    "a@b@example.test",
];
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "10",
    "65535",
    "4294967295",
    "4294967296",
    "99999999999999999999",
    "1e3",
    "x",
    "",
];
const WORDS: &[&str] = &[
    "FOO",
    "XYZZY",
    "help",
    "\u{e9}t\u{e9}",
    "%s%n",
    "..",
    "*",
    "A",
    "\"quoted\"",
];
const PATHS: &[&str] = &[
    "/",
    "pub",
    "/pub/sub",
    "hello.txt",
    "/pub/crlf.txt",
    "nosuch",
    "../..",
    "/etc/passwd",
    "pub/64k.bin",
    "\"/pub\"",
    "a b",
    "/upload",
];
const MAILBOXES: &[&str] = &[
    "INBOX",
    "inbox",
    "\"INBOX\"",
    "Nosuch",
    "\"\"",
    "INBOX.sub",
    "&AOk-t&AOk-",
    "{5}\r\nINBOX",
];
const SEQUENCES: &[&str] = &[
    "1",
    "2",
    "1:*",
    "*",
    "3",
    "0",
    "1:2",
    "2,1",
    "4294967295",
    "1:",
    "$",
];

/// `\0alice\0secret` and friends, base64 (RFC 4616 PLAIN).
const PLAIN: &[&str] = &[
    "AGFsaWNlAHNlY3JldA==",
    "AGFsaWNlAHdyb25n",
    "=",
    "*",
    "!!!",
    "AGFsaWNl",
];

/// The templates of each protocol; `{…}` placeholders are filled by [`fill`].
fn templates(protocol: &str) -> &'static [&'static str] {
    match protocol {
        "smtp" => &[
            "EHLO {host}",
            "HELO {host}",
            "EHLO",
            "HELO",
            "MAIL FROM:<{addr}>",
            "MAIL FROM:<>",
            "MAIL FROM:<{addr}> SIZE={num}",
            "MAIL FROM:<{addr}> BODY=8BITMIME",
            "MAIL FROM:<{addr}> BODY=BINARYMIME",
            "MAIL FROM:<{addr}> SMTPUTF8",
            "MAIL FROM:<{addr}> RET=HDRS ENVID={word}",
            "MAIL FROM:{addr}",
            "MAIL FROM: <{addr}>",
            "MAIL FROM:<{addr}> {word}={word}",
            "MAIL TO:<{addr}>",
            "RCPT TO:<{addr}>",
            "RCPT TO:<{addr}> NOTIFY=SUCCESS,FAILURE",
            "RCPT TO:<{addr}> NOTIFY=NEVER,SUCCESS",
            "RCPT TO:<{addr}> ORCPT=rfc822;{addr}",
            "RCPT TO:{addr}",
            "RCPT FROM:<{addr}>",
            "DATA",
            "DATA {word}",
            "RSET",
            "RSET {word}",
            "NOOP",
            "NOOP {word}",
            "VRFY {addr}",
            "VRFY",
            "EXPN {addr}",
            "HELP",
            "HELP {word}",
            "QUIT",
            "QUIT {word}",
            "AUTH PLAIN {plain}",
            "AUTH PLAIN",
            "AUTH LOGIN",
            "AUTH CRAM-MD5",
            "AUTH",
            "AUTH {word}",
            "ETRN {host}",
            "TURN",
            "{word}",
            "",
            "BDAT {num}",
            "BDAT 0 LAST",
            "BDAT {num} LAST",
        ],
        "pop3" => &[
            "USER {user}",
            "PASS {pass}",
            "USER nosuch",
            "PASS wrong",
            "USER",
            "PASS",
            "APOP {user} c4c9334bac560ecc979e58001b3e22fb",
            "STAT",
            "STAT {num}",
            "LIST",
            "LIST {num}",
            "LIST {num} {num}",
            "RETR {num}",
            "RETR",
            "TOP {num} {num}",
            "TOP {num}",
            "DELE {num}",
            "NOOP",
            "RSET",
            "UIDL",
            "UIDL {num}",
            "CAPA",
            "QUIT",
            "AUTH",
            "AUTH PLAIN {plain}",
            "AUTH PLAIN",
            "AUTH LOGIN",
            "AUTH {word}",
            "UTF8",
            "LANG",
            "{word}",
            "",
        ],
        "imap" => &[
            "{tag} CAPABILITY",
            "{tag} NOOP",
            "{tag} LOGOUT",
            "{tag} LOGIN {user} {pass}",
            "{tag} LOGIN {user} wrong",
            "{tag} LOGIN \"{user}\" \"{pass}\"",
            "{tag} LOGIN {5}\r\nalice {6}\r\nsecret",
            "{tag} LOGIN {5+}\r\nalice secret",
            "{tag} AUTHENTICATE PLAIN {plain}",
            "{tag} AUTHENTICATE PLAIN",
            "{tag} ENABLE IMAP4rev2",
            "{tag} ENABLE UTF8=ACCEPT",
            "{tag} SELECT {mailbox}",
            "{tag} EXAMINE {mailbox}",
            "{tag} LIST \"\" \"*\"",
            "{tag} LIST \"\" %",
            "{tag} LIST {mailbox} \"\"",
            "{tag} LSUB \"\" \"*\"",
            "{tag} STATUS {mailbox} (MESSAGES UIDNEXT UNSEEN)",
            "{tag} STATUS {mailbox} ()",
            "{tag} NAMESPACE",
            "{tag} ID NIL",
            "{tag} FETCH {seq} (FLAGS)",
            "{tag} FETCH {seq} (BODY.PEEK[])",
            "{tag} FETCH {seq} ENVELOPE",
            "{tag} FETCH {seq} BODYSTRUCTURE",
            "{tag} FETCH {seq} (BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
            "{tag} FETCH {seq} RFC822.SIZE",
            "{tag} FETCH {seq} (UID INTERNALDATE)",
            "{tag} FETCH {seq} (BODY.PEEK[1]<0.{num}>)",
            "{tag} FETCH {seq} ALL",
            "{tag} FETCH {seq} {word}",
            "{tag} UID FETCH {seq} (FLAGS)",
            "{tag} SEARCH ALL",
            "{tag} SEARCH UNSEEN",
            "{tag} SEARCH SUBJECT {word}",
            "{tag} UID SEARCH ALL",
            "{tag} SEARCH CHARSET UTF-8 TEXT {word}",
            "{tag} SEARCH {word}",
            "{tag} CHECK",
            "{tag} UNSELECT",
            "{tag} IDLE\r\nDONE",
            "{tag} {word}",
            "{tag}",
            "* NOOP",
            "{tag} STORE {seq} +FLAGS (\\Seen)",
        ],
        "ftp" => &[
            "USER {user}",
            "PASS {pass}",
            "USER anonymous",
            "PASS guest@example.test",
            "USER nosuch",
            "PASS wrong",
            "ACCT {word}",
            "CWD {path}",
            "CDUP",
            "XCUP",
            "PWD",
            "XPWD",
            "TYPE A",
            "TYPE I",
            "TYPE E",
            "TYPE L 8",
            "TYPE {word}",
            "MODE S",
            "MODE B",
            "MODE {word}",
            "STRU F",
            "STRU R",
            "STRU {word}",
            "SIZE {path}",
            "MDTM {path}",
            "FEAT",
            "OPTS UTF8 ON",
            "OPTS {word}",
            "SYST",
            "STAT",
            "STAT {path}",
            "HELP",
            "HELP {word}",
            "NOOP",
            "REST {num}",
            "ALLO {num}",
            "PASV",
            "EPSV",
            "EPSV ALL",
            "EPSV {num}",
            "ABOR",
            "REIN",
            "QUIT",
            "LIST {path}",
            "NLST",
            "RETR {path}",
            "MLST {path}",
            "{word}",
            "",
            "MKD {path}",
            "DELE {path}",
        ],
        _ => &[],
    }
}

/// How a generated session usually opens.
fn openings(protocol: &str) -> &'static [&'static [&'static str]] {
    match protocol {
        "smtp" => &[&["EHLO client.example.test"], &["HELO client.example.test"]],
        "pop3" => &[&["USER {user}", "PASS {pass}"], &["CAPA"]],
        "imap" => &[
            &["{tag} LOGIN {user} {pass}"],
            &["{tag} LOGIN {user} {pass}", "{tag} EXAMINE INBOX"],
        ],
        "ftp" => &[
            &["USER {user}", "PASS {pass}"],
            &["USER anonymous", "PASS guest@example.test"],
        ],
        _ => &[],
    }
}

/// Fill `template`'s placeholders (`tag` counts up per session).
fn fill(template: &str, rng: &mut Rng, tag: &mut u32) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        let pick =
            |rng: &mut Rng, list: &[&str]| rng.pick(list).copied().unwrap_or_default().to_string();
        let value = match name {
            "host" => pick(rng, HOSTS),
            "addr" => pick(rng, ADDRS),
            "num" => pick(rng, NUMBERS),
            "word" => pick(rng, WORDS),
            "path" => pick(rng, PATHS),
            "mailbox" => pick(rng, MAILBOXES),
            "seq" => pick(rng, SEQUENCES),
            "plain" => pick(rng, PLAIN),
            "user" => wirecheck_store::fixture::USER.to_string(),
            "pass" => wirecheck_store::fixture::PASSWORD.to_string(),
            "tag" => {
                *tag += 1;
                format!("a{tag}")
            }
            // IMAP literal sizes (`{5}`) are not placeholders.
            other => format!("{{{other}}}"),
        };
        out.push_str(&value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// One random command of `protocol` (wire bytes, CRLF included; a DNS message), or
/// `None` for a protocol without a grammar.
pub fn command(protocol: &str, rng: &mut Rng, tag: &mut u32) -> Option<Vec<u8>> {
    if protocol == "dns" {
        return Some(dns_query(rng));
    }
    let t = rng.pick(templates(protocol))?;
    let mut line = fill(t, rng, tag).into_bytes();
    line.extend_from_slice(b"\r\n");
    if protocol == "smtp" && line.starts_with(b"BDAT ") {
        // The chunk the size announces (RFC 3030 §2), sometimes a byte short or long.
        let n: usize = std::str::from_utf8(&line[5..])
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .unwrap_or(0);
        let n = n.min(4096);
        let n = match rng.below(4) {
            0 => n.saturating_sub(1),
            1 => n + 1,
            _ => n,
        };
        line.extend(std::iter::repeat_n(b'x', n));
    }
    Some(line)
}

/// A message body as an SMTP client sends it after `354` (dot-stuffed, CRLF, `.` ends it).
pub fn smtp_content(rng: &mut Rng) -> Vec<u8> {
    let bodies: &[&[u8]] = &[
        b"Subject: fuzz\r\n\r\nhello\r\n.\r\n",
        b"From: <a@example.test>\r\nTo: <alice@example.test>\r\nSubject: x\r\n\r\nline\r\n..stuffed\r\n.\r\n",
        b"\r\n.\r\n",
        b".\r\n",
        b"Subject: 8bit \xc3\xa9\r\n\r\n\xff\xfe\r\n.\r\n",
    ];
    rng.pick(bodies).map(|b| b.to_vec()).unwrap_or_default()
}

/// A DNS query from the presentation form (`wirecheck_dns::presentation`).
fn dns_query(rng: &mut Rng) -> Vec<u8> {
    const NAMES: &[&str] = &[
        "example.test.",
        "www.example.test.",
        "mail.example.test.",
        "ftp.example.test.",
        "txt.example.test.",
        "nosuch.example.test.",
        "EXAMPLE.TEST.",
        "elsewhere.test.",
        ".",
        "*.example.test.",
        "a.b.c.example.test.",
    ];
    const TYPES: &[&str] = &[
        "A", "AAAA", "MX", "NS", "SOA", "TXT", "CNAME", "PTR", "SRV", "ANY", "CAA", "TYPE999",
        "AXFR", "IXFR",
    ];
    const FLAGS: &[&str] = &[
        "",
        "+rd",
        "+cd",
        "+ad",
        "+rd +cd",
        "edns=0",
        "edns=0 bufsize=512",
        "edns=0 bufsize=4096 +do",
        "edns=1",
        "opcode=STATUS",
        "opcode=NOTIFY",
        "class=CH",
        "class=ANY",
    ];
    let name = rng.pick(NAMES).copied().unwrap_or(".");
    let ty = rng.pick(TYPES).copied().unwrap_or("A");
    let flags = rng.pick(FLAGS).copied().unwrap_or("");
    let id = rng.below(65536);
    let line = format!("{name} {ty} {flags} id={id}");
    match wirecheck_dns::presentation::parse_query(&line) {
        Ok(m) => wirecheck_dns::codec::encode(&m),
        Err(_) => wirecheck_dns::codec::encode(
            &wirecheck_dns::presentation::parse_query(&format!("example.test. A id={id}"))
                .unwrap_or_default(),
        ),
    }
}

/// A session from the grammar: an opening, then up to `max` random commands, sometimes
/// `QUIT`.
pub fn session(protocol: &str, rng: &mut Rng, max: usize) -> Sequence {
    let mut tag = 0;
    let mut seq: Sequence = Vec::new();
    if protocol != "dns"
        && rng.chance(4, 5)
        && let Some(open) = rng.pick(openings(protocol))
    {
        for t in *open {
            let mut l = fill(t, rng, &mut tag).into_bytes();
            l.extend_from_slice(b"\r\n");
            seq.push(l);
        }
    }
    let n = 1 + rng.below(max.max(1));
    for _ in 0..n {
        let Some(c) = command(protocol, rng, &mut tag) else {
            break;
        };
        let data = protocol == "smtp" && c.eq_ignore_ascii_case(b"DATA\r\n");
        seq.push(c);
        if data {
            seq.push(smtp_content(rng));
        }
    }
    if protocol != "dns" && rng.chance(1, 2) {
        let quit: &[u8] = if protocol == "imap" {
            b"z LOGOUT\r\n"
        } else {
            b"QUIT\r\n"
        };
        seq.push(quit.to_vec());
    }
    seq
}

/// The verb of an IMAP command line (after the tag) or of another protocol's.
fn verb(protocol: &str, line: &[u8]) -> String {
    let mut w = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let v = if protocol == "imap" {
        w.nth(1)
    } else {
        w.next()
    };
    let v = String::from_utf8_lossy(v.unwrap_or_default()).to_ascii_uppercase();
    if protocol == "imap" && v == "UID" {
        let sub = String::from_utf8_lossy(w.next().unwrap_or_default()).to_ascii_uppercase();
        return format!("UID {sub}");
    }
    v
}

/// Make `seq` safe to send to both servers: no TLS upgrade, nothing that outlives the
/// session (see the module docs). Works line by line inside chunks.
pub fn sanitise(protocol: &str, seq: &mut Sequence) {
    if protocol == "dns" {
        // AXFR/IXFR over UDP is answered with an error; nothing outlives a query.
        return;
    }
    let quits = seq.iter().any(|c| {
        c.split(|&b| b == b'\n')
            .any(|l| verb(protocol, l) == "QUIT")
    });
    let passive = seq.iter().any(|c| {
        c.split(|&b| b == b'\n')
            .any(|l| matches!(verb(protocol, l).as_str(), "PASV" | "EPSV"))
    });
    let drop = |v: &str| -> bool {
        match protocol {
            "smtp" => v == "STARTTLS",
            "pop3" => v == "STLS" || (quits && v == "DELE"),
            "imap" => matches!(
                v,
                "STARTTLS"
                    | "STORE"
                    | "UID STORE"
                    | "EXPUNGE"
                    | "UID EXPUNGE"
                    | "CLOSE"
                    | "COPY"
                    | "UID COPY"
                    | "MOVE"
                    | "UID MOVE"
                    | "APPEND"
                    | "CREATE"
                    | "DELETE"
                    | "RENAME"
                    | "SUBSCRIBE"
                    | "UNSUBSCRIBE"
                    | "SETACL"
                    | "DELETEACL"
                    | "SETQUOTA"
                    | "SETMETADATA"
            ),
            "ftp" => {
                matches!(
                    v,
                    "AUTH"
                        | "CCC"
                        | "STOR"
                        | "STOU"
                        | "APPE"
                        | "DELE"
                        | "MKD"
                        | "XMKD"
                        | "RMD"
                        | "XRMD"
                        | "RNFR"
                        | "RNTO"
                        | "SITE"
                        | "PORT"
                        | "EPRT"
                        | "LPRT"
                ) || (passive && matches!(v, "LIST" | "NLST" | "RETR" | "MLSD"))
            }
            _ => false,
        }
    };
    for chunk in seq.iter_mut() {
        if !chunk.contains(&b'\n') {
            continue;
        }
        let mut out = Vec::with_capacity(chunk.len());
        for piece in chunk.split_inclusive(|&b| b == b'\n') {
            let v = verb(protocol, piece);
            if drop(&v) {
                continue;
            }
            if protocol == "imap" && v == "SELECT" {
                out.extend_from_slice(&replace_word(piece, b"SELECT", b"EXAMINE"));
            } else {
                out.extend_from_slice(piece);
            }
        }
        *chunk = out;
    }
    seq.retain(|c| !c.is_empty());
}

fn replace_word(line: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    match line
        .windows(from.len())
        .position(|w| w.eq_ignore_ascii_case(from))
    {
        Some(i) => [&line[..i], to, &line[i + from.len()..]].concat(),
        None => line.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_deterministic_and_end_in_crlf() {
        for p in ["smtp", "pop3", "imap", "ftp"] {
            let a = session(p, &mut Rng::new(9), 6);
            let b = session(p, &mut Rng::new(9), 6);
            assert_eq!(a, b);
            assert!(!a.is_empty());
            assert!(a.iter().all(|c| !c.is_empty()), "{p}: {a:?}");
        }
        let d = session("dns", &mut Rng::new(1), 3);
        assert!(d.iter().all(|m| wirecheck_dns::codec::decode(m).is_ok()));
    }

    #[test]
    fn placeholders_are_filled_but_literals_kept() {
        let mut tag = 0;
        let s = fill(
            "{tag} LOGIN {5}\r\n{user} {tag}",
            &mut Rng::new(1),
            &mut tag,
        );
        assert_eq!(s, "a1 LOGIN {5}\r\nalice a2");
    }

    #[test]
    fn sanitising_removes_tls_and_lasting_changes() {
        let mut s: Sequence = vec![b"STARTTLS\r\nEHLO x\r\n".to_vec(), b"STARTTLS\r\n".to_vec()];
        sanitise("smtp", &mut s);
        assert_eq!(s, vec![b"EHLO x\r\n".to_vec()]);
        let mut s: Sequence = vec![b"DELE 1\r\n".to_vec(), b"QUIT\r\n".to_vec()];
        sanitise("pop3", &mut s);
        assert_eq!(s, vec![b"QUIT\r\n".to_vec()]);
        let mut s: Sequence = vec![b"DELE 1\r\nRSET\r\n".to_vec()];
        sanitise("pop3", &mut s);
        assert_eq!(s.len(), 1, "DELE without QUIT changes nothing");
        let mut s: Sequence =
            vec![b"a1 select INBOX\r\na2 STORE 1 +FLAGS (x)\r\na3 uid copy 1 X\r\n".to_vec()];
        sanitise("imap", &mut s);
        assert_eq!(s, vec![b"a1 EXAMINE INBOX\r\n".to_vec()]);
        let mut s: Sequence = vec![
            b"PASV\r\n".to_vec(),
            b"RETR x\r\n".to_vec(),
            b"STOR y\r\n".to_vec(),
        ];
        sanitise("ftp", &mut s);
        assert_eq!(s, vec![b"PASV\r\n".to_vec()]);
    }
}
