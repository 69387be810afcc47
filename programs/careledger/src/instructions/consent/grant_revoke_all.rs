use crate::errors::CareledgerError;
use crate::events::AllGrantsRevoked;
use crate::instructions::now;
use crate::logic::authority::acting_for;
use crate::state::Patient;
use anchor_lang::prelude::*;

/// Voids every grant of the patient in one write by moving the consent epoch on.
/// Works while the program is paused.
#[event_cpi]
#[derive(Accounts)]
pub struct GrantRevokeAll<'info> {
    pub authority: Signer<'info>,
    #[account(mut)]
    pub patient: Account<'info, Patient>,
}

impl<'info> GrantRevokeAll<'info> {
    pub fn validate(&self) -> Result<()> {
        acting_for(&self.patient, &self.authority.key(), now()?)?;
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let by = ctx.accounts.authority.key();
        let actor = acting_for(&ctx.accounts.patient, &by, at)?;
        let patient = &mut ctx.accounts.patient;
        let old_epoch = patient.consent_epoch;
        patient.consent_epoch = old_epoch
            .checked_add(1)
            .ok_or(CareledgerError::MathOverflow)?;
        patient.epoch_changed_at = at;
        patient.invariant()?;
        let event = AllGrantsRevoked {
            patient: patient.wallet,
            by,
            actor,
            old_epoch,
            new_epoch: patient.consent_epoch,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
