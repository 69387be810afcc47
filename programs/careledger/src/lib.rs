//! careledger: patient consent, record integrity anchors and an audit trail for healthcare
//! data on Solana. No personal health information is ever stored on chain: accounts hold keys,
//! opaque class ids, bitmasks, hashes and times only.
//!
//! This file is the table of contents: each instruction lives in `instructions/<domain>/`.
#![allow(unexpected_cfgs)]
// Program code never overflows, truncates or panics silently: every arithmetic step is checked,
// saturating (with its bound stated) or widened; unit tests are exempt.
#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation,
        clippy::unwrap_used
    )
)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod create;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod logic;
pub mod state;
pub mod vault;

pub use constants::*;
pub use errors::CareledgerError;
pub use instructions::*;

declare_id!("FbatXrgu6LN4qCYV1mkBq3Ccrkz7jgyHGvzgkToZg4ac");

#[program]
pub mod careledger {
    use super::*;

    // ---------------------------------------------------------------- registry

    /// Signer: the program's upgrade authority (read from ProgramData). Creates the Config once.
    pub fn config_init(ctx: Context<ConfigInit>, args: ConfigInitArgs) -> Result<()> {
        instructions::registry::config_init::handler(ctx, args)
    }

    /// Signer: the admin. Proposes a new admin, who must accept.
    pub fn config_propose_admin(
        ctx: Context<ConfigProposeAdmin>,
        args: ConfigProposeAdminArgs,
    ) -> Result<()> {
        instructions::registry::config_propose_admin::handler(ctx, args)
    }

    /// Signer: the pending admin. Completes the two-step hand-over.
    pub fn config_accept_admin(ctx: Context<ConfigAcceptAdmin>) -> Result<()> {
        instructions::registry::config_accept_admin::handler(ctx)
    }

    /// Signer: the admin. Pausing stops every state change except those that only limit harm or
    /// manage the program: revoking one grant or all, clearing a guardian, suspending a provider
    /// or a policy, ending a network membership, closing a study's enrolment, withdrawing an
    /// invitation, ending a participation, the accepted-mint list, and the admin's own settings
    /// and hand-over.
    pub fn config_set_paused(
        ctx: Context<ConfigSetPaused>,
        args: ConfigSetPausedArgs,
    ) -> Result<()> {
        instructions::registry::config_set_paused::handler(ctx, args)
    }

    /// Signer: the admin. Sets the credential authority and the break-glass window cap.
    pub fn config_update(ctx: Context<ConfigUpdate>, args: ConfigUpdateArgs) -> Result<()> {
        instructions::registry::config_update::handler(ctx, args)
    }

    /// Signer: the admin. Accepts a payment mint that has a freeze authority (works while paused).
    pub fn mint_accept(ctx: Context<MintAccept>) -> Result<()> {
        instructions::registry::mint_accept::handler(ctx)
    }

    /// Signer: the admin. Removes a mint from the accepted list (works while paused).
    pub fn mint_remove(ctx: Context<MintRemove>) -> Result<()> {
        instructions::registry::mint_remove::handler(ctx)
    }

    /// Signer: the provider's wallet. Registers it as pending verification.
    pub fn provider_register(
        ctx: Context<ProviderRegister>,
        args: ProviderRegisterArgs,
    ) -> Result<()> {
        instructions::registry::provider_register::handler(ctx, args)
    }

    /// Signer: the credential authority. Verifies, re-verifies or reinstates a provider, and
    /// names the W3C credential issued with it (`args.credential_ref`; all zero keeps the one held).
    pub fn provider_verify(ctx: Context<ProviderVerify>, args: ProviderVerifyArgs) -> Result<()> {
        instructions::registry::provider_verify::handler(ctx, args)
    }

    /// Signer: the credential authority. Suspends a provider (works while paused).
    pub fn provider_suspend(
        ctx: Context<ProviderSuspend>,
        args: ProviderSuspendArgs,
    ) -> Result<()> {
        instructions::registry::provider_suspend::handler(ctx, args)
    }

    /// Signer: the patient's wallet. Registers the patient.
    pub fn patient_register(ctx: Context<PatientRegister>) -> Result<()> {
        instructions::registry::patient_register::handler(ctx)
    }

