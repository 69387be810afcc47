use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;

use crate::instructions::claims::{adjudicated, pay_claim};
use crate::instructions::now;
use crate::logic::claims::{adjudicate, approve_amount, reason, Breakdown};
use crate::logic::consent::check_provider;
use crate::state::{Claim, ClaimState, Config, CoverageRule, Policy, Provider};
use crate::vault::{pay_if_covered, Payment};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewDecision {
    /// Approve `amount`: at most what the claim's terms allow (deductible, copay, coinsurance and
    /// the remaining cap applied now). Less is a partial approval; 0 of a non-zero benefit is a
    /// denial, and can be appealed.
    Approve { amount: u64 },
    /// Deny with the insurer's non-zero reason code.
    Deny { reason_code: u16 },
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ClaimReviewArgs {
    pub decision: ReviewDecision,
}

/// The insurer decides a claim pending review. An approval is paid at once when the vault's
/// unreserved funds cover it, and stays owed otherwise.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimReview<'info> {
    pub insurer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(constraint = insurer_provider.wallet == insurer.key() @ CareledgerError::NotPolicyInsurer)]
    pub insurer_provider: Box<Account<'info, Provider>>,
    #[account(mut, has_one = insurer @ CareledgerError::NotPolicyInsurer)]
    pub policy: Box<Account<'info, Policy>>,
    /// The claim's rule (retired or not). The claim is decided under the terms it was submitted
    /// under, kept on the claim: a rule update cannot cut a claim already in review.
    #[account(
        constraint = rule.policy == policy.key() && rule.rule_key == claim.rule_key
            @ CareledgerError::RulePolicyMismatch,
    )]
    pub rule: Box<Account<'info, CoverageRule>>,
    #[account(
        mut,
        constraint = claim.policy == policy.key() @ CareledgerError::ClaimPolicyMismatch,
        constraint = claim.state == ClaimState::PendingReview @ CareledgerError::ClaimNotPendingReview,
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

impl<'info> ClaimReview<'info> {
    pub fn validate(&self, args: &ClaimReviewArgs) -> Result<()> {
        check_provider(&self.insurer_provider, now()?).map_err(CareledgerError::from)?;
        self.decision(args)?;
        Ok(())
    }

    /// The claim's new state, breakdown and reason code: what the insurer decides, under the
    /// terms the claim was submitted under.
    fn decision(&self, args: &ClaimReviewArgs) -> Result<(ClaimState, Breakdown, u16)> {
        Ok(match args.decision {
            ReviewDecision::Approve { amount } => {
                let claim = &self.claim;
                let full = adjudicate(
                    &claim.terms,
                    claim.units,
                    claim.billed,
                    self.policy.balances(),
                );
                let (b, state) =
                    approve_amount(&full, amount).ok_or(CareledgerError::ApprovalExceedsRule)?;
                if amount == 0 && full.benefit > 0 {
                    // approving nothing of what the rule allows is a denial, and can be appealed
                    (
                        ClaimState::Denied,
                        Breakdown::default(),
                        reason::APPROVED_NOTHING,
                    )
                } else {
                    (state, b, 0)
                }
            }
            ReviewDecision::Deny { reason_code } => {
                require!(reason_code != 0, CareledgerError::MissingReasonCode);
                (ClaimState::Denied, Breakdown::default(), reason_code)
            }
        })
    }

    pub fn handler(ctx: Context<Self>, args: ClaimReviewArgs) -> Result<()> {
        let at = now()?;
        let a = &ctx.accounts;
        let (state, breakdown, reason_code) = a.decision(&args)?;
        let vault_before = a.vault.amount;
        let payment = Payment {
            token_program: &a.token_program,
            policy: &a.policy,
            mint: &a.mint,
            vault: &a.vault,
            to: a.payee.to_account_info(),
        };
        let pay_now = pay_if_covered(&payment, state, breakdown.benefit)?;
        let (claim_key, by, payee) = (a.claim.key(), a.insurer.key(), a.payee.key());
        let accounts = &mut *ctx.accounts;
        let (policy, claim) = (&mut accounts.policy, &mut accounts.claim);
        policy.pending_review = policy
            .pending_review
            .checked_sub(1)
            .ok_or(CareledgerError::MathOverflow)?;
        if state.is_owed() {
            policy.reserve(&breakdown)?;
        }
        if state == ClaimState::Denied {
            policy.note_denial(claim.appealed, at);
        }
        claim.state = state;
        claim.breakdown = breakdown;
        claim.reason_code = reason_code;
        claim.decided_at = at;
        let paid = if pay_now {
            Some(pay_claim(
                claim,
                claim_key,
                payee,
                policy,
                vault_before,
                at,
            )?)
        } else {
            None
        };
        policy.invariant()?;
        claim.invariant()?;
        let event = adjudicated(claim_key, claim, policy.key(), policy, state, by, at);
        emit_cpi!(event);
        if let Some(paid) = paid {
            emit_cpi!(paid);
        }
        Ok(())
    }
}
