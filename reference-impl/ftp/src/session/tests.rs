//! In-memory session tests: the session is driven by hand, playing the driver's part.

use std::io::Read;
use std::net::SocketAddr;

use wirecheck_wire::{Output, Session, TlsInfo};

use super::*;
use crate::codec::{ReplyLimits, decode_reply};
use crate::fixtures::create_peer_tree;

struct Pair {
    s: FtpSession<RealFs>,
    dir: tempfile::TempDir,
    closed: bool,
    starttls: bool,
}

const PEER: &str = "127.0.0.1:50000";

fn pair_with(cfg: FtpConfig) -> (Pair, Vec<Reply>) {
    let dir = tempfile::tempdir().unwrap();
    create_peer_tree(dir.path()).unwrap();
    let conn = ConnInfo {
        local: "127.0.0.1:21".parse().unwrap(),
        peer: PEER.parse().unwrap(),
    };
    let s = FtpSession::new(cfg, RealFs::new(dir.path()).unwrap(), conn);
    let mut p = Pair {
        s,
        dir,
        closed: false,
        starttls: false,
    };
    let r = p.drain();
    (p, r)
}

fn pair() -> Pair {
    let (p, greeting) = pair_with(FtpConfig {
        tls: true,
        ..FtpConfig::default()
    });
    assert_eq!(greeting[0].code, 220);
    p
}

fn logged_in() -> Pair {
    let mut p = pair();
    p.cmd("USER alice", 331);
    p.cmd("PASS secret", 230);
    p
}

impl Pair {
    fn drain(&mut self) -> Vec<Reply> {
        let mut bytes = Vec::new();
        while let Some(o) = self.s.poll_output() {
            match o {
                Output::Send(b) => bytes.extend(b),
                Output::Close => self.closed = true,
                Output::StartTls => self.starttls = true,
            }
        }
        let mut replies = Vec::new();
        let mut pos = 0;
        while let Some((n, r)) = decode_reply(&bytes[pos..], &ReplyLimits::default()).unwrap() {
            pos += n;
            replies.push(r);
        }
        assert_eq!(pos, bytes.len(), "only whole replies");
        replies
    }

    fn send(&mut self, line: &str) -> Vec<Reply> {
        self.s.handle_input(format!("{line}\r\n").as_bytes());
        self.drain()
    }

    /// Send a command expecting exactly one reply with `code`; return its text.
    fn cmd(&mut self, line: &str, code: u16) -> String {
        let r = self.send(line);
        assert_eq!(r.len(), 1, "{line}: {r:?}");
        assert_eq!(r[0].code, code, "{line}: {}", r[0].text());
        r[0].text()
    }

    fn actions(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.s.poll_action()).collect()
    }

    fn pasv(&mut self) {
        assert!(self.send("PASV").is_empty(), "227 waits for the listener");
        let a = self.actions();
        assert!(
            matches!(a.as_slice(), [Action::Listen { ip }] if ip.to_string() == "127.0.0.1"),
            "{a:?}"
        );
        self.s
            .handle_data_event(DataEvent::Listening("127.0.0.1:40000".parse().unwrap()));
        let r = self.drain();
        assert_eq!(r[0].code, 227);
        assert!(r[0].text().contains("(127,0,0,1,156,64)"), "{}", r[0].text());
    }

    fn transfer(&mut self) -> Transfer {
        let mut a = self.actions();
        assert_eq!(a.len(), 1, "{a:?}");
        match a.pop() {
            Some(Action::Transfer(t)) => t,
            other => panic!("expected a transfer, got {other:?}"),
        }
    }

    /// Run a transfer to completion; returns its bytes (sent) and the replies.
    fn complete(&mut self, t: Transfer, upload: &[u8]) -> (Vec<u8>, Vec<Reply>) {
        self.s.handle_data_event(DataEvent::Connected);
        let mut r = self.drain();
        assert_eq!(r[0].code, 150);
        let mut data = Vec::new();
        match t.payload {
            Payload::Bytes(b) => data = b,
            Payload::Read(mut rd) => {
                rd.read_to_end(&mut data).unwrap();
            }
            Payload::Write(mut w) => w.write_all(upload).unwrap(),
        }
        self.s.handle_data_event(DataEvent::Done {
            bytes: data.len() as u64,
        });
        r.extend(self.drain());
        (data, r)
    }

    fn run(&mut self, upload: &[u8]) -> (Vec<u8>, Vec<Reply>) {
        let t = self.transfer();
        self.complete(t, upload)
    }

    fn file(&self, p: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(p)).unwrap()
    }
}

