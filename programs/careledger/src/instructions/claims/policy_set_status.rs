use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::PolicyStatusChanged;
use crate::instructions::now;
use crate::state::{Config, Policy, PolicyStatus};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PolicySetStatusArgs {
    /// True suspends an active policy; false reactivates a suspended one.
    pub suspended: bool,
}

/// The insurer suspends (no new claims) or reactivates a policy. While the program is paused it
/// can suspend (that only narrows what can happen) but not reactivate.
#[event_cpi]
#[derive(Accounts)]
pub struct PolicySetStatus<'info> {
    pub insurer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, has_one = insurer @ CareledgerError::NotPolicyInsurer)]
    pub policy: Box<Account<'info, Policy>>,
}

impl<'info> PolicySetStatus<'info> {
    pub fn validate(&self, args: &PolicySetStatusArgs) -> Result<()> {
        self.new_status(args).map(|_| ())
    }

    /// Active to suspended (also while paused), suspended to active (not while paused).
    fn new_status(&self, args: &PolicySetStatusArgs) -> Result<PolicyStatus> {
        match (self.policy.status, args.suspended) {
            (PolicyStatus::Active, true) => Ok(PolicyStatus::Suspended),
            (PolicyStatus::Suspended, false) if self.config.paused => err!(CareledgerError::Paused),
            (PolicyStatus::Suspended, false) => Ok(PolicyStatus::Active),
            _ => err!(CareledgerError::PolicyNotSuspendable),
        }
    }

    pub fn handler(ctx: Context<Self>, args: PolicySetStatusArgs) -> Result<()> {
        let at = now()?;
        let new_status = ctx.accounts.new_status(&args)?;
        let policy = &mut ctx.accounts.policy;
        let old_status = policy.status;
        policy.status = new_status;
        policy.invariant()?;
        let event = PolicyStatusChanged {
            policy: policy.key(),
            insurer: policy.insurer,
            old_status,
            new_status,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
