use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::StatementsRequired;
use crate::instructions::now;
use crate::state::{Config, Patient, CONSENT_STATEMENTS_REQUIRED};
use anchor_lang::prelude::*;

/// Only the patient themself turns the requirement on, and nobody turns it off: a transaction
/// the patient signs unread could otherwise lift it first. Works while paused (it protects).
#[event_cpi]
#[derive(Accounts)]
pub struct PatientRequireStatements<'info> {
    pub wallet: Signer<'info>,
    #[account(address = CONFIG_ADDRESS)]
    pub config: Account<'info, Config>,
    #[account(mut, has_one = wallet @ CareledgerError::NotPatientOrGuardian)]
    pub patient: Account<'info, Patient>,
}

impl<'info> PatientRequireStatements<'info> {
    pub fn validate(&self) -> Result<()> {
        require!(
            !self.patient.requires_statements(),
            CareledgerError::ConsentModeUnchanged
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let patient = &mut ctx.accounts.patient;
        patient.consent_flags |= CONSENT_STATEMENTS_REQUIRED;
        patient.invariant()?;
        let event = StatementsRequired {
            patient: patient.key(),
            wallet: patient.wallet,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
