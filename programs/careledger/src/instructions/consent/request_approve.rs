use crate::constants::{CONFIG_ADDRESS, GRANT_SEED, NO_RECORD_SCOPE};
use crate::create::init_or_renew_grant;
use crate::errors::CareledgerError;
use crate::events::{AccessRequestDecided, GrantCreated, GrantTermsView};
use crate::instructions::consent::grant_create::closed_by_renewal;
use crate::instructions::now;
use crate::logic::authority::{acting_for_unconflicted, within_guardianship, Actor};
use crate::logic::terms::validate_approval;
use crate::state::{stamp, AccessRequest, Config, ConsentGrant, GrantStatus, Patient, ReviewState};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RequestApproveArgs {
    /// A subset of the requested classes.
    pub classes: u16,
    /// A subset of the requested actions.
    pub actions: u8,
    /// At most `duration_secs` after now.
    pub expires_at: i64,
}

/// The patient (or guardian) approves a request: the grant is created and the request closed,
/// its rent going back to the requester.
#[event_cpi]
#[derive(Accounts)]
pub struct RequestApprove<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(mut)]
    pub patient: Account<'info, Patient>,
    #[account(
        mut,
        close = requester,
        constraint = request.patient == patient.wallet @ CareledgerError::GrantPatientMismatch,
        has_one = requester @ CareledgerError::GranteeMismatch,
    )]
    pub request: Account<'info, AccessRequest>,
    /// CHECK: receives the request's rent; bound to `request.requester` by `has_one`.
    #[account(mut)]
    pub requester: UncheckedAccount<'info>,
    /// CHECK: the new account's address (seeds checked here); created in the handler, which
    /// refuses an existing account and takes over a pre-funded one.
    #[account(
        mut,
        seeds = [GRANT_SEED, patient.wallet.as_ref(), request.requester.as_ref(), &request.purpose.seed()],
        bump,
    )]
    pub grant: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
    /// CHECK: receives the rent of a spent grant the approval replaces at its address, when
    /// someone other than `authority` paid it: must be that grant's `payer` (checked in the handler).
    #[account(mut)]
    pub previous_payer: Option<UncheckedAccount<'info>>,
}

impl<'info> RequestApprove<'info> {
    pub fn validate(&self, args: &RequestApproveArgs) -> Result<()> {
        self.actor(args, now()?).map(|_| ())
    }

    /// The signer's capacity, every check of the approval passed.
    fn actor(&self, args: &RequestApproveArgs, at: i64) -> Result<Actor> {
        let by = self.authority.key();
        let request = &self.request;
        // a guardian cannot approve on the ward's behalf its own request
        let actor = acting_for_unconflicted(&self.patient, &by, at, &[request.requester])?;
        // an approval is signed unread like any transaction: a patient who requires statements
        // grants the requester with grant_create_signed instead
        require!(
            !self.patient.requires_statements(),
            CareledgerError::StatementRequired
        );
        validate_approval(
            request.classes,
            request.actions,
            request.duration_secs,
            args.classes,
            args.actions,
            args.expires_at,
            at,
        )?;
        within_guardianship(actor, &self.patient, args.expires_at)?;
        Ok(actor)
    }

    pub fn handler(ctx: Context<Self>, args: RequestApproveArgs) -> Result<()> {
        let at = now()?;
        let by = ctx.accounts.authority.key();
        let actor = ctx.accounts.actor(&args, at)?;
        let request = &ctx.accounts.request;
        let (request_key, requester, purpose) = (request.key(), request.requester, request.purpose);
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
            grantee: requester,
            classes: args.classes,
            actions: args.actions,
            purpose,
            status: GrantStatus::Active,
            review: ReviewState::NotRequired,
            bump: ctx.bumps.grant,
            consent_epoch,
            record_scope: NO_RECORD_SCOPE,
            access_count: 0,
            not_before: at,
            expires_at: args.expires_at,
            created_at: stamp(at)?,
            revoked_at: 0,
            serial,
            narrowed_at: 0,
            payer: by,
            statement_hash: [0; 32],
        };
        grant.invariant()?;
        let a = &ctx.accounts;
        let renewed = init_or_renew_grant(
            &a.authority,
            &a.grant,
            &a.system_program,
            ctx.bumps.grant,
            &grant,
            consent_epoch,
            at,
            a.previous_payer.as_deref(),
        )?;
        let grant_key = a.grant.key();
        let closed = closed_by_renewal(grant_key, renewed, by, at);
        let created = GrantCreated {
            grant: grant_key,
            patient: patient_wallet,
            grantee: requester,
            by,
            actor,
            purpose,
            terms: GrantTermsView::of(&grant),
            consent_epoch,
            request: request_key,
            at,
        };
        let decided = AccessRequestDecided {
            request: request_key,
            patient: patient_wallet,
            requester,
            by,
            actor,
            approved: true,
            grant: grant_key,
            reason_code: 0,
            at,
        };
        emit_cpi!(decided);
        if let Some(closed) = closed {
            emit_cpi!(closed);
        }
        emit_cpi!(created);
        Ok(())
    }
}
