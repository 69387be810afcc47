use crate::constants::{APPEAL_WINDOW_SECS, CONFIG_ADDRESS};
use crate::errors::CareledgerError;
use crate::events::ClaimAppealed;
use crate::instructions::now;
use crate::state::{Claim, ClaimState, Config, Policy, PolicyStatus};
use anchor_lang::prelude::*;

/// The provider appeals a denied claim, once, within `APPEAL_WINDOW_SECS` of the denial: it goes
/// back to pending review.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimAppeal<'info> {
    pub provider: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, constraint = policy.status != PolicyStatus::Closed @ CareledgerError::PolicyNotActive)]
    pub policy: Box<Account<'info, Policy>>,
    #[account(
        mut,
        constraint = claim.policy == policy.key() @ CareledgerError::ClaimPolicyMismatch,
        constraint = claim.provider == provider.key() @ CareledgerError::NotClaimProvider,
        constraint = claim.state == ClaimState::Denied && !claim.appealed @ CareledgerError::NotAppealable,
    )]
    pub claim: Box<Account<'info, Claim>>,
}

impl<'info> ClaimAppeal<'info> {
    pub fn validate(&self) -> Result<()> {
        let deadline = self.claim.decided_at.saturating_add(APPEAL_WINDOW_SECS);
        require!(now()? < deadline, CareledgerError::AppealWindowClosed);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let claim_key = ctx.accounts.claim.key();
        let accounts = &mut *ctx.accounts;
        let (policy, claim) = (&mut accounts.policy, &mut accounts.claim);
        policy.pending_review = policy
            .pending_review
            .checked_add(1)
            .ok_or(CareledgerError::MathOverflow)?;
        claim.state = ClaimState::PendingReview;
        claim.appealed = true;
        policy.invariant()?;
        claim.invariant()?;
        let event = ClaimAppealed {
            claim: claim_key,
            policy: policy.key(),
            provider: claim.provider,
            denial_reason: claim.reason_code,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
