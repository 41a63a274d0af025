#![no_main]
wirecheck_fuzz::fuzz_target!(imap_session_bytes);
