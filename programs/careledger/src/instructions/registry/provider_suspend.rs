use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::ProviderSuspended;
use crate::instructions::now;
use crate::state::{Config, Provider, ProviderStatus};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProviderSuspendArgs {
    /// Opaque, non-zero reason code.
    pub reason_code: u16,
}

/// Works while paused: suspending a provider only takes rights away, like a revocation.
#[event_cpi]
#[derive(Accounts)]
pub struct ProviderSuspend<'info> {
    pub authority: Signer<'info>,
    #[account(
        address = CONFIG_ADDRESS,
        constraint = config.credential_authority == authority.key() @ CareledgerError::NotCredentialAuthority,
    )]
    pub config: Account<'info, Config>,
    #[account(mut)]
    pub provider: Account<'info, Provider>,
}

impl<'info> ProviderSuspend<'info> {
    pub fn validate(&self, args: &ProviderSuspendArgs) -> Result<()> {
        require!(args.reason_code != 0, CareledgerError::MissingReasonCode);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ProviderSuspendArgs) -> Result<()> {
        let at = now()?;
        let authority = ctx.accounts.authority.key();
        let provider = &mut ctx.accounts.provider;
        provider.status = ProviderStatus::Suspended;
        provider.suspension_reason = args.reason_code;
        provider.verified_by = authority;
        provider.invariant()?;
        let event = ProviderSuspended {
            provider: provider.key(),
            wallet: provider.wallet,
            authority,
            reason_code: args.reason_code,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
