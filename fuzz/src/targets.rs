//! Every fuzz target, one line each. A `bytes` target takes the fuzzer's bytes as they are; a
//! `structured` one builds an [`arbitrary::Arbitrary`] value from them first.
//!
//! `fuzz_targets/<name>.rs` holds `wirecheck_fuzz::fuzz_target!(<name>);` for each entry, and
//! `Cargo.toml` a `[[bin]]` for it (a unit test checks all three lists agree).

use crate::{dns, ftp, imap, message, pop3, smtp};

macro_rules! targets {
    ($($name:ident: $kind:ident $check:path;)*) => {
        $(
            #[doc = concat!("The `", stringify!($name), "` fuzz target (`", stringify!($check), "`).")]
            pub fn $name(data: &[u8]) {
                targets!(@run $kind $check, data)
            }
        )*
        /// Every target by name, for `cargo test` and the seed writer.
        pub const ALL: &[(&str, fn(&[u8]))] = &[$((stringify!($name), $name as fn(&[u8])),)*];
    };
    (@run bytes $check:path, $data:ident) => { $check($data) };
    (@run structured $check:path, $data:ident) => { $crate::structured($data, $check) };
}

targets! {
    // SMTP (RFC 5321)
    smtp_decode_reply: bytes smtp::decode_reply_target;
    smtp_decode_command: bytes smtp::decode_command_target;
    smtp_reply_roundtrip: structured smtp::reply_round_trip;
    smtp_command_roundtrip: structured smtp::command_round_trip;
    smtp_session: structured smtp::session;
    smtp_session_bytes: bytes smtp::session_bytes;
    // POP3 (RFC 1939)
    pop3_decode_command: bytes pop3::decode_command_target;
    pop3_decode_response: bytes pop3::decode_response_target;
    pop3_command_roundtrip: structured pop3::command_round_trip;
    pop3_body_roundtrip: structured pop3::body_round_trip;
    pop3_session: structured pop3::session;
    pop3_session_bytes: bytes pop3::session_bytes;
    // IMAP (RFC 9051)
    imap_decode_command: bytes imap::decode_command_target;
    imap_decode_response: bytes imap::decode_response_target;
    imap_session: structured imap::session;
    imap_session_bytes: bytes imap::session_bytes;
    imap_diff_command: bytes imap::diff_command;
    imap_diff_response: bytes imap::diff_response;
    // FTP (RFC 959)
    ftp_decode_reply: bytes ftp::decode_reply_target;
    ftp_decode_command: bytes ftp::decode_command_target;
    ftp_roundtrip: structured ftp::round_trip;
    ftp_session: structured ftp::session;
    ftp_session_bytes: bytes ftp::session_bytes;
    ftp_decode_block: bytes ftp::decode_block_target;
    // DNS (RFC 1035)
    dns_decode: bytes dns::decode_target;
    dns_message_roundtrip: structured dns::message_round_trip;
    dns_presentation: bytes dns::presentation_target;
    dns_zone: bytes dns::zone_target;
    dns_auth: bytes dns::auth_target;
    dns_diff_hickory: bytes dns::diff_hickory;
    // Messages (RFC 5322, MIME, RFC 2047, RFC 4648)
    message_parse: bytes message::parse_target;
    message_base64: bytes message::base64_target;
    message_qp: bytes message::qp_target;
    message_encoded_word: bytes message::encoded_word_target;
    message_address: bytes message::address_target;
    message_datetime: structured message::datetime_target;
    message_diff_mailparser: bytes message::diff_mail_parser;
    message_diff_base64: bytes message::base64_diff;
}

#[cfg(test)]
mod tests {
    //! Every seed and regression input through its target, without libFuzzer; and the three
    //! lists of targets (here, `fuzz_targets/`, `Cargo.toml`) agree.

    use std::path::Path;

    const ROOT: &str = env!("CARGO_MANIFEST_DIR");

    #[test]
    fn every_target_has_a_file_and_a_bin() {
        let manifest = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).expect("Cargo.toml");
        for (name, _) in super::ALL {
            let file = Path::new(ROOT).join("fuzz_targets").join(format!("{name}.rs"));
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(
                text.contains(&format!("fuzz_target!({name})")),
                "{} names another target",
                file.display()
            );
            assert!(
                manifest.contains(&format!("name = \"{name}\"")),
                "no [[bin]] for {name}"
            );
        }
        let files = std::fs::read_dir(Path::new(ROOT).join("fuzz_targets"))
            .expect("fuzz_targets")
            .count();
        assert_eq!(
            files,
            super::ALL.len(),
            "a file in fuzz_targets/ is not in the target list"
        );
    }

    #[test]
    fn seeds_and_regressions_pass() {
        let mut ran = 0;
        let mut failed = Vec::new();
        std::panic::set_hook(Box::new(|_| {}));
        for dir in ["seeds", "regressions"] {
            for (name, run) in super::ALL {
                let Ok(entries) = std::fs::read_dir(Path::new(ROOT).join(dir).join(name)) else {
                    continue;
                };
                for e in entries.flatten() {
                    let data = std::fs::read(e.path()).expect("read input");
                    if let Err(p) = std::panic::catch_unwind(|| run(&data)) {
                        let msg = p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        failed.push(format!(
                            "{}: {}",
                            e.path().display(),
                            msg.chars().take(400).collect::<String>()
                        ));
                    }
                    ran += 1;
                }
            }
        }
        let _ = std::panic::take_hook();
        assert!(ran > 0, "no seeds found");
        assert!(
            failed.is_empty(),
            "{} of {ran} inputs fail:\n{}",
            failed.len(),
            failed.join("\n")
        );
    }
}
