//! careledger: patient consent, record integrity anchors and an audit trail for healthcare
//! data on Solana. No personal health information is ever stored on chain: accounts hold keys,
//! opaque class ids, bitmasks, hashes and times only.
//!
//! This file is the table of contents: each instruction lives in `instructions/<domain>/`.
//!
//! The layers point one way; each module imports only from those below it:
//! 1. `instructions/`: each instruction's Args, Accounts, `validate()` and `handler()`;
//!    `vault` and `create` are their token and account plumbing.
//! 2. `logic/`: the rules, pure functions over state types and plain values. Never imports
//!    `instructions`, `vault`, `create` or `events`.
//! 3. `state/`: the account types, their seeds and their own shape (`invariant()`). Never
//!    imports `logic`: a rule an account needs lives in `logic` and is applied by the
//!    instruction (state -> logic is forbidden, logic -> state allowed).
//! 4. `constants`, `errors`: the base every layer may use.
//!
//! `layers.rs` reads these files in a test and fails on an import against the grain.
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
#[cfg(test)]
mod layers;
pub mod logic;
pub mod pause;
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
    #[access_control(ctx.accounts.validate(&args))]
    pub fn config_init(ctx: Context<ConfigInit>, args: ConfigInitArgs) -> Result<()> {
        ConfigInit::handler(ctx, args)
    }

    /// Signer: the admin. Proposes a new admin, who must accept.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn config_propose_admin(
        ctx: Context<ConfigProposeAdmin>,
        args: ConfigProposeAdminArgs,
    ) -> Result<()> {
        ConfigProposeAdmin::handler(ctx, args)
    }

    /// Signer: the pending admin. Completes the two-step hand-over.
    #[access_control(ctx.accounts.validate())]
    pub fn config_accept_admin(ctx: Context<ConfigAcceptAdmin>) -> Result<()> {
        ConfigAcceptAdmin::handler(ctx)
    }

    /// Signer: the admin. Pausing stops every state change except those that only limit harm or
    /// manage the program: revoking one grant or all, clearing a guardian, suspending a provider
    /// or a policy, ending a network membership, closing a study's enrolment, withdrawing an
    /// invitation, ending a participation, the accepted-mint list, and the admin's own settings
    /// and hand-over.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn config_set_paused(
        ctx: Context<ConfigSetPaused>,
        args: ConfigSetPausedArgs,
    ) -> Result<()> {
        ConfigSetPaused::handler(ctx, args)
    }

    /// Signer: the admin. Sets the credential authority and the break-glass window cap.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn config_update(ctx: Context<ConfigUpdate>, args: ConfigUpdateArgs) -> Result<()> {
        ConfigUpdate::handler(ctx, args)
    }

    /// Signer: the admin. Accepts a payment mint that has a freeze authority (works while paused).
    #[access_control(ctx.accounts.validate())]
    pub fn mint_accept(ctx: Context<MintAccept>) -> Result<()> {
        MintAccept::handler(ctx)
    }

    /// Signer: the admin. Removes a mint from the accepted list (works while paused).
    #[access_control(ctx.accounts.validate())]
    pub fn mint_remove(ctx: Context<MintRemove>) -> Result<()> {
        MintRemove::handler(ctx)
    }

    /// Signer: the provider's wallet. Registers it as pending verification.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn provider_register(
        ctx: Context<ProviderRegister>,
        args: ProviderRegisterArgs,
    ) -> Result<()> {
        ProviderRegister::handler(ctx, args)
    }

    /// Signer: the credential authority. Verifies, re-verifies or reinstates a provider, and
    /// names the W3C credential issued with it (`args.credential_ref`; all zero keeps the one held).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn provider_verify(ctx: Context<ProviderVerify>, args: ProviderVerifyArgs) -> Result<()> {
        ProviderVerify::handler(ctx, args)
    }

    /// Signer: the credential authority. Suspends a provider (works while paused).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn provider_suspend(
        ctx: Context<ProviderSuspend>,
        args: ProviderSuspendArgs,
    ) -> Result<()> {
        ProviderSuspend::handler(ctx, args)
    }

    /// Signer: the patient's wallet. Registers the patient.
    #[access_control(ctx.accounts.validate())]
    pub fn patient_register(ctx: Context<PatientRegister>) -> Result<()> {
        PatientRegister::handler(ctx)
    }

    /// Signer: any wallet that receives records. Publishes or rotates its X25519 key
    /// (`EncryptionKey`, works while paused).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn encryption_key_set(
        ctx: Context<EncryptionKeySet>,
        args: EncryptionKeySetArgs,
    ) -> Result<()> {
        EncryptionKeySet::handler(ctx, args)
    }

    /// Signer: the patient (not the guardian). Appoints, replaces or clears the guardian
    /// (clearing works while paused).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn patient_set_guardian(
        ctx: Context<PatientSetGuardian>,
        args: PatientSetGuardianArgs,
    ) -> Result<()> {
        PatientSetGuardian::handler(ctx, args)
    }

    /// Signer: the patient (not the guardian). From now on, for good, every new grant must be
    /// made against a signed consent statement; plain grants, request approvals, widening
    /// updates and appointing a guardian are refused (works while paused).
    #[access_control(ctx.accounts.validate())]
    pub fn patient_require_statements(ctx: Context<PatientRequireStatements>) -> Result<()> {
        PatientRequireStatements::handler(ctx)
    }

    // ---------------------------------------------------------------- records

    /// Signer: the patient, or a verified provider with a live write grant for the class.
    /// Anchors version 1 of a record at the patient's next index.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn record_anchor(ctx: Context<RecordAnchorCreate>, args: RecordAnchorArgs) -> Result<()> {
        RecordAnchorCreate::handler(ctx, args)
    }

    /// Signer: as for `record_anchor`. The amended record must be current and at
    /// `expected_version`; it becomes superseded in the same instruction.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn record_amend(ctx: Context<RecordAmend>, args: RecordAmendArgs) -> Result<()> {
        RecordAmend::handler(ctx, args)
    }

    /// Signer: the patient, or the record's author in good standing with a live write grant.
    /// Marks a current record entered-in-error; an amendment's predecessor becomes current again.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn record_retract(ctx: Context<RecordRetract>, args: RecordRetractArgs) -> Result<()> {
        RecordRetract::handler(ctx, args)
    }

    // ---------------------------------------------------------------- consent

    /// Signer: the patient or guardian. Grants a registered provider access for one purpose.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn grant_create(ctx: Context<GrantCreate>, args: GrantCreateArgs) -> Result<()> {
        GrantCreate::handler(ctx, args)
    }

    /// Signer: the patient or guardian. A grant made against the consent statement the signer
    /// signed: the instruction before it must be the Ed25519 check of that statement
    /// (`logic::statement`), and the grant stores the statement's SHA-256.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn grant_create_signed(
        ctx: Context<GrantCreateSigned>,
        args: GrantCreateArgs,
    ) -> Result<()> {
        GrantCreateSigned::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Narrows or extends a live, current-epoch grant.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn grant_update(ctx: Context<GrantUpdate>, args: GrantUpdateArgs) -> Result<()> {
        GrantUpdate::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Revokes one grant (works while paused).
    #[access_control(ctx.accounts.validate())]
    pub fn grant_revoke(ctx: Context<GrantRevoke>) -> Result<()> {
        GrantRevoke::handler(ctx)
    }

    /// Signer: the patient or guardian. Voids every grant at once (works while paused).
    #[access_control(ctx.accounts.validate())]
    pub fn grant_revoke_all(ctx: Context<GrantRevokeAll>) -> Result<()> {
        GrantRevokeAll::handler(ctx)
    }

    /// Signer: the patient or guardian. Closes a spent grant and refunds its payer.
    #[access_control(ctx.accounts.validate())]
    pub fn grant_close(ctx: Context<GrantClose>) -> Result<()> {
        GrantClose::handler(ctx)
    }

    /// Signer: a verified provider. Asks the patient for consent.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn request_create(ctx: Context<RequestCreate>, args: RequestCreateArgs) -> Result<()> {
        RequestCreate::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Approves (possibly narrowed) and creates the grant.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn request_approve(ctx: Context<RequestApprove>, args: RequestApproveArgs) -> Result<()> {
        RequestApprove::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Denies a request with a reason code.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn request_deny(ctx: Context<RequestDeny>, args: RequestDenyArgs) -> Result<()> {
        RequestDeny::handler(ctx, args)
    }

    /// Signer: a verified provider with the emergency role. Opens a short emergency grant
    /// without the patient's signature, flagged for review.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn break_glass_open(ctx: Context<BreakGlassOpen>, args: BreakGlassOpenArgs) -> Result<()> {
        BreakGlassOpen::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Accepts or disputes a break-glass grant.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn break_glass_review(
        ctx: Context<BreakGlassReview>,
        args: BreakGlassReviewArgs,
    ) -> Result<()> {
        BreakGlassReview::handler(ctx, args)
    }

    /// Signer: the grantee. Records an access under a grant; a refusal is recorded as an event
    /// (or fails, in strict mode).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn access_log(ctx: Context<AccessLog>, args: AccessLogArgs) -> Result<()> {
        AccessLog::handler(ctx, args)
    }

    // ---------------------------------------------------------------- claims

    /// Signer: a verified insurer. Opens a policy for a registered patient with a vault the
    /// policy PDA owns.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn policy_create(ctx: Context<PolicyCreate>, args: PolicyCreateArgs) -> Result<()> {
        PolicyCreate::handler(ctx, args)
    }

    /// Signer: anyone. Moves tokens into a policy's vault.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn policy_fund(ctx: Context<PolicyFund>, args: PolicyFundArgs) -> Result<()> {
        PolicyFund::handler(ctx, args)
    }

    /// Signer: the insurer. Suspends (also while paused) or reactivates a policy.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn policy_set_status(
        ctx: Context<PolicySetStatus>,
        args: PolicySetStatusArgs,
    ) -> Result<()> {
        PolicySetStatus::handler(ctx, args)
    }

    /// Signer: the insurer. Withdraws vault funds not owed to approved claims.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn policy_withdraw(ctx: Context<PolicyWithdraw>, args: PolicyWithdrawArgs) -> Result<()> {
        PolicyWithdraw::handler(ctx, args)
    }

    /// Signer: the insurer. Closes a policy with nothing owed or pending, sweeping the vault.
    #[access_control(ctx.accounts.validate())]
    pub fn policy_close(ctx: Context<PolicyClose>) -> Result<()> {
        PolicyClose::handler(ctx)
    }

    /// Signer: a verified insurer. Enrols a verified billing provider in its network.
    #[access_control(ctx.accounts.validate())]
    pub fn network_add(ctx: Context<NetworkAdd>) -> Result<()> {
        NetworkAdd::handler(ctx)
    }

    /// Signer: the insurer. Ends a provider's network membership (works while paused).
    #[access_control(ctx.accounts.validate())]
    pub fn network_remove(ctx: Context<NetworkRemove>) -> Result<()> {
        NetworkRemove::handler(ctx)
    }

    /// Signer: the insurer. Adds a coverage rule keyed by a salted procedure-code commitment.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn rule_add(ctx: Context<RuleAdd>, args: RuleAddArgs) -> Result<()> {
        RuleAdd::handler(ctx, args)
    }

    /// Signer: the insurer. Changes an active rule's terms (the event carries old and new).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn rule_update(ctx: Context<RuleUpdate>, args: RuleUpdateArgs) -> Result<()> {
        RuleUpdate::handler(ctx, args)
    }

    /// Signer: the insurer. Retires a rule: no new claims under it.
    #[access_control(ctx.accounts.validate())]
    pub fn rule_retire(ctx: Context<RuleRetire>) -> Result<()> {
        RuleRetire::handler(ctx)
    }

    /// Signer: a verified billing provider that authored the cited current record or holds a
    /// live treatment or operations grant covering it (and, for a network-only policy, is in the
    /// insurer's network). Submits a claim under the terms it expects; adjudicated and paid at
    /// once when the rule allows, else pending review or owed.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn claim_submit(ctx: Context<ClaimSubmit>, args: ClaimSubmitArgs) -> Result<()> {
        ClaimSubmit::handler(ctx, args)
    }

    /// Signer: the insurer. Approves (up to what the rule allows) or denies a pending claim.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn claim_review(ctx: Context<ClaimReview>, args: ClaimReviewArgs) -> Result<()> {
        ClaimReview::handler(ctx, args)
    }

    /// Signer: the claim's provider. Appeals a denial once.
    #[access_control(ctx.accounts.validate())]
    pub fn claim_appeal(ctx: Context<ClaimAppeal>) -> Result<()> {
        ClaimAppeal::handler(ctx)
    }

    /// Signer: the claim's provider. Cancels a claim before it is paid.
    #[access_control(ctx.accounts.validate())]
    pub fn claim_cancel(ctx: Context<ClaimCancel>) -> Result<()> {
        ClaimCancel::handler(ctx)
    }

    /// Signer: anyone. Pays an owed claim once the vault holds its benefit.
    #[access_control(ctx.accounts.validate())]
    pub fn claim_settle(ctx: Context<ClaimSettle>) -> Result<()> {
        ClaimSettle::handler(ctx)
    }

    // ---------------------------------------------------------------- rewards

    /// Signer: a verified researcher. Opens a study with a vault the study PDA owns.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn study_create(ctx: Context<StudyCreate>, args: StudyCreateArgs) -> Result<()> {
        StudyCreate::handler(ctx, args)
    }

    /// Signer: anyone. Funds or tops up a study's vault.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn study_fund(ctx: Context<StudyFund>, args: StudyFundArgs) -> Result<()> {
        StudyFund::handler(ctx, args)
    }

    /// Signer: the sponsor. Delegates inviting participants to a site, or stops delegating.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn study_set_site(ctx: Context<StudySetSite>, args: StudySetSiteArgs) -> Result<()> {
        StudySetSite::handler(ctx, args)
    }

    /// Signer: the sponsor or its site. Invites one registered patient: only invited patients
    /// can enrol.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn invitation_create(
        ctx: Context<InvitationCreate>,
        args: InvitationCreateArgs,
    ) -> Result<()> {
        InvitationCreate::handler(ctx, args)
    }

    /// Signer: the sponsor. Withdraws an unused invitation, or recovers a used one's rent (works
    /// while paused).
    #[access_control(ctx.accounts.validate())]
    pub fn invitation_close(ctx: Context<InvitationClose>) -> Result<()> {
        InvitationClose::handler(ctx)
    }

    /// Signer: the sponsor. Stops enrolment; enrolled participants keep earning (works while
    /// paused).
    #[access_control(ctx.accounts.validate())]
    pub fn study_close_enrolment(ctx: Context<StudyCloseEnrolment>) -> Result<()> {
        StudyCloseEnrolment::handler(ctx)
    }

    /// Signer: the sponsor. After enrolment, withdraws what no participant can still earn.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn study_withdraw(ctx: Context<StudyWithdraw>, args: StudyWithdrawArgs) -> Result<()> {
        StudyWithdraw::handler(ctx, args)
    }

    /// Signer: the sponsor. Closes a study with nothing outstanding, sweeping the vault.
    #[access_control(ctx.accounts.validate())]
    pub fn study_close(ctx: Context<StudyClose>) -> Result<()> {
        StudyClose::handler(ctx)
    }

    /// Signer: the patient or guardian, with the sponsor's invitation. Enrols under a live,
    /// never-narrowed research grant and the study's current registered protocol version (named
    /// with its document's hash); pays the enrolment reward.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn study_enroll(ctx: Context<StudyEnroll>, args: StudyEnrollArgs) -> Result<()> {
        StudyEnroll::handler(ctx, args)
    }

    /// Signer: the patient or guardian. Collects the periodic rewards that came due while consent
    /// was continuously live and given to the protocol's newest material version (also after
    /// it lapsed).
    #[access_control(ctx.accounts.validate())]
    pub fn reward_claim(ctx: Context<RewardClaim>) -> Result<()> {
        RewardClaim::handler(ctx)
    }

    /// Signer: anyone. Ends a participation whose consent lapsed, releasing the periods that had
    /// not come due by then (works while paused).
    #[access_control(ctx.accounts.validate())]
    pub fn participation_end(ctx: Context<ParticipationEnd>) -> Result<()> {
        ParticipationEnd::handler(ctx)
    }

    // ------------------------------------------------------------------ trials

    /// Signer: the study's sponsor. Registers the protocol (version 1: the document's hash, the
    /// pre-specified outcome commitments, the registry id, the planned enrolment) before anyone
    /// enrols, at the ledger's time.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn protocol_register(
        ctx: Context<ProtocolRegister>,
        args: ProtocolRegisterArgs,
    ) -> Result<()> {
        ProtocolRegister::handler(ctx, args)
    }

    /// Signer: the sponsor. A new protocol version, the old kept, until the data lock; a
    /// material one (any outcome change is) stops accrual until participants consent again.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn protocol_amend(ctx: Context<ProtocolAmend>, args: ProtocolAmendArgs) -> Result<()> {
        ProtocolAmend::handler(ctx, args)
    }

    /// Signer: the patient or guardian, against the signed statement naming the current
    /// protocol version and its hash (the Ed25519 check just before; alone in its transaction).
    /// Accrual resumes; the periods due while consent was stale are forfeited.
    #[access_control(ctx.accounts.validate())]
    pub fn participation_reconsent(ctx: Context<ParticipationReconsent>) -> Result<()> {
        ParticipationReconsent::handler(ctx)
    }

    /// Signer: the sponsor. Anchors the statistical analysis plan before the data lock.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn analysis_plan_anchor(
        ctx: Context<AnalysisPlanAnchor>,
        args: AnalysisPlanAnchorArgs,
    ) -> Result<()> {
        AnalysisPlanAnchor::handler(ctx, args)
    }

    /// Signer: the sponsor. Locks the data (the results dataset's hash), once, after the
    /// analysis plan; the protocol and plan no longer change.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn data_lock(ctx: Context<DataLock>, args: DataLockArgs) -> Result<()> {
        DataLock::handler(ctx, args)
    }

    /// Signer: the sponsor. Reports the results after the data lock, once, revealing the
    /// pre-specified outcomes; a report whose outcomes differ is accepted and marked switched.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn results_report(ctx: Context<ResultsReport>, args: ResultsReportArgs) -> Result<()> {
        ResultsReport::handler(ctx, args)
    }

    // ------------------------------------------------------------------ supply

    /// Signer: the credential authority. Registers a product (GTIN) to the one verified
    /// manufacturer that may commission batches of it.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn product_register(
        ctx: Context<ProductRegister>,
        args: ProductRegisterArgs,
    ) -> Result<()> {
        ProductRegister::handler(ctx, args)
    }

    /// Signer: the product's manufacturer (verified, manufacturer role), and the new status map
    /// account it created in the same transaction. Commissions a lot: its packs' Merkle root, and
    /// one status bit per pack, all active.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn batch_commission(
        ctx: Context<BatchCommission>,
        args: BatchCommissionArgs,
    ) -> Result<()> {
        BatchCommission::handler(ctx, args)
    }

    /// Signer: a verified supply-chain party (dispenser to supply). Decommissions an active pack
    /// proven by Merkle proof; a pack no longer active is left as it is and reported suspect.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn pack_decommission(
        ctx: Context<PackDecommission>,
        args: PackDecommissionArgs,
    ) -> Result<()> {
        PackDecommission::handler(ctx, args)
    }

    /// Signer: the premises that decommissioned the pack, within 10 days. Sets it active again
    /// (never a stolen or destroyed pack, nor one recalled or expired).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn pack_reactivate(ctx: Context<PackReactivate>, args: PackReactivateArgs) -> Result<()> {
        PackReactivate::handler(ctx, args)
    }

    /// Signer: anyone. Closes a supplied pack's record after its undo window (rent to the
    /// dispenser); the status bit keeps the pack supplied.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn pack_settle(ctx: Context<PackSettle>, args: PackSettleArgs) -> Result<()> {
        PackSettle::handler(ctx, args)
    }

    /// Signer: the batch's manufacturer. Recalls or withdraws the whole batch, for good (works
    /// while paused).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn batch_recall(ctx: Context<BatchRecall>, args: BatchRecallArgs) -> Result<()> {
        BatchRecall::handler(ctx, args)
    }

    /// Signer: a verified supply-chain party. Anchors a shipment (its EPCIS document's hash) to
    /// another verified party.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn shipment_send(ctx: Context<ShipmentSend>, args: ShipmentSendArgs) -> Result<()> {
        ShipmentSend::handler(ctx, args)
    }

    /// Signer: the shipment's receiver. Acknowledges it with its receiving events' hash, once.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn shipment_receive(
        ctx: Context<ShipmentReceive>,
        args: ShipmentReceiveArgs,
    ) -> Result<()> {
        ShipmentReceive::handler(ctx, args)
    }
}
