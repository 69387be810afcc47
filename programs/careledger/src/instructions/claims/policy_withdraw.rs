use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::PolicyWithdrawn;
use crate::instructions::now;
use crate::state::{Config, Policy};
use crate::vault::{transfer_from_vault, Payment};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PolicyWithdrawArgs {
    pub amount: u64,
}

/// The insurer takes back vault funds beyond what approved, unpaid claims are owed (after the
/// policy is closed: anything sent to its vault since).
#[event_cpi]
#[derive(Accounts)]
pub struct PolicyWithdraw<'info> {
    pub insurer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, has_one = insurer @ CareledgerError::NotPolicyInsurer)]
    pub policy: Box<Account<'info, Policy>>,
    #[account(address = policy.mint @ CareledgerError::WrongMint)]
    pub mint: Box<Account<'info, Mint>>,
    #[account(mut, address = policy.vault @ CareledgerError::ForeignVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, constraint = destination.mint == policy.mint @ CareledgerError::WrongMint)]
    pub destination: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<PolicyWithdraw>, args: PolicyWithdrawArgs) -> Result<()> {
    require!(args.amount > 0, CareledgerError::InvalidAmount);
    let at = now()?;
    let vault_before = ctx.accounts.vault.amount;
    let policy = &ctx.accounts.policy;
    // a claim in review may yet be owed: nothing leaves the vault while the insurer has not
    // decided it (an appeal puts a denied claim back in review; one that then wins is owed,
    // and settles once the vault is funded)
    require!(
        policy.pending_review == 0,
        CareledgerError::PolicyHasOpenClaims
    );
    require!(
        args.amount <= policy.unreserved(vault_before),
        CareledgerError::FundsOwed
    );
    let payment = Payment {
        token_program: &ctx.accounts.token_program,
        policy: &ctx.accounts.policy,
        mint: &ctx.accounts.mint,
        vault: &ctx.accounts.vault,
        to: ctx.accounts.destination.to_account_info(),
    };
    transfer_from_vault(&payment, args.amount)?;
    let policy = &mut ctx.accounts.policy;
    policy.withdrawn = policy
        .withdrawn
        .checked_add(args.amount)
        .ok_or(CareledgerError::MathOverflow)?;
    policy.invariant()?;
    let event = PolicyWithdrawn {
        policy: policy.key(),
        insurer: policy.insurer,
        destination: ctx.accounts.destination.key(),
        amount: args.amount,
        // the transfer of `amount` out of the vault succeeded
        vault_balance: vault_before.saturating_sub(args.amount),
        owed: policy.owed,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
