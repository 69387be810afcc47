use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::StudyWithdrawn;
use crate::instructions::now;
use crate::state::{Config, Study};
use crate::vault::{check_withdrawal, withdraw, EscrowVault};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct StudyWithdrawArgs {
    pub amount: u64,
}

/// Once enrolment is over, the sponsor takes back what no enrolled participant can still earn
/// (after the study is closed: anything sent to its vault since).
#[event_cpi]
#[derive(Accounts)]
pub struct StudyWithdraw<'info> {
    pub sponsor: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, has_one = sponsor @ CareledgerError::NotStudySponsor)]
    pub study: Box<Account<'info, Study>>,
    #[account(address = study.mint @ CareledgerError::WrongMint)]
    pub mint: Box<Account<'info, Mint>>,
    #[account(mut, address = study.vault @ CareledgerError::ForeignVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, constraint = destination.mint == study.mint @ CareledgerError::WrongMint)]
    pub destination: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl<'info> StudyWithdraw<'info> {
    pub fn validate(&self, args: &StudyWithdrawArgs) -> Result<()> {
        check_withdrawal(&**self.study, self.vault.amount, args.amount, now()?)
    }

    pub fn handler(ctx: Context<Self>, args: StudyWithdrawArgs) -> Result<()> {
        let at = now()?;
        let a = &mut *ctx.accounts;
        let vault = EscrowVault {
            token_program: &a.token_program,
            escrow: &mut a.study,
            mint: &a.mint,
            vault: &a.vault,
        };
        let vault_balance = withdraw(vault, a.destination.to_account_info(), args.amount)?;
        let event = StudyWithdrawn {
            study: a.study.key(),
            sponsor: a.study.sponsor,
            destination: a.destination.key(),
            amount: args.amount,
            vault_balance,
            outstanding: a.study.outstanding,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
