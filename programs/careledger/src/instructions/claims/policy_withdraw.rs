use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::PolicyWithdrawn;
use crate::instructions::now;
use crate::state::{Config, Policy};
use crate::vault::{check_withdrawal, withdraw, EscrowVault};
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

impl<'info> PolicyWithdraw<'info> {
    pub fn validate(&self, args: &PolicyWithdrawArgs) -> Result<()> {
        check_withdrawal(&**self.policy, self.vault.amount, args.amount, now()?)
    }

    pub fn handler(ctx: Context<Self>, args: PolicyWithdrawArgs) -> Result<()> {
        let at = now()?;
        let a = &mut *ctx.accounts;
        let vault = EscrowVault {
            token_program: &a.token_program,
            escrow: &mut a.policy,
            mint: &a.mint,
            vault: &a.vault,
        };
        let vault_balance = withdraw(vault, a.destination.to_account_info(), args.amount)?;
        let event = PolicyWithdrawn {
            policy: a.policy.key(),
            insurer: a.policy.insurer,
            destination: a.destination.key(),
            amount: args.amount,
            vault_balance,
            owed: a.policy.owed,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
