use crate::constants::BPS_DENOMINATOR;
use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

/// What a policy pays for one procedure. The same struct is the instruction argument, the stored
/// terms and the event payload (old and new on update).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct RuleTerms {
    /// Most the policy recognises per unit (the "allowed amount"), in mint base units.
    pub allowed_per_unit: u64,
    /// Fixed amount the member pays per claim after the deductible.
    pub copay: u64,
    /// Member's share of what remains after copay, in basis points (0..=10000).
    pub coinsurance_bps: u16,
    /// More units than this go to review instead of automatic payment.
    pub max_units_per_claim: u16,
    /// Claims beyond this many in the coverage period go to review.
    pub max_claims_per_period: u32,
    /// Every claim under this rule waits for the insurer's review.
    pub prior_auth_required: bool,
}

impl RuleTerms {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.allowed_per_unit > 0
                && self.max_units_per_claim > 0
                && self.max_claims_per_period > 0
                && self.coinsurance_bps <= BPS_DENOMINATOR,
            CareledgerError::InvalidRuleTerms
        );
        Ok(())
    }
}

/// One procedure a policy covers. `rule_key` is a salted commitment of the procedure code
/// (see the SDK's `rule_key`): the code itself never reaches the chain.
/// PDA `[RULE_SEED, policy, rule_key]`.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct CoverageRule {
    pub policy: Pubkey,
    pub rule_key: [u8; 32],
    pub terms: RuleTerms,
    pub active: bool,
    pub bump: u8,
    /// Claims submitted under this rule and not cancelled (compared with `max_claims_per_period`).
    pub claims: u32,
    pub updated_at: i64,
}

impl CoverageRule {
    pub fn invariant(&self) -> Result<()> {
        self.terms.validate()?;
        require!(self.rule_key != [0; 32], CareledgerError::InvariantViolated);
        Ok(())
    }
}

/// The account's address seeds, written once: the program creates and signs with them (passing
/// `&[bump]` last), and the SDK derives the address with them (passing `&[]`, which adds nothing
/// to the hash, so `find_program_address` appends the bump itself). The `seeds = [...]`
/// constraints stay literal because the IDL (and Anchor's TypeScript client) reads them; every
/// transaction the tests send checks those constraints against addresses from these functions.
impl CoverageRule {
    pub fn seeds<'a>(policy: &'a Pubkey, rule_key: &'a [u8; 32], bump: &'a [u8]) -> [&'a [u8]; 4] {
        [crate::constants::RULE_SEED, policy.as_ref(), rule_key, bump]
    }
}
