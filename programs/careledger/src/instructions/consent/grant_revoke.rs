use crate::errors::CareledgerError;
use crate::events::GrantRevoked;
use crate::instructions::now;
use crate::logic::authority::acting_for_unconflicted;
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

pub fn handler(ctx: Context<GrantRevoke>) -> Result<()> {
    let at = now()?;
    let by = ctx.accounts.authority.key();
    let grant = &mut ctx.accounts.grant;
    // a guardian does not end a grant that is its own: revoking a research grant to the study
    // it sponsors would end the ward's rewards (the patient always may)
    let actor = acting_for_unconflicted(&ctx.accounts.patient, &by, at, &[grant.grantee])?;
    require!(
        grant.status == GrantStatus::Active,
        CareledgerError::GrantRevoked
    );
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
