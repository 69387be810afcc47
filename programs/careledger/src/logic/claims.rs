//! Claim adjudication: how much of a billed service the policy pays, and whether the claim may be
//! decided automatically. Total functions over integers: no step can overflow (products are taken
//! in `u128` and every result is bounded by the billed amount).
use crate::constants::{BPS_DENOMINATOR, DOCUMENTATION_WINDOW_SECS, SECONDS_PER_DAY};
use crate::errors::CareledgerError;
use crate::logic::consent::{action, check_grant, check_provider, AccessQuery};
use crate::state::{
    ClaimState, ConsentGrant, CoverageRule, Policy, PolicyStatus, Provider, Purpose, RecordAnchor,
    RecordStatus, RuleTerms, ROLE_CLINICIAN, ROLE_HOSPITAL, ROLE_LAB,
};
// Defined with the accounts that store them; re-exported where the SDK has always found them.
pub use crate::state::{Balances, Breakdown};
use anchor_lang::prelude::*;

/// Roles that may bill a policy.
pub const BILLING_ROLES: u8 = ROLE_CLINICIAN | ROLE_LAB | ROLE_HOSPITAL;

/// The service a claim bills, as the provider states it (`claim_submit`'s arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BilledService {
    pub units: u16,
    /// Billed amount, in mint base units.
    pub billed: u64,
    /// Whole UTC day of the service, unix seconds.
    pub service_date: i64,
    /// Hash of the off-chain claim document.
    pub document_commitment: [u8; 32],
    /// The rule's terms as the provider previewed them.
    pub expected_terms: RuleTerms,
}

/// What `claim_submit` checks before it adjudicates, as plain data: the program fills it from
/// its accounts, the SDK's `preview_claim` from fetched ones. The accounts are already matched to
/// one another (rule to policy, record and patient to the policy's member).
pub struct Submission<'a> {
    pub service: BilledService,
    pub policy: &'a Policy,
    pub rule: &'a CoverageRule,
    pub record: &'a RecordAnchor,
    /// The billing provider's wallet and registry account.
    pub provider_wallet: Pubkey,
    pub provider: &'a Provider,
    /// The member's current consent epoch.
    pub patient_epoch: u32,
    /// The member's guardian (default key when none): a guardian cannot bill the ward.
    pub patient_guardian: Pubkey,
    /// The provider's treatment or operations grant from the member, if one was passed.
    pub care_grant: Option<&'a ConsentGrant>,
    /// The member's payment grant to the insurer, if there is one.
    pub payment_grant: Option<&'a ConsentGrant>,
    /// Whether the provider is in the insurer's network (its membership exists).
    pub in_network: bool,
    pub now: i64,
}

/// When the care a treatment or operations grant stands for began: its creation, or its
/// `not_before` if later. A claim's service must not end before it.
pub fn care_began(g: &ConsentGrant) -> i64 {
    i64::from(g.created_at).max(g.not_before)
}

/// Whether the whole UTC day starting at `service_date` overlaps the coverage period.
pub fn day_in_coverage(policy: &Policy, service_date: i64) -> bool {
    service_date.saturating_add(SECONDS_PER_DAY) > policy.coverage_start
        && service_date < policy.coverage_end
}

