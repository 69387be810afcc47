use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::GuardianChanged;
use crate::instructions::now;
use crate::logic::terms::validate_guardian_expiry;
use crate::state::{Config, Patient};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PatientSetGuardianArgs {
    /// The new guardian, or the default key to clear the appointment.
    pub guardian: Pubkey,
    /// Ignored (stored as 0) when clearing.
    pub guardian_expires_at: i64,
}

/// Only the patient themself appoints or removes a guardian (a guardian cannot re-appoint).
#[event_cpi]
#[derive(Accounts)]
pub struct PatientSetGuardian<'info> {
    pub wallet: Signer<'info>,
    /// Paused, the patient can still remove a guardian (a protective act), not appoint one.
    #[account(address = CONFIG_ADDRESS)]
    pub config: Account<'info, Config>,
    #[account(mut, has_one = wallet @ CareledgerError::NotPatientOrGuardian)]
    pub patient: Account<'info, Patient>,
}

impl<'info> PatientSetGuardian<'info> {
    pub fn validate(&self, args: &PatientSetGuardianArgs) -> Result<()> {
        let at = now()?;
        let clearing = args.guardian == Pubkey::default();
        require!(clearing || !self.config.paused, CareledgerError::Paused);
        if !clearing {
            // a guardian signs statements of their own: appointing one is a consent decision a
            // blind transaction must not make for a patient who requires statements
            require!(
                !self.patient.requires_statements(),
                CareledgerError::StatementRequired
            );
            require_keys_neq!(
                args.guardian,
                self.wallet.key(),
                CareledgerError::InvalidGuardian
            );
            validate_guardian_expiry(args.guardian_expires_at, at)?;
        }
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: PatientSetGuardianArgs) -> Result<()> {
        let at = now()?;
        let clearing = args.guardian == Pubkey::default();
        let patient = &mut ctx.accounts.patient;
        let old_guardian = patient.guardian;
        patient.guardian = args.guardian;
        patient.guardian_expires_at = if clearing {
            0
        } else {
            args.guardian_expires_at
        };
        patient.invariant()?;
        let event = GuardianChanged {
            patient: patient.key(),
            old_guardian,
            new_guardian: patient.guardian,
            guardian_expires_at: patient.guardian_expires_at,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
