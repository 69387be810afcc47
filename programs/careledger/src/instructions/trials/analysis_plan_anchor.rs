use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::AnalysisPlanAnchored;
use crate::instructions::now;
use crate::state::{Config, Protocol, Study};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct AnalysisPlanAnchorArgs {
    /// SHA-256 of the statistical analysis plan.
    pub analysis_plan_sha256: [u8; 32],
}

/// The sponsor anchors the statistical analysis plan before unblinding (the data lock); a
/// later anchor before the lock replaces it, and every one is an event.
#[event_cpi]
#[derive(Accounts)]
pub struct AnalysisPlanAnchor<'info> {
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

impl<'info> AnalysisPlanAnchor<'info> {
    pub fn validate(&self, args: &AnalysisPlanAnchorArgs) -> Result<()> {
        let protocol = &self.protocol;
        require!(protocol.locked_at == 0, CareledgerError::ProtocolLocked);
        require!(
            args.analysis_plan_sha256 != [0; 32],
            CareledgerError::InvalidProtocolTerms
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: AnalysisPlanAnchorArgs) -> Result<()> {
        let at = now()?;
        let protocol = &mut ctx.accounts.protocol;
        let previous = protocol.analysis_plan_sha256;
        protocol.analysis_plan_sha256 = args.analysis_plan_sha256;
        protocol.analysis_plan_at = at;
        protocol.invariant()?;
        emit_cpi!(AnalysisPlanAnchored {
            study: protocol.study,
            sponsor: ctx.accounts.sponsor.key(),
            analysis_plan_sha256: args.analysis_plan_sha256,
            previous,
            at,
        });
        Ok(())
    }
}
