//! careledger-sdk: a thin typed layer over the careledger program, the Solana client.
//!
//! - [`pda`]: addresses from the program's seed constants.
//! - [`ix`]: one builder per instruction; [`batch`]: packing instructions into as few
//!   transactions as fit; [`setup`]: post-deploy setup (the Config).
//! - [`client::Client`]: sign, send, confirm, fetch and list, over any [`transport::Transport`]:
//!   `rpc` (feature `rpc`) or `embedded` (feature `embedded`: an in-process Agave bank, and
//!   `embedded::folder`, the ledger folder's reader and writer, beside it).
//! - [`LedgerView`] (in [`transport`]): the one read-only view of the ledger the services read
//!   through; every transport is one, and so is a ledger folder's committed generation.
//! - [`accounts`]: decoding and listing filters; [`events`]: typed audit events decoded from a
//!   transaction; [`summary`]: how events and quantities read to people; [`audit`]: the trail
//!   as a FHIR R4 Bundle (Consent, AuditEvent, ClaimResponse); [`error`]: [`SdkError`].
//! - [`cid`], [`classes`]: offline helpers (CID strings, file hashes, class and role names).
//! - [`statement`]: the consent statement a patient signs; [`claims`]: rule keys from plain
//!   procedure codes, adjudication previews, explanations of benefit; [`rewards`]: what a
//!   participation is owed and a patient's rewards summary; [`tokens`]: SPL Token mints and
//!   accounts; [`trials`]: registry identifiers, outcome sets, re-consent and `ResearchStudy`.
//! - The program's own pure logic is re-exported: the consent decision you call here is the
//!   one the program runs.
//!
//! What is not the client lives in crates by job, beside this one, each with its own error
//! type: `careledger-records` (envelope, sealing and opening, UnixFS, CAR, the record gateway's
//! protocol, release decisions and client), `careledger-identity` (SIWS, did:sol, verifiable
//! credentials, study keys; re-exported here as `careledger_sdk::identity` with the `identity`
//! feature) and `careledger-supply` (GS1, EPCIS, manifests and `verify`).
//!
//! The Solana types of its public API are re-exported ([`Pubkey`], [`Keypair`], [`Signer`],
//! [`CommitmentConfig`], [`Instruction`], [`Signature`], [`Account`], and their crates as
//! [`pubkey`], [`keypair`], [`signer`], [`commitment_config`]), so a backend needs no
//! `solana-*` dependency of its own and never has two versions of `Pubkey`.
//!
//! ```
//! use careledger_sdk::{classes::RecordClass, pda, program::state::Purpose, Pubkey};
//!
//! let patient = Pubkey::new_unique();
//! let clinic = Pubkey::new_unique();
//! let (grant, _bump) = pda::grant(&patient, &clinic, Purpose::Treatment);
//! assert_ne!(grant, pda::grant(&patient, &clinic, Purpose::Research).0);
//! assert_eq!(RecordClass::LabResult.bit(), 1);
//! ```
pub mod accounts;
#[cfg(all(feature = "rpc", feature = "embedded"))]
pub mod any_transport;
pub mod audit;
pub mod batch;
pub mod cid;
pub mod claims;
pub mod classes;
pub mod client;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod error;
pub mod events;
pub mod ix;
pub mod pda;
pub mod rewards;
#[cfg(feature = "rpc")]
pub mod rpc;
pub mod setup;
pub mod statement;
pub mod summary;
pub mod tokens;
pub mod transport;
pub mod trials;

#[cfg(all(feature = "rpc", feature = "embedded"))]
pub use any_transport::AnyTransport;
pub use careledger as program;
pub use careledger::constants::*;
pub use careledger::errors::CareledgerError;
pub use careledger::instructions::*;
pub use careledger::logic::claims::{adjudicate, Breakdown};
pub use careledger::logic::consent::{
    action, decide_access, grant_standing, AccessQuery, GrantStanding, Refusal,
};
pub use careledger::state::{
    AcceptedMint, AccessRequest, Claim, ClaimState, Config, ConsentGrant, CoverageRule,
    EmergencyMarker, EncryptionKey, GrantStatus, Invitation, NetworkMembership, Participation,
    Patient, Policy, PolicyStatus, Provider, ProviderStatus, Purpose, RecordAnchor, RecordStatus,
    ReviewState, RewardTerms, RuleTerms, Study, StudyStatus, ROLES_ALL, ROLE_CLINICIAN,
    ROLE_EMERGENCY, ROLE_HOSPITAL, ROLE_INSURER, ROLE_LAB, ROLE_RESEARCHER,
};
pub use client::{Client, DynSigner, ListedGrant};
pub use error::SdkError;
pub use events::CareledgerEvent;
pub use solana_account::{self as account, Account};
pub use solana_commitment_config::{self as commitment_config, CommitmentConfig};
pub use solana_instruction::{self as instruction, Instruction};
pub use solana_keypair::{self as keypair, Keypair};
pub use solana_pubkey::{self as pubkey, Pubkey};
pub use solana_signature::Signature;
pub use solana_signer::{self as signer, Signer};
pub use transport::{History, HistoryEntry, LedgerArchive, LedgerView, Transport, TxOutcome};

/// SIWS, did:sol and verifiable credentials (the `careledger-identity` crate).
#[cfg(feature = "identity")]
pub use careledger_identity as identity;
