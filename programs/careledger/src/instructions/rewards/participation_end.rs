use crate::errors::CareledgerError;
use crate::events::ParticipationEnded;
use crate::instructions::now;
use crate::instructions::rewards::participation_lapse;
use crate::logic::consent::Refusal;
use crate::logic::rewards::released_at_end;
use crate::state::{Participation, Patient, Study};
use anchor_lang::prelude::*;

/// Anyone records that a participant's consent lapsed (revoked, expired, voided by
/// `grant_revoke_all`, narrowed, closed or made again): the periods that had not come due by the
/// lapse are released from the study's reservation, so the sponsor can withdraw them. Periods
/// that came due before it stay reserved and claimable; past payouts stay.
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
    let lapse = participation_lapse(
        &a.research_grant,
        &a.study,
        &a.participation,
        &a.patient,
        at,
    )?
    .ok_or(CareledgerError::ConsentStillLive)?;
    let accounts = &mut *ctx.accounts;
    let (study, p) = (&mut accounts.study, &mut accounts.participation);
    let released = released_at_end(&study.terms, p.enrolled_at, p.periods_paid, lapse.at);
    study.outstanding = study
        .outstanding
        .checked_sub(released)
        .ok_or(CareledgerError::InvariantViolated)?;
    p.ended = true;
    p.accrual_end = lapse.at;
    p.invariant(study.terms.periods)?;
    study.invariant()?;
    let event = ParticipationEnded {
        study: study.key(),
        participation: p.key(),
        patient: p.patient,
        reason: lapse.reason.unwrap_or(Refusal::Revoked),
        lapsed_at: lapse.at,
        released,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
