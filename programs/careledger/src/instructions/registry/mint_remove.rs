use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::PaymentMintRemoved;
use crate::instructions::now;
use crate::state::{AcceptedMint, Config};
use anchor_lang::prelude::*;

/// The admin takes a mint off the accepted list (rent back to the admin who accepted it).
/// Policies and studies already open on it keep their vaults; new ones can no longer use it.
#[event_cpi]
#[derive(Accounts)]
pub struct MintRemove<'info> {
    pub admin: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, has_one = admin @ CareledgerError::NotAdmin)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, close = rent_to)]
    pub accepted_mint: Box<Account<'info, AcceptedMint>>,
    /// CHECK: only receives lamports: the admin who accepted the mint and paid its rent.
    #[account(mut, address = accepted_mint.accepted_by @ CareledgerError::WrongRentDestination)]
    pub rent_to: UncheckedAccount<'info>,
}

impl<'info> MintRemove<'info> {
    /// Nothing beyond the accounts: the admin signs, the rent goes back to who paid it
    /// (constraints).
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        emit_cpi!(PaymentMintRemoved {
            mint: ctx.accounts.accepted_mint.mint,
            admin: ctx.accounts.admin.key(),
            at: now()?,
        });
        Ok(())
    }
}
