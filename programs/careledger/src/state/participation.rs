use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

/// A patient's enrolment in a study. PDA `[PARTICIPATION_SEED, study, patient_wallet]`: a patient
/// enrols once.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Participation {
    pub study: Pubkey,
    pub patient: Pubkey,
    /// The research grant to the sponsor that gates every payout.
    pub grant: Pubkey,
    pub enrolled_at: i64,
    pub periods_paid: u16,
    /// True once consent was found withdrawn (or every period paid): nothing more is owed.
    pub ended: bool,
    pub bump: u8,
    /// Everything paid to this participant, enrolment reward included.
    pub paid: u64,
}

impl Participation {
    pub fn invariant(&self, periods: u16) -> Result<()> {
        require!(
            self.periods_paid <= periods,
            CareledgerError::InvariantViolated
        );
        Ok(())
    }
}
