use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::AdminAccepted;
use crate::instructions::now;
use crate::state::Config;
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ConfigAcceptAdmin<'info> {
    /// Must be the `pending_admin` the current admin proposed.
    pub new_admin: Signer<'info>,
    #[account(
        mut,
        address = CONFIG_ADDRESS,
        constraint = config.pending_admin != Pubkey::default()
            && config.pending_admin == new_admin.key() @ CareledgerError::NotPendingAdmin,
    )]
    pub config: Account<'info, Config>,
}

impl<'info> ConfigAcceptAdmin<'info> {
    /// Nothing beyond the accounts: only the pending admin signs (constraint).
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let config = &mut ctx.accounts.config;
        let old_admin = config.admin;
        config.admin = config.pending_admin;
        config.pending_admin = Pubkey::default();
        config.invariant()?;
        let event = AdminAccepted {
            old_admin,
            new_admin: config.admin,
            at: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
