//! Insurer policies, coverage rules and claims.
//!
//! ```
//! use careledger_sdk::{ix, pda, Pubkey};
//!
//! let (insurer, member, mint) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
//! let keys = ix::PolicyKeys::new(&insurer, 1, &member, &mint);
//! let suspend = ix::PolicySetStatus { keys, suspended: true }.instruction();
//! assert_eq!(keys.policy, pda::policy(&insurer, 1).0);
//! assert!(suspend.accounts.iter().any(|a| a.pubkey == keys.policy));
//! ```
use super::{build, ea, system, token};
use crate::pda;
use careledger::accounts as acc;
use careledger::instruction as data;
use careledger::instructions::*;
use careledger::state::{Purpose, RuleTerms};
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

/// The addresses of a policy every claims builder needs, from a fetched `Policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyKeys {
    pub policy: Pubkey,
    pub insurer: Pubkey,
    pub patient: Pubkey,
    pub mint: Pubkey,
    pub vault: Pubkey,
}

impl PolicyKeys {
    pub fn of(policy: Pubkey, state: &careledger::state::Policy) -> Self {
        PolicyKeys {
            policy,
            insurer: state.insurer,
            patient: state.patient,
            mint: state.mint,
            vault: state.vault,
        }
    }

    /// The keys of a policy about to be created (vault derived from the policy address).
    pub fn new(insurer: &Pubkey, policy_id: u64, patient: &Pubkey, mint: &Pubkey) -> Self {
        let policy = pda::policy(insurer, policy_id).0;
        PolicyKeys {
            policy,
            insurer: *insurer,
            patient: *patient,
            mint: *mint,
            vault: pda::vault(&policy).0,
        }
    }
}

/// How a billing provider shows it cares for the member: it authored the cited record, or it
/// holds the member's grant for this purpose (treatment or operations) covering the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CareBasis {
    AuthoredRecord,
    Grant(Purpose),
}

/// The insurer (`keys.insurer`, signing) creates a policy for `keys.patient`, paying in `keys.mint` from the vault `keys.vault`.
#[derive(Clone, Debug)]
pub struct PolicyCreate {
    pub keys: PolicyKeys,
    pub args: PolicyCreateArgs,
}

impl PolicyCreate {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let args = self.args;
        build(
            acc::PolicyCreate {
                insurer: keys.insurer,
                config: pda::config(),
                insurer_provider: pda::provider(&keys.insurer).0,
                patient: pda::patient(&keys.patient).0,
                mint: keys.mint,
                accepted_mint: pda::accepted_mint(&keys.mint).0,
                policy: keys.policy,
                vault: keys.vault,
                token_program: token(),
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::PolicyCreate { args },
        )
    }
}

/// `funder` (signing) moves `amount` into the policy's vault.
///
/// `source` is the funder's token account for the policy's mint.
#[derive(Clone, Copy, Debug)]
pub struct PolicyFund {
    pub funder: Pubkey,
    pub keys: PolicyKeys,
    pub source: Pubkey,
    pub amount: u64,
}

