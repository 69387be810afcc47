use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::PolicyFunded;
use crate::instructions::now;
use crate::state::{Config, Policy, PolicyStatus};
use anchor_lang::prelude::*;
use anchor_spl::token::{self, Mint, Token, TokenAccount, TransferChecked};

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
    require!(args.amount > 0, CareledgerError::InvalidAmount);
    let at = now()?;
    let accounts = TransferChecked {
        from: ctx.accounts.source.to_account_info(),
        mint: ctx.accounts.mint.to_account_info(),
        to: ctx.accounts.vault.to_account_info(),
        authority: ctx.accounts.funder.to_account_info(),
    };
    token::transfer_checked(
        CpiContext::new(ctx.accounts.token_program.key(), accounts),
        args.amount,
        ctx.accounts.mint.decimals,
    )?;
    let vault_balance = ctx
        .accounts
        .vault
        .amount
        .checked_add(args.amount)
        .ok_or(CareledgerError::MathOverflow)?;
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
