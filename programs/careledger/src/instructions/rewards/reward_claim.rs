use crate::constants::{CONFIG_ADDRESS, PROTOCOL_SEED};
use crate::errors::CareledgerError;
use crate::events::RewardPaid;
use crate::instructions::now;
use crate::instructions::rewards::{consent_error, participation_lapse};
use crate::logic::authority::acting_for;
use crate::logic::rewards::{owed, Owed};
use crate::logic::trials::{accrual_end, stale_since};
use crate::state::{Config, Participation, Patient, Protocol, ProtocolVersion, Study};
use crate::vault::pay_out;
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

/// The patient (or guardian) collects the periodic rewards that came due while the research grant
/// was continuously live. Each period is paid once; a lapse of consent stops accrual at the moment
/// it happened, and the periods due before it stay claimable (after `participation_end` too).
#[event_cpi]
#[derive(Accounts)]
pub struct RewardClaim<'info> {
    pub authority: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    pub patient: Box<Account<'info, Patient>>,
    #[account(mut)]
    pub study: Box<Account<'info, Study>>,
    /// The study's protocol: a participant whose consent is to an older version than its newest
    /// material one accrues nothing from that version's registration on.
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
        constraint = participation.study == study.key() && participation.patient == patient.wallet
            @ CareledgerError::WrongParticipant,
    )]
    pub participation: Box<Account<'info, Participation>>,
    /// CHECK: the participation's research grant (address constraint); decoded in the handler.
    #[account(address = participation.grant @ CareledgerError::WrongParticipant)]
    pub research_grant: UncheckedAccount<'info>,
    #[account(address = study.mint @ CareledgerError::WrongMint)]
    pub mint: Box<Account<'info, Mint>>,
    #[account(mut, address = study.vault @ CareledgerError::ForeignVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// Any token account of the patient's for the study's mint.
    #[account(
        mut,
        constraint = patient_tokens.mint == study.mint @ CareledgerError::WrongMint,
        constraint = patient_tokens.owner == patient.wallet @ CareledgerError::WrongParticipant,
    )]
    pub patient_tokens: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl<'info> RewardClaim<'info> {
    /// The patient or guardian signs, and some period came due.
    pub fn validate(&self) -> Result<()> {
        self.due(now()?).map(|_| ())
    }

    /// The periods that came due while consent was live and current, and their amount; an
    /// error naming why when none did.
    fn due(&self, at: i64) -> Result<Owed> {
        acting_for(&self.patient, &self.authority.key(), at)?;
        let (study, p) = (&self.study, &self.participation);
        let lapse = participation_lapse(&self.research_grant, study, p, &self.patient, at)?;
        // consent to a protocol version older than its newest material one: nothing accrues
        // from that version's registration until the participant consents again
        let stale = stale_since(
            p.protocol_version,
            self.protocol.material_version,
            self.next_material.as_ref().map(|v| v.as_material()),
        )?;
        let due = owed(
            &study.terms,
            p.enrolled_at,
            p.periods_paid,
            accrual_end(lapse.map(|l| l.at), stale),
            at,
        );
        if due.periods == 0 {
            return Err(match lapse {
                _ if p.ended => error!(CareledgerError::ParticipationEnded),
                Some(l) => consent_error(l.reason),
                None if stale.is_some() => error!(CareledgerError::ReconsentRequired),
                None => error!(CareledgerError::NothingDue),
            });
        }
        Ok(due)
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let a = &ctx.accounts;
        let due = a.due(at)?;
        let study = &a.study;
        let vault_before = a.vault.amount;
        pay_out(
            &a.token_program,
            study,
            &a.mint,
            &a.vault,
            a.patient_tokens.to_account_info(),
            due.amount,
        )?;
        let destination = a.patient_tokens.key();
        let accounts = &mut *ctx.accounts;
        let (study, p) = (&mut accounts.study, &mut accounts.participation);
        let first_period = p
            .periods_paid
            .checked_add(1)
            .ok_or(CareledgerError::MathOverflow)?;
        p.periods_paid = due.through;
        if p.periods_paid == study.terms.periods && !p.ended {
            p.ended = true;
            p.accrual_end = at;
        }
        p.paid = p
            .paid
            .checked_add(due.amount)
            .ok_or(CareledgerError::MathOverflow)?;
        study.outstanding = study
            .outstanding
            .checked_sub(due.amount)
            .ok_or(CareledgerError::InvariantViolated)?;
        study.paid = study
            .paid
            .checked_add(due.amount)
            .ok_or(CareledgerError::MathOverflow)?;
        p.invariant(study.terms.periods)?;
        study.invariant()?;
        let event = RewardPaid {
            study: study.key(),
            participation: p.key(),
            patient: p.patient,
            first_period,
            last_period: due.through,
            amount: due.amount,
            destination,
            // the transfer of `amount` out of the vault succeeded
            vault_balance: vault_before.saturating_sub(due.amount),
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
