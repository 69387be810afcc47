//! Audit events, emitted through `emit_cpi!` so log truncation cannot lose them. Each carries
//! who acted, on which account, the values before and after, and the time (unix seconds).
use crate::logic::authority::Actor;
use crate::logic::cid::StoredCid;
use crate::logic::claims::Breakdown;
use crate::logic::consent::Refusal;
use crate::logic::statement::SignedForm;
use crate::state::{
    BatchStatus, ClaimState, PackState, PolicyStatus, Purpose, ReviewState, RewardTerms, RuleTerms,
    StudyStatus,
};
use anchor_lang::prelude::*;

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigInitialized {
    pub config: Pubkey,
    pub upgrade_authority: Pubkey,
    pub admin: Pubkey,
    pub credential_authority: Pubkey,
    pub max_break_glass_secs: u32,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminProposed {
    pub admin: Pubkey,
    pub proposed: Pubkey,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminAccepted {
    pub old_admin: Pubkey,
    pub new_admin: Pubkey,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PauseSet {
    pub admin: Pubkey,
    pub paused: bool,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigUpdated {
    pub admin: Pubkey,
    pub old_credential_authority: Pubkey,
    pub new_credential_authority: Pubkey,
    pub old_max_break_glass_secs: u32,
    pub new_max_break_glass_secs: u32,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRegistered {
    pub provider: Pubkey,
    pub wallet: Pubkey,
    pub requested_roles: u8,
    pub credential_ref: [u8; 32],
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderVerified {
    pub provider: Pubkey,
    pub wallet: Pubkey,
    pub authority: Pubkey,
    pub old_roles: u8,
    pub new_roles: u8,
    pub credential_expires_at: i64,
    pub at: i64,
}

/// The credential authority named a new W3C provider credential for a provider, in the same
/// transaction as the `ProviderVerified` it issued it with. `credential_ref` is the SHA-256 of the
/// credential's JCS form; `previous` the hash it replaces (a licence document's at first);
/// `credential_expires_at` (unix seconds) the credential's validUntil.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderCredentialSet {
    pub provider: Pubkey,
    pub wallet: Pubkey,
    pub authority: Pubkey,
    pub credential_ref: [u8; 32],
    pub previous: [u8; 32],
    pub credential_expires_at: i64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSuspended {
    pub provider: Pubkey,
    pub wallet: Pubkey,
    pub authority: Pubkey,
    pub reason_code: u16,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatientRegistered {
    pub patient: Pubkey,
    pub wallet: Pubkey,
    pub at: i64,
}

/// A wallet published (`previous` all zero, `key_version` 1) or rotated its X25519 key. Releases
/// from now on are wrapped to `x25519`; keys released before stay readable under `previous`.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptionKeySet {
    pub wallet: Pubkey,
    pub key_account: Pubkey,
    pub x25519: [u8; 32],
    pub previous: [u8; 32],
    pub key_version: u32,
    pub at: i64,
}

/// The patient requires, from now on, a signed consent statement for every new grant.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementsRequired {
    pub patient: Pubkey,
    pub wallet: Pubkey,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardianChanged {
    pub patient: Pubkey,
    pub old_guardian: Pubkey,
    pub new_guardian: Pubkey,
    pub guardian_expires_at: i64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordAnchored {
    pub record: Pubkey,
    pub patient: Pubkey,
    pub author: Pubkey,
    pub index: u32,
    pub version: u32,
    /// Index of the amended version; `NO_PREVIOUS_VERSION` for a first version.
    pub previous: u32,
    pub class: u8,
    pub cid: StoredCid,
    pub content_sha256: [u8; 32],
    /// Grant the author wrote under; default key when the patient anchored.
    pub grant: Pubkey,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRetracted {
    pub record: Pubkey,
    pub patient: Pubkey,
    pub by: Pubkey,
    pub reason_code: u16,
    /// The version reinstated as current (the retracted one amended it); default key when a
    /// first version was retracted.
    pub reinstated: Pubkey,
    pub at: i64,
}

/// A grant's terms, as carried by grant events.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantTermsView {
    pub classes: u16,
    pub actions: u8,
    pub record_scope: u32,
    pub not_before: i64,
    pub expires_at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantCreated {
    pub grant: Pubkey,
    pub patient: Pubkey,
    pub grantee: Pubkey,
    pub by: Pubkey,
    pub actor: Actor,
    pub purpose: Purpose,
    pub terms: GrantTermsView,
    pub consent_epoch: u32,
    /// The access request this grant approves; default key for a direct grant.
    pub request: Pubkey,
    pub at: i64,
}

/// The consent statement behind a grant made with `grant_create_signed` (emitted right after
/// its `GrantCreated`). With that event's terms, `serial` and `stated_not_before` re-render the
/// statement (`logic::statement::render`), whose SHA-256 must be `statement_hash`.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentStatementSigned {
    pub grant: Pubkey,
    pub patient: Pubkey,
    /// The patient or guardian whose Ed25519 signature the precompile checked.
    pub signer: Pubkey,
    /// The grant's serial, which the statement's nonce binds.
    pub serial: u32,
    pub statement_hash: [u8; 32],
    pub form: SignedForm,
    /// `not_before` as the statement gave it (0: from when recorded), unix seconds.
    pub stated_not_before: i64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantUpdated {
    pub grant: Pubkey,
    pub patient: Pubkey,
    pub grantee: Pubkey,
    pub by: Pubkey,
    pub actor: Actor,
    pub purpose: Purpose,
    pub old_terms: GrantTermsView,
    pub new_terms: GrantTermsView,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRevoked {
    pub grant: Pubkey,
    pub patient: Pubkey,
    pub grantee: Pubkey,
    pub by: Pubkey,
    pub actor: Actor,
    pub purpose: Purpose,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllGrantsRevoked {
    pub patient: Pubkey,
    pub by: Pubkey,
    pub actor: Actor,
    pub old_epoch: u32,
    pub new_epoch: u32,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantClosed {
    pub grant: Pubkey,
    pub patient: Pubkey,
    pub grantee: Pubkey,
    pub by: Pubkey,
    pub rent_to: Pubkey,
    pub lamports: u64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRequested {
    pub request: Pubkey,
    pub patient: Pubkey,
    pub requester: Pubkey,
    pub classes: u16,
    pub actions: u8,
    pub purpose: Purpose,
    pub reason_code: u16,
    pub duration_secs: u32,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRequestDecided {
    pub request: Pubkey,
    pub patient: Pubkey,
    pub requester: Pubkey,
    pub by: Pubkey,
    pub actor: Actor,
    pub approved: bool,
    /// The created grant when approved, default key when denied.
    pub grant: Pubkey,
    /// The patient's reason code when denied, 0 when approved.
    pub reason_code: u16,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakGlassOpened {
    pub grant: Pubkey,
    pub patient: Pubkey,
    pub provider: Pubkey,
    pub classes: u16,
    pub reason_code: u16,
    pub window_secs: u32,
    pub expires_at: i64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakGlassReviewed {
    pub grant: Pubkey,
    pub patient: Pubkey,
    pub provider: Pubkey,
    pub by: Pubkey,
    pub actor: Actor,
    pub outcome: ReviewState,
    /// True when the dispute also revoked a still-open grant.
    pub revoked: bool,
    pub access_count: u32,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessLogged {
    pub grant: Pubkey,
    pub patient: Pubkey,
    pub grantee: Pubkey,
    pub record: Pubkey,
    pub record_index: u32,
    pub action: u8,
    pub purpose: Purpose,
    pub emergency: bool,
    pub access_count: u32,
    pub at: i64,
    /// The grant's serial: a grant closed and made again at this address is another consent,
    /// with another serial, and this read was not logged under it.
    pub grant_serial: u32,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRefused {
    pub grant: Pubkey,
    pub patient: Pubkey,
    pub grantee: Pubkey,
    pub record: Pubkey,
    pub record_index: u32,
    pub action: u8,
    pub purpose: Purpose,
    pub reason: Refusal,
    pub at: i64,
    /// The grant's serial (see `AccessLogged::grant_serial`).
    pub grant_serial: u32,
}

impl GrantTermsView {
    pub fn of(grant: &crate::state::ConsentGrant) -> Self {
        Self {
            classes: grant.classes,
            actions: grant.actions,
            record_scope: grant.record_scope,
            not_before: grant.not_before,
            expires_at: grant.expires_at,
        }
    }
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyCreated {
    pub policy: Pubkey,
    pub insurer: Pubkey,
    pub patient: Pubkey,
    pub mint: Pubkey,
    pub vault: Pubkey,
    pub policy_id: u64,
    pub coverage_start: i64,
    pub coverage_end: i64,
    pub benefit_cap: u64,
    pub deductible: u64,
    pub network_only: bool,
    pub at: i64,
}

/// Anyone may fund a policy; `vault_balance` is after the transfer.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyFunded {
    pub policy: Pubkey,
    pub funder: Pubkey,
    pub amount: u64,
    pub vault_balance: u64,
    pub funded: u64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyStatusChanged {
    pub policy: Pubkey,
    pub insurer: Pubkey,
    pub old_status: PolicyStatus,
    pub new_status: PolicyStatus,
    pub at: i64,
}

/// The insurer took back unreserved funds; `owed` stayed in the vault.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyWithdrawn {
    pub policy: Pubkey,
    pub insurer: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
    pub vault_balance: u64,
    pub owed: u64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyClosed {
    pub policy: Pubkey,
    pub insurer: Pubkey,
    pub destination: Pubkey,
    pub swept: u64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoverageRuleAdded {
    pub policy: Pubkey,
    pub rule: Pubkey,
    pub rule_key: [u8; 32],
    pub terms: RuleTerms,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoverageRuleUpdated {
    pub policy: Pubkey,
    pub rule: Pubkey,
    pub rule_key: [u8; 32],
    pub old_terms: RuleTerms,
    pub new_terms: RuleTerms,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoverageRuleRetired {
    pub policy: Pubkey,
    pub rule: Pubkey,
    pub rule_key: [u8; 32],
    pub at: i64,
}

/// FHIR Claim: the provider billed; `ClaimAdjudicated` follows in the same transaction.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimSubmitted {
    pub claim: Pubkey,
    pub policy: Pubkey,
    pub provider: Pubkey,
    pub patient: Pubkey,
    pub record: Pubkey,
    pub payment_grant: Pubkey,
    pub rule_key: [u8; 32],
    pub units: u16,
    pub billed: u64,
    pub service_date: i64,
    pub document_commitment: [u8; 32],
    pub at: i64,
}

/// FHIR ClaimResponse: a decision (or routing to review). `by` is the program id for an automatic decision, else the insurer.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimAdjudicated {
    pub claim: Pubkey,
    pub policy: Pubkey,
    pub provider: Pubkey,
    pub patient: Pubkey,
    pub by: Pubkey,
    pub state: ClaimState,
    pub breakdown: Breakdown,
    pub reason_code: u16,
    pub policy_owed: u64,
    pub benefit_used: u64,
    pub deductible_met: u64,
    pub at: i64,
}

/// Tokens moved from the vault to the provider; `vault_balance` is after the transfer.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimPaid {
    pub claim: Pubkey,
    pub policy: Pubkey,
    pub provider: Pubkey,
    pub payee: Pubkey,
    pub amount: u64,
    pub vault_balance: u64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimAppealed {
    pub claim: Pubkey,
    pub policy: Pubkey,
    pub provider: Pubkey,
    pub denial_reason: u16,
    pub at: i64,
}

/// `released` is the owed benefit given back to the policy cap.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimCancelled {
    pub claim: Pubkey,
    pub policy: Pubkey,
    pub provider: Pubkey,
    pub old_state: ClaimState,
    pub released: u64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudyCreated {
    pub study: Pubkey,
    pub sponsor: Pubkey,
    pub mint: Pubkey,
    pub vault: Pubkey,
    pub study_id: u64,
    pub terms: RewardTerms,
    pub classes: u16,
    pub data_use_code: u32,
    pub enrol_start: i64,
    pub enrol_end: i64,
    pub max_participants: u32,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudyFunded {
    pub study: Pubkey,
    pub funder: Pubkey,
    pub amount: u64,
    pub vault_balance: u64,
    pub funded: u64,
    pub at: i64,
}

/// Enrolment closed, or the study closed (its vault swept to the sponsor).
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudyStatusChanged {
    pub study: Pubkey,
    pub sponsor: Pubkey,
    pub old_status: StudyStatus,
    pub new_status: StudyStatus,
    pub swept: u64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudyWithdrawn {
    pub study: Pubkey,
    pub sponsor: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
    pub vault_balance: u64,
    pub outstanding: u64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantEnrolled {
    pub study: Pubkey,
    pub participation: Pubkey,
    pub patient: Pubkey,
    pub by: Pubkey,
    pub actor: Actor,
    pub grant: Pubkey,
    pub reward: u64,
    pub destination: Pubkey,
    pub participants: u32,
    pub at: i64,
}

/// Periodic rewards for periods `first_period..=last_period` (1-based).
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewardPaid {
    pub study: Pubkey,
    pub participation: Pubkey,
    pub patient: Pubkey,
    pub first_period: u16,
    pub last_period: u16,
    pub amount: u64,
    pub destination: Pubkey,
    pub vault_balance: u64,
    pub at: i64,
}

/// Consent was found withdrawn: the periods not yet paid are released from the study.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipationEnded {
    pub study: Pubkey,
    pub participation: Pubkey,
    pub patient: Pubkey,
    pub reason: Refusal,
    /// When consent lapsed (unix seconds): accrual stopped there.
    pub lapsed_at: i64,
    /// Mint base units released from the study's reservation.
    pub released: u64,
    pub at: i64,
}

/// The admin accepted a payment mint with a freeze authority.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentMintAccepted {
    pub mint: Pubkey,
    /// The mint's freeze authority at acceptance (default key: none).
    pub freeze_authority: Pubkey,
    pub admin: Pubkey,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentMintRemoved {
    pub mint: Pubkey,
    pub admin: Pubkey,
    pub at: i64,
}

/// An insurer enrolled a provider in its network.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkMemberAdded {
    pub insurer: Pubkey,
    pub provider: Pubkey,
    pub membership: Pubkey,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkMemberRemoved {
    pub insurer: Pubkey,
    pub provider: Pubkey,
    pub membership: Pubkey,
    pub at: i64,
}

/// The sponsor (or its site) found a patient eligible for a study.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantInvited {
    pub study: Pubkey,
    pub invitation: Pubkey,
    pub patient: Pubkey,
    pub invited_by: Pubkey,
    pub expires_at: i64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationClosed {
    pub study: Pubkey,
    pub invitation: Pubkey,
    pub patient: Pubkey,
    /// Whether it had been used to enrol (else it was withdrawn).
    pub used: bool,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudySiteSet {
    pub study: Pubkey,
    pub sponsor: Pubkey,
    /// Default key: no site.
    pub old_site: Pubkey,
    pub new_site: Pubkey,
    pub at: i64,
}

/// The credential authority set a provider's supply-chain roles (or the provider asked for them
/// at registration, `verified` false). Care roles stay in `ProviderRegistered`/`ProviderVerified`.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSupplyRolesSet {
    pub provider: Pubkey,
    pub wallet: Pubkey,
    /// The credential authority, or the provider's own wallet when it registered.
    pub set_by: Pubkey,
    pub old_supply_roles: u8,
    pub new_supply_roles: u8,
    pub verified: bool,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductRegistered {
    pub product: Pubkey,
    pub gtin_hash: [u8; 32],
    pub manufacturer: Pubkey,
    pub authority: Pubkey,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchCommissioned {
    pub batch: Pubkey,
    pub product: Pubkey,
    pub manufacturer: Pubkey,
    pub gtin_hash: [u8; 32],
    pub lot: String,
    /// Unix seconds: the first second the packs are expired.
    pub expires_at: i64,
    pub merkle_root: [u8; 32],
    pub depth: u8,
    /// Pack slots committed.
    pub capacity: u32,
    pub status_map: Pubkey,
    /// The status map's size in bytes and the rent it holds, in lamports.
    pub status_map_bytes: u32,
    pub status_map_lamports: u64,
    pub at: i64,
}

/// A pack left `Active` (decommission) or came back to it (undo).
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackStatusChanged {
    pub batch: Pubkey,
    pub index: u32,
    pub old_state: PackState,
    pub new_state: PackState,
    /// The premises' wallet.
    pub actor: Pubkey,
    /// Unix seconds until which the same premises may undo it (0 when set active or final).
    pub undo_until: i64,
    /// The batch's packs not active, after the change.
    pub decommissioned: u32,
    pub at: i64,
}

/// Someone tried to decommission a pack that was no longer active (a cloned serial is in
/// circulation), or an active pack while outside the batch's recorded custody (a pack off its
/// chain: a clone, or a diverted pack; `state` is then `Active`). Nothing changed but the
/// counters; the pack stays in its state.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuspectPack {
    pub batch: Pubkey,
    pub index: u32,
    pub reporter: Pubkey,
    pub attempted_state: PackState,
    /// The pack's state (`Supplied` once a supplied pack's record was settled).
    pub state: PackState,
    /// Reports against this pack by other holders of the batch (0 when its record was settled;
    /// an outsider's report, or the actor's own second scan, does not count here) and reports
    /// against the whole batch, this one included.
    pub pack_reports: u16,
    pub batch_reports: u32,
    pub at: i64,
}

/// A supplied pack's record was closed after its undo window: its status bit alone now says
/// "supplied", and the actor has its rent back.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackRecordSettled {
    pub batch: Pubkey,
    pub index: u32,
    pub actor: Pubkey,
    pub by: Pubkey,
    pub lamports: u64,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRecalled {
    pub batch: Pubkey,
    pub manufacturer: Pubkey,
    pub status: BatchStatus,
    pub reason_code: u16,
    /// Packs still active when it was recalled: every one now fails verification.
    pub active_packs: u32,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShipmentSent {
    pub shipment: Pubkey,
    pub sender: Pubkey,
    pub receiver: Pubkey,
    pub batch: Pubkey,
    /// SHA-256 of the sender's EPCIS document for this shipment.
    pub epcis_hash: [u8; 32],
    /// Packs shipped.
    pub quantity: u32,
    pub at: i64,
}

#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShipmentReceived {
    pub shipment: Pubkey,
    pub sender: Pubkey,
    pub receiver: Pubkey,
    pub batch: Pubkey,
    pub epcis_hash: [u8; 32],
    /// SHA-256 of the receiver's EPCIS document (its receiving events).
    pub receipt_hash: [u8; 32],
    pub quantity: u32,
    pub at: i64,
}

// ---------------------------------------------------------------- clinical trials

/// A sponsor registered a study's protocol (version 1), by the ledger's clock.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolRegistered {
    pub study: Pubkey,
    pub protocol: Pubkey,
    pub sponsor: Pubkey,
    pub registry_id: [u8; 24],
    pub document_sha256: [u8; 32],
    pub primary_outcomes: [u8; 32],
    pub secondary_outcomes: [u8; 32],
    pub planned_enrolment: u32,
    pub at: i64,
}

/// A new protocol version; the old one is kept. `material`: participants consent again.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolAmended {
    pub study: Pubkey,
    pub sponsor: Pubkey,
    pub version: u16,
    pub document_sha256: [u8; 32],
    pub reason_code: u16,
    pub material: bool,
    /// The amendment changed an outcome set (always material).
    pub outcomes_changed: bool,
    /// Participants had enrolled: the pre-specified outcomes stay those of before.
    pub after_enrolment: bool,
    pub at: i64,
}

/// The statistical analysis plan's hash, anchored before the data lock (`previous`: the hash it
/// replaces, zero for the first).
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalysisPlanAnchored {
    pub study: Pubkey,
    pub sponsor: Pubkey,
    pub analysis_plan_sha256: [u8; 32],
    pub previous: [u8; 32],
    pub at: i64,
}

/// The results dataset's hash at data lock, with the analysis plan it is analysed under.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataLocked {
    pub study: Pubkey,
    pub sponsor: Pubkey,
    pub dataset_sha256: [u8; 32],
    pub analysis_plan_sha256: [u8; 32],
    pub at: i64,
}

/// The reported outcomes beside the pre-specified ones the sponsor revealed (outcome hashes):
/// `switched` (`OUTCOMES_SWITCHED_*` bits) marks a set that differs, for every reader to see.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultsReported {
    pub study: Pubkey,
    pub sponsor: Pubkey,
    pub prespecified_primary: Vec<[u8; 32]>,
    pub reported_primary: Vec<[u8; 32]>,
    pub prespecified_secondary: Vec<[u8; 32]>,
    pub reported_secondary: Vec<[u8; 32]>,
    pub switched: u8,
    pub dataset_sha256: [u8; 32],
    pub at: i64,
}

/// A participant consented to a newer protocol version with a signed statement naming it; the
/// periods that came due while their consent was stale are forfeited, their escrow released.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantReconsented {
    pub study: Pubkey,
    pub participation: Pubkey,
    pub patient: Pubkey,
    pub by: Pubkey,
    pub actor: Actor,
    pub from_version: u16,
    pub to_version: u16,
    pub statement_hash: [u8; 32],
    pub form: SignedForm,
    pub forfeited_periods: u16,
    /// Base units released from the study's reservations.
    pub released: u64,
    pub at: i64,
}
