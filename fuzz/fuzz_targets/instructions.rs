//! Arbitrary instruction sequences on a fresh embedded bank, invariants checked around each.
#![no_main]
use std::sync::OnceLock;

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let runtime = RUNTIME.get_or_init(|| tokio::runtime::Runtime::new().unwrap());
    runtime.block_on(careledger_tests::fuzz::instructions(data));
});
