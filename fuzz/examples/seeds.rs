//! Seed corpora for the byte-input fuzz targets, from the transcripts: the `C:` / `C>` lines
//! of `transcripts/<protocol>/**.toml` become command seeds (one line each) and session seeds
//! (all lines of one transcript), DNS queries become wire messages, plus a few inputs from
//! the RFCs' own examples for protocols that have no transcripts yet.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds [TRANSCRIPTS_DIR [SEEDS_DIR]]
//! ```
//!
//! Defaults: `transcripts/` and `fuzz/seeds/` next to this crate. Files are named by a hash of
//! their contents, so running it again adds only what is new; each target keeps at most
//! [`MAX_PER_TARGET`] seeds of at most [`MAX_SEED`] octets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const MAX_PER_TARGET: usize = 150;
const MAX_SEED: usize = 4096;

/// The variables a transcript may use, with the values the reference servers are seeded with.
const VARS: &[(&str, &str)] = &[
    ("user", "alice"),
    ("pass", "secret"),
    ("domain", "example.test"),
    ("host", "127.0.0.1"),
    ("port", "2525"),
];

fn main() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args().skip(1);
    let transcripts = args.next().map_or_else(|| here.join("../transcripts"), PathBuf::from);
    let out = args.next().map_or_else(|| here.join("seeds"), PathBuf::from);
    let mut seeds: BTreeMap<&'static str, Vec<Vec<u8>>> = BTreeMap::new();
    let mut files = 0;
    for protocol in ["smtp", "pop3", "imap", "ftp", "dns"] {
        let mut paths = Vec::new();
        collect(&transcripts.join(protocol), &mut paths);
        paths.sort();
        for p in paths {
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let Ok(doc) = text.parse::<toml::Table>() else {
                eprintln!("skipping {}: not TOML", p.display());
                continue;
            };
            let Some(script) = doc.get("script").and_then(|s| s.as_str()) else {
                continue;
            };
            files += 1;
            add_transcript(protocol, &client_lines(script), &mut seeds);
        }
    }
    builtin(&mut seeds);
    let mut written = 0;
    for (target, list) in &seeds {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir).expect("create seed dir");
        let mut n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        for s in list {
            if s.len() > MAX_SEED || n >= MAX_PER_TARGET {
                continue;
            }
            let path = dir.join(format!("{:016x}", fnv(s)));
            if !path.exists() {
                std::fs::write(&path, s).expect("write seed");
                n += 1;
                written += 1;
            }
        }
    }
    println!("{files} transcripts, {written} new seeds in {}", out.display());
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// What the client sends in a script: `C: text` (CRLF added) and `C> text` (as is), escapes
/// decoded, `${var}` replaced; a line with another expression is left out.
fn client_lines(script: &str) -> Vec<(bool, Vec<u8>)> {
    let mut out = Vec::new();
    for raw in script.lines() {
        let line = raw.trim_start();
        let (crlf, rest) = if let Some(r) = line.strip_prefix("C:") {
            (true, r.strip_prefix(' ').unwrap_or(r))
        } else if let Some(r) = line.strip_prefix("C>") {
            (false, r.strip_prefix(' ').unwrap_or(r))
        } else {
            continue;
        };
        let rest = strip_comment(rest);
        let mut text = rest.to_string();
        for (k, v) in VARS {
            text = text.replace(&format!("${{{k}}}"), v);
        }
        if text.contains("${") {
            continue;
        }
        let mut bytes = unescape(text.trim_end());
        if crlf {
            bytes.extend_from_slice(b"\r\n");
        }
        out.push((crlf, bytes));
    }
    out
}

/// A `#` after two or more spaces starts a comment (`\#` is a literal `#`).
fn strip_comment(s: &str) -> &str {
    let b = s.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'#' && i >= 2 && b[i - 1] == b' ' && b[i - 2] == b' ' {
            return &s[..i];
        }
    }
    s
}

fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let c = b[i + 1];
            let simple = match c {
                b'r' => Some(b'\r'),
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'0' => Some(0),
                b'\\' | b'$' | b'#' => Some(c),
                _ => None,
            };
            if let Some(v) = simple {
                out.push(v);
                i += 2;
                continue;
            }
            if c == b'x'
                && let Some(h) = s.get(i + 2..i + 4)
                && let Ok(v) = u8::from_str_radix(h, 16)
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Four header octets (configuration 0, no cuts) then the client's bytes.
fn session_seed(bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0];
    v.extend_from_slice(bytes);
    v
}

