//! End-to-end tests of the tokio server over 127.0.0.1: passive and active transfers, binary
//! integrity, TYPE A conversion, REST, ABOR, path escapes, AUTH TLS with PROT P.
#![cfg(feature = "server")]

mod common;

use common::*;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use wirecheck_ftp::codec::{format_eprt, format_port};
use wirecheck_ftp::fixtures::{BIN_64K_LEN, CRLF_TXT, HELLO_TXT};
use wirecheck_wire::driver::MaybeTls;

#[tokio::test]
async fn passive_binary_round_trip_keeps_every_byte() {
    let s = server().await;
    let mut c = Client::login(s.addr).await;
    c.cmd("TYPE I", 200).await;
    let bytes = awkward_bytes();
    let d = c.pasv().await;
    c.upload("STOR upload/awkward.bin", d, &bytes).await;
    assert_eq!(std::fs::read(s.path("upload/awkward.bin")).unwrap(), bytes);
    let d = c.epsv().await;
    assert_eq!(c.download("RETR upload/awkward.bin", d).await, bytes);
    assert_eq!(c.cmd("SIZE upload/awkward.bin", 213).await, bytes.len().to_string());
    let d = c.pasv().await;
    assert_eq!(c.download("RETR pub/64k.bin", d).await, vec![b'x'; BIN_64K_LEN]);
    c.cmd("QUIT", 221).await;
}

#[tokio::test]
async fn active_mode_port_and_eprt() {
    let s = server().await;
    let mut c = Client::login(s.addr).await;
    c.cmd("TYPE I", 200).await;
    for eprt in [false, true] {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let SocketAddr::V4(v4) = addr else { unreachable!() };
        if eprt {
            c.cmd(&format!("EPRT {}", format_eprt(addr)), 200).await;
        } else {
            c.cmd(&format!("PORT {}", format_port(v4)), 200).await;
        }
        c.send("RETR hello.txt").await;
        let (data, _) = tokio::time::timeout(LIMIT, l.accept()).await.unwrap().unwrap();
        assert_eq!(c.reply().await.code, 150);
        assert_eq!(read_all(MaybeTls::Plain(data)).await, HELLO_TXT);
        assert_eq!(c.reply().await.code, 226);
    }
    // Active upload.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let SocketAddr::V4(v4) = l.local_addr().unwrap() else {
        unreachable!()
    };
    c.cmd(&format!("PORT {}", format_port(v4)), 200).await;
    c.send("STOR upload/active.bin").await;
    let (mut data, _) = tokio::time::timeout(LIMIT, l.accept()).await.unwrap().unwrap();
    assert_eq!(c.reply().await.code, 150);
    data.write_all(b"\0\r\n").await.unwrap();
    drop(data);
    assert_eq!(c.reply().await.code, 226);
    assert_eq!(std::fs::read(s.path("upload/active.bin")).unwrap(), b"\0\r\n");
    // No bounce: another address, or a privileged port.
    c.cmd("PORT 127,0,0,2,200,1", 501).await;
    c.cmd("PORT 127,0,0,1,0,25", 501).await;
}

#[tokio::test]
async fn ascii_type_converts_line_ends() {
    let s = server().await;
    let mut c = Client::login(s.addr).await;
    c.cmd("TYPE A", 200).await;
    let d = c.pasv().await;
    assert_eq!(c.download("RETR hello.txt", d).await, b"hello from the ftp peer\r\n");
    let d = c.pasv().await;
    assert_eq!(c.download("RETR pub/crlf.txt", d).await, CRLF_TXT, "CRLF stays CRLF");
    let d = c.pasv().await;
    c.upload("STOR upload/text.txt", d, b"one\r\ntwo\r\nbare\rcr\r\n").await;
    assert_eq!(
        std::fs::read(s.path("upload/text.txt")).unwrap(),
        b"one\ntwo\nbare\rcr\n"
    );
    c.cmd("TYPE I", 200).await;
    let d = c.pasv().await;
    assert_eq!(c.download("RETR hello.txt", d).await, HELLO_TXT, "TYPE I is byte-exact");
}

