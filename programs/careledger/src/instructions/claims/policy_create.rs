use crate::constants::{
    ACCEPTED_MINT_SEED, CONFIG_ADDRESS, MAX_COVERAGE_SECS, POLICY_SEED, VAULT_SEED,
};
use crate::create::{init_pda, init_vault};
use crate::errors::CareledgerError;
use crate::events::PolicyCreated;
use crate::instructions::now;
use crate::logic::consent::check_provider;
use crate::state::{Config, Patient, Policy, PolicyStatus, Provider, ROLE_INSURER};
use crate::vault::check_payment_mint;
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PolicyCreateArgs {
    /// The insurer's own number for this policy (part of the address).
    pub policy_id: u64,
    pub coverage_start: i64,
    pub coverage_end: i64,
    /// Annual benefit cap, in mint base units.
    pub benefit_cap: u64,
    /// The member pays this much of eligible amounts first.
    pub deductible: u64,
    /// Pay only providers enrolled in the insurer's network (`network_add`).
    pub network_only: bool,
}

/// A verified insurer opens a policy for a registered patient, paying in `mint` from a new vault
/// the policy PDA owns.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: PolicyCreateArgs)]
pub struct PolicyCreate<'info> {
    #[account(mut)]
    pub insurer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(constraint = insurer_provider.wallet == insurer.key() @ CareledgerError::NotPolicyInsurer)]
    pub insurer_provider: Box<Account<'info, Provider>>,
    /// The member: a registered patient.
    pub patient: Box<Account<'info, Patient>>,
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
        seeds = [POLICY_SEED, insurer.key().as_ref(), &args.policy_id.to_le_bytes()],
        bump,
    )]
    pub policy: UncheckedAccount<'info>,
    /// CHECK: the vault's address (seeds checked here); the handler creates an SPL token
    /// account there for `mint`, owned by the policy PDA.
    #[account(mut, seeds = [VAULT_SEED, policy.key().as_ref()], bump)]
    pub vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl<'info> PolicyCreate<'info> {
    /// A verified insurer, a coverage period and amounts that make sense, and a payment mint
    /// the insurer cannot freeze.
    pub fn validate(&self, args: &PolicyCreateArgs) -> Result<()> {
        let at = now()?;
        let insurer = &self.insurer_provider;
        check_provider(insurer, at).map_err(CareledgerError::from)?;
        require!(insurer.has_role(ROLE_INSURER), CareledgerError::MissingRole);
        let span = args.coverage_end.checked_sub(args.coverage_start);
        require!(
            args.coverage_end > at && span.is_some_and(|s| s > 0 && s <= MAX_COVERAGE_SECS),
            CareledgerError::InvalidCoveragePeriod
        );
        require!(
            args.benefit_cap > 0 && args.deductible <= args.benefit_cap,
            CareledgerError::InvalidPolicyAmounts
        );
        check_payment_mint(&self.mint, &self.accepted_mint)
    }

    pub fn handler(ctx: Context<Self>, args: PolicyCreateArgs) -> Result<()> {
        let at = now()?;
        let insurer = &ctx.accounts.insurer_provider;
        let vault = ctx.accounts.vault.key();
        let policy = Policy {
            insurer: insurer.wallet,
            patient: ctx.accounts.patient.wallet,
            mint: ctx.accounts.mint.key(),
            vault,
            policy_id: args.policy_id,
            coverage_start: args.coverage_start,
            coverage_end: args.coverage_end,
            benefit_cap: args.benefit_cap,
            benefit_used: 0,
            deductible: args.deductible,
            deductible_met: 0,
            owed: 0,
            funded: 0,
            paid: 0,
            withdrawn: 0,
            pending_review: 0,
            claim_count: 0,
            status: PolicyStatus::Active,
            network_only: args.network_only,
            appeals_open_until: 0,
            bump: ctx.bumps.policy,
            vault_bump: ctx.bumps.vault,
            created_at: at,
        };
        policy.invariant()?;
        let a = &ctx.accounts;
        let (policy_key, insurer_key) = (a.policy.key(), a.insurer.key());
        let (bump, id) = ([ctx.bumps.policy], args.policy_id.to_le_bytes());
        let seeds = Policy::seeds(&insurer_key, &id, &bump);
        init_pda(
            &a.insurer,
            &a.policy,
            &a.system_program,
            &seeds,
            &policy,
            CareledgerError::PolicyAlreadyExists,
        )?;
        let vault_bump = [ctx.bumps.vault];
        init_vault(
            &a.insurer,
            &a.vault,
            &a.mint.to_account_info(),
            &a.policy,
            &a.system_program,
            &a.token_program,
            &crate::state::vault_seeds(&policy_key, &vault_bump),
            CareledgerError::PolicyAlreadyExists,
        )?;
        let event = PolicyCreated {
            policy: policy_key,
            insurer: policy.insurer,
            patient: policy.patient,
            mint: policy.mint,
            vault,
            policy_id: args.policy_id,
            coverage_start: args.coverage_start,
            coverage_end: args.coverage_end,
            benefit_cap: args.benefit_cap,
            deductible: args.deductible,
            network_only: args.network_only,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
