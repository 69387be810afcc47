use crate::constants::{MAX_BATCH_DEPTH, MAX_LOT_LEN};
use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum BatchStatus {
    Active,
    /// Recalled by the manufacturer: final, every pack fails verification.
    Recalled,
    /// Withdrawn from the market: final, like a recall.
    Withdrawn,
}

/// A commissioned batch (one product, one lot): the commitment to its packs and their status.
/// PDA `[BATCH_SEED, gtin_hash, lot]`. No serial is on chain: the batch holds the Merkle root of
/// the packs' salted leaves (`logic::supply::leaf_hash`), and its `status_map` account one bit per
/// pack (0 active, 1 decommissioned).
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The manufacturer's wallet.
    pub manufacturer: Pubkey,
    pub gtin_hash: [u8; 32],
    /// The lot (AI 10), `lot_len` bytes of GS1 set 82, zero-padded.
    pub lot: [u8; 20],
    pub lot_len: u8,
    /// The first second at which the packs are expired (the end of the expiry day, UTC).
    pub expires_at: i64,
    pub merkle_root: [u8; 32],
    /// Levels of the pack tree: a proof is `depth` hashes.
    pub depth: u8,
    /// Pack slots committed (the real count, or more if the manufacturer pads it to hide the
    /// batch size); indices `0..capacity`.
    pub capacity: u32,
    /// The account holding the status bits.
    pub status_map: Pubkey,
    pub status: BatchStatus,
    pub commissioned_at: i64,
    /// When it was recalled or withdrawn (0 while active), and the manufacturer's reason code.
    pub recalled_at: i64,
    pub recall_reason: u16,
    /// Packs whose status bit is set (not active).
    pub decommissioned: u32,
    /// Attempts to decommission a pack that was no longer active (cloned serials).
    pub suspect_reports: u32,
    pub bump: u8,
    pub reserved: [u8; 16],
}

impl Batch {
    pub fn seeds<'a>(gtin_hash: &'a [u8; 32], lot: &'a [u8], bump: &'a [u8]) -> [&'a [u8]; 4] {
        [crate::constants::BATCH_SEED, gtin_hash.as_ref(), lot, bump]
    }

    pub fn lot_bytes(&self) -> &[u8] {
        let len = usize::from(self.lot_len).min(self.lot.len());
        &self.lot[..len]
    }

    pub fn invariant(&self) -> Result<()> {
        let shape = (1..=MAX_BATCH_DEPTH).contains(&self.depth)
            && self.capacity >= 1
            && u64::from(self.capacity) <= 1u64 << self.depth;
        let recall_consistent = (self.status == BatchStatus::Active) == (self.recalled_at == 0);
        require!(
            shape
                && recall_consistent
                && (1..=MAX_LOT_LEN).contains(&self.lot_len)
                && self.decommissioned <= self.capacity
                && self.merkle_root != [0; 32],
            CareledgerError::InvariantViolated
        );
        Ok(())
    }
}
