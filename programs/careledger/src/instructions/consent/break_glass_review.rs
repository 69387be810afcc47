use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::BreakGlassReviewed;
use crate::instructions::now;
use crate::logic::authority::{acting_for_unconflicted, Actor};
use crate::state::{stamp, Config, ConsentGrant, GrantStatus, Patient, ReviewState};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewOutcome {
    Accepted,
    /// Also revokes the grant if it is still open.
    Disputed,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct BreakGlassReviewArgs {
    pub outcome: ReviewOutcome,
}

/// The patient (or guardian) reviews a break-glass grant, once.
#[event_cpi]
#[derive(Accounts)]
pub struct BreakGlassReview<'info> {
    pub authority: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    pub patient: Account<'info, Patient>,
    #[account(
        mut,
        constraint = grant.patient == patient.wallet @ CareledgerError::GrantPatientMismatch,
    )]
    pub grant: Account<'info, ConsentGrant>,
}

impl<'info> BreakGlassReview<'info> {
    pub fn validate(&self, _args: &BreakGlassReviewArgs) -> Result<()> {
        self.actor(now()?)?;
        require!(
            self.grant.review == ReviewState::Pending,
            CareledgerError::NotAwaitingReview
        );
        Ok(())
    }

    /// Whoever opened an emergency access never reviews it, whoever they act for.
    fn actor(&self, at: i64) -> Result<Actor> {
        let by = self.authority.key();
        Ok(acting_for_unconflicted(
            &self.patient,
            &by,
            at,
            &[self.grant.grantee],
        )?)
    }

    pub fn handler(ctx: Context<Self>, args: BreakGlassReviewArgs) -> Result<()> {
        let at = now()?;
        let by = ctx.accounts.authority.key();
        let actor = ctx.accounts.actor(at)?;
        let grant = &mut ctx.accounts.grant;
        let revoked = args.outcome == ReviewOutcome::Disputed
            && grant.status == GrantStatus::Active
            && at < grant.expires_at;
        grant.review = match args.outcome {
            ReviewOutcome::Accepted => ReviewState::Accepted,
            ReviewOutcome::Disputed => ReviewState::Disputed,
        };
        if revoked {
            grant.status = GrantStatus::Revoked;
            grant.revoked_at = stamp(at)?;
        }
        grant.invariant()?;
        let event = BreakGlassReviewed {
            grant: grant.key(),
            patient: grant.patient,
            provider: grant.grantee,
            by,
            actor,
            outcome: grant.review,
            revoked,
            access_count: grant.access_count,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
