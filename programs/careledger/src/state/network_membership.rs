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

/// The account's address seeds, written once: the program creates and signs with them (passing
/// `&[bump]` last), and the SDK derives the address with them (passing `&[]`, which adds nothing
/// to the hash, so `find_program_address` appends the bump itself). The `seeds = [...]`
/// constraints stay literal because the IDL (and Anchor's TypeScript client) reads them; every
/// transaction the tests send checks those constraints against addresses from these functions.
impl NetworkMembership {
    pub fn seeds<'a>(insurer: &'a Pubkey, provider: &'a Pubkey, bump: &'a [u8]) -> [&'a [u8]; 4] {
        [
            crate::constants::NETWORK_SEED,
            insurer.as_ref(),
            provider.as_ref(),
            bump,
        ]
    }
}
