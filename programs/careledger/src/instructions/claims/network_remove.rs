use crate::errors::CareledgerError;
use crate::events::NetworkMemberRemoved;
use crate::instructions::now;
use crate::state::NetworkMembership;
use anchor_lang::prelude::*;

/// The insurer ends a provider's network membership (rent back to the insurer). Claims already
/// submitted are unaffected; new ones on network-only policies are refused. Works while paused:
/// ending a relationship is protective.
#[event_cpi]
#[derive(Accounts)]
pub struct NetworkRemove<'info> {
    #[account(mut)]
    pub insurer: Signer<'info>,
    #[account(mut, close = insurer, has_one = insurer @ CareledgerError::NotPolicyInsurer)]
    pub membership: Box<Account<'info, NetworkMembership>>,
}

impl<'info> NetworkRemove<'info> {
    /// Nothing beyond the accounts: the insurer ends its own membership (constraints).
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let m = &ctx.accounts.membership;
        emit_cpi!(NetworkMemberRemoved {
            insurer: m.insurer,
            provider: m.provider,
            membership: m.key(),
            at: now()?,
        });
        Ok(())
    }
}
