use crate::constants::{CONFIG_ADDRESS, PATIENT_SEED};
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
    #[account(
        init,
        payer = wallet,
        space = 8 + Patient::INIT_SPACE,
        seeds = [PATIENT_SEED, wallet.key().as_ref()],
        bump,
    )]
    pub patient: Account<'info, Patient>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<PatientRegister>) -> Result<()> {
    let at = now()?;
    let wallet = ctx.accounts.wallet.key();
    let patient = &mut ctx.accounts.patient;
    patient.set_inner(Patient {
        wallet,
        guardian: Pubkey::default(),
        guardian_expires_at: 0,
        consent_epoch: 0,
        record_count: 0,
        grant_count: 0,
        emergency_count: 0,
        registered_at: at,
        bump: ctx.bumps.patient,
        reserved: [0; 16],
    });
    patient.invariant()?;
    let event = PatientRegistered {
        patient: patient.key(),
        wallet,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