use std::io::Write;

#[test]
fn login_and_530_before_it() {
    let mut p = pair();
    p.cmd("PWD", 530);
    p.cmd("LIST", 530);
    p.cmd("RETR hello.txt", 530);
    p.cmd("PASS secret", 503);
    p.cmd("SYST", 215);
    p.cmd("NOOP", 200);
    p.cmd("USER alice", 331);
    p.cmd("PASS wrong", 530);
    p.cmd("CWD pub", 530);
    p.cmd("USER alice", 331);
    p.cmd("PASS secret", 230);
    p.cmd("ACCT x", 202);
    assert_eq!(p.s.user(), Some("alice"));
    p.cmd("REIN", 220);
    p.cmd("PWD", 530);
}

#[test]
fn anonymous_is_configurable_and_read_only() {
    let mut p = pair();
    p.cmd("USER anonymous", 331);
    p.cmd("PASS guest@example.test", 230);
    p.pasv();
    p.cmd("STOR upload/x", 553);
    p.cmd("MKD upload/d", 550);
    let (mut off, _) = pair_with(FtpConfig {
        anonymous: false,
        ..FtpConfig::default()
    });
    off.cmd("USER anonymous", 331);
    off.cmd("PASS x", 530);
}

#[test]
fn pwd_quotes_and_doubles_quotes() {
    let mut p = logged_in();
    assert_eq!(p.cmd("PWD", 257), "\"/\" is the current directory");
    assert_eq!(
        p.cmd("MKD upload/say \"hi\"", 257),
        "\"/upload/say \"\"hi\"\"\" created"
    );
    p.cmd("CWD upload/say \"hi\"", 250);
    assert_eq!(p.cmd("PWD", 257), "\"/upload/say \"\"hi\"\"\" is the current directory");
    p.cmd("CDUP", 200);
    assert_eq!(p.cmd("PWD", 257), "\"/upload\" is the current directory");
}

#[test]
fn rename_needs_rnfr_immediately_before() {
    let mut p = logged_in();
    p.cmd("RNTO upload/y", 503);
    p.cmd("MKD upload/a", 257);
    p.cmd("RNFR upload/a", 350);
    p.cmd("NOOP", 200);
    p.cmd("RNTO upload/b", 503);
    p.cmd("RNFR upload/a", 350);
    p.cmd("RNTO upload/b", 250);
    assert!(p.dir.path().join("upload/b").is_dir());
    p.cmd("RNFR upload/missing", 550);
    p.cmd("RNFR hello.txt", 550);
}

#[test]
fn missing_files_are_550() {
    let mut p = logged_in();
    p.pasv();
    p.cmd("RETR nope.txt", 550);
    p.cmd("RETR pub", 550);
    p.cmd("SIZE nope.txt", 550);
    p.cmd("MDTM nope.txt", 550);
    p.cmd("CWD nope", 550);
    p.cmd("DELE upload/nope", 550);
    p.cmd("RMD upload/nope", 550);
    p.cmd("MLST /nope", 550);
    p.cmd("LIST nope", 450);
    p.cmd("STAT nope", 450);
    // The passive setting survives the failed commands.
    let _ = p.cmd("MLSD hello.txt", 501);
    p.send("RETR hello.txt");
    let _ = p.transfer();
}

#[test]
fn no_data_connection_is_425() {
    let mut p = logged_in();
    p.cmd("RETR hello.txt", 425);
    p.cmd("LIST", 425);
    p.cmd("STOR upload/x", 425);
    p.cmd("MLSD", 425);
    p.pasv();
    p.send("NLST");
    let (data, r) = p.run(b"");
    assert_eq!(data, b"hello.txt\r\npub\r\nupload\r\n");
    assert_eq!(r.last().unwrap().code, 226);
    // Each transfer needs a new PASV.
    p.cmd("NLST", 425);
}

