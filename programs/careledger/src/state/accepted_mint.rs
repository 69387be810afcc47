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
