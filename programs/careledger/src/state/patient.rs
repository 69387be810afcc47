use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

/// A patient. PDA `[PATIENT_SEED, wallet]`.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Patient {
    pub wallet: Pubkey,
    /// May act for the patient until `guardian_expires_at`; default key when none.
    pub guardian: Pubkey,
    pub guardian_expires_at: i64,
    /// Bumped by `grant_revoke_all`: every grant made at an older epoch is void.
    pub consent_epoch: u32,
    /// Records anchored so far; the next record's index.
    pub record_count: u32,
    /// Grants ever created (patient grants and approved requests).
    pub grant_count: u32,
    /// Break-glass grants ever opened.
    pub emergency_count: u32,
    pub registered_at: i64,
    pub bump: u8,
    /// When `grant_revoke_all` last moved `consent_epoch` on (0 if never).
    pub epoch_changed_at: i64,
    /// `CONSENT_STATEMENTS_REQUIRED` once the patient chose it (`patient_require_statements`,
    /// for good), else 0.
    /// Held in the first of what were 8 reserved bytes, so the layout is unchanged.
    pub consent_flags: u8,
    pub reserved: [u8; 7],
}

/// Every new grant must be made against a signed consent statement (`grant_create_signed`);
/// plain grants, request approvals, widening updates and appointing a guardian are refused: a
/// transaction the patient signs without reading it can then neither make nor widen consent,
/// nor name someone who could.
pub const CONSENT_STATEMENTS_REQUIRED: u8 = 1;

impl Patient {
    pub fn requires_statements(&self) -> bool {
        self.consent_flags & CONSENT_STATEMENTS_REQUIRED != 0
    }
}

impl Patient {
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.guardian != self.wallet
                && (self.guardian != Pubkey::default() || self.guardian_expires_at == 0)
                && self.consent_flags & !CONSENT_STATEMENTS_REQUIRED == 0,
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
impl Patient {
    pub fn seeds<'a>(wallet: &'a Pubkey, bump: &'a [u8]) -> [&'a [u8]; 3] {
        [crate::constants::PATIENT_SEED, wallet.as_ref(), bump]
    }
}
