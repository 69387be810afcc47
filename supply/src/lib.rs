//! careledger-supply: the drug supply chain off chain.
//!
//! - [`gs1`]: GS1 identifiers (GTIN, dates, element strings and Digital Link URIs of a pack).
//! - [`epcis`]: a batch's history as an EPCIS 2.0 document with CBV 2.0 event hashes.
//! - [`manifest`]: a manufacturer's pack manifest and tree, the proofs a dispenser sends, and
//!   `verify`, which reads the batch from the chain and answers as the DSCSA Verification Router
//!   Service does.
pub mod epcis;
pub mod error;
pub mod gs1;
pub mod manifest;

pub use error::SupplyError;