#[test]
fn retr_binary_ascii_and_rest() {
    let mut p = logged_in();
    assert_eq!(p.cmd("SIZE hello.txt", 213), "25", "TYPE A counts CRLF");
    p.cmd("TYPE I", 200);
    assert_eq!(p.cmd("SIZE hello.txt", 213), "24");
    p.pasv();
    p.send("RETR hello.txt");
    let t = p.transfer();
    assert!(!t.ascii && t.skip == 0 && !t.protect);
    assert_eq!(t.connection, DataConnection::Passive);
    let (data, r) = p.complete(t, b"");
    assert_eq!(data, crate::fixtures::HELLO_TXT);
    assert!(r[0].text().contains("BINARY"));
    p.cmd("REST 6", 350);
    p.pasv();
    p.send("RETR hello.txt");
    let (data, _) = p.run(b"");
    assert_eq!(data, b"from the ftp peer\n");
    p.cmd("TYPE A", 200);
    p.cmd("REST 3", 350);
    p.pasv();
    p.send("RETR hello.txt");
    let t = p.transfer();
    assert!(t.ascii);
    assert_eq!(
        t.skip, 3,
        "TYPE A restart counts transfer octets; the driver skips them"
    );
    p.complete(t, b"");
    p.cmd("TYPE I", 200);
    p.cmd("REST 1000", 350);
    p.pasv();
    p.cmd("RETR hello.txt", 554);
}

#[test]
fn stor_appe_stou_and_rest_stor() {
    let mut p = logged_in();
    p.cmd("TYPE I", 200);
    p.pasv();
    p.send("STOR upload/a.bin");
    p.run(b"\0\r\n\xff");
    assert_eq!(p.file("upload/a.bin"), b"\0\r\n\xff");
    p.pasv();
    p.send("APPE upload/a.bin");
    p.run(b"++");
    assert_eq!(p.file("upload/a.bin"), b"\0\r\n\xff++");
    p.cmd("REST 2", 350);
    p.pasv();
    p.send("STOR upload/a.bin");
    p.run(b"XY");
    assert_eq!(p.file("upload/a.bin"), b"\0\rXY");
    p.cmd("CWD upload", 250);
    p.pasv();
    p.send("STOU");
    let (_, r) = p.run(b"u");
    assert_eq!(r[0].text(), "FILE: ftp0001.stou");
    assert_eq!(p.file("upload/ftp0001.stou"), b"u");
    p.pasv();
    p.cmd("STOR /hello.txt", 553);
    p.cmd("STOR /pub/x", 553);
    p.cmd("STOR /nodir/x", 553);
    p.cmd("APPE /hello.txt", 550);
    p.cmd("DELE /hello.txt", 550);
    p.cmd("RMD /upload", 550);
}

#[test]
fn path_escapes_stay_inside_the_root() {
    let mut p = logged_in();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"s").unwrap();
    std::os::unix::fs::symlink(outside.path(), p.dir.path().join("pub/link")).unwrap();
    p.cmd("CWD ../../../..", 250);
    assert_eq!(p.cmd("PWD", 257), "\"/\" is the current directory");
    p.cmd("CWD /pub/link", 550);
    p.pasv();
    p.cmd("RETR ../../../../etc/passwd", 550);
    p.cmd("RETR /pub/link/secret", 550);
    p.cmd("RETR ..%2f..%2fetc%2fpasswd", 550);
    p.cmd("RETR ..\\..\\etc\\passwd", 550);
    // NUL inside a pathname.
    p.s.handle_input(b"RETR hello.txt\0../x\r\n");
    assert_eq!(p.drain()[0].code, 550);
    // Overlong UTF-8 '/' is not UTF-8: a syntax error.
    p.s.handle_input(b"RETR ..\xc0\xaf..\xc0\xafetc\r\n");
    assert_eq!(p.drain()[0].code, 501);
    p.cmd("SIZE /pub/link/secret", 550);
    p.cmd("LIST /pub/link", 450);
}

#[test]
fn port_only_to_the_peer() {
    let mut p = logged_in();
    p.cmd("PORT 127,0,0,2,156,64", 501);
    p.cmd("PORT 127,0,0,1,0,21", 501);
    p.cmd("EPRT |1|127.0.0.2|40000|", 501);
    p.cmd("EPRT |3|x|40000|", 522);
    p.cmd("PORT 127,0,0,1,156,64", 200);
    p.send("RETR hello.txt");
    let t = p.transfer();
    assert_eq!(t.connection, DataConnection::Active("127.0.0.1:40000".parse().unwrap()));
    p.complete(t, b"");
    p.cmd("EPRT |1|127.0.0.1|40001|", 200);
    p.send("LIST");
    assert_eq!(
        p.transfer().connection,
        DataConnection::Active("127.0.0.1:40001".parse().unwrap())
    );
}

