//! The parts of the careledger CLI other programs use too: the record gateway (`serve`), the
//! Solana Actions, and the files `patient put` seals. The gateway's protocol and client are
//! `careledger_records`; the ledger folder is `careledger_sdk::embedded::folder`.
pub mod actions;
pub mod common;
pub mod gateway;
pub mod record_files;
