use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::StudyFunded;
use crate::instructions::now;
use crate::state::{Config, Study, StudyStatus};
use crate::vault::{check_funding, fund, EscrowVault};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct StudyFundArgs {
    pub amount: u64,
}

/// Anyone moves tokens from their own account into a study's vault (funding or a top-up).
#[event_cpi]
#[derive(Accounts)]
pub struct StudyFund<'info> {
    pub funder: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, constraint = study.status != StudyStatus::Closed @ CareledgerError::StudyClosed)]
    pub study: Box<Account<'info, Study>>,
    #[account(address = study.mint @ CareledgerError::WrongMint)]
    pub mint: Box<Account<'info, Mint>>,
    #[account(mut, address = study.vault @ CareledgerError::ForeignVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, constraint = source.mint == study.mint @ CareledgerError::WrongMint)]
    pub source: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl<'info> StudyFund<'info> {
    pub fn validate(&self, args: &StudyFundArgs) -> Result<()> {
        check_funding(args.amount)
    }

    pub fn handler(ctx: Context<Self>, args: StudyFundArgs) -> Result<()> {
        let at = now()?;
        let a = &mut *ctx.accounts;
        let vault = EscrowVault {
            token_program: &a.token_program,
            escrow: &mut a.study,
            mint: &a.mint,
            vault: &a.vault,
        };
        let vault_balance = fund(vault, &a.source, &a.funder, args.amount)?;
        let event = StudyFunded {
            study: a.study.key(),
            funder: a.funder.key(),
            amount: args.amount,
            vault_balance,
            funded: a.study.funded,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