#[test]
fn epsv_and_epsv_all() {
    let mut p = logged_in();
    p.cmd("EPSV 2", 522);
    assert!(p.send("EPSV").is_empty());
    assert!(matches!(p.actions().as_slice(), [Action::Listen { .. }]));
    p.s.handle_data_event(DataEvent::Listening("127.0.0.1:40000".parse().unwrap()));
    let r = p.drain();
    assert_eq!(r[0].code, 229);
    assert_eq!(crate::codec::parse_epsv(&r[0].text()), Some(40000));
    p.cmd("EPSV ALL", 200);
    p.cmd("PASV", 501);
    p.cmd("PORT 127,0,0,1,156,64", 501);
}

#[test]
fn abor_interrupts_a_running_transfer() {
    let mut p = logged_in();
    p.pasv();
    p.send("RETR pub/64k.bin");
    let _t = p.transfer();
    p.s.handle_data_event(DataEvent::Connected);
    assert_eq!(p.drain()[0].code, 150);
    // Telnet IP + Synch before ABOR, as RFC 959 §4.1.3 describes.
    p.s.handle_input(b"\xff\xf4\xff\xf2ABOR\r\n");
    assert!(p.drain().is_empty(), "the pair follows the driver's report");
    assert!(matches!(p.actions().as_slice(), [Action::Abort]));
    p.s.handle_data_event(DataEvent::Aborted);
    let codes: Vec<u16> = p.drain().iter().map(|r| r.code).collect();
    assert_eq!(codes, [426, 226]);
    p.cmd("ABOR", 225);
    // F11: a second ABOR during the abort waits for the pair, then gets its own 225.
    p.pasv();
    p.send("RETR pub/64k.bin");
    let _t = p.transfer();
    p.s.handle_input(b"ABOR\r\nABOR\r\n");
    assert!(matches!(p.actions().as_slice(), [Action::Abort]), "one abort for the driver");
    p.s.handle_data_event(DataEvent::Aborted);
    let codes: Vec<u16> = p.drain().iter().map(|r| r.code).collect();
    assert_eq!(codes, [426, 226, 225]);
}

/// RFC 959 §3.4.2, §4.2: in MODE B the transfer is marked as block mode and a restart marker
/// the driver reports is answered `110 MARK yyyy = mmmm`, between the 150 and the 226.
#[test]
fn mode_b_transfers_and_mark_replies() {
    let mut p = logged_in();
    p.cmd("TYPE I", 200);
    p.cmd("MODE B", 200);
    p.pasv();
    p.send("STOR upload/b.bin");
    p.run(b"0123456789");
    p.pasv();
    p.cmd("REST 5", 350);
    p.send("STOR upload/b.bin");
    let t = p.transfer();
    assert!(t.block && t.offset == 5, "{t:?}");
    p.s.handle_data_event(DataEvent::Connected);
    p.s.handle_data_event(DataEvent::Mark { marker: "m1".into(), offset: 9 });
    p.s.handle_data_event(DataEvent::Done { bytes: 4 });
    let r = p.drain();
    let got: Vec<(u16, String)> = r.iter().map(|r| (r.code, r.text())).collect();
    assert_eq!(got[1], (110, "MARK m1 = 9".to_owned()));
    assert_eq!((got[0].0, got[2].0, got.len()), (150, 226, 3));
    p.cmd("MODE S", 200);
    p.pasv();
    p.send("RETR hello.txt");
    assert!(!p.transfer().block);
}

#[test]
fn commands_wait_during_a_transfer_except_stat_abor_quit() {
    let mut p = logged_in();
    p.pasv();
    p.send("RETR hello.txt");
    let t = p.transfer();
    p.s.handle_data_event(DataEvent::Connected);
    p.drain();
    assert!(p.send("NOOP").is_empty());
    assert_eq!(
        p.cmd("STAT", 211),
        "Status: a transfer is in progress\n Sending /hello.txt (24 bytes), data connection open\nEnd of status"
    );
    p.send("QUIT");
    drop(t);
    p.s.handle_data_event(DataEvent::Done { bytes: 24 });
    let codes: Vec<u16> = p.drain().iter().map(|r| r.code).collect();
    assert_eq!(codes, [226, 221]);
    assert!(p.closed);
}