#[tokio::test]
async fn rest_resumes_downloads_and_uploads() {
    let s = server().await;
    let mut c = Client::login(s.addr).await;
    c.cmd("TYPE I", 200).await;
    c.cmd("REST 65000", 350).await;
    let d = c.pasv().await;
    assert_eq!(c.download("RETR pub/64k.bin", d).await.len(), BIN_64K_LEN - 65000);
    let bytes = awkward_bytes();
    let (a, b) = bytes.split_at(1000);
    let d = c.pasv().await;
    c.upload("STOR upload/resume.bin", d, a).await;
    c.cmd("REST 1000", 350).await;
    let d = c.pasv().await;
    c.upload("STOR upload/resume.bin", d, b).await;
    assert_eq!(std::fs::read(s.path("upload/resume.bin")).unwrap(), bytes);
    c.cmd("REST 99999999", 350).await;
    let _d = c.pasv().await;
    c.cmd("RETR hello.txt", 554).await;
}

/// Log in and start a RETR of a big (sparse) file the client does not read, so the transfer
/// cannot finish; returns after the 150.
async fn start_big_retr(s: &Server) -> (Client, tokio::net::TcpStream) {
    make_big_file(s, "pub/big.bin");
    let mut c = Client::login(s.addr).await;
    c.cmd("TYPE I", 200).await;
    let data = c.pasv().await;
    c.send("RETR pub/big.bin").await;
    assert_eq!(c.reply().await.code, 150);
    (c, data)
}

#[tokio::test]
async fn abor_interrupts_a_transfer_with_426_then_226() {
    let s = server().await;
    let (mut c, data) = start_big_retr(&s).await;
    // Telnet IP, then Synch (IAC DM), then ABOR, as RFC 959 §4.1.3 describes.
    c.send_raw(b"\xff\xf4\xff\xf2ABOR\r\n").await;
    assert_eq!(c.reply().await.code, 426);
    assert_eq!(c.reply().await.code, 226);
    // The data connection was closed: reading it ends (EOF or reset), within the limit.
    let mut data = data;
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(LIMIT, tokio::io::AsyncReadExt::read_to_end(&mut data, &mut sink))
        .await
        .unwrap();
    assert!(sink.len() < 256 << 20);
    c.cmd("NOOP", 200).await;
    c.cmd("ABOR", 225).await;
}

#[tokio::test]
async fn stat_is_answered_during_a_transfer() {
    let s = server().await;
    let (mut c, _data) = start_big_retr(&s).await;
    c.cmd("STAT", 211).await;
    c.send("ABOR").await;
    assert_eq!(c.reply().await.code, 426);
    assert_eq!(c.reply().await.code, 226);
}

#[tokio::test]
async fn no_data_connection_is_425() {
    let s = server_with(|c| c.data_timeout = Duration::from_millis(300)).await;
    let mut c = Client::login(s.addr).await;
    c.cmd("RETR hello.txt", 425).await;
    // PASV, but the client never connects.
    c.cmd("PASV", 227).await;
    c.cmd("RETR hello.txt", 425).await;
    // PORT to a port nobody listens on.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let SocketAddr::V4(v4) = l.local_addr().unwrap() else {
        unreachable!()
    };
    drop(l);
    c.cmd(&format!("PORT {}", format_port(v4)), 200).await;
    c.cmd("RETR hello.txt", 425).await;
    c.cmd("NOOP", 200).await;
}

#[tokio::test]
async fn path_escapes_and_errors_over_the_wire() {
    let s = server().await;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"secret").unwrap();
    std::os::unix::fs::symlink(outside.path(), s.path("pub/out")).unwrap();
    let mut c = Client::connect(s.addr).await;
    c.cmd("CWD /pub", 530).await;
    c.cmd("USER alice", 331).await;
    c.cmd("PASS secret", 230).await;
    c.cmd("CWD ../../..", 250).await;
    assert_eq!(c.cmd("PWD", 257).await, "\"/\" is the current directory");
    let _d = c.pasv().await;
    c.cmd("RETR ../../../../../etc/passwd", 550).await;
    c.cmd("RETR /pub/out/secret", 550).await;
    c.cmd("CWD /pub/out", 550).await;
    c.cmd("STOR /pub/out/planted", 553).await;
    c.send_raw(b"RETR hello.txt\0/../../etc/passwd\r\n").await;
    assert_eq!(c.reply().await.code, 550);
    c.cmd("RNTO x", 503).await;
    c.cmd("DELE /hello.txt", 550).await;
    assert!(!outside.path().join("planted").exists());
    // The long line gets 500 and the session goes on.
    c.cmd(&"A".repeat(20_000), 500).await;
    c.cmd("NOOP", 200).await;
}

