use crate::constants::{
    CONFIG_ADDRESS, INVITATION_SEED, PARTICIPATION_SEED, PROTOCOL_SEED, PROTOCOL_VERSION_SEED,
};
use crate::create::{init_pda, is_vacant, write_account};
use crate::errors::CareledgerError;
use crate::events::ParticipantEnrolled;
use crate::instructions::now;
use crate::instructions::rewards::{consent_error, load_research_grant};
use crate::logic::authority::{acting_for_unconflicted, Actor};
use crate::logic::rewards::check_research_grant;
use crate::state::{
    Config, ConsentGrant, Invitation, Participation, Patient, Protocol, ProtocolVersion, Study,
};
use crate::vault::pay_out;
use anchor_lang::prelude::*;
use anchor_spl::associated_token::{self, AssociatedToken};
use anchor_spl::token::{Mint, Token, TokenAccount};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct StudyEnrollArgs {
    /// The protocol version the participant read and consents to, and its document's SHA-256:
    /// both must be the study's current ones (`ProtocolVersionStale` otherwise).
    pub protocol_version: u16,
    pub protocol_sha256: [u8; 32],
}

/// The patient (or guardian) enrols in a study with the sponsor's invitation, under a live research
/// grant to the sponsor that covers the study's classes and was never narrowed (the SDK can put
/// `grant_create` in the same transaction). The enrolment reward goes to the patient's associated
/// token account, created when missing; the invitation is marked used.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: StudyEnrollArgs)]
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
    /// CHECK: the study's registered protocol (seeds checked here), decoded in the handler so
    /// that a study with none gets its own error (`ProtocolNotRegistered`); the first enrolment
    /// freezes its pre-specified outcomes.
    #[account(mut, seeds = [PROTOCOL_SEED, study.key().as_ref()], bump)]
    pub protocol: UncheckedAccount<'info>,
    /// CHECK: the protocol version the participant names (seeds checked here against
    /// `args.protocol_version`); decoded in the handler.
    #[account(
        seeds = [PROTOCOL_VERSION_SEED, study.key().as_ref(), &args.protocol_version.to_le_bytes()],
        bump,
    )]
    pub protocol_version: UncheckedAccount<'info>,
    /// CHECK: the research grant to the sponsor; decoded in the handler so that a missing grant
    /// gets its own error (`NoResearchConsent`).
    pub research_grant: UncheckedAccount<'info>,
    /// CHECK: the sponsor's invitation for this patient (seeds checked here); decoded in the
    /// handler so that a missing one gets its own error (`NotInvited`), then marked used.
    #[account(
        mut,
        seeds = [INVITATION_SEED, study.key().as_ref(), patient.wallet.as_ref()],
        bump,
    )]
    pub invitation: UncheckedAccount<'info>,
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

/// What enrolment checks passed on to the handler.
struct Enrolment {
    /// The study's registered protocol, at the version the participant names.
    protocol: Protocol,
    /// The signer's capacity.
    actor: Actor,
    /// The sponsor's invitation, to be marked used.
    invitation: Invitation,
    /// The research grant the patient enrols under.
    grant: ConsentGrant,
    /// The periodic rewards the study escrows for this participant (base units).
    periodic: u64,
}

impl<'info> StudyEnroll<'info> {
    pub fn validate(&self, args: &StudyEnrollArgs) -> Result<()> {
        self.enrolment(args, now()?).map(|_| ())
    }

