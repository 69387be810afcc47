use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::StudyFunded;
use crate::instructions::now;
use crate::state::{Config, Study, StudyStatus};
use anchor_lang::prelude::*;
use anchor_spl::token::{self, Mint, Token, TokenAccount, TransferChecked};

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

pub fn handler(ctx: Context<StudyFund>, args: StudyFundArgs) -> Result<()> {
    require!(args.amount > 0, CareledgerError::InvalidAmount);
    let at = now()?;
    let accounts = TransferChecked {
        from: ctx.accounts.source.to_account_info(),
        mint: ctx.accounts.mint.to_account_info(),
        to: ctx.accounts.vault.to_account_info(),
        authority: ctx.accounts.funder.to_account_info(),
    };
    token::transfer_checked(
        CpiContext::new(ctx.accounts.token_program.key(), accounts),
        args.amount,
        ctx.accounts.mint.decimals,
    )?;
    let vault_balance = ctx
        .accounts
        .vault
        .amount
        .checked_add(args.amount)
        .ok_or(CareledgerError::MathOverflow)?;
    let study = &mut ctx.accounts.study;
    study.funded = study
        .funded
        .checked_add(args.amount)
        .ok_or(CareledgerError::MathOverflow)?;
    study.invariant()?;
    let event = StudyFunded {
        study: study.key(),
        funder: ctx.accounts.funder.key(),
        amount: args.amount,
        vault_balance,
        funded: study.funded,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
