#![no_main]
wirecheck_fuzz::fuzz_target!(imap_decode_response);
