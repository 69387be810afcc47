use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::AdminProposed;
use crate::instructions::now;
use crate::state::Config;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigProposeAdminArgs {
    pub new_admin: Pubkey,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ConfigProposeAdmin<'info> {
    pub admin: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS, has_one = admin @ CareledgerError::NotAdmin)]
    pub config: Account<'info, Config>,
}

impl<'info> ConfigProposeAdmin<'info> {
    pub fn validate(&self, args: &ConfigProposeAdminArgs) -> Result<()> {
        require!(
            args.new_admin != Pubkey::default(),
            CareledgerError::InvalidAuthorityKey
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ConfigProposeAdminArgs) -> Result<()> {
        let config = &mut ctx.accounts.config;
        config.pending_admin = args.new_admin;
        config.invariant()?;
        let event = AdminProposed {
            admin: config.admin,
            proposed: args.new_admin,
            at: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