/// Every reason `claim_submit` refuses a claim, in the order it checks them (the duplicate key
/// aside: that is the claim account's existence).
pub fn check_submission(s: &Submission) -> std::result::Result<(), CareledgerError> {
    use CareledgerError as E;
    let (args, policy) = (&s.service, s.policy);
    if policy.status != PolicyStatus::Active {
        return Err(E::PolicyNotActive);
    }
    if !s.rule.active {
        return Err(E::RuleRetired);
    }
    if args.units == 0 || args.billed == 0 || args.document_commitment == [0; 32] {
        return Err(E::InvalidClaimInput);
    }
    if args.service_date % SECONDS_PER_DAY != 0 || args.service_date > s.now {
        return Err(E::InvalidServiceDate);
    }
    if !day_in_coverage(policy, args.service_date) {
        return Err(E::ServiceDateOutsideCoverage);
    }
    check_provider(s.provider, s.now).map_err(E::from)?;
    if s.provider.roles & BILLING_ROLES == 0 {
        return Err(E::MissingRole);
    }
    if s.provider_wallet == policy.patient || s.provider_wallet == s.patient_guardian {
        return Err(E::SelfBilling);
    }
    if s.record.status != RecordStatus::Current {
        return Err(E::RecordNotCurrent);
    }
    // The record documents this service: anchored that day or within the window after it.
    let anchored = i64::from(s.record.anchored_at);
    let documented = args.service_date <= anchored
        && anchored < args.service_date.saturating_add(DOCUMENTATION_WINDOW_SECS);
    if !documented {
        return Err(E::ServiceNotDocumented);
    }
    if args.expected_terms != s.rule.terms {
        return Err(E::RuleTermsChanged);
    }
    let query = |purpose| AccessQuery {
        action: action::READ,
        purpose,
        record_class: s.record.class,
        record_index: s.record.index,
        now: s.now,
        patient_epoch: s.patient_epoch,
    };
    // A care relationship: the provider wrote the record under a treatment or operations grant,
    // or holds a live such grant from the member covering it, given by the end of the service
    // day (a grant obtained later does not reach back to earlier services).
    let end_of_service_day = args.service_date.saturating_add(SECONDS_PER_DAY);
    let cares = (s.record.care_authored
        && s.record.author == s.provider_wallet
        && s.record.care_since < end_of_service_day)
        || s.care_grant.is_some_and(|g| {
            g.patient == policy.patient
                && g.grantee == s.provider_wallet
                && matches!(g.purpose, Purpose::Treatment | Purpose::Operations)
                && care_began(g) < end_of_service_day
                && check_grant(g, &query(g.purpose)).is_ok()
        });
    if !cares {
        return Err(E::NoCareRelationship);
    }
    if policy.network_only && !s.in_network {
        return Err(E::ProviderOutOfNetwork);
    }
    // The member's consent to disclose this record to the insurer for payment.
    let grant = s.payment_grant.ok_or(E::NoPaymentConsent)?;
    if grant.patient != policy.patient {
        return Err(E::GrantPatientMismatch);
    }
    if grant.grantee != policy.insurer {
        return Err(E::GranteeMismatch);
    }
    check_grant(grant, &query(Purpose::Payment)).map_err(E::from)
}

/// Reason codes the program itself puts on claims. Insurer denial codes are any other non-zero
/// number the insurer publishes off chain.
pub mod reason {
    /// The rule requires prior authorization: the insurer reviews every claim.
    pub const PRIOR_AUTH_REQUIRED: u16 = 1;
    /// More units than the rule's `max_units_per_claim`.
    pub const UNITS_OVER_LIMIT: u16 = 2;
    /// The rule's `max_claims_per_period` was already reached.
    pub const CLAIM_LIMIT_REACHED: u16 = 3;
    /// Nothing is left of the annual benefit cap.
    pub const BENEFIT_CAP_EXHAUSTED: u16 = 4;
    /// The insurer approved nothing of a benefit the rule allows: a denial, appealable.
    pub const APPROVED_NOTHING: u16 = 5;
}

/// The benefit: deductible first, then copay, then coinsurance, then the annual cap.
pub fn adjudicate(terms: &RuleTerms, units: u16, billed: u64, balances: Balances) -> Breakdown {
    // u64 × u16 cannot overflow u128.
    let allowed = u128::from(terms.allowed_per_unit).saturating_mul(u128::from(units));
    // bounded by `billed`, so it fits in u64
    let eligible = u64::try_from(allowed.min(u128::from(billed))).unwrap_or(billed);
    let deductible_applied = eligible.min(balances.deductible_remaining);
    // Each subtrahend below is a `min` of the minuend, so none can go below zero.
    let after_deductible = eligible.saturating_sub(deductible_applied);
    let copay = after_deductible.min(terms.copay);
    let after_copay = after_deductible.saturating_sub(copay);
    let bps = u128::from(terms.coinsurance_bps.min(BPS_DENOMINATOR));
    // u64 × (bps ≤ 10,000) fits in u128, and the quotient is at most `after_copay`.
    let coinsurance = u128::from(after_copay)
        .saturating_mul(bps)
        .checked_div(u128::from(BPS_DENOMINATOR))
        .and_then(|c| u64::try_from(c).ok())
        .unwrap_or(after_copay);
    let uncapped = after_copay.saturating_sub(coinsurance);
    let benefit = uncapped.min(balances.benefit_remaining);
    Breakdown {
        eligible,
        deductible_applied,
        copay,
        coinsurance,
        benefit,
        capped: benefit < uncapped,
    }
}

/// Whether a claim is decided at submission or waits for the insurer, and why.
/// `claims_before` counts the rule's earlier claims in the coverage period.
pub fn review_reason(terms: &RuleTerms, units: u16, claims_before: u32) -> Option<u16> {
    if terms.prior_auth_required {
        Some(reason::PRIOR_AUTH_REQUIRED)
    } else if units > terms.max_units_per_claim {
        Some(reason::UNITS_OVER_LIMIT)
    } else if claims_before >= terms.max_claims_per_period {
        Some(reason::CLAIM_LIMIT_REACHED)
    } else {
        None
    }
}

