use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::PolicyFunded;
use crate::instructions::now;
use crate::state::{Config, Policy, PolicyStatus};
use crate::vault::fund_vault;
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

pub fn handler(ctx: Context<PolicyFund>, args: PolicyFundArgs) -> Result<()> {
    let at = now()?;
    let a = &ctx.accounts;
    let vault_balance = fund_vault(
        &a.token_program,
        &a.mint,
        &a.source,
        &a.vault,
        &a.funder,
        args.amount,
    )?;
    let policy = &mut ctx.accounts.policy;
    policy.funded = policy
        .funded
        .checked_add(args.amount)
        .ok_or(CareledgerError::MathOverflow)?;
    policy.invariant()?;
    let event = PolicyFunded {
        policy: policy.key(),
        funder: ctx.accounts.funder.key(),
        amount: args.amount,
        vault_balance,
        funded: policy.funded,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