impl PolicyFund {
    pub fn instruction(self) -> Instruction {
        let funder = &self.funder;
        let keys = &self.keys;
        let source = &self.source;
        let amount = self.amount;
        build(
            acc::PolicyFund {
                funder: *funder,
                config: pda::config(),
                policy: keys.policy,
                mint: keys.mint,
                vault: keys.vault,
                source: *source,
                token_program: token(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::PolicyFund {
                args: PolicyFundArgs { amount },
            },
        )
    }
}

/// The insurer suspends or resumes the policy (`suspended`).
#[derive(Clone, Copy, Debug)]
pub struct PolicySetStatus {
    pub keys: PolicyKeys,
    pub suspended: bool,
}

impl PolicySetStatus {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let suspended = self.suspended;
        build(
            acc::PolicySetStatus {
                insurer: keys.insurer,
                config: pda::config(),
                policy: keys.policy,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::PolicySetStatus {
                args: PolicySetStatusArgs { suspended },
            },
        )
    }
}

/// The insurer withdraws `amount` of unreserved funds to `destination`.
#[derive(Clone, Copy, Debug)]
pub struct PolicyWithdraw {
    pub keys: PolicyKeys,
    pub destination: Pubkey,
    pub amount: u64,
}

impl PolicyWithdraw {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let destination = &self.destination;
        let amount = self.amount;
        build(
            acc::PolicyWithdraw {
                insurer: keys.insurer,
                config: pda::config(),
                policy: keys.policy,
                mint: keys.mint,
                vault: keys.vault,
                destination: *destination,
                token_program: token(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::PolicyWithdraw {
                args: PolicyWithdrawArgs { amount },
            },
        )
    }
}

/// The insurer closes a policy with nothing owed, sending what is left to `destination`.
#[derive(Clone, Copy, Debug)]
pub struct PolicyClose {
    pub keys: PolicyKeys,
    pub destination: Pubkey,
}

impl PolicyClose {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let destination = &self.destination;
        build(
            acc::PolicyClose {
                insurer: keys.insurer,
                config: pda::config(),
                policy: keys.policy,
                mint: keys.mint,
                vault: keys.vault,
                destination: *destination,
                token_program: token(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::PolicyClose {},
        )
    }
}

/// The insurer adds a coverage rule under `rule_key` (a salted procedure code, `claims::rule_key`).
#[derive(Clone, Debug)]
pub struct RuleAdd {
    pub keys: PolicyKeys,
    pub rule_key: [u8; 32],
    pub terms: RuleTerms,
}

impl RuleAdd {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let rule_key = self.rule_key;
        let terms = self.terms;
        build(
            acc::RuleAdd {
                insurer: keys.insurer,
                config: pda::config(),
                policy: keys.policy,
                rule: pda::rule(&keys.policy, &rule_key).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::RuleAdd {
                args: RuleAddArgs { rule_key, terms },
            },
        )
    }
}

/// The insurer changes the terms of the rule `rule_key`; claims keep the terms they were submitted under.
#[derive(Clone, Debug)]
pub struct RuleUpdate {
    pub keys: PolicyKeys,
    pub rule_key: [u8; 32],
    pub terms: RuleTerms,
}

impl RuleUpdate {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let rule_key = &self.rule_key;
        let terms = self.terms;
        build(
            acc::RuleUpdate {
                insurer: keys.insurer,
                config: pda::config(),
                policy: keys.policy,
                rule: pda::rule(&keys.policy, rule_key).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::RuleUpdate {
                args: RuleUpdateArgs { terms },
            },
        )
    }
}

/// The insurer retires the rule `rule_key`; no new claim can cite it.
#[derive(Clone, Copy, Debug)]
pub struct RuleRetire {
    pub keys: PolicyKeys,
    pub rule_key: [u8; 32],
}

impl RuleRetire {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let rule_key = &self.rule_key;
        build(
            acc::RuleRetire {
                insurer: keys.insurer,
                config: pda::config(),
                policy: keys.policy,
                rule: pda::rule(&keys.policy, rule_key).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::RuleRetire {},
        )
    }
}

/// A provider (`provider`, signing) bills the policy for a service documented by `record`; paid at once when the rule decides it.
///
/// The claim's address is `pda::claim(policy, provider, rule_key, service_date)`. `payee` is the
/// provider's token account for the policy's mint. The insurer's payment grant, the provider's
/// care grant (`care`) and its network membership are derived. `args.expected_terms` are the
/// rule's terms the provider previewed.
#[derive(Clone, Debug)]
pub struct ClaimSubmit {
    pub provider: Pubkey,
    pub keys: PolicyKeys,
    pub record: Pubkey,
    pub rule_key: [u8; 32],
    pub payee: Pubkey,
    pub care: CareBasis,
    pub args: ClaimSubmitArgs,
}

impl ClaimSubmit {
    pub fn instruction(self) -> Instruction {
        let provider = &self.provider;
        let keys = &self.keys;
        let record = &self.record;
        let rule_key = &self.rule_key;
        let payee = &self.payee;
        let care = self.care;
        let args = self.args;
        let claim = pda::claim(&keys.policy, provider, rule_key, args.service_date).0;
        // With an authored record the care account is not read: the treatment grant's address
        // stands in.
        let care_purpose = match care {
            CareBasis::AuthoredRecord => Purpose::Treatment,
            CareBasis::Grant(purpose) => purpose,
        };
        build(
            acc::ClaimSubmit {
                provider: *provider,
                config: pda::config(),
                provider_account: pda::provider(provider).0,
                patient: pda::patient(&keys.patient).0,
                policy: keys.policy,
                rule: pda::rule(&keys.policy, rule_key).0,
                record: *record,
                care_grant: pda::grant(&keys.patient, provider, care_purpose).0,
                network_membership: pda::network_membership(&keys.insurer, provider).0,
                payment_grant: pda::grant(&keys.patient, &keys.insurer, Purpose::Payment).0,
                claim,
                mint: keys.mint,
                vault: keys.vault,
                payee: *payee,
                token_program: token(),
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ClaimSubmit { args },
        )
    }
}

/// The insurer decides a claim in review (`decision`).
///
/// `payee` is any token account of the claim's provider in the policy's mint.
#[derive(Clone, Copy, Debug)]
pub struct ClaimReview {
    pub keys: PolicyKeys,
    pub claim: Pubkey,
    /// The claim's `rule_key` (from the fetched `Claim`).
    pub rule_key: [u8; 32],
    pub payee: Pubkey,
    pub decision: ReviewDecision,
}

impl ClaimReview {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let claim = &self.claim;
        let rule_key = &self.rule_key;
        let payee = &self.payee;
        let decision = self.decision;
        build(
            acc::ClaimReview {
                insurer: keys.insurer,
                config: pda::config(),
                insurer_provider: pda::provider(&keys.insurer).0,
                policy: keys.policy,
                rule: pda::rule(&keys.policy, rule_key).0,
                claim: *claim,
                mint: keys.mint,
                vault: keys.vault,
                payee: *payee,
                token_program: token(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ClaimReview {
                args: ClaimReviewArgs { decision },
            },
        )
    }
}

/// The provider (`provider`, signing) appeals a denied claim while appeals are open. Of
/// `keys`, only `keys.policy` is read (the same `PolicyKeys` every claim builder takes).
#[derive(Clone, Copy, Debug)]
pub struct ClaimAppeal {
    pub provider: Pubkey,
    pub keys: PolicyKeys,
    pub claim: Pubkey,
}

impl ClaimAppeal {
    pub fn instruction(self) -> Instruction {
        let provider = &self.provider;
        let keys = &self.keys;
        let claim = &self.claim;
        build(
            acc::ClaimAppeal {
                provider: *provider,
                config: pda::config(),
                policy: keys.policy,
                claim: *claim,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ClaimAppeal {},
        )
    }
}

/// The provider (`provider`, signing) withdraws its claim before it is decided. Of `keys`,
/// only `keys.policy` is read.
#[derive(Clone, Copy, Debug)]
pub struct ClaimCancel {
    pub provider: Pubkey,
    pub keys: PolicyKeys,
    pub claim: Pubkey,
    pub rule_key: [u8; 32],
}

impl ClaimCancel {
    pub fn instruction(self) -> Instruction {
        let provider = &self.provider;
        let keys = &self.keys;
        let claim = &self.claim;
        let rule_key = &self.rule_key;
        build(
            acc::ClaimCancel {
                provider: *provider,
                config: pda::config(),
                policy: keys.policy,
                rule: pda::rule(&keys.policy, rule_key).0,
                claim: *claim,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ClaimCancel {},
        )
    }
}

/// Pays an approved claim that was owed when the vault could not cover it.
///
/// Anyone may settle; `payee` must be a token account of the claim's provider in the mint.
#[derive(Clone, Copy, Debug)]
pub struct ClaimSettle {
    pub payer: Pubkey,
    pub keys: PolicyKeys,
    pub claim: Pubkey,
    pub payee: Pubkey,
}

impl ClaimSettle {
    pub fn instruction(self) -> Instruction {
        let payer = &self.payer;
        let keys = &self.keys;
        let claim = &self.claim;
        let payee = &self.payee;
        build(
            acc::ClaimSettle {
                payer: *payer,
                config: pda::config(),
                policy: keys.policy,
                claim: *claim,
                mint: keys.mint,
                vault: keys.vault,
                payee: *payee,
                token_program: token(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ClaimSettle {},
        )
    }
}

/// The insurer (`insurer`, signing) enrols a verified billing provider in its network.
#[derive(Clone, Copy, Debug)]
pub struct NetworkAdd {
    pub insurer: Pubkey,
    pub provider: Pubkey,
}

impl NetworkAdd {
    pub fn instruction(self) -> Instruction {
        let insurer = &self.insurer;
        let provider = &self.provider;
        build(
            acc::NetworkAdd {
                insurer: *insurer,
                config: pda::config(),
                insurer_provider: pda::provider(insurer).0,
                provider: pda::provider(provider).0,
                membership: pda::network_membership(insurer, provider).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::NetworkAdd {},
        )
    }
}

/// The insurer (`insurer`, signing) ends `provider`'s network membership (rent back to the
/// insurer).
#[derive(Clone, Copy, Debug)]
pub struct NetworkRemove {
    pub insurer: Pubkey,
    pub provider: Pubkey,
}

impl NetworkRemove {
    pub fn instruction(self) -> Instruction {
        let insurer = &self.insurer;
        let provider = &self.provider;
        build(
            acc::NetworkRemove {
                insurer: *insurer,
                membership: pda::network_membership(insurer, provider).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::NetworkRemove {},
        )
    }
}