fn add_transcript(protocol: &str, lines: &[(bool, Vec<u8>)], seeds: &mut BTreeMap<&'static str, Vec<Vec<u8>>>) {
    if lines.is_empty() {
        return;
    }
    let all: Vec<u8> = lines.iter().flat_map(|(_, b)| b.iter().copied()).collect();
    let mut add = |t: &'static str, v: Vec<u8>| seeds.entry(t).or_default().push(v);
    match protocol {
        "smtp" | "pop3" | "ftp" | "imap" => {
            let (command, session): (&'static str, &'static str) = match protocol {
                "smtp" => ("smtp_decode_command", "smtp_session_bytes"),
                "pop3" => ("pop3_decode_command", "pop3_session_bytes"),
                "imap" => ("imap_decode_command", "imap_session_bytes"),
                _ => ("ftp_decode_command", "ftp_session_bytes"),
            };
            for (_, l) in lines {
                if protocol == "imap" {
                    // The IMAP decoders take whole commands (CRLF, literals); the first octet
                    // of `imap_decode_command` picks the limits.
                    let mut v = vec![0];
                    v.extend_from_slice(l);
                    add(command, v);
                    add("imap_diff_command", l.clone());
                } else {
                    add(command, l.strip_suffix(b"\r\n").unwrap_or(l).to_vec());
                }
            }
            add(session, session_seed(&all));
        }
        "dns" => {
            for (crlf, l) in lines {
                let text = String::from_utf8_lossy(l).trim().to_string();
                let wire = if !crlf || text.starts_with("hex ") || text.starts_with("rawhex ") {
                    let hex = text.trim_start_matches("rawhex").trim_start_matches("hex");
                    wirecheck_dns::presentation::parse_hex(hex).ok()
                } else {
                    add("dns_presentation", text.clone().into_bytes());
                    wirecheck_dns::presentation::parse_query(&text)
                        .ok()
                        .map(|m| wirecheck_dns::codec::encode(&m))
                };
                if let Some(w) = wire {
                    add("dns_decode", w.clone());
                    add("dns_auth", w.clone());
                    add("dns_diff_hickory", w);
                }
            }
        }
        _ => {}
    }
}

