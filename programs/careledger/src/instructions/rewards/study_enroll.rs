use crate::constants::{CONFIG_ADDRESS, PARTICIPATION_SEED};
use crate::errors::CareledgerError;
use crate::events::ParticipantEnrolled;
use crate::instructions::rewards::{consent_error, pay_from_study, research_consent};
use crate::instructions::{create_pda, is_vacant, now, write_new_account};
use crate::logic::authority::acting_for;
use crate::state::{Config, Participation, Patient, Study};
use anchor_lang::prelude::*;
use anchor_spl::associated_token::{self, AssociatedToken};
use anchor_spl::token::{Mint, Token, TokenAccount};

/// The patient (or guardian) enrols in a study under a live research grant to the sponsor that
/// covers the study's classes (the SDK can put `grant_create` in the same transaction). The
/// enrolment reward goes to the patient's associated token account, created when missing.
#[event_cpi]
#[derive(Accounts)]
pub struct StudyEnroll<'info> {
    /// The patient or guardian; pays for the participation and, if needed, the token account.
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    pub patient: Box<Account<'info, Patient>>,
    /// Owner of the patient's associated token account.
    /// CHECK: must be the patient's wallet (constraint).
    #[account(address = patient.wallet @ CareledgerError::WrongParticipant)]
    pub patient_wallet: UncheckedAccount<'info>,
    #[account(mut)]
    pub study: Box<Account<'info, Study>>,
    /// CHECK: the research grant to the sponsor; decoded in the handler so that a missing grant
    /// gets its own error (`NoResearchConsent`).
    pub research_grant: UncheckedAccount<'info>,
    /// CHECK: the new participation; its seeds are checked here and the handler refuses one
    /// that exists (`AlreadyEnrolled`).
    #[account(
        mut,
        seeds = [PARTICIPATION_SEED, study.key().as_ref(), patient.wallet.as_ref()],
        bump,
    )]
    pub participation: UncheckedAccount<'info>,
    #[account(address = study.mint @ CareledgerError::WrongMint)]
    pub mint: Box<Account<'info, Mint>>,
    #[account(mut, address = study.vault @ CareledgerError::ForeignVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// CHECK: the patient's associated token account for the study's mint; the associated token
    /// program creates it if missing and refuses any other address.
    #[account(mut)]
    pub patient_tokens: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub associated_token_program: Program<'info, AssociatedToken>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<StudyEnroll>) -> Result<()> {
    let at = now()?;
    let a = &ctx.accounts;
    let by = a.authority.key();
    let actor = acting_for(&a.patient, &by, at)?;
    let study = &a.study;
    require!(
        study.enrolment_open(at) && at >= study.enrol_start,
        CareledgerError::EnrolmentClosed
    );
    require!(
        study.participants < study.max_participants,
        CareledgerError::StudyFull
    );
    let wallet = a.patient.wallet;
    research_consent(
        &a.research_grant,
        study,
        &wallet,
        a.patient.consent_epoch,
        at,
    )?
    .map_err(consent_error)?;
    require!(
        is_vacant(&a.participation),
        CareledgerError::AlreadyEnrolled
    );
    let terms = study.terms;
    let periodic = terms
        .periodic_total()
        .ok_or(CareledgerError::MathOverflow)?;
    let escrow = periodic
        .checked_add(terms.enrolment_reward)
        .ok_or(CareledgerError::MathOverflow)?;
    require!(
        study.unreserved(a.vault.amount) >= escrow,
        CareledgerError::VaultShort
    );

    associated_token::create_idempotent(CpiContext::new(
        a.associated_token_program.key(),
        associated_token::Create {
            payer: a.authority.to_account_info(),
            associated_token: a.patient_tokens.to_account_info(),
            authority: a.patient_wallet.to_account_info(),
            mint: a.mint.to_account_info(),
            system_program: a.system_program.to_account_info(),
            token_program: a.token_program.to_account_info(),
        },
    ))?;
    pay_from_study(
        &a.token_program,
        study,
        &a.mint,
        &a.vault,
        a.patient_tokens.to_account_info(),
        terms.enrolment_reward,
    )?;

    let (study_key, participation_key) = (study.key(), a.participation.key());
    let bump = [ctx.bumps.participation];
    let seeds: &[&[u8]] = &[
        PARTICIPATION_SEED,
        study_key.as_ref(),
        wallet.as_ref(),
        &bump,
    ];
    create_pda(
        &a.authority,
        &a.participation.to_account_info(),
        &a.system_program,
        8 + Participation::INIT_SPACE,
        seeds,
        &crate::ID,
    )?;
    let participation = Participation {
        study: study_key,
        patient: wallet,
        grant: a.research_grant.key(),
        enrolled_at: at,
        periods_paid: 0,
        ended: terms.periods == 0 || terms.period_reward == 0,
        bump: ctx.bumps.participation,
        paid: terms.enrolment_reward,
    };
    participation.invariant(terms.periods)?;
    write_new_account(
        &ctx.accounts.participation.to_account_info(),
        &participation,
    )?;
    let (grant, destination) = (a.research_grant.key(), a.patient_tokens.key());
    let study = &mut ctx.accounts.study;
    study.participants = study
        .participants
        .checked_add(1)
        .ok_or(CareledgerError::MathOverflow)?;
    study.outstanding = study
        .outstanding
        .checked_add(periodic)
        .ok_or(CareledgerError::MathOverflow)?;
    study.paid = study
        .paid
        .checked_add(terms.enrolment_reward)
        .ok_or(CareledgerError::MathOverflow)?;
    study.invariant()?;
    let event = ParticipantEnrolled {
        study: study_key,
        participation: participation_key,
        patient: wallet,
        by,
        actor,
        grant,
        reward: terms.enrolment_reward,
        destination,
        participants: study.participants,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
