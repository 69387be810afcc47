//! careledger's HTTP services, one library the `careledger` binary only assembles (its `serve`
//! parses flags and calls [`Server`]):
//! - [`gateway`]: the record gateway a record's custodian runs (uploads, signed probes,
//!   releases against an on-chain access event, the IPFS trustless gateway, replicas);
//! - [`actions`]: the Solana Actions a patient's wallet signs decisions with;
//! - [`fhir`]: a read-only HL7 FHIR R4 REST API over the ledger, and `Consent/$evaluate`;
//! - [`problem`]: the one `application/problem+json` answer every refusal is;
//! - [`server`]: one builder that puts services on one router, with the same limits,
//!   timeouts and refusals on every route, and serves it ([`connections`]).
pub mod actions;
pub mod common;
pub mod connections;
pub mod fhir;
pub mod gateway;
pub mod problem;
pub mod server;

pub use server::Server;
