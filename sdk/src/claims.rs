//! Claims, offline: the rule key a provider and insurer both compute from a plain procedure code,
//! the adjudication preview (the program's own function), and an explanation of benefit a
//! patient can read.
use careledger::errors::CareledgerError;
use careledger::logic::claims::{
    adjudicate, automatic_outcome, check_submission, review_reason, Breakdown, Submission,
};
use careledger::state::{Claim, ClaimState};
use careledger::SECONDS_PER_DAY;
use sha2::{Digest, Sha256};

pub use careledger::logic::claims::{approve_amount, reason, Balances};

/// Domain tag of rule-key version 1 (changing the encoding changes the tag).
const RULE_KEY_TAG: &[u8] = b"careledger/rule-key/v1";

/// The on-chain key of a coverage rule: SHA-256 over a domain tag, the policy secret the insurer
/// shares with its providers off chain, and the code system, code and modifier, each
/// length-prefixed so that no two inputs encode alike. Whitespace around each part is ignored
/// and codes compare case-insensitively (`99213` / `99213 `, `j1100` / `J1100` are one rule).
/// Without the secret, the key cannot be matched to a code by hashing a code list.
pub fn rule_key(
    policy_secret: &[u8; 32],
    code_system: &str,
    code: &str,
    modifier: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(RULE_KEY_TAG);
    h.update(policy_secret);
    for part in [code_system.trim(), code.trim(), modifier.trim()] {
        let part = part.to_ascii_uppercase();
        h.update((part.len() as u32).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// The whole UTC day containing `unix_seconds`, as `claim_submit` expects its service date.
pub fn service_day(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(SECONDS_PER_DAY) * SECONDS_PER_DAY
}

/// What `claim_submit` would do now, from the same functions the program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preview {
    /// The program would refuse the claim with this error.
    Refused(CareledgerError),
    /// The claim would wait for the insurer, for this reason code.
    Review { reason: u16 },
    /// Decided at once: approved, partial or denied, with the breakdown; `paid_now` when the
    /// vault's unreserved funds cover the benefit (else it is owed until `claim_settle`).
    Decided {
        state: ClaimState,
        breakdown: Breakdown,
        reason: u16,
        paid_now: bool,
    },
}

/// The whole decision: every refusal `check_submission` finds (`paused`, a claim already at the
/// duplicate key), then the routing and the adjudication, and whether the vault (`None` when
/// frozen) pays now.
pub fn preview(
    s: &Submission,
    paused: bool,
    claim_exists: bool,
    vault_balance: Option<u64>,
) -> Preview {
    if paused {
        return Preview::Refused(CareledgerError::Paused);
    }
    if let Err(e) = check_submission(s) {
        return Preview::Refused(e);
    }
    if claim_exists {
        return Preview::Refused(CareledgerError::DuplicateClaim);
    }
    let (terms, units) = (&s.rule.terms, s.service.units);
    if let Some(reason) = review_reason(terms, units, s.rule.claims) {
        return Preview::Review { reason };
    }
    let breakdown = adjudicate(terms, units, s.service.billed, s.policy.balances());
    let (state, reason) = automatic_outcome(&breakdown);
    let benefit = breakdown.benefit;
    Preview::Decided {
        state,
        breakdown,
        reason,
        paid_now: state.owes(benefit)
            && vault_balance.is_some_and(|v| s.policy.unreserved(v) >= benefit),
    }
}

/// An amount in base units with the mint's decimals: `12345, 2` → `"123.45"`.
pub fn format_amount(amount: u64, decimals: u8) -> String {
    if decimals == 0 {
        return amount.to_string();
    }
    let scale = 10u128.pow(u32::from(decimals));
    let (whole, frac) = (u128::from(amount) / scale, u128::from(amount) % scale);
    format!("{whole}.{frac:0width$}", width = usize::from(decimals))
}

fn reason_text(code: u16) -> String {
    match code {
        0 => String::new(),
        reason::PRIOR_AUTH_REQUIRED => "the procedure needs prior authorization".into(),
        reason::UNITS_OVER_LIMIT => "more units than the policy allows per claim".into(),
        reason::CLAIM_LIMIT_REACHED => {
            "the policy's claim limit for this procedure was reached".into()
        }
        reason::BENEFIT_CAP_EXHAUSTED => "the annual benefit cap is used up".into(),
        other => format!("insurer reason code {other}"),
    }
}

/// A plain-language explanation of benefit for one claim.
pub fn explanation_of_benefit(claim: &Claim, decimals: u8) -> String {
    let f = |x: u64| format_amount(x, decimals);
    let b = &claim.breakdown;
    let status = match claim.state {
        ClaimState::PendingReview => "waiting for the insurer's review",
        _ if claim.state.is_owed() && !claim.owes() => "approved, nothing for the plan to pay",
        ClaimState::Approved => "approved, payment to the provider pending",
        ClaimState::Partial => "partly approved, payment to the provider pending",
        ClaimState::Denied => "denied",
        ClaimState::Paid => "paid to the provider",
        ClaimState::Cancelled => "cancelled by the provider",
    };
    let mut out = format!("Billed {}: {status}", f(claim.billed));
    let why = reason_text(claim.reason_code);
    if !why.is_empty() {
        out.push_str(&format!(" ({why})"));
    }
    out.push('.');
    let decided = matches!(
        claim.state,
        ClaimState::Approved | ClaimState::Partial | ClaimState::Paid
    );
    if decided {
        let yours = b.eligible.saturating_sub(b.benefit);
        out.push_str(&format!(
            "\nAllowed {}. You owe {}: deductible {}, copay {}, coinsurance {}{}. Your plan pays {}.",
            f(b.eligible),
            f(yours),
            f(b.deductible_applied),
            f(b.copay),
            f(b.coinsurance),
            if b.capped { ", plus what the annual cap did not cover" } else { "" },
            f(b.benefit),
        ));
        if claim.billed > b.eligible {
            out.push_str(&format!(
                "\n{} above the allowed amount is not covered by this policy.",
                f(claim.billed - b.eligible)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_keys_normalise_and_depend_on_the_secret() {
        let s = [7u8; 32];
        let a = rule_key(&s, "CPT", "99213", "");
        assert_eq!(a, rule_key(&s, " cpt ", "99213 ", ""));
        assert_ne!(a, rule_key(&[8u8; 32], "CPT", "99213", ""));
        assert_ne!(a, rule_key(&s, "CPT", "99214", ""));
        assert_ne!(a, rule_key(&s, "CPT", "99213", "25"));
        // length prefixes: moving a character between parts changes the key
        assert_ne!(
            rule_key(&s, "CPT", "9921", "3"),
            rule_key(&s, "CPT", "992", "13")
        );
    }

    #[test]
    fn amounts_and_days() {
        assert_eq!(format_amount(12_345, 2), "123.45");
        assert_eq!(format_amount(5, 6), "0.000005");
        assert_eq!(format_amount(7, 0), "7");
        assert_eq!(service_day(86_400 * 3 + 5), 86_400 * 3);
        assert_eq!(service_day(-1), -86_400);
    }
}
