use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::DataLocked;
use crate::instructions::now;
use crate::state::{Config, Protocol, Study};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct DataLockArgs {
    /// SHA-256 of the results dataset at lock.
    pub dataset_sha256: [u8; 32],
}

/// The sponsor locks the data: the dataset's hash, once, after the analysis plan. From then on
/// neither the protocol nor the plan changes.
#[event_cpi]
#[derive(Accounts)]
pub struct DataLock<'info> {
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

impl<'info> DataLock<'info> {
    pub fn validate(&self, args: &DataLockArgs) -> Result<()> {
        let protocol = &self.protocol;
        require!(protocol.locked_at == 0, CareledgerError::DataAlreadyLocked);
        require!(
            protocol.analysis_plan_at != 0,
            CareledgerError::AnalysisPlanRequired
        );
        require!(
            args.dataset_sha256 != [0; 32],
            CareledgerError::InvalidProtocolTerms
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: DataLockArgs) -> Result<()> {
        let at = now()?;
        let protocol = &mut ctx.accounts.protocol;
        protocol.dataset_sha256 = args.dataset_sha256;
        protocol.locked_at = at;
        protocol.invariant()?;
        emit_cpi!(DataLocked {
            study: protocol.study,
            sponsor: ctx.accounts.sponsor.key(),
            dataset_sha256: args.dataset_sha256,
            analysis_plan_sha256: protocol.analysis_plan_sha256,
            at,
        });
        Ok(())
    }
}
