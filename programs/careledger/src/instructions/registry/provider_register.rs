use crate::constants::{CONFIG_ADDRESS, PROVIDER_SEED};
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::{ProviderRegistered, ProviderSupplyRolesSet};
use crate::instructions::now;
use crate::logic::terms::{validate_hash, validate_roles};
use crate::state::{Config, Provider, ProviderStatus};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProviderRegisterArgs {
    /// Roles asked for; the credential authority confirms or changes them on verification.
    pub roles: u8,
    /// Supply-chain roles asked for (`SUPPLY_*`); 0 for a care provider.
    pub supply_roles: u8,
    /// SHA-256 of the licence document (kept off chain).
    pub credential_ref: [u8; 32],
}

#[event_cpi]
#[derive(Accounts)]
pub struct ProviderRegister<'info> {
    #[account(mut)]
    pub wallet: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    /// CHECK: the new account's address (seeds checked here); created in the handler, which
    /// refuses an existing account and takes over a pre-funded one.
    #[account(
        mut,
        seeds = [PROVIDER_SEED, wallet.key().as_ref()],
        bump,
    )]
    pub provider: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> ProviderRegister<'info> {
    pub fn validate(&self, args: &ProviderRegisterArgs) -> Result<()> {
        validate_roles(args.roles, args.supply_roles)?;
        validate_hash(&args.credential_ref).map_err(|_| CareledgerError::InvalidCredentialRef)?;
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ProviderRegisterArgs) -> Result<()> {
        let at = now()?;
        let wallet = ctx.accounts.wallet.key();
        let provider = Provider {
            wallet,
            roles: args.roles,
            status: ProviderStatus::Pending,
            bump: ctx.bumps.provider,
            credential_ref: args.credential_ref,
            credential_expires_at: 0,
            verified_by: Pubkey::default(),
            verified_at: 0,
            registered_at: at,
            suspension_reason: 0,
            supply_roles: args.supply_roles,
            reserved: [0; 15],
        };
        provider.invariant()?;
        let bump = [ctx.bumps.provider];
        let seeds = Provider::seeds(&wallet, &bump);
        let a = &ctx.accounts;
        init_pda(
            &a.wallet,
            &a.provider,
            &a.system_program,
            &seeds,
            &provider,
            CareledgerError::ProviderAlreadyRegistered,
        )?;
        let event = ProviderRegistered {
            provider: a.provider.key(),
            wallet,
            requested_roles: args.roles,
            credential_ref: args.credential_ref,
            at,
        };
        emit_cpi!(event);
        if args.supply_roles != 0 {
            let event = ProviderSupplyRolesSet {
                provider: a.provider.key(),
                wallet,
                set_by: wallet,
                old_supply_roles: 0,
                new_supply_roles: args.supply_roles,
                verified: false,
                at,
            };
            emit_cpi!(event);
        }
        Ok(())
    }
}
