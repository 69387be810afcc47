use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::AccessRequestDecided;
use crate::instructions::now;
use crate::logic::authority::acting_for;
use crate::state::{AccessRequest, Config, Patient};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RequestDenyArgs {
    /// Opaque, non-zero reason code.
    pub reason_code: u16,
}

/// The patient (or guardian) denies a request; it is closed and its rent returned.
#[event_cpi]
#[derive(Accounts)]
pub struct RequestDeny<'info> {
    pub authority: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
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
}

impl<'info> RequestDeny<'info> {
    pub fn validate(&self, args: &RequestDenyArgs) -> Result<()> {
        require!(args.reason_code != 0, CareledgerError::MissingReasonCode);
        acting_for(&self.patient, &self.authority.key(), now()?)?;
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: RequestDenyArgs) -> Result<()> {
        let at = now()?;
        let by = ctx.accounts.authority.key();
        let actor = acting_for(&ctx.accounts.patient, &by, at)?;
        let request = &ctx.accounts.request;
        let event = AccessRequestDecided {
            request: request.key(),
            patient: request.patient,
            requester: request.requester,
            by,
            actor,
            approved: false,
            grant: Pubkey::default(),
            reason_code: args.reason_code,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
