use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

/// A product (GTIN) and the one manufacturer that may commission batches of it. The credential
/// authority registers it, as GS1 licenses a company prefix to one company: without it any
/// verified manufacturer could commission packs under a rival's GTIN and they would verify.
/// PDA `[PRODUCT_SEED, gtin_hash]`.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Product {
    /// `logic::supply::gtin_hash` of the GTIN-14.
    pub gtin_hash: [u8; 32],
    /// The manufacturer's wallet (its `Provider` has the manufacturer role).
    pub manufacturer: Pubkey,
    /// The credential authority that registered it.
    pub registered_by: Pubkey,
    pub registered_at: i64,
    pub bump: u8,
    pub reserved: [u8; 8],
}

impl Product {
    pub fn seeds<'a>(gtin_hash: &'a [u8; 32], bump: &'a [u8]) -> [&'a [u8]; 3] {
        [crate::constants::PRODUCT_SEED, gtin_hash.as_ref(), bump]
    }

    pub fn invariant(&self) -> Result<()> {
        require!(
            self.gtin_hash != [0; 32] && self.manufacturer != Pubkey::default(),
            CareledgerError::InvariantViolated
        );
        Ok(())
    }
}
