use crate::constants::{ACCEPTED_MINT_SEED, CONFIG_ADDRESS};
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::PaymentMintAccepted;
use crate::instructions::now;
use crate::state::{AcceptedMint, Config};
use anchor_lang::prelude::*;
use anchor_spl::token::Mint;

/// The admin accepts a payment mint that has a freeze authority (a stablecoin whose issuer is
/// neither insurer nor sponsor). Policies and studies may use it; a mint without a freeze
/// authority needs no entry. Works while paused (an admin setting).
#[event_cpi]
#[derive(Accounts)]
pub struct MintAccept<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, has_one = admin @ CareledgerError::NotAdmin)]
    pub config: Box<Account<'info, Config>>,
    pub mint: Box<Account<'info, Mint>>,
    /// CHECK: the new entry's address (seeds checked here); created in the handler.
    #[account(mut, seeds = [ACCEPTED_MINT_SEED, mint.key().as_ref()], bump)]
    pub accepted_mint: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> MintAccept<'info> {
    /// Nothing beyond the accounts: the admin signs (constraint), and a mint accepted twice is
    /// refused when its entry is created.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let a = &ctx.accounts;
        let mint = a.mint.key();
        let freeze_authority = Option::<Pubkey>::from(a.mint.freeze_authority).unwrap_or_default();
        let entry = AcceptedMint {
            mint,
            freeze_authority,
            accepted_at: at,
            accepted_by: a.admin.key(),
            bump: ctx.bumps.accepted_mint,
        };
        let bump = [ctx.bumps.accepted_mint];
        let seeds = AcceptedMint::seeds(&mint, &bump);
        init_pda(
            &a.admin,
            &a.accepted_mint,
            &a.system_program,
            &seeds,
            &entry,
            CareledgerError::MintAlreadyAccepted,
        )?;
        emit_cpi!(PaymentMintAccepted {
            mint,
            freeze_authority,
            admin: a.admin.key(),
            at,
        });
        Ok(())
    }
}
