//! CID parsing, the consent decision and adjudication on arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| careledger_tests::fuzz::pure(data));
