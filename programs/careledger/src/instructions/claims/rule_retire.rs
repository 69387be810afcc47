use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::CoverageRuleRetired;
use crate::instructions::now;
use crate::state::{Config, CoverageRule, Policy};
use anchor_lang::prelude::*;

/// The insurer retires a rule: no new claims under it; pending ones may still be decided.
#[event_cpi]
#[derive(Accounts)]
pub struct RuleRetire<'info> {
    pub insurer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(has_one = insurer @ CareledgerError::NotPolicyInsurer)]
    pub policy: Box<Account<'info, Policy>>,
    #[account(
        mut,
        constraint = rule.policy == policy.key() @ CareledgerError::RulePolicyMismatch,
        constraint = rule.active @ CareledgerError::RuleRetired,
    )]
    pub rule: Box<Account<'info, CoverageRule>>,
}

impl<'info> RuleRetire<'info> {
    /// Nothing beyond the accounts: the insurer retires an active rule of its policy
    /// (constraints).
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let at = now()?;
        let rule = &mut ctx.accounts.rule;
        rule.active = false;
        rule.updated_at = at;
        rule.invariant()?;
        let event = CoverageRuleRetired {
            policy: rule.policy,
            rule: rule.key(),
            rule_key: rule.rule_key,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