    /// Every condition of enrolment, in the order their errors are reported: the study's
    /// protocol registered at the version the participant names, a signer who may act for the
    /// patient and is neither sponsor nor site, the study open and not full, no participation
    /// yet, an unused, unexpired invitation from the sponsor or its current site, a live research
    /// grant to the sponsor covering the study's classes and never narrowed, and a vault that
    /// can escrow the whole reward.
    fn enrolment(&self, args: &StudyEnrollArgs, at: i64) -> Result<Enrolment> {
        let protocol = registered_protocol(self, args)?;
        let study = &self.study;
        // a guardian does not enrol the ward in a study it sponsors or runs as site
        let by = self.authority.key();
        let actor = acting_for_unconflicted(&self.patient, &by, at, &[study.sponsor, study.site])?;
        require!(
            study.enrolment_open(at) && at >= study.enrol_start,
            CareledgerError::EnrolmentClosed
        );
        require!(
            study.participants < study.max_participants,
            CareledgerError::StudyFull
        );
        let wallet = self.patient.wallet;
        require!(
            is_vacant(&self.participation),
            CareledgerError::AlreadyEnrolled
        );
        let invitation = load_invitation(&self.invitation)?;
        // made by the sponsor, or by the site the sponsor delegates to now (a site it removed no
        // longer speaks for it)
        let inviter = invitation.invited_by;
        require!(
            inviter == study.sponsor || (study.site != Pubkey::default() && inviter == study.site),
            CareledgerError::NotInvited
        );
        require!(invitation.used_at == 0, CareledgerError::InvitationUsed);
        require!(
            at < invitation.expires_at,
            CareledgerError::InvitationExpired
        );
        let grant = load_research_grant(&self.research_grant, study, &wallet)?
            .ok_or_else(|| consent_error(None))?;
        check_research_grant(&grant, study.classes, self.patient.consent_epoch, at)
            .map_err(|r| consent_error(Some(r)))?;
        require!(grant.narrowed_at == 0, CareledgerError::GrantNarrowed);
        let terms = study.terms;
        let periodic = terms
            .periodic_total()
            .ok_or(CareledgerError::MathOverflow)?;
        let escrow = periodic
            .checked_add(terms.enrolment_reward)
            .ok_or(CareledgerError::MathOverflow)?;
        require!(
            study.unreserved(self.vault.amount) >= escrow,
            CareledgerError::VaultShort
        );
        Ok(Enrolment {
            protocol,
            actor,
            invitation,
            grant,
            periodic,
        })
    }

    pub fn handler(ctx: Context<Self>, args: StudyEnrollArgs) -> Result<()> {
        let at = now()?;
        let a = &ctx.accounts;
        let Enrolment {
            mut protocol,
            actor,
            mut invitation,
            grant,
            periodic,
        } = a.enrolment(&args, at)?;
        let by = a.authority.key();
        let study = &a.study;
        let wallet = a.patient.wallet;
        let terms = study.terms;

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
        pay_out(
            &a.token_program,
            study,
            &a.mint,
            &a.vault,
            a.patient_tokens.to_account_info(),
            terms.enrolment_reward,
        )?;

        let (study_key, participation_key) = (study.key(), a.participation.key());
        let bump = [ctx.bumps.participation];
        let seeds = Participation::seeds(&study_key, &wallet, &bump);
        let ended = terms.periods == 0 || terms.period_reward == 0;
        let participation = Participation {
            study: study_key,
            patient: wallet,
            grant: a.research_grant.key(),
            grant_serial: grant.serial,
            enrolled_at: at,
            periods_paid: 0,
            ended,
            bump: ctx.bumps.participation,
            paid: terms.enrolment_reward,
            accrual_end: if ended { at } else { 0 },
            protocol_version: protocol.version,
            periods_forfeited: 0,
        };
        participation.invariant(terms.periods)?;
        init_pda(
            &ctx.accounts.authority,
            &ctx.accounts.participation.to_account_info(),
            &ctx.accounts.system_program,
            &seeds,
            &participation,
            CareledgerError::AlreadyEnrolled,
        )?;
        invitation.used_at = at;
        write_account(&ctx.accounts.invitation.to_account_info(), &invitation)?;
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
        if protocol.first_enrolment_at == 0 {
            // the outcomes in force now are the pre-specified ones the results are compared with
            protocol.first_enrolment_at = at;
            protocol.prespecified_primary = protocol.primary_outcomes;
            protocol.prespecified_secondary = protocol.secondary_outcomes;
            protocol.invariant()?;
            write_account(&ctx.accounts.protocol.to_account_info(), &protocol)?;
        }
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
}

/// The study's protocol, registered, with the version the participant names being the current
/// one and its document the one they read.
fn registered_protocol(a: &StudyEnroll, args: &StudyEnrollArgs) -> Result<Protocol> {
    let info = &a.protocol;
    if info.owner != &crate::ID || info.data_is_empty() {
        return err!(CareledgerError::ProtocolNotRegistered);
    }
    let protocol = Protocol::try_deserialize(&mut &info.try_borrow_data()?[..])?;
    require!(
        protocol.version == args.protocol_version,
        CareledgerError::ProtocolVersionStale
    );
    let version =
        ProtocolVersion::try_deserialize(&mut &a.protocol_version.try_borrow_data()?[..])?;
    require!(
        version.document_sha256 == args.protocol_sha256,
        CareledgerError::ProtocolVersionStale
    );
    Ok(protocol)
}

/// The invitation at `info`: `NotInvited` when none was made (or it was withdrawn).
fn load_invitation(info: &AccountInfo) -> Result<Invitation> {
    if info.owner != &crate::ID || info.data_is_empty() {
        return err!(CareledgerError::NotInvited);
    }
    Invitation::try_deserialize(&mut &info.try_borrow_data()?[..])
}
