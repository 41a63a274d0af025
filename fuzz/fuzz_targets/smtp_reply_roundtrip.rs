#![no_main]
wirecheck_fuzz::fuzz_target!(smtp_reply_roundtrip);
