use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::PolicyClosed;
use crate::instructions::now;
use crate::state::{Config, Policy, PolicyStatus};
use crate::vault::{transfer_from_vault, Payment};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

/// The insurer closes a policy nothing is owed on and no claim is pending under: the vault's
/// tokens go to `destination`. The policy and its (empty) vault stay, so that every later call
/// gets `PolicyNotActive` rather than a missing-account error; tokens sent to the vault afterwards
/// can still be withdrawn.
#[event_cpi]
#[derive(Accounts)]
pub struct PolicyClose<'info> {
    pub insurer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        has_one = insurer @ CareledgerError::NotPolicyInsurer,
        constraint = policy.status != PolicyStatus::Closed @ CareledgerError::PolicyNotActive,
    )]
    pub policy: Box<Account<'info, Policy>>,
    #[account(address = policy.mint @ CareledgerError::WrongMint)]
    pub mint: Box<Account<'info, Mint>>,
    #[account(mut, address = policy.vault @ CareledgerError::ForeignVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, constraint = destination.mint == policy.mint @ CareledgerError::WrongMint)]
    pub destination: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<PolicyClose>) -> Result<()> {
    let at = now()?;
    let policy = &ctx.accounts.policy;
    require!(
        policy.owed == 0 && policy.pending_review == 0,
        CareledgerError::PolicyHasOpenClaims
    );
    require!(
        at >= policy.appeals_open_until,
        CareledgerError::AppealWindowOpen
    );
    let swept = ctx.accounts.vault.amount;
    let payment = Payment {
        token_program: &ctx.accounts.token_program,
        policy,
        mint: &ctx.accounts.mint,
        vault: &ctx.accounts.vault,
        to: ctx.accounts.destination.to_account_info(),
    };
    transfer_from_vault(&payment, swept)?;
    let policy = &mut ctx.accounts.policy;
    policy.withdrawn = policy
        .withdrawn
        .checked_add(swept)
        .ok_or(CareledgerError::MathOverflow)?;
    policy.status = PolicyStatus::Closed;
    policy.invariant()?;
    let event = PolicyClosed {
        policy: policy.key(),
        insurer: policy.insurer,
        destination: ctx.accounts.destination.key(),
        swept,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
