use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::GrantClosed;
use crate::instructions::now;
use crate::logic::authority::acting_for_unconflicted;
use crate::logic::consent::grant_is_spent;
use crate::state::{Config, ConsentGrant, Patient, ReviewState};
use anchor_lang::prelude::*;

/// Closes a grant that can never authorize again (revoked, expired or older epoch) and returns
/// its rent to whoever paid it: the patient or the guardian who gave it, the clinician for a
/// break-glass grant (only once the patient has reviewed it).
#[event_cpi]
#[derive(Accounts)]
pub struct GrantClose<'info> {
    pub authority: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    pub patient: Account<'info, Patient>,
    #[account(
        mut,
        close = rent_to,
        constraint = grant.patient == patient.wallet @ CareledgerError::GrantPatientMismatch,
    )]
    pub grant: Account<'info, ConsentGrant>,
    /// CHECK: only receives lamports; its address is checked against the grant's payer below.
    #[account(mut)]
    pub rent_to: UncheckedAccount<'info>,
}

impl<'info> GrantClose<'info> {
    pub fn validate(&self) -> Result<()> {
        let at = now()?;
        let (patient, grant) = (&self.patient, &self.grant);
        // closing a research grant before its participation ends forfeits the ward's uncollected
        // rewards: never the act of a guardian who is the grantee
        acting_for_unconflicted(patient, &self.authority.key(), at, &[grant.grantee])?;
        require!(
            grant_is_spent(grant, patient.consent_epoch, at),
            CareledgerError::GrantStillLive
        );
        require!(
            grant.review != ReviewState::Pending,
            CareledgerError::ReviewPending
        );
        require_keys_eq!(
            self.rent_to.key(),
            grant.payer,
            CareledgerError::WrongRentDestination
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let grant = &ctx.accounts.grant;
        let event = GrantClosed {
            grant: grant.key(),
            patient: grant.patient,
            grantee: grant.grantee,
            by: ctx.accounts.authority.key(),
            rent_to: grant.payer,
            lamports: grant.to_account_info().lamports(),
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
