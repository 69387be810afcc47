//! Insurer policies, coverage rules and claims: adjudication in `logic::claims`, payment in SPL
//! tokens from a vault the policy PDA owns.
pub mod claim_appeal;
pub mod claim_cancel;
pub mod claim_review;
pub mod claim_settle;
pub mod claim_submit;
pub mod network_add;
pub mod network_remove;
pub mod policy_close;
pub mod policy_create;
pub mod policy_fund;
pub mod policy_set_status;
pub mod policy_withdraw;
pub mod rule_add;
pub mod rule_retire;
pub mod rule_update;

pub use claim_appeal::*;
pub use claim_cancel::*;
pub use claim_review::*;
pub use claim_settle::*;
pub use claim_submit::*;
pub use network_add::*;
pub use network_remove::*;
pub use policy_close::*;
pub use policy_create::*;
pub use policy_fund::*;
pub use policy_set_status::*;
pub use policy_withdraw::*;
pub use rule_add::*;
pub use rule_retire::*;
pub use rule_update::*;

use crate::errors::CareledgerError;
use crate::events::{ClaimAdjudicated, ClaimPaid};
use crate::state::{Claim, ClaimState, Policy};
use anchor_lang::prelude::*;

/// The decision event: `state` is what was decided (the claim may already be Paid), the
/// balances are the policy's after the decision.
pub(crate) fn adjudicated(
    claim_key: Pubkey,
    claim: &Claim,
    policy_key: Pubkey,
    policy: &Policy,
    state: ClaimState,
    by: Pubkey,
    at: i64,
) -> ClaimAdjudicated {
    ClaimAdjudicated {
        claim: claim_key,
        policy: policy_key,
        provider: claim.provider,
        patient: policy.patient,
        by,
        state,
        breakdown: claim.breakdown,
        reason_code: claim.reason_code,
        policy_owed: policy.owed,
        benefit_used: policy.benefit_used,
        deductible_met: policy.deductible_met,
        at,
    }
}

/// Pays an owed claim in full (all or nothing), updating claim and policy, and returns the event.
/// The caller has checked the vault can cover it.
pub(crate) fn pay_claim(
    claim: &mut Claim,
    claim_key: Pubkey,
    payee: Pubkey,
    policy: &mut Policy,
    vault_before: u64,
    at: i64,
) -> Result<ClaimPaid> {
    let amount = claim.breakdown.benefit;
    policy.owed = policy
        .owed
        .checked_sub(amount)
        .ok_or(CareledgerError::MathOverflow)?;
    policy.paid = policy
        .paid
        .checked_add(amount)
        .ok_or(CareledgerError::MathOverflow)?;
    claim.state = ClaimState::Paid;
    claim.paid_at = at;
    Ok(ClaimPaid {
        claim: claim_key,
        policy: claim.policy,
        provider: claim.provider,
        payee,
        amount,
        vault_balance: vault_before
            .checked_sub(amount)
            .ok_or(CareledgerError::VaultShort)?,
        at,
    })
}
