use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::ClaimCancelled;
use crate::instructions::now;
use crate::state::{Claim, ClaimState, Config, CoverageRule, Policy};
use anchor_lang::prelude::*;

/// The provider withdraws a claim that is pending review or approved but not yet paid. An owed
/// benefit goes back to the policy's cap and deductible.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimCancel<'info> {
    pub provider: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut)]
    pub policy: Box<Account<'info, Policy>>,
    #[account(
        mut,
        constraint = rule.policy == policy.key() && rule.rule_key == claim.rule_key
            @ CareledgerError::RulePolicyMismatch,
    )]
    pub rule: Box<Account<'info, CoverageRule>>,
    #[account(
        mut,
        constraint = claim.policy == policy.key() @ CareledgerError::ClaimPolicyMismatch,
        constraint = claim.provider == provider.key() @ CareledgerError::NotClaimProvider,
    )]
    pub claim: Box<Account<'info, Claim>>,
}

impl<'info> ClaimCancel<'info> {
    /// Only a claim not yet decided or decided and still owed can be cancelled.
    pub fn validate(&self) -> Result<()> {
        require!(
            matches!(
                self.claim.state,
                ClaimState::PendingReview | ClaimState::Approved | ClaimState::Partial
            ),
            CareledgerError::ClaimNotCancellable
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let claim_key = ctx.accounts.claim.key();
        let accounts = &mut *ctx.accounts;
        let (policy, claim, rule) = (
            &mut accounts.policy,
            &mut accounts.claim,
            &mut accounts.rule,
        );
        let old_state = claim.state;
        let released = match old_state {
            ClaimState::PendingReview => {
                policy.pending_review = policy
                    .pending_review
                    .checked_sub(1)
                    .ok_or(CareledgerError::MathOverflow)?;
                0
            }
            ClaimState::Approved | ClaimState::Partial => {
                policy.release(&claim.breakdown)?;
                claim.breakdown.benefit
            }
            _ => return err!(CareledgerError::ClaimNotCancellable),
        };
        rule.claims = rule.claims.saturating_sub(1);
        claim.state = ClaimState::Cancelled;
        claim.decided_at = at;
        policy.invariant()?;
        rule.invariant()?;
        claim.invariant()?;
        let event = ClaimCancelled {
            claim: claim_key,
            policy: policy.key(),
            provider: claim.provider,
            old_state,
            released,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
