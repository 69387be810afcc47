//! The integration suites, one module each (see `suite.rs`).
mod actions;
mod attacks;
mod audit_export;
mod batching;
mod claims;
mod consent;
mod creation;
mod demo;
mod encryption_keys;
mod findings;
mod fuzz_corpus;
mod idl_fixture;
mod registry_records;
mod rejections;
mod rewards;
mod state_machine;
mod statements;
