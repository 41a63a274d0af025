#![no_main]
wirecheck_fuzz::fuzz_target!(ftp_decode_block);
