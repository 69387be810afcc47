//! The parts of the careledger CLI other programs use too: the record gateway (`serve`), its
//! client (what `patient put` and `provider get` do over HTTP), and the embedded ledger folder.
pub mod actions;
pub mod common;
pub mod gateway;
pub mod gateway_client;
pub mod ledger;
