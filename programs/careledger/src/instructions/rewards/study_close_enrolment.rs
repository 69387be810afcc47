use crate::errors::CareledgerError;
use crate::events::StudyStatusChanged;
use crate::instructions::now;
use crate::state::{Study, StudyStatus};
use anchor_lang::prelude::*;

/// The sponsor stops enrolment early; enrolled participants keep earning. Allowed while the
/// program is paused: it only narrows what can happen.
#[event_cpi]
#[derive(Accounts)]
pub struct StudyCloseEnrolment<'info> {
    pub sponsor: Signer<'info>,
    #[account(
        mut,
        has_one = sponsor @ CareledgerError::NotStudySponsor,
        constraint = study.status == StudyStatus::Open @ CareledgerError::EnrolmentClosed,
    )]
    pub study: Box<Account<'info, Study>>,
}

impl<'info> StudyCloseEnrolment<'info> {
    /// Nothing beyond the accounts: the sponsor closes an open enrolment (constraints).
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let study = &mut ctx.accounts.study;
        study.status = StudyStatus::EnrolmentClosed;
        study.invariant()?;
        let event = StudyStatusChanged {
            study: study.key(),
            sponsor: study.sponsor,
            old_status: StudyStatus::Open,
            new_status: StudyStatus::EnrolmentClosed,
            swept: 0,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
