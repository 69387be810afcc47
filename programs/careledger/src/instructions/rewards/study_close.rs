use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::StudyStatusChanged;
use crate::instructions::now;
use crate::state::{Config, Study, StudyStatus};
use crate::vault::{close, Escrow, EscrowVault};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

/// The sponsor closes a study nothing is outstanding on once enrolment is over: the vault's
/// tokens go to `destination`. The study and its (empty) vault stay, so that later calls get
/// `StudyClosed` rather than a missing-account error; tokens sent to the vault afterwards can
/// still be withdrawn.
#[event_cpi]
#[derive(Accounts)]
pub struct StudyClose<'info> {
    pub sponsor: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        has_one = sponsor @ CareledgerError::NotStudySponsor,
        constraint = study.status != StudyStatus::Closed @ CareledgerError::StudyClosed,
    )]
    pub study: Box<Account<'info, Study>>,
    #[account(address = study.mint @ CareledgerError::WrongMint)]
    pub mint: Box<Account<'info, Mint>>,
    #[account(mut, address = study.vault @ CareledgerError::ForeignVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, constraint = destination.mint == study.mint @ CareledgerError::WrongMint)]
    pub destination: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl<'info> StudyClose<'info> {
    pub fn validate(&self) -> Result<()> {
        self.study.check_closing(now()?)
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let a = &mut *ctx.accounts;
        let old_status = a.study.status;
        let vault = EscrowVault {
            token_program: &a.token_program,
            escrow: &mut a.study,
            mint: &a.mint,
            vault: &a.vault,
        };
        let swept = close(vault, a.destination.to_account_info())?;
        let event = StudyStatusChanged {
            study: a.study.key(),
            sponsor: a.study.sponsor,
            old_status,
            new_status: StudyStatus::Closed,
            swept,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
