use crate::constants::{CONFIG_ADDRESS, MAX_PRIMARY_OUTCOMES, MAX_SECONDARY_OUTCOMES};
use crate::errors::CareledgerError;
use crate::events::ResultsReported;
use crate::instructions::now;
use crate::logic::trials::{outcome_commitment, switched};
use crate::state::{Config, Protocol, Study};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ResultsReportArgs {
    /// The pre-specified primary outcomes (their hashes, in the committed order) and the salt
    /// of their commitment: they must open it.
    pub primary_salt: [u8; 32],
    pub prespecified_primary: Vec<[u8; 32]>,
    pub secondary_salt: [u8; 32],
    pub prespecified_secondary: Vec<[u8; 32]>,
    /// The outcomes the results report (hashes): any set is accepted, and one that differs
    /// from the pre-specified set is marked as switched.
    pub reported_primary: Vec<[u8; 32]>,
    pub reported_secondary: Vec<[u8; 32]>,
}

/// The sponsor reports the results after the data lock, once: it reveals the outcomes
/// pre-specified before enrolment and names those it reports. Results that switch outcomes are
/// accepted, because science changes, but marked so, with both sets, in an event.
#[event_cpi]
#[derive(Accounts)]
pub struct ResultsReport<'info> {
    pub sponsor: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(has_one = sponsor @ CareledgerError::NotStudySponsor)]
    pub study: Box<Account<'info, Study>>,
    #[account(
        mut,
        constraint = protocol.study == study.key() @ CareledgerError::ProtocolNotRegistered,
    )]
    pub protocol: Box<Account<'info, Protocol>>,
}

impl<'info> ResultsReport<'info> {
    pub fn validate(&self, args: &ResultsReportArgs) -> Result<()> {
        let protocol = &self.protocol;
        require!(protocol.locked_at != 0, CareledgerError::DataNotLocked);
        require!(
            protocol.results_at == 0,
            CareledgerError::ResultsAlreadyReported
        );
        let (primary, secondary) = (
            usize::from(MAX_PRIMARY_OUTCOMES),
            usize::from(MAX_SECONDARY_OUTCOMES),
        );
        require!(
            args.prespecified_primary.len() <= primary
                && args.reported_primary.len() <= primary
                && args.prespecified_secondary.len() <= secondary
                && args.reported_secondary.len() <= secondary,
            CareledgerError::TooManyOutcomes
        );
        require!(
            outcome_commitment(&args.primary_salt, &args.prespecified_primary)
                == protocol.prespecified_primary
                && outcome_commitment(&args.secondary_salt, &args.prespecified_secondary)
                    == protocol.prespecified_secondary,
            CareledgerError::OutcomeRevealMismatch
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ResultsReportArgs) -> Result<()> {
        let at = now()?;
        let flags = switched(
            &args.prespecified_primary,
            &args.reported_primary,
            &args.prespecified_secondary,
            &args.reported_secondary,
        );
        let protocol = &mut ctx.accounts.protocol;
        protocol.results_at = at;
        protocol.outcomes_switched = flags;
        protocol.invariant()?;
        emit_cpi!(ResultsReported {
            study: protocol.study,
            sponsor: ctx.accounts.sponsor.key(),
            prespecified_primary: args.prespecified_primary,
            reported_primary: args.reported_primary,
            prespecified_secondary: args.prespecified_secondary,
            reported_secondary: args.reported_secondary,
            switched: flags,
            dataset_sha256: protocol.dataset_sha256,
            at,
        });
        Ok(())
    }
}
