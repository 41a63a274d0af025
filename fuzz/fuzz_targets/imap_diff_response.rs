#![no_main]
wirecheck_fuzz::fuzz_target!(imap_diff_response);
