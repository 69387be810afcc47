use crate::constants::{
    ACCEPTED_MINT_SEED, CONFIG_ADDRESS, MAX_COVERAGE_SECS, MAX_STUDY_PERIODS, MIN_PERIOD_SECS,
    STUDY_SEED, VAULT_SEED,
};
use crate::create::{init_pda, init_vault};
use crate::errors::CareledgerError;
use crate::events::StudyCreated;
use crate::instructions::now;
use crate::logic::consent::check_provider;
use crate::state::{Config, Provider, RewardTerms, Study, StudyStatus, ROLE_RESEARCHER};
use crate::vault::check_payment_mint;
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct StudyCreateArgs {
    /// The sponsor's own number for the study (part of the address).
    pub study_id: u64,
    pub terms: RewardTerms,
    /// Record classes participants must share (bitmask, non-empty).
    pub classes: u16,
    /// Opaque data-use code, e.g. a GA4GH DUO term number; 0 for none.
    pub data_use_code: u32,
    pub enrol_start: i64,
    pub enrol_end: i64,
    pub max_participants: u32,
}

/// A verified researcher opens a study paying in `mint` from a vault the study PDA owns.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: StudyCreateArgs)]
pub struct StudyCreate<'info> {
    #[account(mut)]
    pub sponsor: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(constraint = sponsor_provider.wallet == sponsor.key() @ CareledgerError::NotStudySponsor)]
    pub sponsor_provider: Box<Account<'info, Provider>>,
    /// SPL Token mint (a Token-2022 mint fails the owner check).
    pub mint: Box<Account<'info, Mint>>,
    /// CHECK: the admin's `AcceptedMint` entry for `mint` (seeds checked here); needed only when
    /// the mint has a freeze authority.
    #[account(seeds = [ACCEPTED_MINT_SEED, mint.key().as_ref()], bump)]
    pub accepted_mint: UncheckedAccount<'info>,
    /// CHECK: the new account's address (seeds checked here); created in the handler, which
    /// refuses an existing account and takes over a pre-funded one.
    #[account(
        mut,
        seeds = [STUDY_SEED, sponsor.key().as_ref(), &args.study_id.to_le_bytes()],
        bump,
    )]
    pub study: UncheckedAccount<'info>,
    /// CHECK: the vault's address (seeds checked here); the handler creates an SPL token
    /// account there for `mint`, owned by the study PDA.
    #[account(mut, seeds = [VAULT_SEED, study.key().as_ref()], bump)]
    pub vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl<'info> StudyCreate<'info> {
    /// A verified researcher, terms the vault can escrow, an enrolment window in the future,
    /// and a payment mint the sponsor cannot freeze.
    pub fn validate(&self, args: &StudyCreateArgs) -> Result<()> {
        let at = now()?;
        let sponsor = &self.sponsor_provider;
        check_provider(sponsor, at).map_err(CareledgerError::from)?;
        require!(
            sponsor.has_role(ROLE_RESEARCHER),
            CareledgerError::MissingRole
        );
        let t = &args.terms;
        let periodic_ok = t.period_reward == 0
            || (t.periods > 0
                && t.periods <= MAX_STUDY_PERIODS
                && t.period_secs >= MIN_PERIOD_SECS);
        let total = t
            .periodic_total()
            .and_then(|p| p.checked_add(t.enrolment_reward));
        require!(
            args.classes != 0
                && (t.enrolment_reward > 0 || t.period_reward > 0)
                && periodic_ok
                && total.is_some()
                && args.max_participants > 0,
            CareledgerError::InvalidStudyTerms
        );
        let span = args.enrol_end.checked_sub(args.enrol_start);
        require!(
            args.enrol_end > at && span.is_some_and(|s| s > 0 && s <= MAX_COVERAGE_SECS),
            CareledgerError::InvalidEnrolmentWindow
        );
        check_payment_mint(&self.mint, &self.accepted_mint)
    }

    pub fn handler(ctx: Context<Self>, args: StudyCreateArgs) -> Result<()> {
        let at = now()?;
        let sponsor = &ctx.accounts.sponsor_provider;
        let (vault, mint) = (ctx.accounts.vault.key(), ctx.accounts.mint.key());
        let study = Study {
            sponsor: sponsor.wallet,
            mint,
            vault,
            study_id: args.study_id,
            terms: args.terms,
            classes: args.classes,
            data_use_code: args.data_use_code,
            enrol_start: args.enrol_start,
            enrol_end: args.enrol_end,
            max_participants: args.max_participants,
            participants: 0,
            outstanding: 0,
            funded: 0,
            paid: 0,
            withdrawn: 0,
            status: StudyStatus::Open,
            site: Pubkey::default(),
            bump: ctx.bumps.study,
            created_at: at,
        };
        study.invariant()?;
        let a = &ctx.accounts;
        let (study_key, sponsor_key) = (a.study.key(), a.sponsor.key());
        let (bump, id) = ([ctx.bumps.study], args.study_id.to_le_bytes());
        let seeds = Study::seeds(&sponsor_key, &id, &bump);
        init_pda(
            &a.sponsor,
            &a.study,
            &a.system_program,
            &seeds,
            &study,
            CareledgerError::StudyAlreadyExists,
        )?;
        let vault_bump = [ctx.bumps.vault];
        init_vault(
            &a.sponsor,
            &a.vault,
            &a.mint.to_account_info(),
            &a.study,
            &a.system_program,
            &a.token_program,
            &crate::state::vault_seeds(&study_key, &vault_bump),
            CareledgerError::StudyAlreadyExists,
        )?;
        let event = StudyCreated {
            study: study_key,
            sponsor: study.sponsor,
            mint,
            vault,
            study_id: args.study_id,
            terms: args.terms,
            classes: args.classes,
            data_use_code: args.data_use_code,
            enrol_start: args.enrol_start,
            enrol_end: args.enrol_end,
            max_participants: args.max_participants,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
