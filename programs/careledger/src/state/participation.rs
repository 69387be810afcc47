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
    /// Periods settled, counted from enrolment: paid, or forfeited (`periods_forfeited` of
    /// them) because they came due while the participant had not consented to a material
    /// amendment of the protocol. The next claim pays from here.
    pub periods_paid: u16,
    /// True once consent was found to have lapsed (or every period is paid): nothing more
    /// accrues, but periods that came due before `accrual_end` stay claimable.
    pub ended: bool,
    pub bump: u8,
    /// Everything paid to this participant, enrolment reward included.
    pub paid: u64,
    /// When accrual stopped (the consent's lapse, or the last period paid); 0 while it runs.
    pub accrual_end: i64,
    /// The protocol version the participant consented to (at enrolment, then by re-consent):
    /// older than the protocol's `material_version`, nothing accrues from that version's
    /// registration until they consent again. 0: enrolled before protocols were registered.
    pub protocol_version: u16,
    /// Periods settled without payment at a re-consent (see `periods_paid`).
    pub periods_forfeited: u16,
}

impl Participation {
    pub fn invariant(&self, periods: u16) -> Result<()> {
        require!(
            self.periods_paid <= periods
                && self.periods_forfeited <= self.periods_paid
                && (self.ended || self.accrual_end == 0),
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
impl Participation {
    pub fn seeds<'a>(study: &'a Pubkey, patient: &'a Pubkey, bump: &'a [u8]) -> [&'a [u8]; 4] {
        [
            crate::constants::PARTICIPATION_SEED,
            study.as_ref(),
            patient.as_ref(),
            bump,
        ]
    }
}