    /// Signer: any wallet that receives records. Publishes or rotates its X25519 key
    /// (`EncryptionKey`, works while paused).
    pub fn encryption_key_set(
        ctx: Context<EncryptionKeySet>,
        args: EncryptionKeySetArgs,
    ) -> Result<()> {
        instructions::registry::encryption_key_set::handler(ctx, args)
    }

    /// Signer: the patient (not the guardian). Appoints, replaces or clears the guardian
    /// (clearing works while paused).
    pub fn patient_set_guardian(
        ctx: Context<PatientSetGuardian>,
        args: PatientSetGuardianArgs,
    ) -> Result<()> {
        instructions::registry::patient_set_guardian::handler(ctx, args)
    }

    /// Signer: the patient (not the guardian). From now on, for good, every new grant must be
    /// made against a signed consent statement; plain grants, request approvals, widening
    /// updates and appointing a guardian are refused (works while paused).
    pub fn patient_require_statements(ctx: Context<PatientRequireStatements>) -> Result<()> {
        instructions::registry::patient_require_statements::handler(ctx)
    }

    // ---------------------------------------------------------------- records

    /// Signer: the patient, or a verified provider with a live write grant for the class.
    /// Anchors version 1 of a record at the patient's next index.
    pub fn record_anchor(ctx: Context<RecordAnchorCreate>, args: RecordAnchorArgs) -> Result<()> {
        instructions::records::record_anchor::handler(ctx, args)
    }

    /// Signer: as for `record_anchor`. The amended record must be current and at
    /// `expected_version`; it becomes superseded in the same instruction.
    pub fn record_amend(ctx: Context<RecordAmend>, args: RecordAmendArgs) -> Result<()> {
        instructions::records::record_amend::handler(ctx, args)
    }

    /// Signer: the patient, or the record's author in good standing with a live write grant.
    /// Marks a current record entered-in-error; an amendment's predecessor becomes current again.
    pub fn record_retract(ctx: Context<RecordRetract>, args: RecordRetractArgs) -> Result<()> {
        instructions::records::record_retract::handler(ctx, args)
    }

    // ---------------------------------------------------------------- consent

    /// Signer: the patient or guardian. Grants a registered provider access for one purpose.
    pub fn grant_create(ctx: Context<GrantCreate>, args: GrantCreateArgs) -> Result<()> {
        instructions::consent::grant_create::handler(ctx, args)
    }

