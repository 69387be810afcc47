use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::PolicyFunded;
use crate::instructions::now;
use crate::state::{Config, Policy, PolicyStatus};
use crate::vault::{check_funding, fund, EscrowVault};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PolicyFundArgs {
    pub amount: u64,
}

/// Anyone moves tokens from their own account into a policy's vault.
#[event_cpi]
#[derive(Accounts)]
pub struct PolicyFund<'info> {
    pub funder: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, constraint = policy.status != PolicyStatus::Closed @ CareledgerError::PolicyNotActive)]
    pub policy: Box<Account<'info, Policy>>,
    #[account(address = policy.mint @ CareledgerError::WrongMint)]
    pub mint: Box<Account<'info, Mint>>,
    #[account(mut, address = policy.vault @ CareledgerError::ForeignVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// The funder's token account (the token program checks the funder owns it).
    #[account(mut, constraint = source.mint == policy.mint @ CareledgerError::WrongMint)]
    pub source: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl<'info> PolicyFund<'info> {
    pub fn validate(&self, args: &PolicyFundArgs) -> Result<()> {
        check_funding(args.amount)
    }

    pub fn handler(ctx: Context<Self>, args: PolicyFundArgs) -> Result<()> {
        let at = now()?;
        let a = &mut *ctx.accounts;
        let vault = EscrowVault {
            token_program: &a.token_program,
            escrow: &mut a.policy,
            mint: &a.mint,
            vault: &a.vault,
        };
        let vault_balance = fund(vault, &a.source, &a.funder, args.amount)?;
        let event = PolicyFunded {
            policy: a.policy.key(),
            funder: a.funder.key(),
            amount: args.amount,
            vault_balance,
            funded: a.policy.funded,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
