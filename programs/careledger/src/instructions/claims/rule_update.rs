use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::CoverageRuleUpdated;
use crate::instructions::now;
use crate::state::{Config, CoverageRule, Policy, PolicyStatus, RuleTerms};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RuleUpdateArgs {
    pub terms: RuleTerms,
}

/// The insurer changes an active rule's terms; claims already decided keep theirs.
#[event_cpi]
#[derive(Accounts)]
pub struct RuleUpdate<'info> {
    pub insurer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        has_one = insurer @ CareledgerError::NotPolicyInsurer,
        constraint = policy.status != PolicyStatus::Closed @ CareledgerError::PolicyNotActive,
    )]
    pub policy: Box<Account<'info, Policy>>,
    #[account(
        mut,
        constraint = rule.policy == policy.key() @ CareledgerError::RulePolicyMismatch,
        constraint = rule.active @ CareledgerError::RuleRetired,
    )]
    pub rule: Box<Account<'info, CoverageRule>>,
}

impl<'info> RuleUpdate<'info> {
    /// Valid terms that differ from the rule's.
    pub fn validate(&self, args: &RuleUpdateArgs) -> Result<()> {
        args.terms.validate()?;
        require!(self.rule.terms != args.terms, CareledgerError::EmptyUpdate);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: RuleUpdateArgs) -> Result<()> {
        let at = now()?;
        let rule = &mut ctx.accounts.rule;
        let old_terms = rule.terms;
        rule.terms = args.terms;
        rule.updated_at = at;
        rule.invariant()?;
        let event = CoverageRuleUpdated {
            policy: rule.policy,
            rule: rule.key(),
            rule_key: rule.rule_key,
            old_terms,
            new_terms: args.terms,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
