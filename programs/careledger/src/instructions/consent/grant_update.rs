use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::{GrantTermsView, GrantUpdated};
use crate::instructions::now;
use crate::logic::authority::{acting_for_unconflicted, within_guardianship, Actor};
use crate::logic::terms::{validate_grant_terms, GrantTerms};
use crate::state::{stamp, Config, ConsentGrant, GrantStatus, Patient};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct GrantUpdateArgs {
    pub classes: u16,
    pub actions: u8,
    pub record_scope: u32,
    pub not_before: i64,
    pub expires_at: i64,
}

/// Narrows or extends a live grant at the patient's current epoch (the event carries old and
/// new terms). Revoked, older-epoch and break-glass grants cannot be updated.
#[event_cpi]
#[derive(Accounts)]
pub struct GrantUpdate<'info> {
    pub authority: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    pub patient: Account<'info, Patient>,
    #[account(
        mut,
        constraint = grant.patient == patient.wallet @ CareledgerError::GrantPatientMismatch,
    )]
    pub grant: Account<'info, ConsentGrant>,
}

impl<'info> GrantUpdate<'info> {
    pub fn validate(&self, args: &GrantUpdateArgs) -> Result<()> {
        self.updated(args, now()?).map(|_| ())
    }

    /// The signer's capacity and the grant as the update leaves it, every check passed, in the
    /// order their errors are reported.
    fn updated(&self, args: &GrantUpdateArgs, at: i64) -> Result<(Actor, ConsentGrant)> {
        let by = self.authority.key();
        let patient = &self.patient;
        let grant = &self.grant;
        // a guardian never changes a grant that is its own: widening it serves the guardian, and
        // narrowing a research grant to its own study ends the ward's rewards
        let actor = acting_for_unconflicted(patient, &by, at, &[grant.grantee])?;
        // Only a live grant can change: active, of the patient's current consent epoch, and not
        // expired. Consent that lapsed is not continued: an expired grant is granted anew, never
        // extended, so nothing that relies on unbroken consent can bridge the gap.
        require!(
            grant.status == GrantStatus::Active,
            CareledgerError::GrantRevoked
        );
        require_eq!(
            grant.consent_epoch,
            patient.consent_epoch,
            CareledgerError::GrantStaleEpoch
        );
        require!(at < grant.expires_at, CareledgerError::GrantLapsed);
        let old = GrantTerms {
            classes: grant.classes,
            actions: grant.actions,
            purpose: grant.purpose,
            record_scope: grant.record_scope,
            not_before: grant.not_before,
            expires_at: grant.expires_at,
        };
        let terms = GrantTerms {
            classes: args.classes,
            actions: args.actions,
            purpose: grant.purpose,
            record_scope: args.record_scope,
            not_before: args.not_before.max(at.min(grant.not_before)),
            expires_at: args.expires_at,
        };
        validate_grant_terms(&terms, at, patient.record_count)?;
        within_guardianship(actor, patient, terms.expires_at)?;
        require!(
            !patient.requires_statements() || !old.widened_by(&terms),
            CareledgerError::StatementRequired
        );
        let mut new = (**grant).clone();
        if new.narrowed_at == 0 && old.narrowed_by(&terms) {
            new.narrowed_at = stamp(at)?;
        }
        new.classes = terms.classes;
        new.actions = terms.actions;
        new.record_scope = terms.record_scope;
        new.not_before = terms.not_before;
        new.expires_at = terms.expires_at;
        // the signed statement, if any, no longer describes the grant: its hash must not back
        // terms the words do not say (the ConsentStatementSigned event keeps what was signed)
        new.statement_hash = [0; 32];
        require!(
            GrantTermsView::of(grant) != GrantTermsView::of(&new),
            CareledgerError::EmptyUpdate
        );
        Ok((actor, new))
    }

    pub fn handler(ctx: Context<Self>, args: GrantUpdateArgs) -> Result<()> {
        let at = now()?;
        let by = ctx.accounts.authority.key();
        let (actor, new) = ctx.accounts.updated(&args, at)?;
        let grant = &mut ctx.accounts.grant;
        let old_terms = GrantTermsView::of(grant);
        grant.set_inner(new);
        let new_terms = GrantTermsView::of(grant);
        grant.invariant()?;
        let event = GrantUpdated {
            grant: grant.key(),
            patient: grant.patient,
            grantee: grant.grantee,
            by,
            actor,
            purpose: grant.purpose,
            old_terms,
            new_terms,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
