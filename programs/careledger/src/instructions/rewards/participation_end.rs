use crate::constants::PROTOCOL_SEED;
use crate::errors::CareledgerError;
use crate::events::ParticipationEnded;
use crate::instructions::now;
use crate::instructions::rewards::participation_lapse;
use crate::logic::consent::Refusal;
use crate::logic::rewards::{released_at_end, Lapse};
use crate::logic::trials::{accrual_end, stale_since};
use crate::state::{Participation, Patient, Protocol, ProtocolVersion, Study};
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
    /// The study's protocol: periods after the participant's consent went stale were never
    /// earned, so they are released too.
    #[account(
        seeds = [PROTOCOL_SEED, study.key().as_ref()],
        bump = protocol.bump,
    )]
    pub protocol: Box<Account<'info, Protocol>>,
    /// The first material protocol version after the participant's, when theirs is older than
    /// the newest material one (`logic::trials::stale_since` checks it).
    #[account(constraint = next_material.study == study.key() @ CareledgerError::NextMaterialVersionRequired)]
    pub next_material: Option<Box<Account<'info, ProtocolVersion>>>,
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

impl<'info> ParticipationEnd<'info> {
    pub fn validate(&self) -> Result<()> {
        self.ending(now()?).map(|_| ())
    }

    /// The lapse of consent that ends the participation (there must be one), and when accrual
    /// ended: at the lapse, or earlier when consent was to a stale protocol version.
    fn ending(&self, at: i64) -> Result<(Lapse, i64)> {
        let lapse = participation_lapse(
            &self.research_grant,
            &self.study,
            &self.participation,
            &self.patient,
            at,
        )?
        .ok_or(CareledgerError::ConsentStillLive)?;
        let stale = stale_since(
            self.participation.protocol_version,
            self.protocol.material_version,
            self.next_material.as_ref().map(|v| v.as_material()),
        )?;
        Ok((
            lapse,
            accrual_end(Some(lapse.at), stale).unwrap_or(lapse.at),
        ))
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let (lapse, end) = ctx.accounts.ending(at)?;
        let accounts = &mut *ctx.accounts;
        let (study, p) = (&mut accounts.study, &mut accounts.participation);
        let released = released_at_end(&study.terms, p.enrolled_at, p.periods_paid, end);
        study.outstanding = study
            .outstanding
            .checked_sub(released)
            .ok_or(CareledgerError::InvariantViolated)?;
        p.ended = true;
        p.accrual_end = end;
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
}
