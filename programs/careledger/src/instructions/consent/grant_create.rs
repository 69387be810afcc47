use crate::constants::{CONFIG_ADDRESS, GRANT_SEED};
use crate::create::{init_or_renew_grant, Renewed};
use crate::errors::CareledgerError;
use crate::events::{GrantClosed, GrantCreated, GrantTermsView};
use crate::instructions::now;
use crate::logic::authority::{acting_for_unconflicted, within_guardianship, Actor};
use crate::logic::terms::{validate_grant_terms, validate_purpose_for_roles, GrantTerms};
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
    /// CHECK: receives the rent of a spent grant this one replaces at its address, when someone
    /// other than `authority` paid it: must be that grant's `payer` (checked in the handler).
    #[account(mut)]
    pub previous_payer: Option<UncheckedAccount<'info>>,
}

impl<'info> GrantCreate<'info> {
    pub fn validate(&self, args: &GrantCreateArgs) -> Result<()> {
        require!(
            !self.patient.requires_statements(),
            CareledgerError::StatementRequired
        );
        proposed(&self.authority, &self.patient, &self.grantee_provider, args)?;
        Ok(())
    }

    pub fn handler(mut ctx: Context<Self>, args: GrantCreateArgs) -> Result<()> {
        let a = &mut ctx.accounts;
        let terms = proposed(&a.authority, &a.patient, &a.grantee_provider, &args)?;
        let made = make_grant(
            &a.authority,
            &mut a.patient,
            &a.grant,
            &a.system_program,
            a.previous_payer.as_deref(),
            ctx.bumps.grant,
            &terms,
            [0; 32],
        )?;
        if let Some(closed) = made.closed {
            emit_cpi!(closed);
        }
        emit_cpi!(made.created);
        Ok(())
    }
}

/// A grant the signer may make, with its terms checked: what `grant_create` and
/// `grant_create_signed` both start from.
pub(crate) struct Proposed {
    pub at: i64,
    pub by: Pubkey,
    pub actor: Actor,
    pub grantee: Pubkey,
    pub terms: GrantTerms,
}

pub(crate) fn proposed(
    authority: &Signer,
    patient: &Patient,
    grantee_provider: &Provider,
    args: &GrantCreateArgs,
) -> Result<Proposed> {
    let at = now()?;
    let by = authority.key();
    let grantee = grantee_provider.wallet;
    // a guardian cannot consent on the ward's behalf to themself
    let actor = acting_for_unconflicted(patient, &by, at, &[grantee])?;
    require_keys_neq!(grantee, patient.wallet, CareledgerError::SelfGrant);
    let terms = GrantTerms {
        classes: args.classes,
        actions: args.actions,
        purpose: args.purpose,
        record_scope: args.record_scope,
        not_before: args.not_before.max(at),
        expires_at: args.expires_at,
    };
    validate_grant_terms(&terms, at, patient.record_count)?;
    // a party that cannot hold health records for this purpose (a drug manufacturer, an
    // insurer asked to treat) receives no grant
    validate_purpose_for_roles(args.purpose, grantee_provider.roles)?;
    within_guardianship(actor, patient, terms.expires_at)?;
    Ok(Proposed {
        at,
        by,
        actor,
        grantee,
        terms,
    })
}

/// A grant made: its event, and the close of the spent grant it replaced at its address.
pub(crate) struct Made {
    pub created: GrantCreated,
    pub closed: Option<GrantClosed>,
}

/// The event of a spent grant replaced by `by`: closed, its rent back to its payer.
pub(crate) fn closed_by_renewal(
    address: Pubkey,
    renewed: Option<Renewed>,
    by: Pubkey,
    at: i64,
) -> Option<GrantClosed> {
    renewed.map(|r| GrantClosed {
        grant: address,
        patient: r.previous.patient,
        grantee: r.previous.grantee,
        by,
        rent_to: r.previous.payer,
        lamports: r.lamports,
        at,
    })
}

/// Counts the grant on the patient, writes the account (anew, where a spent grant stood) and
/// returns its events.
#[allow(clippy::too_many_arguments)]
pub(crate) fn make_grant<'info>(
    authority: &Signer<'info>,
    patient: &mut Account<'info, Patient>,
    grant_account: &UncheckedAccount<'info>,
    system_program: &Program<'info, System>,
    previous_payer: Option<&AccountInfo<'info>>,
    bump: u8,
    p: &Proposed,
    statement_hash: [u8; 32],
) -> Result<Made> {
    patient.grant_count = patient
        .grant_count
        .checked_add(1)
        .ok_or(CareledgerError::MathOverflow)?;
    patient.invariant()?;
    let (patient_wallet, consent_epoch, serial) =
        (patient.wallet, patient.consent_epoch, patient.grant_count);
    let grant = ConsentGrant {
        patient: patient_wallet,
        grantee: p.grantee,
        classes: p.terms.classes,
        actions: p.terms.actions,
        purpose: p.terms.purpose,
        status: GrantStatus::Active,
        review: ReviewState::NotRequired,
        bump,
        consent_epoch,
        record_scope: p.terms.record_scope,
        access_count: 0,
        not_before: p.terms.not_before,
        expires_at: p.terms.expires_at,
        created_at: stamp(p.at)?,
        revoked_at: 0,
        serial,
        narrowed_at: 0,
        payer: p.by,
        statement_hash,
    };
    grant.invariant()?;
    let renewed = init_or_renew_grant(
        authority,
        grant_account,
        system_program,
        bump,
        &grant,
        consent_epoch,
        p.at,
        previous_payer,
    )?;
    Ok(Made {
        created: GrantCreated {
            grant: grant_account.key(),
            patient: patient_wallet,
            grantee: p.grantee,
            by: p.by,
            actor: p.actor,
            purpose: p.terms.purpose,
            terms: GrantTermsView::of(&grant),
            consent_epoch,
            request: Pubkey::default(),
            at: p.at,
        },
        closed: closed_by_renewal(grant_account.key(), renewed, p.by, p.at),
    })
}