/// Inputs from the RFCs' examples, so every byte target starts from something valid.
fn builtin(seeds: &mut BTreeMap<&'static str, Vec<Vec<u8>>>) {
    let mut add = |t: &'static str, v: &[u8]| seeds.entry(t).or_default().push(v.to_vec());
    // RFC 5321 §4.1, Appendix D.
    for l in [
        &b"EHLO bar.com"[..],
        b"MAIL FROM:<Smith@bar.com> SIZE=1000 BODY=8BITMIME",
        b"RCPT TO:<Jones@foo.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Jones@foo.com",
        b"RCPT TO:<Postmaster>",
        b"DATA",
        b"BDAT 86 LAST",
        b"AUTH PLAIN AGFsaWNlAHNlY3JldA==",
        b"VRFY Smith",
        b"QUIT",
    ] {
        add("smtp_decode_command", l);
    }
    add(
        "smtp_session_bytes",
        b"\x01\0\0\0EHLO bar.com\r\nMAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Jones@example.org>\r\nDATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nBDAT 3 LAST\r\nabcQUIT\r\n",
    );
    for r in [
        &b"\x00250 OK\r\n"[..],
        b"\x00250-foo.com greets bar.com\r\n250-8BITMIME\r\n250 HELP\r\n",
        b"\x01421 closing\r\n",
    ] {
        add("smtp_decode_reply", r);
    }
    // RFC 1939 §10.
    for l in [
        &b"USER mrose"[..],
        b"PASS secret",
        b"APOP mrose c4c9334bac560ecc979e58001b3e22fb",
        b"LIST",
        b"RETR 1",
        b"TOP 1 10",
        b"UIDL 2",
        b"DELE 1",
        b"QUIT",
    ] {
        add("pop3_decode_command", l);
    }
    add(
        "pop3_session_bytes",
        b"\0\0\0\0USER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nRETR 1\r\nTOP 2 1\r\nDELE 1\r\nUIDL\r\nRSET\r\nQUIT\r\n",
    );
    for r in [
        &b"\0+OK 2 320\r\n"[..],
        b"\x03+OK\r\n1 120\r\n..dot\r\n.\r\n",
        b"\0-ERR [IN-USE] locked\r\n",
        b"\0+ \r\n",
    ] {
        add("pop3_decode_response", r);
    }
    // RFC 9051 §8.
    for l in [
        &b"a001 LOGIN alice secret\r\n"[..],
        b"A003 APPEND saved-messages (\\Seen) {11}\r\nhello world\r\n",
        b"A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n",
        b"A003 STORE 2:4 +FLAGS (\\Deleted)\r\n",
        b"A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
        b"a002 SELECT INBOX\r\n",
        b"A202 LIST \"\" %\r\n",
        b"a1 IDLE\r\n",
        b"a2 UID MOVE 42:69 foo\r\n",
    ] {
        let mut v = vec![0];
        v.extend_from_slice(l);
        add("imap_decode_command", &v);
        add("imap_diff_command", l);
    }
    add("imap_session_bytes", b"\0\0\0\0a1 LOGIN alice secret\r\na2 SELECT INBOX\r\na3 FETCH 1:* (FLAGS ENVELOPE)\r\na4 IDLE\r\nDONE\r\na5 LOGOUT\r\n");
    for r in [
        &b"\0* OK [CAPABILITY IMAP4rev2] ready\r\n"[..],
        b"\0* 12 FETCH (BODY[HEADER] {12}\r\nSubject: x\r\n)\r\n",
        b"\0a1 OK [READ-WRITE] SELECT completed\r\n",
        b"\0+ Ready for literal data\r\n",
    ] {
        add("imap_decode_response", r);
        add("imap_diff_response", &r[1..]);
    }
    // RFC 959, RFC 2428.
    for r in [
        &b"\x00220 ready\r\n"[..],
        b"\x00211-Features:\r\n SIZE\r\n211 End\r\n",
        b"\x00150 Opening\r\n",
    ] {
        add("ftp_decode_reply", r);
    }
    // RFC 5322 Appendix A.
    let messages: [&[u8]; 3] = [
        b"From: John Doe <jdoe@machine.example>\r\nTo: Mary Smith <mary@example.net>\r\nSubject: Saying Hello\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\nMessage-ID: <1234@local.machine.example>\r\n\r\nThis is a message just to say hello.\r\n",
        b"From: \"Joe Q. Public\" <john.q.public@example.com>\r\nTo: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>\r\nCc: <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\nSubject: =?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9=\r\n\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n--b1--\r\n",
        b"From: Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>\r\nTo:A Group(Some people):Chris Jones <c@(Chris's host.)public.example>, joe@example.org, John <jdoe@one.test> (my dear friend); (the end of the group)\r\nDate: Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n               -0330 (Newfoundland Time)\r\nMessage-ID:              <testabcd.1234@silly.test>\r\n\r\nTesting.\r\n",
    ];
    for m in messages {
        add("message_parse", m);
        add("message_diff_mailparser", m);
    }
    for a in [
        &b"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>"[..],
        b"A Group:Ed Jones <c@a.test>,joe@where.test;, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
    ] {
        add("message_address", a);
    }
    for w in [
        &b"=?ISO-8859-1?Q?Andr=E9?= Pirard"[..],
        b"=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=",
        b"Gr\xc3\xbc\xc3\x9fe",
    ] {
        add("message_encoded_word", w);
    }
    for b in [&b"aGVsbG8gd29ybGQ="[..], b"YQ==", b"YR==", b"Zm9v\r\nYmFy"] {
        add("message_base64", b);
        add("message_diff_base64", b);
    }
    add("message_qp", b"caf=C3=A9 =\r\nsoft break\r\ntrailing space \r\n=3D");
    // RFC 1035 §5 master file.
    add(
        "dns_zone",
        b"$ORIGIN example.test.\n$TTL 3600\n@ IN SOA ns1 hostmaster (1 7200 3600 1209600 300)\n  IN NS ns1\nns1 IN A 127.0.0.1\nwww IN CNAME @\n* IN MX 10 mail\ntxt IN TXT \"a b\" c\nx IN TYPE65534 \\# 2 abcd\n",
    );
    for q in [
        &b"example.test. MX +rd id=4242"[..],
        b"www.example.test. A +rd edns=0 bufsize=1232 +do",
    ] {
        add("dns_presentation", q);
    }
}

/// FNV-1a, for content-addressed file names.
fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