#[test]
fn transfer_failures_map_to_codes() {
    for (f, code) in [
        (TransferFailure::NoConnection, 425),
        (TransferFailure::Network, 426),
        (TransferFailure::Local, 451),
        (TransferFailure::TooLarge, 552),
        (TransferFailure::Tls, 522),
    ] {
        let mut p = logged_in();
        p.pasv();
        p.send("LIST");
        let _ = p.transfer();
        p.s.handle_data_event(DataEvent::Failed(f));
        let r = p.drain();
        assert_eq!(r.last().map(|r| r.code), Some(code));
        p.cmd("NOOP", 200);
    }
    let mut p = logged_in();
    p.send("PASV");
    p.s.handle_data_event(DataEvent::ListenFailed);
    assert_eq!(p.drain()[0].code, 425);
}

#[test]
fn feat_help_stat_are_multi_line() {
    let mut p = pair();
    let r = p.send("FEAT");
    assert_eq!(r[0].code, 211);
    let lines: Vec<&[u8]> = r[0].lines.iter().map(|l| l.as_slice()).collect();
    assert_eq!(lines[0], b"211-Features:");
    assert!(lines.contains(&&b" REST STREAM"[..]));
    assert!(lines.contains(&&b" AUTH TLS"[..]));
    assert!(lines.contains(&&b" MLST type*;size*;modify*;perm*;"[..]));
    assert_eq!(*lines.last().unwrap(), b"211 End");
    let r = p.send("HELP");
    assert_eq!(r[0].code, 214);
    assert!(r[0].lines.len() > 3);
    p.cmd("HELP RETR", 214);
    p.cmd("HELP FROB", 502);
    p.cmd("USER alice", 331);
    p.cmd("PASS secret", 230);
    let r = p.send("STAT");
    assert_eq!(r[0].code, 211);
    assert!(r[0].text().contains("Logged in as alice"));
    let r = p.send("STAT /pub");
    assert_eq!(r[0].code, 213);
    assert!(r[0].text().contains("64k.bin"));
    p.cmd("OPTS MLST type;size;", 200);
    let r = p.send("MLST hello.txt");
    assert_eq!(r[0].code, 250);
    assert_eq!(r[0].lines[1], b" type=file;size=24; /hello.txt");
}

#[test]
fn unsupported_parameters_and_commands() {
    let mut p = logged_in();
    p.cmd("TYPE E", 504);
    p.cmd("TYPE A T", 504);
    p.cmd("TYPE L 7", 504);
    p.cmd("TYPE L 8", 200);
    p.cmd("TYPE Z", 501);
    p.cmd("STRU R", 504);
    p.cmd("STRU F", 200);
    p.cmd("MODE C", 504);
    p.cmd("MODE B", 200);
    p.cmd("MODE S", 200);
    p.cmd("SMNT /pub", 502);
    p.cmd("CCC", 502);
    p.cmd("XYZZY", 500);
    p.cmd("ALLO 100", 202);
    p.cmd("SITE HELP", 214);
    p.cmd("SITE CHMOD 777 x", 500);
    p.cmd("OPTS FROB", 501);
    p.cmd("OPTS UTF8 ON", 200);
    p.cmd("PROT P", 503);
    p.cmd("PBSZ 0", 503);
    p.cmd("AUTH KERBEROS_V4", 504);
}

#[test]
fn auth_tls_then_protected_data() {
    let mut p = pair();
    // What follows AUTH TLS in the same packet must not be acted on (RFC 4217 §4 / §15).
    let r = {
        p.s.handle_input(b"AUTH TLS\r\nUSER alice\r\n");
        p.drain()
    };
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].code, 234);
    assert!(p.starttls);
    p.s.handle_tls(TlsInfo::default());
    p.cmd("AUTH TLS", 503);
    p.cmd("PROT P", 503);
    p.cmd("PBSZ 0", 200);
    p.cmd("PROT S", 536);
    p.cmd("PROT P", 200);
    p.cmd("USER alice", 331);
    p.cmd("PASS secret", 230);
    p.pasv();
    p.send("LIST");
    assert!(p.transfer().protect);
}

#[test]
fn auth_without_tls_configured_is_502() {
    let (mut p, _) = pair_with(FtpConfig::default());
    p.cmd("AUTH TLS", 502);
    let r = p.send("FEAT");
    assert!(!r[0].text().contains("AUTH"));
}

