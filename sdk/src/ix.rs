//! One builder per instruction. Each derives every address it can (PDAs, config, event
//! authority) so the caller passes only the keys that carry meaning.
use crate::pda;
use anchor_lang::{InstructionData, ToAccountMetas};
use careledger::accounts as acc;
use careledger::instruction as data;
use careledger::instructions::*;
use careledger::state::{Purpose, RuleTerms};
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

fn build(accounts: impl ToAccountMetas, args: impl InstructionData) -> Instruction {
    Instruction {
        program_id: careledger::ID,
        accounts: accounts.to_account_metas(None),
        data: args.data(),
    }
}

fn system() -> Pubkey {
    solana_sdk_ids::system_program::ID
}

fn ea() -> Pubkey {
    pda::event_authority()
}

pub fn config_init(upgrade_authority: &Pubkey, args: ConfigInitArgs) -> Instruction {
    build(
        acc::ConfigInit {
            upgrade_authority: *upgrade_authority,
            program_data: pda::program_data(),
            config: pda::config(),
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::ConfigInit { args },
    )
}

pub fn config_propose_admin(admin: &Pubkey, new_admin: &Pubkey) -> Instruction {
    build(
        acc::ConfigProposeAdmin {
            admin: *admin,
            config: pda::config(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::ConfigProposeAdmin {
            args: ConfigProposeAdminArgs {
                new_admin: *new_admin,
            },
        },
    )
}

pub fn config_accept_admin(new_admin: &Pubkey) -> Instruction {
    build(
        acc::ConfigAcceptAdmin {
            new_admin: *new_admin,
            config: pda::config(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::ConfigAcceptAdmin {},
    )
}

pub fn config_set_paused(admin: &Pubkey, paused: bool) -> Instruction {
    build(
        acc::ConfigSetPaused {
            admin: *admin,
            config: pda::config(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::ConfigSetPaused {
            args: ConfigSetPausedArgs { paused },
        },
    )
}

pub fn config_update(admin: &Pubkey, args: ConfigUpdateArgs) -> Instruction {
    build(
        acc::ConfigUpdate {
            admin: *admin,
            config: pda::config(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::ConfigUpdate { args },
    )
}

pub fn provider_register(wallet: &Pubkey, args: ProviderRegisterArgs) -> Instruction {
    build(
        acc::ProviderRegister {
            wallet: *wallet,
            config: pda::config(),
            provider: pda::provider(wallet).0,
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::ProviderRegister { args },
    )
}

pub fn provider_verify(
    authority: &Pubkey,
    provider_wallet: &Pubkey,
    args: ProviderVerifyArgs,
) -> Instruction {
    build(
        acc::ProviderVerify {
            authority: *authority,
            config: pda::config(),
            provider: pda::provider(provider_wallet).0,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::ProviderVerify { args },
    )
}

pub fn provider_suspend(
    authority: &Pubkey,
    provider_wallet: &Pubkey,
    reason_code: u16,
) -> Instruction {
    build(
        acc::ProviderSuspend {
            authority: *authority,
            config: pda::config(),
            provider: pda::provider(provider_wallet).0,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::ProviderSuspend {
            args: ProviderSuspendArgs { reason_code },
        },
    )
}

pub fn patient_register(wallet: &Pubkey) -> Instruction {
    build(
        acc::PatientRegister {
            wallet: *wallet,
            config: pda::config(),
            patient: pda::patient(wallet).0,
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::PatientRegister {},
    )
}

/// Appoints a guardian until `expires_at`, or clears it with `guardian = None`.
pub fn patient_set_guardian(
    wallet: &Pubkey,
    guardian: Option<&Pubkey>,
    expires_at: i64,
) -> Instruction {
    build(
        acc::PatientSetGuardian {
            wallet: *wallet,
            config: pda::config(),
            patient: pda::patient(wallet).0,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::PatientSetGuardian {
            args: PatientSetGuardianArgs {
                guardian: guardian.copied().unwrap_or_default(),
                guardian_expires_at: if guardian.is_some() { expires_at } else { 0 },
            },
        },
    )
}

/// Who writes a record: the patient, or a provider under its grant for `purpose`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    Patient,
    Provider {
        wallet: Pubkey,
        purpose: Purpose,
    },
    /// A clinician writing under its break-glass grant number `serial`.
    Emergency {
        wallet: Pubkey,
        serial: u32,
    },
}

impl Author {
    fn accounts(&self, patient_wallet: &Pubkey) -> (Pubkey, Option<Pubkey>, Option<Pubkey>) {
        match self {
            Author::Patient => (*patient_wallet, None, None),
            Author::Provider { wallet, purpose } => (
                *wallet,
                Some(pda::provider(wallet).0),
                Some(pda::grant(patient_wallet, wallet, *purpose).0),
            ),
            Author::Emergency { wallet, serial } => (
                *wallet,
                Some(pda::provider(wallet).0),
                Some(pda::emergency_grant(patient_wallet, wallet, *serial).0),
            ),
        }
    }
}

/// `index` must be the patient's current `record_count`.
pub fn record_anchor(
    patient_wallet: &Pubkey,
    index: u32,
    author: Author,
    args: RecordAnchorArgs,
) -> Instruction {
    let (author, author_provider, grant) = author.accounts(patient_wallet);
    build(
        acc::RecordAnchorCreate {
            author,
            config: pda::config(),
            patient: pda::patient(patient_wallet).0,
            record: pda::record(patient_wallet, index).0,
            author_provider,
            grant,
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::RecordAnchor { args },
    )
}

/// Amends the record at `previous_index`; the new version goes to `new_index` (the patient's
/// current `record_count`).
pub fn record_amend(
    patient_wallet: &Pubkey,
    previous_index: u32,
    new_index: u32,
    author: Author,
    args: RecordAmendArgs,
) -> Instruction {
    let (author, author_provider, grant) = author.accounts(patient_wallet);
    build(
        acc::RecordAmend {
            author,
            config: pda::config(),
            patient: pda::patient(patient_wallet).0,
            previous: pda::record(patient_wallet, previous_index).0,
            record: pda::record(patient_wallet, new_index).0,
            author_provider,
            grant,
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::RecordAmend { args },
    )
}

/// Retracts `record` (its fetched state) as `by`: the patient, or its author writing under a
/// grant. An amendment's predecessor is passed so that it is reinstated.
pub fn record_retract(
    by: Author,
    record: &careledger::state::RecordAnchor,
    reason_code: u16,
) -> Instruction {
    let patient_wallet = record.patient;
    let (by, author_provider, grant) = by.accounts(&patient_wallet);
    let previous = (record.version > 1).then(|| pda::record(&patient_wallet, record.previous).0);
    build(
        acc::RecordRetract {
            by,
            config: pda::config(),
            record: pda::record(&patient_wallet, record.index).0,
            patient: pda::patient(&patient_wallet).0,
            author_provider,
            grant,
            previous,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::RecordRetract {
            args: RecordRetractArgs { reason_code },
        },
    )
}

/// `authority` is the patient or their guardian.
pub fn grant_create(
    authority: &Pubkey,
    patient_wallet: &Pubkey,
    grantee_wallet: &Pubkey,
    args: GrantCreateArgs,
) -> Instruction {
    build(
        acc::GrantCreate {
            authority: *authority,
            config: pda::config(),
            patient: pda::patient(patient_wallet).0,
            grantee_provider: pda::provider(grantee_wallet).0,
            grant: pda::grant(patient_wallet, grantee_wallet, args.purpose).0,
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::GrantCreate { args },
    )
}

pub fn grant_update(
    authority: &Pubkey,
    patient_wallet: &Pubkey,
    grant: &Pubkey,
    args: GrantUpdateArgs,
) -> Instruction {
    build(
        acc::GrantUpdate {
            authority: *authority,
            config: pda::config(),
            patient: pda::patient(patient_wallet).0,
            grant: *grant,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::GrantUpdate { args },
    )
}

pub fn grant_revoke(authority: &Pubkey, patient_wallet: &Pubkey, grant: &Pubkey) -> Instruction {
    build(
        acc::GrantRevoke {
            authority: *authority,
            patient: pda::patient(patient_wallet).0,
            grant: *grant,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::GrantRevoke {},
    )
}

pub fn grant_revoke_all(authority: &Pubkey, patient_wallet: &Pubkey) -> Instruction {
    build(
        acc::GrantRevokeAll {
            authority: *authority,
            patient: pda::patient(patient_wallet).0,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::GrantRevokeAll {},
    )
}

/// `rent_to` is the patient's wallet for patient grants, the provider's for break-glass grants.
pub fn grant_close(
    authority: &Pubkey,
    patient_wallet: &Pubkey,
    grant: &Pubkey,
    rent_to: &Pubkey,
) -> Instruction {
    build(
        acc::GrantClose {
            authority: *authority,
            config: pda::config(),
            patient: pda::patient(patient_wallet).0,
            grant: *grant,
            rent_to: *rent_to,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::GrantClose {},
    )
}

pub fn request_create(
    requester: &Pubkey,
    patient_wallet: &Pubkey,
    args: RequestCreateArgs,
) -> Instruction {
    build(
        acc::RequestCreate {
            requester: *requester,
            config: pda::config(),
            requester_provider: pda::provider(requester).0,
            patient: pda::patient(patient_wallet).0,
            request: pda::request(patient_wallet, requester).0,
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::RequestCreate { args },
    )
}

/// `purpose` must be the request's purpose (it names the grant's address).
pub fn request_approve(
    authority: &Pubkey,
    patient_wallet: &Pubkey,
    requester: &Pubkey,
    purpose: Purpose,
    args: RequestApproveArgs,
) -> Instruction {
    build(
        acc::RequestApprove {
            authority: *authority,
            config: pda::config(),
            patient: pda::patient(patient_wallet).0,
            request: pda::request(patient_wallet, requester).0,
            requester: *requester,
            grant: pda::grant(patient_wallet, requester, purpose).0,
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::RequestApprove { args },
    )
}

pub fn request_deny(
    authority: &Pubkey,
    patient_wallet: &Pubkey,
    requester: &Pubkey,
    reason_code: u16,
) -> Instruction {
    build(
        acc::RequestDeny {
            authority: *authority,
            config: pda::config(),
            patient: pda::patient(patient_wallet).0,
            request: pda::request(patient_wallet, requester).0,
            requester: *requester,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::RequestDeny {
            args: RequestDenyArgs { reason_code },
        },
    )
}

/// `serial` is this clinician's next emergency serial with the patient
/// (`Client::next_emergency_serial`): the new grant is `pda::emergency_grant(patient, clinician,
/// serial)`. Only the clinician's own emergencies move it.
pub fn break_glass_open(
    clinician: &Pubkey,
    patient_wallet: &Pubkey,
    serial: u32,
    args: BreakGlassOpenArgs,
) -> Instruction {
    build(
        acc::BreakGlassOpen {
            clinician: *clinician,
            config: pda::config(),
            provider: pda::provider(clinician).0,
            patient: pda::patient(patient_wallet).0,
            marker: pda::emergency_marker(patient_wallet, clinician).0,
            grant: pda::emergency_grant(patient_wallet, clinician, serial).0,
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::BreakGlassOpen { args },
    )
}

pub fn break_glass_review(
    authority: &Pubkey,
    patient_wallet: &Pubkey,
    grant: &Pubkey,
    outcome: ReviewOutcome,
) -> Instruction {
    build(
        acc::BreakGlassReview {
            authority: *authority,
            config: pda::config(),
            patient: pda::patient(patient_wallet).0,
            grant: *grant,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::BreakGlassReview {
            args: BreakGlassReviewArgs { outcome },
        },
    )
}

pub fn access_log(
    grantee: &Pubkey,
    patient_wallet: &Pubkey,
    grant: &Pubkey,
    record: &Pubkey,
    args: AccessLogArgs,
) -> Instruction {
    build(
        acc::AccessLog {
            grantee: *grantee,
            config: pda::config(),
            grantee_provider: pda::provider(grantee).0,
            patient: pda::patient(patient_wallet).0,
            grant: *grant,
            record: *record,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::AccessLog { args },
    )
}

// ------------------------------------------------------------------ claims

fn token() -> Pubkey {
    crate::tokens::TOKEN_PROGRAM_ID
}

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

pub fn policy_create(keys: &PolicyKeys, args: PolicyCreateArgs) -> Instruction {
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

/// `source` is the funder's token account for the policy's mint.
pub fn policy_fund(
    funder: &Pubkey,
    keys: &PolicyKeys,
    source: &Pubkey,
    amount: u64,
) -> Instruction {
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

pub fn policy_set_status(keys: &PolicyKeys, suspended: bool) -> Instruction {
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

pub fn policy_withdraw(keys: &PolicyKeys, destination: &Pubkey, amount: u64) -> Instruction {
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

pub fn policy_close(keys: &PolicyKeys, destination: &Pubkey) -> Instruction {
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

pub fn rule_add(keys: &PolicyKeys, rule_key: [u8; 32], terms: RuleTerms) -> Instruction {
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

pub fn rule_update(keys: &PolicyKeys, rule_key: &[u8; 32], terms: RuleTerms) -> Instruction {
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

pub fn rule_retire(keys: &PolicyKeys, rule_key: &[u8; 32]) -> Instruction {
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

/// How a billing provider shows it cares for the member: it authored the cited record, or it
/// holds the member's grant for this purpose (treatment or operations) covering the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CareBasis {
    AuthoredRecord,
    Grant(Purpose),
}

/// The claim's address is `pda::claim(policy, provider, rule_key, service_date)`. `payee` is the
/// provider's token account for the policy's mint. The insurer's payment grant, the provider's
/// care grant (`care`) and its network membership are derived. `args.expected_terms` are the
/// rule's terms the provider previewed.
pub fn claim_submit(
    provider: &Pubkey,
    keys: &PolicyKeys,
    record: &Pubkey,
    rule_key: &[u8; 32],
    payee: &Pubkey,
    care: CareBasis,
    args: ClaimSubmitArgs,
) -> Instruction {
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

/// `payee` is any token account of the claim's provider in the policy's mint.
pub fn claim_review(
    keys: &PolicyKeys,
    claim: &Pubkey,
    state: &careledger::state::Claim,
    payee: &Pubkey,
    decision: ReviewDecision,
) -> Instruction {
    build(
        acc::ClaimReview {
            insurer: keys.insurer,
            config: pda::config(),
            insurer_provider: pda::provider(&keys.insurer).0,
            policy: keys.policy,
            rule: pda::rule(&keys.policy, &state.rule_key).0,
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

pub fn claim_appeal(provider: &Pubkey, policy: &Pubkey, claim: &Pubkey) -> Instruction {
    build(
        acc::ClaimAppeal {
            provider: *provider,
            config: pda::config(),
            policy: *policy,
            claim: *claim,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::ClaimAppeal {},
    )
}

pub fn claim_cancel(
    provider: &Pubkey,
    policy: &Pubkey,
    claim: &Pubkey,
    rule_key: &[u8; 32],
) -> Instruction {
    build(
        acc::ClaimCancel {
            provider: *provider,
            config: pda::config(),
            policy: *policy,
            rule: pda::rule(policy, rule_key).0,
            claim: *claim,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::ClaimCancel {},
    )
}

/// Anyone may settle; `payee` must be a token account of the claim's provider in the mint.
pub fn claim_settle(
    payer: &Pubkey,
    keys: &PolicyKeys,
    claim: &Pubkey,
    payee: &Pubkey,
) -> Instruction {
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

/// The insurer enrols a verified billing provider in its network.
pub fn network_add(insurer: &Pubkey, provider: &Pubkey) -> Instruction {
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

/// The insurer ends a provider's network membership (rent back to the insurer).
pub fn network_remove(insurer: &Pubkey, provider: &Pubkey) -> Instruction {
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

// ------------------------------------------------------------------ rewards

/// The addresses of a study every rewards builder needs, from a fetched `Study`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StudyKeys {
    pub study: Pubkey,
    pub sponsor: Pubkey,
    pub mint: Pubkey,
    pub vault: Pubkey,
}

impl StudyKeys {
    pub fn of(study: Pubkey, state: &careledger::state::Study) -> Self {
        StudyKeys {
            study,
            sponsor: state.sponsor,
            mint: state.mint,
            vault: state.vault,
        }
    }

    /// The keys of a study about to be created.
    pub fn new(sponsor: &Pubkey, study_id: u64, mint: &Pubkey) -> Self {
        let study = pda::study(sponsor, study_id).0;
        StudyKeys {
            study,
            sponsor: *sponsor,
            mint: *mint,
            vault: pda::vault(&study).0,
        }
    }
}

pub fn study_create(keys: &StudyKeys, args: StudyCreateArgs) -> Instruction {
    build(
        acc::StudyCreate {
            sponsor: keys.sponsor,
            config: pda::config(),
            sponsor_provider: pda::provider(&keys.sponsor).0,
            mint: keys.mint,
            accepted_mint: pda::accepted_mint(&keys.mint).0,
            study: keys.study,
            vault: keys.vault,
            token_program: token(),
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::StudyCreate { args },
    )
}

/// `source` is the funder's token account for the study's mint.
pub fn study_fund(funder: &Pubkey, keys: &StudyKeys, source: &Pubkey, amount: u64) -> Instruction {
    build(
        acc::StudyFund {
            funder: *funder,
            config: pda::config(),
            study: keys.study,
            mint: keys.mint,
            vault: keys.vault,
            source: *source,
            token_program: token(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::StudyFund {
            args: StudyFundArgs { amount },
        },
    )
}

pub fn study_close_enrolment(keys: &StudyKeys) -> Instruction {
    build(
        acc::StudyCloseEnrolment {
            sponsor: keys.sponsor,
            study: keys.study,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::StudyCloseEnrolment {},
    )
}

pub fn study_withdraw(keys: &StudyKeys, destination: &Pubkey, amount: u64) -> Instruction {
    build(
        acc::StudyWithdraw {
            sponsor: keys.sponsor,
            config: pda::config(),
            study: keys.study,
            mint: keys.mint,
            vault: keys.vault,
            destination: *destination,
            token_program: token(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::StudyWithdraw {
            args: StudyWithdrawArgs { amount },
        },
    )
}

pub fn study_close(keys: &StudyKeys, destination: &Pubkey) -> Instruction {
    build(
        acc::StudyClose {
            sponsor: keys.sponsor,
            config: pda::config(),
            study: keys.study,
            mint: keys.mint,
            vault: keys.vault,
            destination: *destination,
            token_program: token(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::StudyClose {},
    )
}

/// Enrols `patient_wallet` (signed by the patient or guardian `authority`) under the research
/// grant to the sponsor; the reward goes to the patient's associated token account.
pub fn study_enroll(authority: &Pubkey, patient_wallet: &Pubkey, keys: &StudyKeys) -> Instruction {
    build(
        acc::StudyEnroll {
            authority: *authority,
            config: pda::config(),
            patient: pda::patient(patient_wallet).0,
            patient_wallet: *patient_wallet,
            study: keys.study,
            research_grant: pda::grant(patient_wallet, &keys.sponsor, Purpose::Research).0,
            invitation: pda::invitation(&keys.study, patient_wallet).0,
            participation: pda::participation(&keys.study, patient_wallet).0,
            mint: keys.mint,
            vault: keys.vault,
            patient_tokens: pda::associated_token(patient_wallet, &keys.mint),
            token_program: token(),
            associated_token_program: anchor_spl::associated_token::ID,
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::StudyEnroll {},
    )
}

/// The research grant and the enrolment in one transaction: consent and enrolment together.
pub fn study_enroll_with_grant(
    authority: &Pubkey,
    patient_wallet: &Pubkey,
    keys: &StudyKeys,
    classes: u16,
    expires_at: i64,
) -> Vec<Instruction> {
    let grant = GrantCreateArgs {
        purpose: Purpose::Research,
        classes,
        actions: careledger::logic::consent::action::READ,
        record_scope: careledger::NO_RECORD_SCOPE,
        not_before: 0,
        expires_at,
    };
    vec![
        grant_create(authority, patient_wallet, &keys.sponsor, grant),
        study_enroll(authority, patient_wallet, keys),
    ]
}

/// Pays the due periods to `patient_tokens` (any token account of the patient for the mint).
pub fn reward_claim(
    authority: &Pubkey,
    patient_wallet: &Pubkey,
    keys: &StudyKeys,
    patient_tokens: &Pubkey,
) -> Instruction {
    build(
        acc::RewardClaim {
            authority: *authority,
            config: pda::config(),
            patient: pda::patient(patient_wallet).0,
            study: keys.study,
            participation: pda::participation(&keys.study, patient_wallet).0,
            research_grant: pda::grant(patient_wallet, &keys.sponsor, Purpose::Research).0,
            mint: keys.mint,
            vault: keys.vault,
            patient_tokens: *patient_tokens,
            token_program: token(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::RewardClaim {},
    )
}

pub fn participation_end(
    caller: &Pubkey,
    patient_wallet: &Pubkey,
    keys: &StudyKeys,
) -> Instruction {
    build(
        acc::ParticipationEnd {
            caller: *caller,
            patient: pda::patient(patient_wallet).0,
            study: keys.study,
            participation: pda::participation(&keys.study, patient_wallet).0,
            research_grant: pda::grant(patient_wallet, &keys.sponsor, Purpose::Research).0,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::ParticipationEnd {},
    )
}

/// The sponsor delegates inviting participants to `site` (`Pubkey::default()` to stop).
pub fn study_set_site(keys: &StudyKeys, site: &Pubkey) -> Instruction {
    build(
        acc::StudySetSite {
            sponsor: keys.sponsor,
            config: pda::config(),
            study: keys.study,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::StudySetSite {
            args: StudySetSiteArgs { site: *site },
        },
    )
}

/// The sponsor (or its site, `inviter`) invites a registered patient, usable until `expires_at`.
pub fn invitation_create(
    inviter: &Pubkey,
    keys: &StudyKeys,
    patient_wallet: &Pubkey,
    expires_at: i64,
) -> Instruction {
    build(
        acc::InvitationCreate {
            inviter: *inviter,
            config: pda::config(),
            study: keys.study,
            patient: pda::patient(patient_wallet).0,
            invitation: pda::invitation(&keys.study, patient_wallet).0,
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::InvitationCreate {
            args: InvitationCreateArgs { expires_at },
        },
    )
}

/// The sponsor closes an invitation; the rent goes back to `invited_by` (who paid it).
pub fn invitation_close(
    keys: &StudyKeys,
    patient_wallet: &Pubkey,
    invited_by: &Pubkey,
) -> Instruction {
    build(
        acc::InvitationClose {
            sponsor: keys.sponsor,
            study: keys.study,
            invitation: pda::invitation(&keys.study, patient_wallet).0,
            rent_to: *invited_by,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::InvitationClose {},
    )
}

// ------------------------------------------------------------------ admin

/// The admin accepts a payment mint that has a freeze authority.
pub fn mint_accept(admin: &Pubkey, mint: &Pubkey) -> Instruction {
    build(
        acc::MintAccept {
            admin: *admin,
            config: pda::config(),
            mint: *mint,
            accepted_mint: pda::accepted_mint(mint).0,
            system_program: system(),
            event_authority: ea(),
            program: careledger::ID,
        },
        data::MintAccept {},
    )
}

/// The admin removes a mint from the accepted list; `rent_to` is the entry's `accepted_by`.
pub fn mint_remove(admin: &Pubkey, mint: &Pubkey, rent_to: &Pubkey) -> Instruction {
    build(
        acc::MintRemove {
            admin: *admin,
            config: pda::config(),
            accepted_mint: pda::accepted_mint(mint).0,
            rent_to: *rent_to,
            event_authority: ea(),
            program: careledger::ID,
        },
        data::MintRemove {},
    )
}
