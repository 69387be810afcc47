use crate::errors::CareledgerError;
use crate::events::GrantRevoked;
use crate::instructions::now;
use crate::logic::authority::{acting_for_unconflicted, Actor};
use crate::state::{stamp, ConsentGrant, GrantStatus, Patient};
use anchor_lang::prelude::*;

/// Revokes one grant. Works while the program is paused: withdrawing consent is never blocked.
#[event_cpi]
#[derive(Accounts)]
pub struct GrantRevoke<'info> {
    pub authority: Signer<'info>,
    pub patient: Account<'info, Patient>,
    #[account(
        mut,
        constraint = grant.patient == patient.wallet @ CareledgerError::GrantPatientMismatch,
    )]
    pub grant: Account<'info, ConsentGrant>,
}

impl<'info> GrantRevoke<'info> {
    pub fn validate(&self) -> Result<()> {
        self.actor(now()?)?;
        require!(
            self.grant.status == GrantStatus::Active,
            CareledgerError::GrantRevoked
        );
        Ok(())
    }

    /// A guardian does not end a grant that is its own: revoking a research grant to the study
    /// it sponsors would end the ward's rewards (the patient always may).
    fn actor(&self, at: i64) -> Result<Actor> {
        let by = self.authority.key();
        Ok(acting_for_unconflicted(
            &self.patient,
            &by,
            at,
            &[self.grant.grantee],
        )?)
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let by = ctx.accounts.authority.key();
        let actor = ctx.accounts.actor(at)?;
        let grant = &mut ctx.accounts.grant;
        grant.status = GrantStatus::Revoked;
        grant.revoked_at = stamp(at)?;
        grant.invariant()?;
        let event = GrantRevoked {
            grant: grant.key(),
            patient: grant.patient,
            grantee: grant.grantee,
            by,
            actor,
            purpose: grant.purpose,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
