use crate::constants::MAX_BREAK_GLASS_CAP_SECS;
use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

/// The program's singleton settings. PDA `[CONFIG_SEED]`.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Config {
    pub admin: Pubkey,
    /// Proposed by `admin`, takes over on `config_accept_admin`; default key when none.
    pub pending_admin: Pubkey,
    /// Verifies and suspends providers.
    pub credential_authority: Pubkey,
    /// Stops every state-changing instruction except revocations and admin settings.
    pub paused: bool,
    /// Longest break-glass window a provider may open, in seconds.
    pub max_break_glass_secs: u32,
    pub bump: u8,
    pub reserved: [u8; 32],
}

impl Config {
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.admin != Pubkey::default()
                && self.credential_authority != Pubkey::default()
                && (60..=MAX_BREAK_GLASS_CAP_SECS).contains(&self.max_break_glass_secs),
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
impl Config {
    pub fn seeds(bump: &[u8]) -> [&[u8]; 2] {
        [crate::constants::CONFIG_SEED, bump]
    }
}
