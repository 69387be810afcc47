use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

/// A pack's status under EU FMD (Delegated Regulation 2016/161): authentic only while active.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum PackState {
    Active,
    /// Dispensed to the public (decommissioned at the pharmacy).
    Supplied,
    Exported,
    CheckedOut,
    Stolen,
    Sample,
    FreeSample,
    Locked,
    Destroyed,
}

impl PackState {
    pub const ALL: [PackState; 9] = [
        PackState::Active,
        PackState::Supplied,
        PackState::Exported,
        PackState::CheckedOut,
        PackState::Stolen,
        PackState::Sample,
        PackState::FreeSample,
        PackState::Locked,
        PackState::Destroyed,
    ];

    /// Stolen and destroyed packs never come back (art. 13(2)).
    pub fn is_final(self) -> bool {
        matches!(self, PackState::Stolen | PackState::Destroyed)
    }
}

/// Who decommissioned a pack, how and when: what the 10-day same-premises undo needs. PDA
/// `[PACK_SEED, batch, index_u32_le]`, created when the pack leaves `Active` and paid by that
/// actor; closed (rent back to the actor) by an undo, or by `pack_settle` once a supplied pack's
/// undo window has passed, when the batch's status bit alone says "supplied".
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct PackRecord {
    pub batch: Pubkey,
    pub index: u32,
    pub state: PackState,
    /// The wallet of the premises that decommissioned it; it paid the rent and gets it back.
    pub actor: Pubkey,
    pub decommissioned_at: i64,
    /// Later attempts to decommission this pack again (a clone of its serial in circulation).
    pub suspect_reports: u16,
    pub bump: u8,
}

impl PackRecord {
    pub fn seeds<'a>(batch: &'a Pubkey, index: &'a [u8; 4], bump: &'a [u8]) -> [&'a [u8]; 4] {
        [crate::constants::PACK_SEED, batch.as_ref(), index, bump]
    }

    pub fn invariant(&self) -> Result<()> {
        require!(
            self.state != PackState::Active && self.actor != Pubkey::default(),
            CareledgerError::InvariantViolated
        );
        Ok(())
    }
}
