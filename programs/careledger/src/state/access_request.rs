use crate::errors::CareledgerError;
use crate::state::Purpose;
use anchor_lang::prelude::*;

/// A provider's pending request for a patient's consent. PDA `[REQUEST_SEED, patient_wallet,
/// provider_wallet]`; closed (rent back to the requester) when the patient approves or denies.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct AccessRequest {
    pub patient: Pubkey,
    pub requester: Pubkey,
    pub classes: u16,
    pub actions: u8,
    pub purpose: Purpose,
    /// Opaque reason code (why the provider needs the records).
    pub reason_code: u16,
    /// How long the requested grant would run, in seconds from approval.
    pub duration_secs: u32,
    pub created_at: i64,
    pub bump: u8,
}

impl AccessRequest {
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.classes != 0 && self.actions != 0 && self.reason_code != 0,
            CareledgerError::InvariantViolated
        );
        Ok(())
    }
}
