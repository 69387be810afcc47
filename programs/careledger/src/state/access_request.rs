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

/// The account's address seeds, written once: the program creates and signs with them (passing
/// `&[bump]` last), and the SDK derives the address with them (passing `&[]`, which adds nothing
/// to the hash, so `find_program_address` appends the bump itself). The `seeds = [...]`
/// constraints stay literal because the IDL (and Anchor's TypeScript client) reads them; every
/// transaction the tests send checks those constraints against addresses from these functions.
impl AccessRequest {
    pub fn seeds<'a>(patient: &'a Pubkey, requester: &'a Pubkey, bump: &'a [u8]) -> [&'a [u8]; 4] {
        [
            crate::constants::REQUEST_SEED,
            patient.as_ref(),
            requester.as_ref(),
            bump,
        ]
    }
}
