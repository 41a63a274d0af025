#![no_main]
wirecheck_fuzz::fuzz_target!(smtp_session);
