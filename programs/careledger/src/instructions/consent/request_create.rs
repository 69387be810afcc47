use crate::constants::{CONFIG_ADDRESS, REQUEST_SEED};
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::AccessRequested;
use crate::instructions::now;
use crate::logic::consent::check_provider;
use crate::logic::terms::{validate_purpose_for_roles, validate_request};
use crate::state::{AccessRequest, Config, Patient, Provider, Purpose};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RequestCreateArgs {
    pub classes: u16,
    pub actions: u8,
    pub purpose: Purpose,
    /// Opaque, non-zero reason code.
    pub reason_code: u16,
    /// How long the grant should run once approved (60 s to 1 year).
    pub duration_secs: u32,
}

/// A verified provider asks a patient for consent; one pending request per patient and provider.
#[event_cpi]
#[derive(Accounts)]
pub struct RequestCreate<'info> {
    #[account(mut)]
    pub requester: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(constraint = requester_provider.wallet == requester.key() @ CareledgerError::GranteeMismatch)]
    pub requester_provider: Account<'info, Provider>,
    pub patient: Account<'info, Patient>,
    /// CHECK: the new account's address (seeds checked here); created in the handler, which
    /// refuses an existing account and takes over a pre-funded one.
    #[account(
        mut,
        seeds = [REQUEST_SEED, patient.wallet.as_ref(), requester.key().as_ref()],
        bump,
    )]
    pub request: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> RequestCreate<'info> {
    pub fn validate(&self, args: &RequestCreateArgs) -> Result<()> {
        check_provider(&self.requester_provider, now()?).map_err(CareledgerError::from)?;
        validate_request(args.classes, args.actions, args.purpose, args.duration_secs)?;
        validate_purpose_for_roles(args.purpose, self.requester_provider.roles)?;
        require!(args.reason_code != 0, CareledgerError::MissingReasonCode);
        require_keys_neq!(
            self.requester.key(),
            self.patient.wallet,
            CareledgerError::SelfGrant
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: RequestCreateArgs) -> Result<()> {
        let at = now()?;
        let requester = ctx.accounts.requester.key();
        let patient = ctx.accounts.patient.wallet;
        let request = AccessRequest {
            patient,
            requester,
            classes: args.classes,
            actions: args.actions,
            purpose: args.purpose,
            reason_code: args.reason_code,
            duration_secs: args.duration_secs,
            created_at: at,
            bump: ctx.bumps.request,
        };
        request.invariant()?;
        let bump = [ctx.bumps.request];
        let seeds = AccessRequest::seeds(&patient, &requester, &bump);
        let a = &ctx.accounts;
        init_pda(
            &a.requester,
            &a.request,
            &a.system_program,
            &seeds,
            &request,
            CareledgerError::RequestAlreadyPending,
        )?;
        let event = AccessRequested {
            request: a.request.key(),
            patient,
            requester,
            classes: args.classes,
            actions: args.actions,
            purpose: args.purpose,
            reason_code: args.reason_code,
            duration_secs: args.duration_secs,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
