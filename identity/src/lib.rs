//! careledger-identity: who someone is, off chain. Nothing here reads the ledger.
//!
//! - [`siws`]: Sign-In With Solana messages, written, parsed strictly and verified.
//! - [`did`]: wallets as did:sol DIDs and their DID documents.
//! - [`vc`]: provider credentials as W3C Verifiable Credentials (`eddsa-jcs-2022`), checked
//!   against a provider account the caller read.
//! - [`privacy`]: per-study patient keys only their wallet can link to it.
//!
//! ```
//! use careledger_identity::did::did_of;
//! use solana_pubkey::Pubkey;
//!
//! let wallet = Pubkey::new_unique();
//! assert_eq!(did_of(&wallet), format!("did:sol:{wallet}"));
//! ```
pub mod did;
pub mod error;
pub mod privacy;
pub mod siws;
pub mod vc;

pub use error::IdentityError;
