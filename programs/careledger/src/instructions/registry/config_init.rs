use crate::constants::CONFIG_SEED;
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::ConfigInitialized;
use crate::instructions::now;
use crate::logic::terms::validate_break_glass_cap;
use crate::state::Config;
use anchor_lang::prelude::*;
use anchor_lang::solana_program::bpf_loader_upgradeable;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigInitArgs {
    pub admin: Pubkey,
    pub credential_authority: Pubkey,
    pub max_break_glass_secs: u32,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ConfigInit<'info> {
    #[account(mut)]
    pub upgrade_authority: Signer<'info>,
    /// The program's ProgramData at its canonical address; only its upgrade authority may init,
    /// so nobody can front-run the deployment and seize the config.
    #[account(
        seeds = [crate::ID.as_ref()],
        bump,
        seeds::program = bpf_loader_upgradeable::ID,
        constraint = program_data.upgrade_authority_address == Some(upgrade_authority.key())
            @ CareledgerError::NotUpgradeAuthority,
    )]
    pub program_data: Account<'info, ProgramData>,
    /// CHECK: the new account's address (seeds checked here); created in the handler, which
    /// refuses an existing account and takes over a pre-funded one.
    #[account(mut, seeds = [CONFIG_SEED], bump)]
    pub config: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> ConfigInit<'info> {
    pub fn validate(&self, args: &ConfigInitArgs) -> Result<()> {
        require!(
            args.admin != Pubkey::default() && args.credential_authority != Pubkey::default(),
            CareledgerError::InvalidAuthorityKey
        );
        validate_break_glass_cap(args.max_break_glass_secs)?;
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ConfigInitArgs) -> Result<()> {
        let config = Config {
            admin: args.admin,
            pending_admin: Pubkey::default(),
            credential_authority: args.credential_authority,
            paused: false,
            max_break_glass_secs: args.max_break_glass_secs,
            bump: ctx.bumps.config,
            reserved: [0; 32],
        };
        config.invariant()?;
        let bump = [ctx.bumps.config];
        let a = &ctx.accounts;
        init_pda(
            &a.upgrade_authority,
            &a.config,
            &a.system_program,
            &Config::seeds(&bump),
            &config,
            CareledgerError::ConfigAlreadyInitialized,
        )?;
        let event = ConfigInitialized {
            config: a.config.key(),
            upgrade_authority: ctx.accounts.upgrade_authority.key(),
            admin: args.admin,
            credential_authority: args.credential_authority,
            max_break_glass_secs: args.max_break_glass_secs,
            at: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
