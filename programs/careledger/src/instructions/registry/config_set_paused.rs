use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::PauseSet;
use crate::instructions::now;
use crate::state::Config;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigSetPausedArgs {
    pub paused: bool,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ConfigSetPaused<'info> {
    pub admin: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS, has_one = admin @ CareledgerError::NotAdmin)]
    pub config: Account<'info, Config>,
}

impl<'info> ConfigSetPaused<'info> {
    /// Nothing beyond the accounts: the admin signs (constraint); either value may be set.
    pub fn validate(&self, _args: &ConfigSetPausedArgs) -> Result<()> {
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ConfigSetPausedArgs) -> Result<()> {
        let config = &mut ctx.accounts.config;
        config.paused = args.paused;
        config.invariant()?;
        let event = PauseSet {
            admin: config.admin,
            paused: args.paused,
            at: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
