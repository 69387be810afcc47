use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::instructions::claims::pay_claim;
use crate::instructions::now;
use crate::state::{Claim, Config, Policy};
use crate::vault::{transfer_from_vault, Payment};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

/// Anyone pays an approved claim that stayed owed because the vault was short, once the vault
/// holds its benefit. The tokens can only go to the payee fixed at submission.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimSettle<'info> {
    pub payer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut)]
    pub policy: Box<Account<'info, Policy>>,
    #[account(
        mut,
        constraint = claim.policy == policy.key() @ CareledgerError::ClaimPolicyMismatch,
        constraint = claim.owes() @ CareledgerError::ClaimNotOwed,
    )]
    pub claim: Box<Account<'info, Claim>>,
    #[account(address = policy.mint @ CareledgerError::WrongMint)]
    pub mint: Box<Account<'info, Mint>>,
    #[account(mut, address = policy.vault @ CareledgerError::ForeignVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// Any token account of the claim's provider in the policy's mint.
    #[account(
        mut,
        constraint = payee.owner == claim.provider @ CareledgerError::PayeeNotProvider,
        constraint = payee.mint == policy.mint @ CareledgerError::WrongMint,
    )]
    pub payee: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl<'info> ClaimSettle<'info> {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.vault.amount >= self.claim.breakdown.benefit,
            CareledgerError::VaultShort
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let a = &ctx.accounts;
        let amount = a.claim.breakdown.benefit;
        let vault_before = a.vault.amount;
        let payment = Payment {
            token_program: &a.token_program,
            policy: &a.policy,
            mint: &a.mint,
            vault: &a.vault,
            to: a.payee.to_account_info(),
        };
        transfer_from_vault(&payment, amount)?;
        let (claim_key, payee) = (a.claim.key(), a.payee.key());
        let accounts = &mut *ctx.accounts;
        let (policy, claim) = (&mut accounts.policy, &mut accounts.claim);
        let event = pay_claim(claim, claim_key, payee, policy, vault_before, at)?;
        policy.invariant()?;
        claim.invariant()?;
        emit_cpi!(event);
        Ok(())
    }
}
