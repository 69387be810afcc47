//! The parts of the careledger CLI other programs use too: the files `patient put` seals. The
//! services `careledger serve` runs are `careledger_server`; the gateway's protocol and client
//! are `careledger_records`; the ledger folder is `careledger_sdk::embedded::folder`.
pub mod record_files;
