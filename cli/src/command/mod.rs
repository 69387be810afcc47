//! One file per command group, each with its `Subcommand` and its `execute`.
pub mod ledger;
