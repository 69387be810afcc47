use crate::constants::{CONFIG_ADDRESS, RULE_SEED};
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
    #[account(
        init,
        payer = insurer,
        space = 8 + CoverageRule::INIT_SPACE,
        seeds = [RULE_SEED, policy.key().as_ref(), &args.rule_key],
        bump,
    )]
    pub rule: Box<Account<'info, CoverageRule>>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<RuleAdd>, args: RuleAddArgs) -> Result<()> {
    let at = now()?;
    require!(args.rule_key != [0; 32], CareledgerError::ZeroRuleKey);
    args.terms.validate()?;
    let policy = ctx.accounts.policy.key();
    let rule = &mut ctx.accounts.rule;
    rule.set_inner(CoverageRule {
        policy,
        rule_key: args.rule_key,
        terms: args.terms,
        active: true,
        bump: ctx.bumps.rule,
        claims: 0,
        updated_at: at,
    });
    rule.invariant()?;
    let event = CoverageRuleAdded {
        policy,
        rule: rule.key(),
        rule_key: args.rule_key,
        terms: args.terms,
        at,
    };
    emit_cpi!(event);
    Ok(())
}