/// The state an automatic decision leaves a claim in, with its reason code. A denied claim
/// consumes neither deductible nor cap.
pub fn automatic_outcome(b: &Breakdown) -> (ClaimState, u16) {
    match (b.capped, b.benefit) {
        (true, 0) => (ClaimState::Denied, reason::BENEFIT_CAP_EXHAUSTED),
        (true, _) => (ClaimState::Partial, 0),
        (false, _) => (ClaimState::Approved, 0),
    }
}

/// The insurer approves `amount`, at most what the rule allows (`full.benefit`); `None` when it
/// asks for more. Less than the full benefit is a partial approval.
pub fn approve_amount(full: &Breakdown, amount: u64) -> Option<(Breakdown, ClaimState)> {
    if amount > full.benefit {
        return None;
    }
    let state = if amount < full.benefit || full.capped {
        ClaimState::Partial
    } else {
        ClaimState::Approved
    };
    Some((
        Breakdown {
            benefit: amount,
            ..*full
        },
        state,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(allowed: u64, copay: u64, bps: u16) -> RuleTerms {
        RuleTerms {
            allowed_per_unit: allowed,
            copay,
            coinsurance_bps: bps,
            max_units_per_claim: 4,
            max_claims_per_period: 2,
            prior_auth_required: false,
        }
    }

    fn room(deductible_remaining: u64, benefit_remaining: u64) -> Balances {
        Balances {
            deductible_remaining,
            benefit_remaining,
        }
    }

    #[test]
    fn deductible_then_copay_then_coinsurance() {
        // billed 500 for 2 units at 200 allowed: eligible 400; 100 deductible, 20 copay,
        // 20 % of 280 = 56 coinsurance, 224 paid
        let b = adjudicate(&terms(200, 20, 2000), 2, 500, room(100, 10_000));
        assert_eq!(
            b,
            Breakdown {
                eligible: 400,
                deductible_applied: 100,
                copay: 20,
                coinsurance: 56,
                benefit: 224,
                capped: false,
            }
        );
        assert_eq!(automatic_outcome(&b), (ClaimState::Approved, 0));
    }

    #[test]
    fn billed_below_allowed_is_what_counts() {
        let b = adjudicate(&terms(200, 0, 0), 1, 150, room(0, 10_000));
        assert_eq!((b.eligible, b.benefit), (150, 150));
    }

    #[test]
    fn deductible_can_absorb_everything() {
        let b = adjudicate(&terms(200, 20, 2000), 1, 200, room(1000, 10_000));
        assert_eq!((b.deductible_applied, b.copay, b.benefit), (200, 0, 0));
        assert_eq!(automatic_outcome(&b), (ClaimState::Approved, 0));
    }

    #[test]
    fn cap_makes_partial_then_denied() {
        let b = adjudicate(&terms(1000, 0, 0), 1, 1000, room(0, 300));
        assert_eq!((b.benefit, b.capped), (300, true));
        assert_eq!(automatic_outcome(&b), (ClaimState::Partial, 0));
        let b = adjudicate(&terms(1000, 0, 0), 1, 1000, room(0, 0));
        assert_eq!(
            automatic_outcome(&b),
            (ClaimState::Denied, reason::BENEFIT_CAP_EXHAUSTED)
        );
    }

    #[test]
    fn extremes_do_not_overflow() {
        let b = adjudicate(
            &terms(u64::MAX, 0, 9999),
            u16::MAX,
            u64::MAX,
            room(0, u64::MAX),
        );
        assert_eq!(b.eligible, u64::MAX);
        assert_eq!(b.coinsurance + b.benefit, u64::MAX);
    }

    #[test]
    fn review_routing_in_order() {
        let mut t = terms(10, 0, 0);
        assert_eq!(review_reason(&t, 4, 1), None);
        assert_eq!(review_reason(&t, 5, 0), Some(reason::UNITS_OVER_LIMIT));
        assert_eq!(review_reason(&t, 1, 2), Some(reason::CLAIM_LIMIT_REACHED));
        t.prior_auth_required = true;
        assert_eq!(review_reason(&t, 1, 0), Some(reason::PRIOR_AUTH_REQUIRED));
    }

    #[test]
    fn insurer_approval_is_bounded_by_the_rule() {
        let full = adjudicate(&terms(100, 0, 0), 1, 100, room(0, 1000));
        assert_eq!(approve_amount(&full, 101), None);
        assert_eq!(
            approve_amount(&full, 100).map(|a| a.1),
            Some(ClaimState::Approved)
        );
        let (b, state) = approve_amount(&full, 60).unwrap();
        assert_eq!((b.benefit, state), (60, ClaimState::Partial));
    }
}
