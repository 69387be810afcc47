use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::ConfigUpdated;
use crate::instructions::now;
use crate::logic::terms::validate_break_glass_cap;
use crate::state::Config;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigUpdateArgs {
    pub credential_authority: Pubkey,
    pub max_break_glass_secs: u32,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ConfigUpdate<'info> {
    pub admin: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS, has_one = admin @ CareledgerError::NotAdmin)]
    pub config: Account<'info, Config>,
}

impl<'info> ConfigUpdate<'info> {
    pub fn validate(&self, args: &ConfigUpdateArgs) -> Result<()> {
        require!(
            args.credential_authority != Pubkey::default(),
            CareledgerError::InvalidAuthorityKey
        );
        validate_break_glass_cap(args.max_break_glass_secs)?;
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ConfigUpdateArgs) -> Result<()> {
        let config = &mut ctx.accounts.config;
        let event = ConfigUpdated {
            admin: config.admin,
            old_credential_authority: config.credential_authority,
            new_credential_authority: args.credential_authority,
            old_max_break_glass_secs: config.max_break_glass_secs,
            new_max_break_glass_secs: args.max_break_glass_secs,
            at: now()?,
        };
        config.credential_authority = args.credential_authority;
        config.max_break_glass_secs = args.max_break_glass_secs;
        config.invariant()?;
        emit_cpi!(event);
        Ok(())
    }
}
