use crate::constants::{CONFIG_ADDRESS, PROTOCOL_VERSION_SEED};
use crate::errors::CareledgerError;
use crate::events::ParticipantReconsented;
use crate::instructions::consent::grant_create_signed::{alone_in_transaction, checked_statement};
use crate::instructions::now;
use crate::instructions::rewards::{consent_error, participation_lapse};
use crate::logic::authority::{acting_for_unconflicted, Actor};
use crate::logic::statement::{render_reconsent, statement_hash, ReconsentTerms, SignedForm};
use crate::logic::trials::{reconsent_settlement, stale_since, Reconsent};
use crate::state::{Config, Participation, Patient, Protocol, ProtocolVersion, Study};
use anchor_lang::prelude::*;

/// A participant (or guardian) consents to the protocol's current version, against the
/// statement naming that version and its document's hash that they signed: the Ed25519 check
/// of it comes just before this instruction, which rides alone, as a signed grant does. Accrual
/// resumes; the periods that came due while their consent was stale are forfeited and released.
#[event_cpi]
#[derive(Accounts)]
pub struct ParticipationReconsent<'info> {
    pub authority: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    pub patient: Box<Account<'info, Patient>>,
    #[account(mut)]
    pub study: Box<Account<'info, Study>>,
    #[account(
        constraint = protocol.study == study.key() @ CareledgerError::ProtocolNotRegistered,
    )]
    pub protocol: Box<Account<'info, Protocol>>,
    /// The protocol's current version: its document hash is in the statement.
    #[account(
        seeds = [PROTOCOL_VERSION_SEED, study.key().as_ref(), &protocol.version.to_le_bytes()],
        bump = current_version.bump,
    )]
    pub current_version: Box<Account<'info, ProtocolVersion>>,
    /// The first material protocol version after the participant's, when theirs is older than
    /// the newest material one (`logic::trials::stale_since` checks it).
    #[account(constraint = next_material.study == study.key() @ CareledgerError::NextMaterialVersionRequired)]
    pub next_material: Option<Box<Account<'info, ProtocolVersion>>>,
    #[account(
        mut,
        constraint = participation.study == study.key() && participation.patient == patient.wallet
            @ CareledgerError::WrongParticipant,
        constraint = !participation.ended @ CareledgerError::ParticipationEnded,
    )]
    pub participation: Box<Account<'info, Participation>>,
    /// CHECK: the participation's research grant (address constraint); decoded in the handler:
    /// a lapsed consent cannot be renewed here.
    #[account(address = participation.grant @ CareledgerError::WrongParticipant)]
    pub research_grant: UncheckedAccount<'info>,
    /// CHECK: the instructions sysvar (address checked), to read the Ed25519 check before this
    /// instruction.
    #[account(address = solana_instructions_sysvar::ID)]
    pub instructions: UncheckedAccount<'info>,
}

/// A re-consent's checks passed: the signer's capacity, the statement and the form it was
/// signed in, and what the stale periods settle to.
struct Reconsenting {
    actor: Actor,
    statement: Vec<u8>,
    form: SignedForm,
    settled: Reconsent,
}

impl<'info> ParticipationReconsent<'info> {
    pub fn validate(&self) -> Result<()> {
        self.reconsent(now()?).map(|_| ())
    }

    /// Every check, in the order their errors are reported: a signer who may act for the
    /// patient and is neither sponsor nor site, a participant behind the current version whose
    /// consent is still live, the Ed25519 check of the statement naming that version, alone in
    /// its transaction, and the next material version when one is needed.
    fn reconsent(&self, at: i64) -> Result<Reconsenting> {
        let by = self.authority.key();
        let study = &self.study;
        // a guardian does not consent for the ward to a study it sponsors or runs
        let actor = acting_for_unconflicted(&self.patient, &by, at, &[study.sponsor, study.site])?;
        let p = &self.participation;
        require!(
            p.protocol_version < self.protocol.version,
            CareledgerError::ReconsentNotNeeded
        );
        if let Some(lapse) = participation_lapse(&self.research_grant, study, p, &self.patient, at)?
        {
            return Err(consent_error(lapse.reason));
        }
        let statement = render_reconsent(&ReconsentTerms {
            study: study.key(),
            participation: p.key(),
            patient: self.patient.wallet,
            signer: by,
            actor,
            protocol_version: self.protocol.version,
            document_sha256: self.current_version.document_sha256,
        });
        alone_in_transaction(&self.instructions)?;
        let form = checked_statement(&self.instructions, &by, &statement)?;
        let stale = stale_since(
            p.protocol_version,
            self.protocol.material_version,
            self.next_material.as_ref().map(|v| v.as_material()),
        )?;
        let settled = reconsent_settlement(&study.terms, p.enrolled_at, p.periods_paid, stale, at)?;
        Ok(Reconsenting {
            actor,
            statement,
            form,
            settled,
        })
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let a = &ctx.accounts;
        let by = a.authority.key();
        let Reconsenting {
            actor,
            statement,
            form,
            settled,
        } = a.reconsent(at)?;
        let to_version = a.protocol.version;
        let accounts = &mut *ctx.accounts;
        let (study, p) = (&mut accounts.study, &mut accounts.participation);
        let from_version = p.protocol_version;
        p.protocol_version = to_version;
        p.periods_paid = settled.periods_settled;
        p.periods_forfeited = p
            .periods_forfeited
            .checked_add(settled.forfeited)
            .ok_or(CareledgerError::MathOverflow)?;
        if p.periods_paid == study.terms.periods {
            // every period is paid or forfeited: nothing more can accrue
            p.ended = true;
            p.accrual_end = at;
        }
        study.outstanding = study
            .outstanding
            .checked_sub(settled.released)
            .ok_or(CareledgerError::InvariantViolated)?;
        p.invariant(study.terms.periods)?;
        study.invariant()?;
        let event = ParticipantReconsented {
            study: study.key(),
            participation: p.key(),
            patient: p.patient,
            by,
            actor,
            from_version,
            to_version,
            statement_hash: statement_hash(&statement),
            form,
            forfeited_periods: settled.forfeited,
            released: settled.released,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
