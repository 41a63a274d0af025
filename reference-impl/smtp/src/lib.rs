//! SMTP (RFC 5321 and extensions) for wirecheck: the oracle's codec, sans-IO server and
//! client sessions, and (feature `server`) the thin tokio server.
//!
//! Layers, bottom up, each usable without the one above:
//! * [`codec`]: bytes <-> [`codec::Reply`] / [`codec::Command`], paths, mailboxes and ESMTP
//!   parameters; total (never panics), bounded by explicit limits. The harness frames SMTP
//!   replies with [`codec::decode_reply`].
//! * [`server::ServerSession`]: the RFC 5321 state machine with PIPELINING, SIZE, 8BITMIME,
//!   ENHANCEDSTATUSCODES, STARTTLS, AUTH PLAIN/LOGIN, SMTPUTF8, CHUNKING/BINARYMIME and DSN.
//!   It implements [`wirecheck_wire::Session`]; policy, storage and the clock are behind
//!   [`server::MailSink`] (the MTA implements it; [`server::MemorySink`] is for tests).
//! * [`client::ClientSession`]: the relay side, also a `Session`, with per-recipient
//!   outcomes.
//! * `server::serve` (feature `server`): accept loop + `wirecheck_wire::driver::drive`.
//!
//! Codec and sessions build with `--no-default-features` (no tokio, no rustls) for fuzzing.
//!
//! ```
//! use std::sync::Arc;
//! use wirecheck_smtp::server::{MemorySink, ServerConfig, ServerSession};
//! use wirecheck_wire::{Output, Session};
//!
//! let mut s = ServerSession::new(Arc::new(ServerConfig::default()), MemorySink::new("example.org"), None);
//! s.handle_input(b"EHLO client.example\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<b@example.org>\r\n\
//!                  DATA\r\nSubject: hi\r\n\r\nbody\n.\nnot the end\r\n.\r\nQUIT\r\n");
//! let mut wire = Vec::new();
//! while let Some(o) = s.poll_output() {
//!     if let Output::Send(b) = o { wire.extend(b) }
//! }
//! // The bare-LF "end" was content; the message is refused (RFC 5321 §2.3.8), not split.
//! assert!(String::from_utf8_lossy(&wire).contains("554 5.5.2"));
//! assert!(s.sink().delivered.is_empty());
//! ```
#![forbid(unsafe_code)]

pub mod client;
pub mod codec;
pub mod server;

#[cfg(test)]
mod robustness {
    //! Random bytes into every entry point, split at random places: no panic, bounded output.

    use std::sync::Arc;

    use crate::codec::{ReplyLimits, decode_command, decode_reply};
    use crate::server::{MemorySink, ServerConfig, ServerSession};
    use wirecheck_wire::Session;

    /// xorshift64*: deterministic, no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Fragments that steer random input into interesting states.
    const WORDS: &[&[u8]] = &[
        b"EHLO a.test\r\n",
        b"HELO a\r\n",
        b"MAIL FROM:<a@b.test>",
        b" SIZE=10",
        b" BODY=BINARYMIME",
        b"RCPT TO:<x@example.org>",
        b" NOTIFY=NEVER",
        b"DATA\r\n",
        b"BDAT 5",
        b"BDAT 0 LAST\r\n",
        b" LAST",
        b"\r\n",
        b"\n",
        b"\r",
        b".",
        b"\r\n.\r\n",
        b"AUTH PLAIN",
        b"AUTH LOGIN\r\n",
        b"*\r\n",
        b"STARTTLS\r\n",
        b"RSET\r\n",
        b"QUIT\r\n",
        b"\x00",
        b"\xff",
        b"<",
        b">",
        b"\"",
        b"@",
        b"250-",
        b"250 ",
        b"354 ",
        b"421 ",
    ];

    fn random_input(rng: &mut Rng) -> Vec<u8> {
        let mut v = Vec::new();
        for _ in 0..rng.below(40) {
            if rng.below(4) == 0 {
                v.extend((0..rng.below(20)).map(|_| rng.next() as u8));
            } else {
                v.extend_from_slice(WORDS[rng.below(WORDS.len())]);
            }
        }
        v
    }

    #[test]
    fn random_input_never_panics() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let cfg = Arc::new(ServerConfig {
            auth: true,
            auth_requires_tls: false,
            starttls: true,
            ..ServerConfig::default()
        });
        for _ in 0..3000 {
            let input = random_input(&mut rng);
            let _ = decode_reply(
                &input,
                &ReplyLimits {
                    max_line: 64,
                    max_lines: 4,
                },
            );
            let _ = decode_command(&input);
            let mut s = ServerSession::new(cfg.clone(), MemorySink::new("example.org"), None);
            let mut rest = &input[..];
            let mut out = 0usize;
            while !rest.is_empty() {
                let n = 1 + rng.below(rest.len());
                s.handle_input(&rest[..n]);
                rest = &rest[n..];
                while let Some(o) = s.poll_output() {
                    if let wirecheck_wire::Output::Send(b) = o {
                        out += b.len();
                    }
                }
            }
            assert!(
                out < 64 * 1024 + input.len() * 200,
                "output stays proportional to input"
            );
            let mut c = crate::client::ClientSession::new(
                crate::client::ClientConfig::new(crate::codec::Domain::parse("c.test").unwrap()),
                vec![],
            );
            c.handle_input(&input);
            while c.poll_output().is_some() {}
        }
    }
}
