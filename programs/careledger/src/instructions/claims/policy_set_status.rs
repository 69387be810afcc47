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

pub fn handler(ctx: Context<PolicySetStatus>, args: PolicySetStatusArgs) -> Result<()> {
    let at = now()?;
    let policy = &mut ctx.accounts.policy;
    let old_status = policy.status;
    let new_status = match (old_status, args.suspended) {
        (PolicyStatus::Active, true) => PolicyStatus::Suspended,
        (PolicyStatus::Suspended, false) if ctx.accounts.config.paused => {
            return err!(CareledgerError::Paused)
        }
        (PolicyStatus::Suspended, false) => PolicyStatus::Active,
        _ => return err!(CareledgerError::PolicyNotSuspendable),
    };
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
