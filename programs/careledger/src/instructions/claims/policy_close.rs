use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::PolicyClosed;
use crate::instructions::now;
use crate::state::{Config, Policy, PolicyStatus};
use crate::vault::{close, Escrow, EscrowVault};
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

impl<'info> PolicyClose<'info> {
    pub fn validate(&self) -> Result<()> {
        self.policy.check_closing(now()?)
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let a = &mut *ctx.accounts;
        let vault = EscrowVault {
            token_program: &a.token_program,
            escrow: &mut a.policy,
            mint: &a.mint,
            vault: &a.vault,
        };
        let swept = close(vault, a.destination.to_account_info())?;
        let event = PolicyClosed {
            policy: a.policy.key(),
            insurer: a.policy.insurer,
            destination: a.destination.key(),
            swept,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
