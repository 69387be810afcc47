use crate::constants::{CONFIG_ADDRESS, INVITATION_SEED, MAX_INVITATION_SECS};
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::ParticipantInvited;
use crate::instructions::now;
use crate::state::{Config, Invitation, Patient, Study};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct InvitationCreateArgs {
    /// Last moment the invitation can be used to enrol (unix seconds).
    pub expires_at: i64,
}

/// The sponsor, or the site it delegated, records that a registered patient is eligible for the
/// study. Only an invited patient can enrol, once.
#[event_cpi]
#[derive(Accounts)]
pub struct InvitationCreate<'info> {
    /// The sponsor or the study's site; pays the rent.
    #[account(mut)]
    pub inviter: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        constraint = study.sponsor == inviter.key()
            || (study.site != Pubkey::default() && study.site == inviter.key())
            @ CareledgerError::NotStudySite,
    )]
    pub study: Box<Account<'info, Study>>,
    pub patient: Box<Account<'info, Patient>>,
    /// CHECK: the new invitation's address (seeds checked here); created in the handler.
    #[account(
        mut,
        seeds = [INVITATION_SEED, study.key().as_ref(), patient.wallet.as_ref()],
        bump,
    )]
    pub invitation: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> InvitationCreate<'info> {
    /// Enrolment open, and an expiry in the future within `MAX_INVITATION_SECS`.
    pub fn validate(&self, args: &InvitationCreateArgs) -> Result<()> {
        let at = now()?;
        require!(
            self.study.enrolment_open(at),
            CareledgerError::EnrolmentClosed
        );
        let latest = at
            .checked_add(MAX_INVITATION_SECS)
            .ok_or(CareledgerError::MathOverflow)?;
        require!(
            args.expires_at > at && args.expires_at <= latest,
            CareledgerError::InvalidInvitationExpiry
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: InvitationCreateArgs) -> Result<()> {
        let at = now()?;
        let a = &ctx.accounts;
        let (study, patient, inviter) = (a.study.key(), a.patient.wallet, a.inviter.key());
        let invitation = Invitation {
            study,
            patient,
            invited_by: inviter,
            expires_at: args.expires_at,
            used_at: 0,
            created_at: at,
            bump: ctx.bumps.invitation,
        };
        let bump = [ctx.bumps.invitation];
        let seeds = Invitation::seeds(&study, &patient, &bump);
        init_pda(
            &a.inviter,
            &a.invitation,
            &a.system_program,
            &seeds,
            &invitation,
            CareledgerError::InvitationAlreadyExists,
        )?;
        emit_cpi!(ParticipantInvited {
            study,
            invitation: a.invitation.key(),
            patient,
            invited_by: inviter,
            expires_at: args.expires_at,
            at,
        });
        Ok(())
    }
}