#[test]
fn long_lines_bounded_queue_timeout_quit() {
    let (mut p, _) = pair_with(FtpConfig {
        max_line: 16,
        max_queued: 2,
        ..FtpConfig::default()
    });
    p.cmd(&"N".repeat(100), 500);
    p.cmd("NOOP", 200);
    p.cmd("USER alice", 331);
    p.cmd("PASS secret", 230);
    p.send("PASV");
    let r = p.send("NOOP\r\nNOOP\r\nNOOP");
    assert_eq!(r[0].code, 421);
    assert!(p.closed);
    let (mut p, _) = pair_with(FtpConfig::default());
    let out = p.s.handle_timeout();
    assert!(matches!(&out[0], Output::Send(b) if b.starts_with(b"421 ")));
    let (mut p, _) = pair_with(FtpConfig::default());
    p.cmd("QUIT", 221);
    assert!(p.closed);
    assert!(p.send("NOOP").is_empty());
}

#[test]
fn listings() {
    let mut p = logged_in();
    p.pasv();
    p.send("LIST -la pub");
    let (data, _) = p.run(b"");
    let text = String::from_utf8(data).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.contains(" 65536 ") && text.ends_with(" sub\r\n"), "{text}");
    assert!(text.starts_with("-rw-r--r--"), "{text}");
    p.pasv();
    p.send("NLST pub/");
    let (data, _) = p.run(b"");
    assert_eq!(data, b"pub/64k.bin\r\npub/crlf.txt\r\npub/sub\r\n");
    p.pasv();
    p.send("MLSD /");
    let (data, _) = p.run(b"");
    let text = String::from_utf8(data).unwrap();
    assert!(
        text.contains("type=dir;") && text.contains("perm=elcmp; upload\r\n"),
        "{text}"
    );
    assert!(text.contains("type=file;size=24;"), "{text}");
}

#[test]
fn data_events_out_of_turn_are_ignored() {
    let mut p = logged_in();
    p.s.handle_data_event(DataEvent::Done { bytes: 1 });
    p.s.handle_data_event(DataEvent::Listening(SocketAddr::from(([127, 0, 0, 1], 1))));
    assert!(p.drain().is_empty());
    p.cmd("NOOP", 200);
}

/// A small deterministic generator (xorshift), so the garbage tests need no dependency.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn garbage_input_and_events_never_panic() {
    let verbs: &[&[u8]] = &[
        b"USER alice\r\n",
        b"PASS secret\r\n",
        b"PASV\r\n",
        b"EPSV\r\n",
        b"RETR hello.txt\r\n",
        b"LIST\r\n",
        b"STOR upload/g\r\n",
        b"ABOR\r\n",
        b"REST 5\r\n",
        b"RNFR upload\r\n",
        b"RNTO x\r\n",
        b"AUTH TLS\r\n",
        b"PBSZ 0\r\n",
        b"PROT P\r\n",
        b"TYPE A\r\n",
        b"MLSD\r\n",
        b"STAT\r\n",
        b"CWD ..\r\n",
        b"\xff\xf4",
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..40 {
        let (mut p, _) = pair_with(FtpConfig {
            tls: true,
            max_line: 64,
            max_queued: 8,
            ..FtpConfig::default()
        });
        for _ in 0..200 {
            let r = xorshift(&mut seed);
            match r % 5 {
                0 => {
                    let len = (r >> 8) as usize % 100;
                    let bytes: Vec<u8> = (0..len).map(|_| xorshift(&mut seed) as u8).collect();
                    p.s.handle_input(&bytes);
                }
                1 | 2 => p.s.handle_input(verbs[(r >> 8) as usize % verbs.len()]),
                3 => {
                    let ev = match (r >> 8) % 7 {
                        0 => DataEvent::Listening("127.0.0.1:40000".parse().unwrap()),
                        1 => DataEvent::ListenFailed,
                        2 => DataEvent::Connected,
                        3 => DataEvent::Done { bytes: 1 },
                        4 => DataEvent::Failed(TransferFailure::Network),
                        5 => DataEvent::Aborted,
                        _ => DataEvent::Failed(TransferFailure::NoConnection),
                    };
                    p.s.handle_data_event(ev);
                }
                _ => p.s.handle_tls(TlsInfo::default()),
            }
            while p.s.poll_output().is_some() {}
            while p.s.poll_action().is_some() {}
        }
    }
}