    /// Signer: the patient or guardian. A grant made against the consent statement the signer
    /// signed: the instruction before it must be the Ed25519 check of that statement
    /// (`logic::statement`), and the grant stores the statement's SHA-256.
    pub fn grant_create_signed(
        ctx: Context<GrantCreateSigned>,
        args: GrantCreateArgs,
    ) -> Result<()> {
        instructions::consent::grant_create_signed::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Narrows or extends a live, current-epoch grant.
    pub fn grant_update(ctx: Context<GrantUpdate>, args: GrantUpdateArgs) -> Result<()> {
        instructions::consent::grant_update::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Revokes one grant (works while paused).
    pub fn grant_revoke(ctx: Context<GrantRevoke>) -> Result<()> {
        instructions::consent::grant_revoke::handler(ctx)
    }

    /// Signer: the patient or guardian. Voids every grant at once (works while paused).
    pub fn grant_revoke_all(ctx: Context<GrantRevokeAll>) -> Result<()> {
        instructions::consent::grant_revoke_all::handler(ctx)
    }

    /// Signer: the patient or guardian. Closes a spent grant and refunds its payer.
    pub fn grant_close(ctx: Context<GrantClose>) -> Result<()> {
        instructions::consent::grant_close::handler(ctx)
    }

    /// Signer: a verified provider. Asks the patient for consent.
    pub fn request_create(ctx: Context<RequestCreate>, args: RequestCreateArgs) -> Result<()> {
        instructions::consent::request_create::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Approves (possibly narrowed) and creates the grant.
    pub fn request_approve(ctx: Context<RequestApprove>, args: RequestApproveArgs) -> Result<()> {
        instructions::consent::request_approve::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Denies a request with a reason code.
    pub fn request_deny(ctx: Context<RequestDeny>, args: RequestDenyArgs) -> Result<()> {
        instructions::consent::request_deny::handler(ctx, args)
    }

    /// Signer: a verified provider with the emergency role. Opens a short emergency grant
    /// without the patient's signature, flagged for review.
    pub fn break_glass_open(ctx: Context<BreakGlassOpen>, args: BreakGlassOpenArgs) -> Result<()> {
        instructions::consent::break_glass_open::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Accepts or disputes a break-glass grant.
    pub fn break_glass_review(
        ctx: Context<BreakGlassReview>,
        args: BreakGlassReviewArgs,
    ) -> Result<()> {
        instructions::consent::break_glass_review::handler(ctx, args)
    }

    /// Signer: the grantee. Records an access under a grant; a refusal is recorded as an event
    /// (or fails, in strict mode).
    pub fn access_log(ctx: Context<AccessLog>, args: AccessLogArgs) -> Result<()> {
        instructions::consent::access_log::handler(ctx, args)
    }

    // ---------------------------------------------------------------- claims

    /// Signer: a verified insurer. Opens a policy for a registered patient with a vault the
    /// policy PDA owns.
    pub fn policy_create(ctx: Context<PolicyCreate>, args: PolicyCreateArgs) -> Result<()> {
        instructions::claims::policy_create::handler(ctx, args)
    }

    /// Signer: anyone. Moves tokens into a policy's vault.
    pub fn policy_fund(ctx: Context<PolicyFund>, args: PolicyFundArgs) -> Result<()> {
        instructions::claims::policy_fund::handler(ctx, args)
    }

    /// Signer: the insurer. Suspends (also while paused) or reactivates a policy.
    pub fn policy_set_status(
        ctx: Context<PolicySetStatus>,
        args: PolicySetStatusArgs,
    ) -> Result<()> {
        instructions::claims::policy_set_status::handler(ctx, args)
    }

    /// Signer: the insurer. Withdraws vault funds not owed to approved claims.
    pub fn policy_withdraw(ctx: Context<PolicyWithdraw>, args: PolicyWithdrawArgs) -> Result<()> {
        instructions::claims::policy_withdraw::handler(ctx, args)
    }

    /// Signer: the insurer. Closes a policy with nothing owed or pending, sweeping the vault.
    pub fn policy_close(ctx: Context<PolicyClose>) -> Result<()> {
        instructions::claims::policy_close::handler(ctx)
    }

    /// Signer: a verified insurer. Enrols a verified billing provider in its network.
    pub fn network_add(ctx: Context<NetworkAdd>) -> Result<()> {
        instructions::claims::network_add::handler(ctx)
    }

    /// Signer: the insurer. Ends a provider's network membership (works while paused).
    pub fn network_remove(ctx: Context<NetworkRemove>) -> Result<()> {
        instructions::claims::network_remove::handler(ctx)
    }

    /// Signer: the insurer. Adds a coverage rule keyed by a salted procedure-code commitment.
    pub fn rule_add(ctx: Context<RuleAdd>, args: RuleAddArgs) -> Result<()> {
        instructions::claims::rule_add::handler(ctx, args)
    }

    /// Signer: the insurer. Changes an active rule's terms (the event carries old and new).
    pub fn rule_update(ctx: Context<RuleUpdate>, args: RuleUpdateArgs) -> Result<()> {
        instructions::claims::rule_update::handler(ctx, args)
    }

    /// Signer: the insurer. Retires a rule: no new claims under it.
    pub fn rule_retire(ctx: Context<RuleRetire>) -> Result<()> {
        instructions::claims::rule_retire::handler(ctx)
    }

    /// Signer: a verified billing provider that authored the cited current record or holds a
    /// live treatment or operations grant covering it (and, for a network-only policy, is in the
    /// insurer's network). Submits a claim under the terms it expects; adjudicated and paid at
    /// once when the rule allows, else pending review or owed.
    pub fn claim_submit(ctx: Context<ClaimSubmit>, args: ClaimSubmitArgs) -> Result<()> {
        instructions::claims::claim_submit::handler(ctx, args)
    }

    /// Signer: the insurer. Approves (up to what the rule allows) or denies a pending claim.
    pub fn claim_review(ctx: Context<ClaimReview>, args: ClaimReviewArgs) -> Result<()> {
        instructions::claims::claim_review::handler(ctx, args)
    }

    /// Signer: the claim's provider. Appeals a denial once.
    pub fn claim_appeal(ctx: Context<ClaimAppeal>) -> Result<()> {
        instructions::claims::claim_appeal::handler(ctx)
    }

    /// Signer: the claim's provider. Cancels a claim before it is paid.
    pub fn claim_cancel(ctx: Context<ClaimCancel>) -> Result<()> {
        instructions::claims::claim_cancel::handler(ctx)
    }

    /// Signer: anyone. Pays an owed claim once the vault holds its benefit.
    pub fn claim_settle(ctx: Context<ClaimSettle>) -> Result<()> {
        instructions::claims::claim_settle::handler(ctx)
    }

    // ---------------------------------------------------------------- rewards

    /// Signer: a verified researcher. Opens a study with a vault the study PDA owns.
    pub fn study_create(ctx: Context<StudyCreate>, args: StudyCreateArgs) -> Result<()> {
        instructions::rewards::study_create::handler(ctx, args)
    }

    /// Signer: anyone. Funds or tops up a study's vault.
    pub fn study_fund(ctx: Context<StudyFund>, args: StudyFundArgs) -> Result<()> {
        instructions::rewards::study_fund::handler(ctx, args)
    }

    /// Signer: the sponsor. Delegates inviting participants to a site, or stops delegating.
    pub fn study_set_site(ctx: Context<StudySetSite>, args: StudySetSiteArgs) -> Result<()> {
        instructions::rewards::study_set_site::handler(ctx, args)
    }

    /// Signer: the sponsor or its site. Invites one registered patient: only invited patients
    /// can enrol.
    pub fn invitation_create(
        ctx: Context<InvitationCreate>,
        args: InvitationCreateArgs,
    ) -> Result<()> {
        instructions::rewards::invitation_create::handler(ctx, args)
    }

    /// Signer: the sponsor. Withdraws an unused invitation, or recovers a used one's rent (works
    /// while paused).
    pub fn invitation_close(ctx: Context<InvitationClose>) -> Result<()> {
        instructions::rewards::invitation_close::handler(ctx)
    }

    /// Signer: the sponsor. Stops enrolment; enrolled participants keep earning (works while
    /// paused).
    pub fn study_close_enrolment(ctx: Context<StudyCloseEnrolment>) -> Result<()> {
        instructions::rewards::study_close_enrolment::handler(ctx)
    }

    /// Signer: the sponsor. After enrolment, withdraws what no participant can still earn.
    pub fn study_withdraw(ctx: Context<StudyWithdraw>, args: StudyWithdrawArgs) -> Result<()> {
        instructions::rewards::study_withdraw::handler(ctx, args)
    }

    /// Signer: the sponsor. Closes a study with nothing outstanding, sweeping the vault.
    pub fn study_close(ctx: Context<StudyClose>) -> Result<()> {
        instructions::rewards::study_close::handler(ctx)
    }

    /// Signer: the patient or guardian, with the sponsor's invitation. Enrols under a live,
    /// never-narrowed research grant and the study's current registered protocol version (named
    /// with its document's hash); pays the enrolment reward.
    pub fn study_enroll(ctx: Context<StudyEnroll>, args: StudyEnrollArgs) -> Result<()> {
        instructions::rewards::study_enroll::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Collects the periodic rewards that came due while consent
    /// was continuously live and given to the protocol's newest material version (also after
    /// it lapsed).
    pub fn reward_claim(ctx: Context<RewardClaim>) -> Result<()> {
        instructions::rewards::reward_claim::handler(ctx)
    }

    /// Signer: anyone. Ends a participation whose consent lapsed, releasing the periods that had
    /// not come due by then (works while paused).
    pub fn participation_end(ctx: Context<ParticipationEnd>) -> Result<()> {
        instructions::rewards::participation_end::handler(ctx)
    }

    // ------------------------------------------------------------------ trials

    /// Signer: the study's sponsor. Registers the protocol (version 1: the document's hash, the
    /// pre-specified outcome commitments, the registry id, the planned enrolment) before anyone
    /// enrols, at the ledger's time.
    pub fn protocol_register(
        ctx: Context<ProtocolRegister>,
        args: ProtocolRegisterArgs,
    ) -> Result<()> {
        instructions::trials::protocol_register::handler(ctx, args)
    }

    /// Signer: the sponsor. A new protocol version, the old kept, until the data lock; a
    /// material one (any outcome change is) stops accrual until participants consent again.
    pub fn protocol_amend(ctx: Context<ProtocolAmend>, args: ProtocolAmendArgs) -> Result<()> {
        instructions::trials::protocol_amend::handler(ctx, args)
    }

    /// Signer: the patient or guardian, against the signed statement naming the current
    /// protocol version and its hash (the Ed25519 check just before; alone in its transaction).
    /// Accrual resumes; the periods due while consent was stale are forfeited.
    pub fn participation_reconsent(ctx: Context<ParticipationReconsent>) -> Result<()> {
        instructions::trials::participation_reconsent::handler(ctx)
    }

    /// Signer: the sponsor. Anchors the statistical analysis plan before the data lock.
    pub fn analysis_plan_anchor(
        ctx: Context<AnalysisPlanAnchor>,
        args: AnalysisPlanAnchorArgs,
    ) -> Result<()> {
        instructions::trials::analysis_plan_anchor::handler(ctx, args)
    }

    /// Signer: the sponsor. Locks the data (the results dataset's hash), once, after the
    /// analysis plan; the protocol and plan no longer change.
    pub fn data_lock(ctx: Context<DataLock>, args: DataLockArgs) -> Result<()> {
        instructions::trials::data_lock::handler(ctx, args)
    }

    /// Signer: the sponsor. Reports the results after the data lock, once, revealing the
    /// pre-specified outcomes; a report whose outcomes differ is accepted and marked switched.
    pub fn results_report(ctx: Context<ResultsReport>, args: ResultsReportArgs) -> Result<()> {
        instructions::trials::results_report::handler(ctx, args)
    }

    // ------------------------------------------------------------------ supply

    /// Signer: the credential authority. Registers a product (GTIN) to the one verified
    /// manufacturer that may commission batches of it.
    pub fn product_register(
        ctx: Context<ProductRegister>,
        args: ProductRegisterArgs,
    ) -> Result<()> {
        instructions::supply::product_register::handler(ctx, args)
    }

    /// Signer: the product's manufacturer (verified, manufacturer role), and the new status map
    /// account it created in the same transaction. Commissions a lot: its packs' Merkle root, and
    /// one status bit per pack, all active.
    pub fn batch_commission(
        ctx: Context<BatchCommission>,
        args: BatchCommissionArgs,
    ) -> Result<()> {
        instructions::supply::batch_commission::handler(ctx, args)
    }

    /// Signer: a verified supply-chain party (dispenser to supply). Decommissions an active pack
    /// proven by Merkle proof; a pack no longer active is left as it is and reported suspect.
    pub fn pack_decommission(
        ctx: Context<PackDecommission>,
        args: PackDecommissionArgs,
    ) -> Result<()> {
        instructions::supply::pack_decommission::handler(ctx, args)
    }

    /// Signer: the premises that decommissioned the pack, within 10 days. Sets it active again
    /// (never a stolen or destroyed pack, nor one recalled or expired).
    pub fn pack_reactivate(ctx: Context<PackReactivate>, args: PackReactivateArgs) -> Result<()> {
        instructions::supply::pack_reactivate::handler(ctx, args)
    }

    /// Signer: anyone. Closes a supplied pack's record after its undo window (rent to the
    /// dispenser); the status bit keeps the pack supplied.
    pub fn pack_settle(ctx: Context<PackSettle>, args: PackSettleArgs) -> Result<()> {
        instructions::supply::pack_settle::handler(ctx, args)
    }

    /// Signer: the batch's manufacturer. Recalls or withdraws the whole batch, for good (works
    /// while paused).
    pub fn batch_recall(ctx: Context<BatchRecall>, args: BatchRecallArgs) -> Result<()> {
        instructions::supply::batch_recall::handler(ctx, args)
    }

    /// Signer: a verified supply-chain party. Anchors a shipment (its EPCIS document's hash) to
    /// another verified party.
    pub fn shipment_send(ctx: Context<ShipmentSend>, args: ShipmentSendArgs) -> Result<()> {
        instructions::supply::shipment_send::handler(ctx, args)
    }

    /// Signer: the shipment's receiver. Acknowledges it with its receiving events' hash, once.
    pub fn shipment_receive(
        ctx: Context<ShipmentReceive>,
        args: ShipmentReceiveArgs,
    ) -> Result<()> {
        instructions::supply::shipment_receive::handler(ctx, args)
    }
}
