use crate::errors::CareledgerError;
use crate::state::RuleTerms;
use anchor_lang::prelude::*;

/// FHIR ClaimResponse outcome and payment, folded into one state. `Submitted` is the event, not
/// a stored state: a claim leaves `claim_submit` already decided or pending review.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum ClaimState {
    PendingReview,
    /// Benefit approved in full and owed (the vault was short), or zero.
    Approved,
    /// Approved for less than the rule allows (the annual cap bit, or the insurer's decision); owed.
    Partial,
    Denied,
    Paid,
    Cancelled,
}

impl ClaimState {
    pub fn is_owed(self) -> bool {
        matches!(self, ClaimState::Approved | ClaimState::Partial)
    }

    /// Whether a claim in this state with this benefit still has a payment due: approved
    /// (fully or partly) for a non-zero benefit. A zero benefit is settled without a transfer.
    pub fn owes(self, benefit: u64) -> bool {
        self.is_owed() && benefit > 0
    }
}

/// The explanation of benefit, in mint base units: `eligible` splits into what the member pays
/// (`deductible_applied + copay + coinsurance`) and what the policy pays (`benefit`), except that a
/// `capped` claim's benefit was cut to what was left of the annual cap.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
)]
pub struct Breakdown {
    /// `min(billed, allowed_per_unit * units)`.
    pub eligible: u64,
    pub deductible_applied: u64,
    pub copay: u64,
    pub coinsurance: u64,
    pub benefit: u64,
    /// The annual cap cut the benefit.
    pub capped: bool,
}

/// A provider's claim against a policy. PDA
/// `[CLAIM_SEED, policy, provider_wallet, record, rule_key, service_date_i64_le]`: the address is
/// the duplicate key, so the same service cannot be billed twice.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Claim {
    pub policy: Pubkey,
    /// The provider's wallet.
    pub provider: Pubkey,
    /// The supporting record anchor (the encrypted claim evidence lives off chain). The patient
    /// is the policy's member; payment goes to any token account of `provider` in the mint.
    pub record: Pubkey,
    pub rule_key: [u8; 32],
    /// Commitment (hash) of the off-chain claim document.
    pub document_commitment: [u8; 32],
    pub units: u16,
    pub billed: u64,
    /// Whole UTC day, unix seconds.
    pub service_date: i64,
    pub state: ClaimState,
    pub breakdown: Breakdown,
    /// Why the claim went to review or was denied (0 when approved outright).
    pub reason_code: u16,
    pub appealed: bool,
    pub bump: u8,
    pub submitted_at: i64,
    pub decided_at: i64,
    pub paid_at: i64,
    /// The rule's terms when the claim was submitted (what the provider expected): a review
    /// decides under these, whatever the rule says by then. Last, so that the offsets listings
    /// filter on stay put.
    pub terms: RuleTerms,
}

impl Claim {
    /// Whether a payment is still due (`ClaimState::owes`).
    pub fn owes(&self) -> bool {
        self.state.owes(self.breakdown.benefit)
    }

    pub fn invariant(&self) -> Result<()> {
        let b = &self.breakdown;
        let parts = b
            .deductible_applied
            .checked_add(b.copay)
            .and_then(|x| x.checked_add(b.coinsurance))
            .and_then(|x| x.checked_add(b.benefit));
        let paid_consistent = (self.state == ClaimState::Paid) == (self.paid_at != 0);
        require!(
            parts.is_some_and(|p| p <= b.eligible)
                && b.eligible <= self.billed
                && paid_consistent
                && self.units > 0,
            CareledgerError::InvariantViolated
        );
        Ok(())
    }
}

/// The account's address seeds, written once: the program creates and signs with them (passing
/// `&[bump]` last), and the SDK derives the address with them (passing `&[]`, which adds nothing
/// to the hash, so `find_program_address` appends the bump itself). The `seeds = [...]`
/// constraints stay literal because the IDL (and Anchor's TypeScript client) reads them; every
/// transaction the tests send checks those constraints against addresses from these functions.
impl Claim {
    /// `service_date` little-endian: the address is the duplicate key.
    pub fn seeds<'a>(
        policy: &'a Pubkey,
        provider: &'a Pubkey,
        rule_key: &'a [u8; 32],
        service_date: &'a [u8; 8],
        bump: &'a [u8],
    ) -> [&'a [u8]; 6] {
        [
            crate::constants::CLAIM_SEED,
            policy.as_ref(),
            provider.as_ref(),
            rule_key,
            service_date,
            bump,
        ]
    }
}
