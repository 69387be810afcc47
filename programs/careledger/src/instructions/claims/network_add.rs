use crate::constants::{CONFIG_ADDRESS, NETWORK_SEED};
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::NetworkMemberAdded;
use crate::instructions::now;
use crate::logic::claims::BILLING_ROLES;
use crate::logic::consent::check_provider;
use crate::state::{Config, NetworkMembership, Provider, ROLE_INSURER};
use anchor_lang::prelude::*;

/// A verified insurer enrols a verified billing provider in its network. Network-only policies
/// pay only members; `network_remove` ends the membership.
#[event_cpi]
#[derive(Accounts)]
pub struct NetworkAdd<'info> {
    #[account(mut)]
    pub insurer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(constraint = insurer_provider.wallet == insurer.key() @ CareledgerError::NotPolicyInsurer)]
    pub insurer_provider: Box<Account<'info, Provider>>,
    /// The provider joining the network.
    pub provider: Box<Account<'info, Provider>>,
    /// CHECK: the new membership's address (seeds checked here); created in the handler.
    #[account(
        mut,
        seeds = [NETWORK_SEED, insurer.key().as_ref(), provider.wallet.as_ref()],
        bump,
    )]
    pub membership: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> NetworkAdd<'info> {
    /// A verified insurer, and a verified provider that may bill.
    pub fn validate(&self) -> Result<()> {
        let at = now()?;
        check_provider(&self.insurer_provider, at).map_err(CareledgerError::from)?;
        require!(
            self.insurer_provider.has_role(ROLE_INSURER),
            CareledgerError::MissingRole
        );
        check_provider(&self.provider, at).map_err(CareledgerError::from)?;
        require!(
            self.provider.roles & BILLING_ROLES != 0,
            CareledgerError::MissingRole
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let a = &ctx.accounts;
        let (insurer, provider) = (a.insurer.key(), a.provider.wallet);
        let membership = NetworkMembership {
            insurer,
            provider,
            added_at: at,
            bump: ctx.bumps.membership,
        };
        let bump = [ctx.bumps.membership];
        let seeds = NetworkMembership::seeds(&insurer, &provider, &bump);
        init_pda(
            &a.insurer,
            &a.membership,
            &a.system_program,
            &seeds,
            &membership,
            CareledgerError::NetworkMemberAlreadyAdded,
        )?;
        emit_cpi!(NetworkMemberAdded {
            insurer,
            provider,
            membership: a.membership.key(),
            at,
        });
        Ok(())
    }
}
