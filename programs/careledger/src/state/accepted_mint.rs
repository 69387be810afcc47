use anchor_lang::prelude::*;

/// A payment mint the admin accepts for policies and studies although it has a freeze authority
/// (a regulated stablecoin whose issuer, not the insurer or sponsor, can freeze). PDA
/// `[ACCEPTED_MINT_SEED, mint]`; removing it closes the account. Mints with no freeze authority
/// need no entry.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct AcceptedMint {
    pub mint: Pubkey,
    /// The mint's freeze authority when it was accepted (for the record).
    pub freeze_authority: Pubkey,
    pub accepted_at: i64,
    /// The admin who accepted it and paid the rent (removal returns it there).
    pub accepted_by: Pubkey,
    pub bump: u8,
}

/// The account's address seeds, written once: the program creates and signs with them (passing
/// `&[bump]` last), and the SDK derives the address with them (passing `&[]`, which adds nothing
/// to the hash, so `find_program_address` appends the bump itself). The `seeds = [...]`
/// constraints stay literal because the IDL (and Anchor's TypeScript client) reads them; every
/// transaction the tests send checks those constraints against addresses from these functions.
impl AcceptedMint {
    pub fn seeds<'a>(mint: &'a Pubkey, bump: &'a [u8]) -> [&'a [u8]; 3] {
        [crate::constants::ACCEPTED_MINT_SEED, mint.as_ref(), bump]
    }
}
