#![no_main]
wirecheck_fuzz::fuzz_target!(pop3_session_bytes);
