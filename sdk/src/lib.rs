//! careledger-sdk: a thin typed layer over the careledger program.
//!
//! - [`pda`]: addresses from the program's seed constants.
//! - [`ix`]: one builder per instruction.
//! - [`client::Client`]: sign, send, confirm, fetch and list, over any [`transport::Transport`].
//! - [`events`]: typed audit events decoded from a transaction; [`audit`]: the trail as a FHIR
//!   R4 Bundle (Consent, AuditEvent, ClaimResponse).
//! - [`cid`], [`classes`]: offline helpers (CID strings, file hashes, class names).
//! - [`claims`]: rule keys from plain procedure codes, adjudication previews, explanations of
//!   benefit; [`rewards`]: what a participation is owed and a patient's rewards summary;
//!   [`tokens`]: SPL Token mints and accounts; [`privacy`]: per-study patient keys.
//! - The program's own pure logic is re-exported: the consent decision you call here is the
//!   one the program runs.
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
pub mod audit;
pub mod batch;
pub mod car;
pub mod cid;
pub mod claims;
pub mod classes;
pub mod client;
pub mod did;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod envelope;
pub mod epcis;
pub mod error;
pub mod events;
pub mod gs1;
pub mod ix;
pub mod pda;
pub mod privacy;
pub mod release;
pub mod rewards;
#[cfg(feature = "rpc")]
pub mod rpc;
pub mod sealing;
pub mod setup;
pub mod siws;
pub mod statement;
pub mod summary;
pub mod supply;
pub mod tokens;
pub mod transport;
pub mod trials;
pub mod unixfs;
pub mod vc;

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
pub use transport::{Transport, TxOutcome};
