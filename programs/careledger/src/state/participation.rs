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
    /// That grant's `serial`: a grant later made again at the same address is another consent.
    pub grant_serial: u32,
    pub enrolled_at: i64,
    pub periods_paid: u16,
    /// True once consent was found to have lapsed (or every period is paid): nothing more
    /// accrues, but periods that came due before `accrual_end` stay claimable.
    pub ended: bool,
    pub bump: u8,
    /// Everything paid to this participant, enrolment reward included.
    pub paid: u64,
    /// When accrual stopped (the consent's lapse, or the last period paid); 0 while it runs.
    pub accrual_end: i64,
}

impl Participation {
    pub fn invariant(&self, periods: u16) -> Result<()> {
        require!(
            self.periods_paid <= periods && (self.ended || self.accrual_end == 0),
            CareledgerError::InvariantViolated
        );
        Ok(())
    }
}
