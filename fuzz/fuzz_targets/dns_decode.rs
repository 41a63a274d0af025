#![no_main]
wirecheck_fuzz::fuzz_target!(dns_decode);