#[tokio::test]
async fn listings_over_data_connections() {
    let s = server().await;
    let mut c = Client::login(s.addr).await;
    let d = c.pasv().await;
    let list = String::from_utf8(c.download("LIST pub", d).await).unwrap();
    assert!(
        list.contains("64k.bin") && list.contains("crlf.txt") && list.ends_with("sub\r\n"),
        "{list}"
    );
    let d = c.epsv().await;
    assert_eq!(c.download("NLST", d).await, b"hello.txt\r\npub\r\nupload\r\n");
    let d = c.pasv().await;
    let mlsd = String::from_utf8(c.download("MLSD pub/sub", d).await).unwrap();
    assert!(mlsd.starts_with("type=file;size=7;modify="), "{mlsd}");
    assert!(mlsd.ends_with("; nested.txt\r\n"), "{mlsd}");
}

#[tokio::test]
async fn auth_tls_with_protected_data_channel() {
    let s = server().await;
    let mut c = Client::connect(s.addr).await;
    c.starttls().await;
    c.cmd("PBSZ 0", 200).await;
    c.cmd("PROT P", 200).await;
    c.cmd("USER alice", 331).await;
    c.cmd("PASS secret", 230).await;
    c.cmd("TYPE I", 200).await;
    let side = tls_client_side();
    // Download over TLS.
    let d = c.pasv().await;
    c.send("RETR hello.txt").await;
    assert_eq!(c.reply().await.code, 150);
    let data = MaybeTls::Plain(d).upgrade(&side).await.unwrap();
    assert_eq!(read_all(data).await, HELLO_TXT);
    assert_eq!(c.reply().await.code, 226);
    // Upload over TLS.
    let bytes = awkward_bytes();
    let d = c.pasv().await;
    c.send("STOR upload/tls.bin").await;
    assert_eq!(c.reply().await.code, 150);
    let mut data = MaybeTls::Plain(d).upgrade(&side).await.unwrap();
    data.write_all(&bytes).await.unwrap();
    data.shutdown().await.unwrap();
    drop(data);
    assert_eq!(c.reply().await.code, 226);
    assert_eq!(std::fs::read(s.path("upload/tls.bin")).unwrap(), bytes);
    // A client that does not speak TLS on the data connection gets 522 after the 150.
    let d = c.pasv().await;
    c.send("RETR hello.txt").await;
    assert_eq!(c.reply().await.code, 150);
    let mut d = d;
    d.write_all(b"not a ClientHello\r\n").await.unwrap();
    assert_eq!(c.reply().await.code, 522);
    c.cmd("QUIT", 221).await;
}

#[tokio::test]
async fn upload_limit_is_552() {
    let s = server_with(|c| c.session.max_upload = 1000).await;
    let mut c = Client::login(s.addr).await;
    c.cmd("TYPE I", 200).await;
    let mut d = c.pasv().await;
    c.send("STOR upload/big").await;
    assert_eq!(c.reply().await.code, 150);
    let _ = d.write_all(&[0u8; 5000]).await;
    assert_eq!(c.reply().await.code, 552);
}

#[tokio::test]
async fn idle_timeout_is_421() {
    let s = server_with(|c| c.idle_timeout = Duration::from_millis(200)).await;
    let mut c = Client::connect(s.addr).await;
    assert_eq!(c.reply().await.code, 421);
}

/// Every reply code in `bytes`, in order (the replies a client read to the end).
fn reply_codes(mut bytes: &[u8]) -> Vec<u16> {
    use wirecheck_ftp::codec::{ReplyLimits, decode_reply};
    let mut codes = Vec::new();
    while let Ok(Some((n, r))) = decode_reply(bytes, &ReplyLimits::default()) {
        codes.push(r.code);
        bytes = bytes.get(n..).unwrap_or_default();
    }
    assert!(bytes.is_empty(), "a partial reply at the end: {:?}", String::from_utf8_lossy(bytes));
    codes
}

/// Send `lines` and our FIN at once, read until the server closes.
async fn pipelined_then_eof(s: &Server, lines: &[u8]) -> Vec<u16> {
    use tokio::io::AsyncReadExt;
    let mut tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    tcp.write_all(lines).await.unwrap();
    tcp.shutdown().await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(LIMIT, tcp.read_to_end(&mut got))
        .await
        .expect("the server closes within the limit")
        .unwrap();
    reply_codes(&got)
}

