use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum StudyStatus {
    /// Enrolling within the window.
    Open,
    /// The sponsor closed enrolment; enrolled participants still earn.
    EnrolmentClosed,
    /// Final: nothing outstanding; the vault was swept back to the sponsor.
    Closed,
}

/// What a study pays, the same struct as argument, stored terms and event payload.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct RewardTerms {
    /// Paid at enrolment.
    pub enrolment_reward: u64,
    /// Paid per period the research grant stays live (0 for none).
    pub period_reward: u64,
    pub period_secs: u32,
    pub periods: u16,
}

impl RewardTerms {
    /// The most one participant can ever receive after enrolment (the periodic part).
    pub fn periodic_total(&self) -> Option<u64> {
        self.period_reward.checked_mul(u64::from(self.periods))
    }
}

/// A research study escrowing rewards for participants who consent to share data.
/// PDA `[STUDY_SEED, sponsor_wallet, study_id_u64_le]`; vault `[VAULT_SEED, study]`.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Study {
    /// The sponsor's wallet (a verified provider with the researcher role at creation).
    pub sponsor: Pubkey,
    pub mint: Pubkey,
    pub vault: Pubkey,
    pub study_id: u64,
    pub terms: RewardTerms,
    /// Record classes the research grant must cover (bitmask).
    pub classes: u16,
    /// Opaque data-use code, e.g. the number of a GA4GH DUO term (0 for none).
    pub data_use_code: u32,
    pub enrol_start: i64,
    pub enrol_end: i64,
    pub max_participants: u32,
    pub participants: u32,
    /// Periodic rewards enrolled participants may still earn: always kept in the vault.
    pub outstanding: u64,
    pub funded: u64,
    pub paid: u64,
    pub withdrawn: u64,
    pub status: StudyStatus,
    /// A site the sponsor delegated to invite participants (default key when none).
    pub site: Pubkey,
    pub bump: u8,
    pub created_at: i64,
}

impl Study {
    /// Slots may still be filled: open and before the window's end.
    pub fn enrolment_open(&self, now: i64) -> bool {
        self.status == StudyStatus::Open && now < self.enrol_end
    }

    pub fn unreserved(&self, vault_balance: u64) -> u64 {
        vault_balance.saturating_sub(self.outstanding)
    }

    pub fn invariant(&self) -> Result<()> {
        require!(
            self.participants <= self.max_participants
                && self.enrol_start < self.enrol_end
                && self.classes != 0,
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
impl Study {
    /// `study_id` little-endian.
    pub fn seeds<'a>(sponsor: &'a Pubkey, study_id: &'a [u8; 8], bump: &'a [u8]) -> [&'a [u8]; 4] {
        [
            crate::constants::STUDY_SEED,
            sponsor.as_ref(),
            study_id,
            bump,
        ]
    }
}
