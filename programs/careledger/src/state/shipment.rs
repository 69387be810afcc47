use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

/// A shipment between two supply-chain parties, anchored by the SHA-256 of the sender's EPCIS
/// document (its shipping events); the receiver acknowledges it with the hash of its own
/// receiving events. PDA `[SHIPMENT_SEED, sender_wallet, epcis_hash]`.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Shipment {
    pub sender: Pubkey,
    pub receiver: Pubkey,
    pub batch: Pubkey,
    pub epcis_hash: [u8; 32],
    /// Packs shipped.
    pub quantity: u32,
    pub shipped_at: i64,
    /// 0 until the receiver acknowledges.
    pub received_at: i64,
    pub receipt_hash: [u8; 32],
    pub bump: u8,
}

impl Shipment {
    pub fn seeds<'a>(
        sender: &'a Pubkey,
        epcis_hash: &'a [u8; 32],
        bump: &'a [u8],
    ) -> [&'a [u8]; 4] {
        [
            crate::constants::SHIPMENT_SEED,
            sender.as_ref(),
            epcis_hash.as_ref(),
            bump,
        ]
    }

    pub fn invariant(&self) -> Result<()> {
        require!(
            self.sender != self.receiver
                && self.quantity > 0
                && self.epcis_hash != [0; 32]
                && (self.received_at == 0) == (self.receipt_hash == [0; 32]),
            CareledgerError::InvariantViolated
        );
        Ok(())
    }
}
