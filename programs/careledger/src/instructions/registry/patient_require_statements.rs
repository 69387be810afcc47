use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::ConsentModeSet;
use crate::instructions::now;
use crate::state::{Config, Patient, CONSENT_STATEMENTS_REQUIRED};
use anchor_lang::prelude::*;

/// Only the patient themself turns the requirement on or off (a guardian cannot lift it).
/// Turning it on protects and works while paused; turning it off does not.
#[event_cpi]
#[derive(Accounts)]
pub struct PatientRequireStatements<'info> {
    pub wallet: Signer<'info>,
    #[account(address = CONFIG_ADDRESS)]
    pub config: Account<'info, Config>,
    #[account(mut, has_one = wallet @ CareledgerError::NotPatientOrGuardian)]
    pub patient: Account<'info, Patient>,
}

pub fn handler(ctx: Context<PatientRequireStatements>, required: bool) -> Result<()> {
    let at = now()?;
    require!(
        required || !ctx.accounts.config.paused,
        CareledgerError::Paused
    );
    let patient = &mut ctx.accounts.patient;
    require!(
        patient.requires_statements() != required,
        CareledgerError::ConsentModeUnchanged
    );
    if required {
        patient.consent_flags |= CONSENT_STATEMENTS_REQUIRED;
    } else {
        patient.consent_flags &= !CONSENT_STATEMENTS_REQUIRED;
    }
    patient.invariant()?;
    let event = ConsentModeSet {
        patient: patient.key(),
        wallet: patient.wallet,
        statements_required: required,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
