use anchor_lang::prelude::*;

/// A provider the insurer has enrolled in its network. PDA `[NETWORK_SEED, insurer_wallet,
/// provider_wallet]`. It exists only while the membership runs: `network_remove` closes it (rent
/// back to the insurer), so a claim on a network-only policy needs only its presence.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct NetworkMembership {
    pub insurer: Pubkey,
    pub provider: Pubkey,
    pub added_at: i64,
    pub bump: u8,
}
