use anchor_lang::prelude::*;

/// The sponsor's (or its site's) decision that one patient is eligible for one study.
/// PDA `[INVITATION_SEED, study, patient_wallet]`. Enrolment needs an unused, unexpired one and
/// marks it used; the sponsor closes it to recover the rent, and closing an unused one withdraws
/// the invitation.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub study: Pubkey,
    pub patient: Pubkey,
    /// The sponsor or the site that decided eligibility (and paid the rent).
    pub invited_by: Pubkey,
    pub expires_at: i64,
    /// 0 until a participation was enrolled with it.
    pub used_at: i64,
    pub created_at: i64,
    pub bump: u8,
}

/// The account's address seeds, written once: the program creates and signs with them (passing
/// `&[bump]` last), and the SDK derives the address with them (passing `&[]`, which adds nothing
/// to the hash, so `find_program_address` appends the bump itself). The `seeds = [...]`
/// constraints stay literal because the IDL (and Anchor's TypeScript client) reads them; every
/// transaction the tests send checks those constraints against addresses from these functions.
impl Invitation {
    pub fn seeds<'a>(study: &'a Pubkey, patient: &'a Pubkey, bump: &'a [u8]) -> [&'a [u8]; 4] {
        [
            crate::constants::INVITATION_SEED,
            study.as_ref(),
            patient.as_ref(),
            bump,
        ]
    }
}
