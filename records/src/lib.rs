//! careledger-records: a record's bytes off chain, and the gateway that keeps them.
//!
//! - [`envelope`]: the ciphertext format (XChaCha20-Poly1305 STREAM, bound to the record's
//!   identity) and data keys wrapped with HPKE.
//! - [`sealing`]: encrypt a file and compute its SHA-256 and CID in one pass; [`open`]: the
//!   inverse as a stream, and the one check that a ciphertext matches its anchor.
//! - [`unixfs`], [`car`]: the CID a file gets in IPFS, and CAR files of its blocks;
//!   [`trustless`]: those blocks served to, and read from, IPFS trustless gateways.
//! - [`protocol`]: the gateway's wire protocol (routes, headers, signed requests, problem
//!   types), shared by the server and [`client`].
//! - [`release`]: what a gateway decides from the ledger before it stores or releases a record
//!   (this module reads the chain through [`careledger_sdk::LedgerView`]).
//! - [`client`] (feature `client`): the gateway's HTTP client.
//! - [`publish`] (feature `client`): a record's ciphertext CAR handed to an IPFS node (Kubo's
//!   RPC, or the IPFS Pinning Service API).
//!
//! ```
//! use careledger_records::envelope::{self, DataKey, RecordIdentity};
//! use careledger_records::open::{Expected, Opener};
//! use careledger_records::sealing::seal;
//! use careledger_records::unixfs::Profile;
//! use solana_pubkey::Pubkey;
//!
//! let identity = RecordIdentity::new(Pubkey::new_unique(), 0, 1, 2);
//! let key = DataKey::generate();
//! let mut ciphertext = Vec::new();
//! let sealed = seal(&identity, &key, Profile::UnixfsV1_2025, &b"blood panel"[..], |piece| {
//!     ciphertext.extend_from_slice(piece);
//!     Ok(())
//! })
//! .unwrap();
//! let expected = Expected {
//!     identity,
//!     sha256: sealed.sha256,
//!     cid: sealed.cid,
//!     profile: Profile::UnixfsV1_2025,
//! };
//! let mut opener = Opener::new(&expected, &key);
//! let mut plaintext = Vec::new();
//! opener.update(&ciphertext, |p| Ok(plaintext.extend_from_slice(p))).unwrap();
//! opener.finish(|p| Ok(plaintext.extend_from_slice(p))).unwrap();
//! assert_eq!(plaintext, b"blood panel");
//! ```
pub mod car;
#[cfg(feature = "client")]
pub mod client;
pub mod envelope;
pub mod error;
pub mod open;
pub mod protocol;
#[cfg(feature = "client")]
pub mod publish;
pub mod release;
pub mod sealing;
pub mod trustless;
pub mod unixfs;

pub use error::RecordsError;
