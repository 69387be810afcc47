use crate::errors::CareledgerError;
use crate::events::ParticipationEnded;
use crate::instructions::now;
use crate::instructions::rewards::research_consent;
use crate::logic::consent::Refusal;
use crate::state::{Participation, Patient, Study};
use anchor_lang::prelude::*;

/// Anyone records that a participant's consent is gone (revoked, expired, voided by
/// `grant_revoke_all`, or closed): the periods not yet paid are released from the study's
/// reservation, so the sponsor can withdraw them. Past payouts stay.
#[event_cpi]
#[derive(Accounts)]
pub struct ParticipationEnd<'info> {
    pub caller: Signer<'info>,
    #[account(constraint = patient.wallet == participation.patient @ CareledgerError::WrongParticipant)]
    pub patient: Box<Account<'info, Patient>>,
    #[account(mut)]
    pub study: Box<Account<'info, Study>>,
    #[account(
        mut,
        constraint = participation.study == study.key() @ CareledgerError::WrongParticipant,
        constraint = !participation.ended @ CareledgerError::ParticipationEnded,
    )]
    pub participation: Box<Account<'info, Participation>>,
    /// CHECK: the participation's research grant (address constraint); decoded in the handler.
    #[account(address = participation.grant @ CareledgerError::WrongParticipant)]
    pub research_grant: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<ParticipationEnd>) -> Result<()> {
    let at = now()?;
    let a = &ctx.accounts;
    let consent = research_consent(
        &a.research_grant,
        &a.study,
        &a.participation.patient,
        a.patient.consent_epoch,
        at,
    )?;
    let reason = match consent {
        Ok(()) => return err!(CareledgerError::ConsentStillLive),
        Err(refusal) => refusal.unwrap_or(Refusal::Revoked),
    };
    let accounts = &mut *ctx.accounts;
    let (study, p) = (&mut accounts.study, &mut accounts.participation);
    let unpaid = study.terms.periods.saturating_sub(p.periods_paid);
    let released = study.terms.period_reward.saturating_mul(u64::from(unpaid));
    study.outstanding = study
        .outstanding
        .checked_sub(released)
        .ok_or(CareledgerError::InvariantViolated)?;
    p.ended = true;
    study.invariant()?;
    let event = ParticipationEnded {
        study: study.key(),
        participation: p.key(),
        patient: p.patient,
        reason,
        released,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
