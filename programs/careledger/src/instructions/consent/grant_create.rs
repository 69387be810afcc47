use crate::constants::{CONFIG_ADDRESS, GRANT_SEED};
use crate::create::init_grant;
use crate::errors::CareledgerError;
use crate::events::{GrantCreated, GrantTermsView};
use crate::instructions::now;
use crate::logic::authority::{acting_for, within_guardianship, Actor};
use crate::logic::terms::{validate_grant_terms, GrantTerms};
use crate::state::{
    stamp, Config, ConsentGrant, GrantStatus, Patient, Provider, Purpose, ReviewState,
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct GrantCreateArgs {
    /// Any purpose but emergency (break-glass only).
    pub purpose: Purpose,
    /// Bitmask of record class ids.
    pub classes: u16,
    /// Bitmask of read (1) | write (2).
    pub actions: u8,
    /// A single record index, or `NO_RECORD_SCOPE`.
    pub record_scope: u32,
    /// 0 (or any past time) means valid from now.
    pub not_before: i64,
    pub expires_at: i64,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: GrantCreateArgs)]
pub struct GrantCreate<'info> {
    /// The patient or their guardian; pays the rent.
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(mut)]
    pub patient: Account<'info, Patient>,
    /// The grantee must be a registered provider (any status: standing is checked at use).
    pub grantee_provider: Account<'info, Provider>,
    /// CHECK: the new grant's address (seeds checked here); created in the handler, which refuses
    /// an existing account and takes over a pre-funded one.
    #[account(
        mut,
        seeds = [GRANT_SEED, patient.wallet.as_ref(), grantee_provider.wallet.as_ref(), &args.purpose.seed()],
        bump,
    )]
    pub grant: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<GrantCreate>, args: GrantCreateArgs) -> Result<()> {
    let at = now()?;
    let by = ctx.accounts.authority.key();
    let actor = acting_for(&ctx.accounts.patient, &by, at)?;
    let grantee = ctx.accounts.grantee_provider.wallet;
    require_keys_neq!(
        grantee,
        ctx.accounts.patient.wallet,
        CareledgerError::SelfGrant
    );
    // a guardian cannot consent on the ward's behalf to themself
    require!(
        actor != Actor::Guardian || grantee != ctx.accounts.patient.guardian,
        CareledgerError::SelfGrant
    );
    let terms = GrantTerms {
        classes: args.classes,
        actions: args.actions,
        purpose: args.purpose,
        record_scope: args.record_scope,
        not_before: args.not_before.max(at),
        expires_at: args.expires_at,
    };
    validate_grant_terms(&terms, at, ctx.accounts.patient.record_count)?;
    within_guardianship(actor, &ctx.accounts.patient, terms.expires_at)?;
    let patient = &mut ctx.accounts.patient;
    patient.grant_count = patient
        .grant_count
        .checked_add(1)
        .ok_or(CareledgerError::MathOverflow)?;
    patient.invariant()?;
    let (patient_wallet, consent_epoch, serial) =
        (patient.wallet, patient.consent_epoch, patient.grant_count);
    let grant = ConsentGrant {
        patient: patient_wallet,
        grantee,
        classes: terms.classes,
        actions: terms.actions,
        purpose: terms.purpose,
        status: GrantStatus::Active,
        review: ReviewState::NotRequired,
        bump: ctx.bumps.grant,
        consent_epoch,
        record_scope: terms.record_scope,
        access_count: 0,
        not_before: terms.not_before,
        expires_at: terms.expires_at,
        created_at: stamp(at)?,
        revoked_at: 0,
        serial,
        narrowed_at: 0,
        payer: by,
    };
    grant.invariant()?;
    let a = &ctx.accounts;
    init_grant(
        &a.authority,
        &a.grant,
        &a.system_program,
        ctx.bumps.grant,
        &grant,
    )?;
    let event = GrantCreated {
        grant: a.grant.key(),
        patient: patient_wallet,
        grantee,
        by,
        actor,
        purpose: terms.purpose,
        terms: GrantTermsView::of(&grant),
        consent_epoch,
        request: Pubkey::default(),
        at,
    };
    emit_cpi!(event);
    Ok(())
}
