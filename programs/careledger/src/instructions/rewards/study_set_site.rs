use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::StudySiteSet;
use crate::instructions::now;
use crate::state::{Config, Study, StudyStatus};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct StudySetSiteArgs {
    /// The site's wallet, or the default key to stop delegating.
    pub site: Pubkey,
}

/// The sponsor delegates inviting participants to one site (or stops delegating).
#[event_cpi]
#[derive(Accounts)]
pub struct StudySetSite<'info> {
    pub sponsor: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        has_one = sponsor @ CareledgerError::NotStudySponsor,
        constraint = study.status != StudyStatus::Closed @ CareledgerError::StudyClosed,
    )]
    pub study: Box<Account<'info, Study>>,
}

impl<'info> StudySetSite<'info> {
    pub fn validate(&self, args: &StudySetSiteArgs) -> Result<()> {
        require_keys_neq!(
            args.site,
            self.study.sponsor,
            CareledgerError::InvalidAuthorityKey
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: StudySetSiteArgs) -> Result<()> {
        let study = &mut ctx.accounts.study;
        let old_site = study.site;
        study.site = args.site;
        study.invariant()?;
        emit_cpi!(StudySiteSet {
            study: study.key(),
            sponsor: study.sponsor,
            old_site,
            new_site: args.site,
            at: now()?,
        });
        Ok(())
    }
}
