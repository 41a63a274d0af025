#![no_main]
wirecheck_fuzz::fuzz_target!(message_parse);