/// RFC 959 §4.1.3 / §5.4: every complete command received before the client's FIN is
/// answered before the server closes, also when the FIN comes in the same read.
#[tokio::test]
async fn pipelined_commands_before_eof_are_all_answered() {
    let s = server().await;
    for _ in 0..5 {
        let codes = pipelined_then_eof(&s, b"USER x\r\nPASS y\r\nPWD\r\nQUIT\r\n").await;
        assert_eq!(codes, [220, 331, 530, 530, 221]);
        let codes = pipelined_then_eof(&s, b"USER anonymous\r\nPASS a@b\r\nPWD\r\nNOOP\r\nincomplete").await;
        assert_eq!(codes, [220, 331, 230, 257, 200], "no reply for a line without its CRLF");
    }
}

/// A transfer asked for before the FIN still runs (the data connection is another
/// connection) and the commands queued behind it are answered after it.
#[tokio::test]
async fn transfer_and_queued_commands_after_eof() {
    let s = server().await;
    let mut c = Client::login(s.addr).await;
    let text = c.cmd("PASV", 227).await;
    let addr = wirecheck_ftp::codec::parse_pasv(&text).unwrap();
    c.send_raw(b"RETR hello.txt\r\nNOOP\r\n").await;
    c.ctrl.shutdown().await.unwrap();
    let d = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert_eq!(read_all(MaybeTls::Plain(d)).await, b"hello from the ftp peer\r\n");
    assert_eq!(c.reply().await.code, 150);
    assert_eq!(c.reply().await.code, 226);
    assert_eq!(c.reply().await.code, 200);
}

/// RFC 959 §4.1.3 / §5.4: a second ABOR while the first is under way gets its own reply
/// (fuzz finding F11).
#[tokio::test]
async fn repeated_abor_gets_a_reply_each() {
    let s = server().await;
    let (mut c, _d) = start_big_retr(&s).await;
    c.send_raw(b"ABOR\r\nABOR\r\n").await;
    let codes = [c.reply().await.code, c.reply().await.code, c.reply().await.code];
    assert_eq!(codes, [426, 226, 225]);
    c.cmd("NOOP", 200).await;
}

/// RFC 959 §3.4.2 block mode: RETR sends blocks ending in an EOF block; STOR reads blocks,
/// answers each restart marker `110 MARK yyyy = mmmm` (§4.2) and `REST mmmm` resumes there.
#[tokio::test]
async fn mode_b_blocks_and_restart_markers() {
    use wirecheck_ftp::codec::block::{RESTART, encode_block, encode_data, encode_eof};
    let s = server().await;
    let mut c = Client::login(s.addr).await;
    c.cmd("TYPE I", 200).await;
    c.cmd("MODE B", 200).await;
    let d = c.pasv().await;
    let got = c.download("RETR hello.txt", d).await;
    let mut want = Vec::new();
    encode_data(HELLO_TXT, &mut want);
    encode_eof(&mut want);
    assert_eq!(got, want);
    // A listing goes in blocks too (RFC 959 §3.4: the data connection's mode applies to it).
    let d = c.pasv().await;
    let got = c.download("NLST pub", d).await;
    let mut want = Vec::new();
    encode_data(b"pub/64k.bin\r\npub/crlf.txt\r\npub/sub\r\n", &mut want);
    encode_eof(&mut want);
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));

    let bytes = awkward_bytes();
    let (first, rest) = bytes.split_at(70_000);
    let mut wire = Vec::new();
    encode_data(first, &mut wire);
    encode_block(RESTART, b"r1", &mut wire);
    encode_data(&rest[..1000], &mut wire);
    let mut d = c.pasv().await;
    c.send("STOR upload/blocks.bin").await;
    assert_eq!(c.reply().await.code, 150);
    d.write_all(&wire).await.unwrap();
    let mark = c.reply().await;
    assert_eq!((mark.code, mark.text()), (110, "MARK r1 = 70000".to_owned()));
    // The connection breaks before the EOF block: the transfer failed.
    drop(d);
    assert_eq!(c.reply().await.code, 426);
    // Resume at the server's marker with the rest, ended by an EOF block.
    c.cmd("REST 70000", 350).await;
    let mut wire = Vec::new();
    encode_data(rest, &mut wire);
    encode_eof(&mut wire);
    let mut d = c.pasv().await;
    c.send("STOR upload/blocks.bin").await;
    assert_eq!(c.reply().await.code, 150);
    d.write_all(&wire).await.unwrap();
    assert_eq!(c.reply().await.code, 226, "the EOF block ends the upload, the data connection still open");
    drop(d);
    assert_eq!(std::fs::read(s.path("upload/blocks.bin")).unwrap(), bytes);
    c.cmd("MODE S", 200).await;
    let d = c.pasv().await;
    assert_eq!(c.download("RETR upload/blocks.bin", d).await, bytes);
}
