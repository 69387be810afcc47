use crate::constants::{CONFIG_ADDRESS, GRANT_SEED, NO_RECORD_SCOPE};
use crate::errors::CareledgerError;
use crate::events::BreakGlassOpened;
use crate::instructions::consent::init_grant;
use crate::instructions::now;
use crate::logic::consent::check_provider;
use crate::logic::terms::{validate_actions, validate_break_glass_window};
use crate::state::{
    stamp, Config, ConsentGrant, GrantStatus, Patient, Provider, Purpose, ReviewState,
    ROLE_EMERGENCY,
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct BreakGlassOpenArgs {
    pub classes: u16,
    pub actions: u8,
    /// At least 60 s and at most the config's `max_break_glass_secs`.
    pub window_secs: u32,
    /// Opaque, non-zero reason code (why the emergency).
    pub reason_code: u16,
}

/// A verified emergency clinician opens a short emergency grant without the patient's
/// signature. It is flagged for the patient's review and its rent is the provider's.
#[event_cpi]
#[derive(Accounts)]
pub struct BreakGlassOpen<'info> {
    #[account(mut)]
    pub clinician: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(constraint = provider.wallet == clinician.key() @ CareledgerError::GranteeMismatch)]
    pub provider: Account<'info, Provider>,
    #[account(mut)]
    pub patient: Account<'info, Patient>,
    /// CHECK: the new account's address (seeds checked here: each emergency has its own, by the
    /// patient's next emergency serial, so an old one keeps its review while a new one opens);
    /// created in the handler, which refuses an existing account and takes over a pre-funded one.
    #[account(
        mut,
        seeds = [
            GRANT_SEED,
            patient.wallet.as_ref(),
            clinician.key().as_ref(),
            &Purpose::Emergency.seed(),
            &patient.next_emergency_serial().to_le_bytes(),
        ],
        bump,
    )]
    pub grant: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<BreakGlassOpen>, args: BreakGlassOpenArgs) -> Result<()> {
    let at = now()?;
    let provider = &ctx.accounts.provider;
    check_provider(provider, at).map_err(CareledgerError::from)?;
    require!(
        provider.has_role(ROLE_EMERGENCY),
        CareledgerError::MissingRole
    );
    require!(args.classes != 0, CareledgerError::InvalidClasses);
    validate_actions(args.actions)?;
    validate_break_glass_window(args.window_secs, ctx.accounts.config.max_break_glass_secs)?;
    require!(args.reason_code != 0, CareledgerError::MissingReasonCode);
    let clinician = ctx.accounts.clinician.key();
    require_keys_neq!(
        clinician,
        ctx.accounts.patient.wallet,
        CareledgerError::SelfGrant
    );
    let expires_at = at
        .checked_add(i64::from(args.window_secs))
        .ok_or(CareledgerError::MathOverflow)?;
    let patient = &mut ctx.accounts.patient;
    patient.emergency_count = patient
        .emergency_count
        .checked_add(1)
        .ok_or(CareledgerError::MathOverflow)?;
    patient.invariant()?;
    let (patient_wallet, consent_epoch, serial) = (
        patient.wallet,
        patient.consent_epoch,
        patient.emergency_count,
    );
    let grant = ConsentGrant {
        patient: patient_wallet,
        grantee: clinician,
        classes: args.classes,
        actions: args.actions,
        purpose: Purpose::Emergency,
        status: GrantStatus::Active,
        review: ReviewState::Pending,
        bump: ctx.bumps.grant,
        consent_epoch,
        record_scope: NO_RECORD_SCOPE,
        access_count: 0,
        not_before: at,
        expires_at,
        created_at: stamp(at)?,
        revoked_at: 0,
        serial,
        narrowed_at: 0,
        payer: clinician,
    };
    grant.invariant()?;
    let a = &ctx.accounts;
    init_grant(
        &a.clinician,
        &a.grant,
        &a.system_program,
        ctx.bumps.grant,
        &grant,
    )?;
    let event = BreakGlassOpened {
        grant: a.grant.key(),
        patient: patient_wallet,
        provider: clinician,
        classes: args.classes,
        reason_code: args.reason_code,
        window_secs: args.window_secs,
        expires_at,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
