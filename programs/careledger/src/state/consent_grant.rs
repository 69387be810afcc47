use crate::constants::NO_RECORD_SCOPE;
use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

/// Purpose of use (HL7 v3 ActReason): TREAT, HPAYMT, HOPERAT, HRESCH, PUBHLTH, ETREAT.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum Purpose {
    Treatment,
    Payment,
    Operations,
    Research,
    PublicHealth,
    /// Only through break-glass.
    Emergency,
}

impl Purpose {
    pub fn seed(self) -> [u8; 1] {
        [self as u8]
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum GrantStatus {
    Active,
    Revoked,
}

/// Review of a break-glass grant by the patient.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum ReviewState {
    /// Not a break-glass grant.
    NotRequired,
    Pending,
    Accepted,
    Disputed,
}

/// A patient's consent for one grantee and one purpose.
/// PDA `[GRANT_SEED, patient_wallet, grantee_wallet, [purpose]]`, plus `serial_u32_le` for a
/// break-glass grant (each emergency its own account).
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct ConsentGrant {
    pub patient: Pubkey,
    pub grantee: Pubkey,
    /// Bitmask of record class ids (bit i = class i).
    pub classes: u16,
    /// Bitmask of `action::READ | action::WRITE`.
    pub actions: u8,
    pub purpose: Purpose,
    pub status: GrantStatus,
    pub review: ReviewState,
    pub bump: u8,
    /// The patient's `consent_epoch` when granted; void once the patient's epoch moves on.
    pub consent_epoch: u32,
    /// A single record index, or `NO_RECORD_SCOPE` for every record of the classes.
    pub record_scope: u32,
    pub access_count: u32,
    pub not_before: i64,
    pub expires_at: i64,
    /// Unix seconds (u32: exact until 2106).
    pub created_at: u32,
    /// 0 until revoked.
    pub revoked_at: u32,
    /// Which of the patient's grants this is (`Patient::grant_count` when it was made): a grant
    /// closed and made again at the same address is a new consent with a new serial.
    pub serial: u32,
    /// When an update first narrowed it (a class, action or record dropped, or its window
    /// shortened at either end); 0 if never. Consent that relies on the grant being continuous
    /// (research rewards) ends there.
    pub narrowed_at: u32,
    /// Who paid the rent (the patient, their guardian, or the break-glass clinician): closing
    /// the grant returns it there.
    pub payer: Pubkey,
    /// SHA-256 of the consent statement the signer signed for this grant
    /// (`logic::statement`, checked by `grant_create_signed`); all zero for a grant made
    /// without one.
    pub statement_hash: [u8; 32],
}

impl ConsentGrant {
    pub fn is_emergency(&self) -> bool {
        self.purpose == Purpose::Emergency
    }

    pub fn invariant(&self) -> Result<()> {
        let revoked_consistent = (self.status == GrantStatus::Revoked) == (self.revoked_at != 0);
        let review_consistent = self.is_emergency() == (self.review != ReviewState::NotRequired);
        require!(
            revoked_consistent
                && review_consistent
                && self.classes != 0
                && self.actions != 0
                && self.not_before < self.expires_at
                && (self.record_scope == NO_RECORD_SCOPE || !self.is_emergency()),
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
impl ConsentGrant {
    /// `purpose` is `Purpose::seed()`; `serial` is a break-glass grant's serial (little-endian),
    /// and empty for every other grant.
    pub fn seeds<'a>(
        patient: &'a Pubkey,
        grantee: &'a Pubkey,
        purpose: &'a [u8; 1],
        serial: &'a [u8],
        bump: &'a [u8],
    ) -> [&'a [u8]; 6] {
        [
            crate::constants::GRANT_SEED,
            patient.as_ref(),
            grantee.as_ref(),
            purpose,
            serial,
            bump,
        ]
    }
}
