use crate::constants::{CONFIG_ADDRESS, PATIENT_SEED};
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::PatientRegistered;
use crate::instructions::now;
use crate::state::{Config, Patient};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct PatientRegister<'info> {
    #[account(mut)]
    pub wallet: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    /// CHECK: the new account's address (seeds checked here); created in the handler, which
    /// refuses an existing account and takes over a pre-funded one.
    #[account(
        mut,
        seeds = [PATIENT_SEED, wallet.key().as_ref()],
        bump,
    )]
    pub patient: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> PatientRegister<'info> {
    /// Nothing beyond the accounts: any wallet registers itself once (an existing patient is
    /// refused when the account is created).
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let wallet = ctx.accounts.wallet.key();
        let patient = Patient {
            wallet,
            guardian: Pubkey::default(),
            guardian_expires_at: 0,
            consent_epoch: 0,
            record_count: 0,
            grant_count: 0,
            emergency_count: 0,
            registered_at: at,
            bump: ctx.bumps.patient,
            epoch_changed_at: 0,
            consent_flags: 0,
            reserved: [0; 7],
        };
        patient.invariant()?;
        let bump = [ctx.bumps.patient];
        let seeds = Patient::seeds(&wallet, &bump);
        let a = &ctx.accounts;
        init_pda(
            &a.wallet,
            &a.patient,
            &a.system_program,
            &seeds,
            &patient,
            CareledgerError::PatientAlreadyRegistered,
        )?;
        let event = PatientRegistered {
            patient: a.patient.key(),
            wallet,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
