use crate::errors::CareledgerError;
use crate::events::InvitationClosed;
use crate::instructions::now;
use crate::state::{Invitation, Study};
use anchor_lang::prelude::*;

/// The sponsor closes an invitation: an unused one is withdrawn, a used one only returns its
/// rent (the participation it enrolled is unaffected). Rent goes to whoever paid it.
#[event_cpi]
#[derive(Accounts)]
pub struct InvitationClose<'info> {
    pub sponsor: Signer<'info>,
    #[account(has_one = sponsor @ CareledgerError::NotStudySponsor)]
    pub study: Box<Account<'info, Study>>,
    #[account(
        mut,
        close = rent_to,
        constraint = invitation.study == study.key() @ CareledgerError::WrongParticipant,
    )]
    pub invitation: Box<Account<'info, Invitation>>,
    /// CHECK: only receives lamports; must be the invitation's payer (constraint).
    #[account(mut, address = invitation.invited_by @ CareledgerError::WrongRentDestination)]
    pub rent_to: UncheckedAccount<'info>,
}

impl<'info> InvitationClose<'info> {
    /// Nothing beyond the accounts: the sponsor closes its own invitation (constraints).
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let i = &ctx.accounts.invitation;
        emit_cpi!(InvitationClosed {
            study: i.study,
            invitation: i.key(),
            patient: i.patient,
            used: i.used_at != 0,
            at: now()?,
        });
        Ok(())
    }
}
