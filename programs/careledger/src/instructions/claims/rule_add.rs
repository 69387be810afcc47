use crate::constants::{CONFIG_ADDRESS, RULE_SEED};
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::CoverageRuleAdded;
use crate::instructions::now;
use crate::state::{Config, CoverageRule, Policy, PolicyStatus, RuleTerms};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RuleAddArgs {
    /// Salted commitment of the procedure code (SDK `claims::rule_key`), never the code.
    pub rule_key: [u8; 32],
    pub terms: RuleTerms,
}

/// The insurer adds a procedure its policy covers.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: RuleAddArgs)]
pub struct RuleAdd<'info> {
    #[account(mut)]
    pub insurer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        has_one = insurer @ CareledgerError::NotPolicyInsurer,
        constraint = policy.status != PolicyStatus::Closed @ CareledgerError::PolicyNotActive,
    )]
    pub policy: Box<Account<'info, Policy>>,
    /// CHECK: the new account's address (seeds checked here); created in the handler, which
    /// refuses an existing account and takes over a pre-funded one.
    #[account(
        mut,
        seeds = [RULE_SEED, policy.key().as_ref(), &args.rule_key],
        bump,
    )]
    pub rule: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> RuleAdd<'info> {
    pub fn validate(&self, args: &RuleAddArgs) -> Result<()> {
        require!(args.rule_key != [0; 32], CareledgerError::ZeroRuleKey);
        args.terms.validate()
    }

    pub fn handler(ctx: Context<Self>, args: RuleAddArgs) -> Result<()> {
        let at = now()?;
        let policy = ctx.accounts.policy.key();
        let rule = CoverageRule {
            policy,
            rule_key: args.rule_key,
            terms: args.terms,
            active: true,
            bump: ctx.bumps.rule,
            claims: 0,
            updated_at: at,
        };
        rule.invariant()?;
        let bump = [ctx.bumps.rule];
        let seeds = CoverageRule::seeds(&policy, &args.rule_key, &bump);
        let a = &ctx.accounts;
        init_pda(
            &a.insurer,
            &a.rule,
            &a.system_program,
            &seeds,
            &rule,
            CareledgerError::RuleAlreadyExists,
        )?;
        let event = CoverageRuleAdded {
            policy,
            rule: a.rule.key(),
            rule_key: args.rule_key,
            terms: args.terms,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
