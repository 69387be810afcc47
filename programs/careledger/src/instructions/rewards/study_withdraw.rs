use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::StudyWithdrawn;
use crate::instructions::now;
use crate::state::{Config, Study};
use crate::vault::pay_from_study;
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

pub fn handler(ctx: Context<StudyWithdraw>, args: StudyWithdrawArgs) -> Result<()> {
    require!(args.amount > 0, CareledgerError::InvalidAmount);
    let at = now()?;
    let a = &ctx.accounts;
    require!(
        !a.study.enrolment_open(at),
        CareledgerError::EnrolmentStillOpen
    );
    let vault_before = a.vault.amount;
    require!(
        args.amount <= a.study.unreserved(vault_before),
        CareledgerError::FundsOwed
    );
    pay_from_study(
        &a.token_program,
        &a.study,
        &a.mint,
        &a.vault,
        a.destination.to_account_info(),
        args.amount,
    )?;
    let destination = a.destination.key();
    let study = &mut ctx.accounts.study;
    study.withdrawn = study
        .withdrawn
        .checked_add(args.amount)
        .ok_or(CareledgerError::MathOverflow)?;
    study.invariant()?;
    let event = StudyWithdrawn {
        study: study.key(),
        sponsor: study.sponsor,
        destination,
        amount: args.amount,
        // the transfer of `amount` out of the vault succeeded
        vault_balance: vault_before.saturating_sub(args.amount),
        outstanding: study.outstanding,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
