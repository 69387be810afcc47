//! The program's one error enum. Append only: codes are part of the API (the SDK maps them back).
use anchor_lang::prelude::*;

#[error_code]
#[derive(PartialEq, Eq)]
pub enum CareledgerError {
    // ---- registry (6000..)
    /// 6000
    #[msg("the program is paused by the admin: only revocations are accepted")]
    Paused,
    /// 6001
    #[msg("config can only be created by the program's upgrade authority")]
    NotUpgradeAuthority,
    /// 6002
    #[msg("signer is not the config admin")]
    NotAdmin,
    /// 6003
    #[msg("signer is not the pending admin proposed by the current admin")]
    NotPendingAdmin,
    /// 6004
    #[msg("admin / credential authority must not be the default (all-zero) key")]
    InvalidAuthorityKey,
    /// 6005
    #[msg("max_break_glass_secs must be between 60 seconds and 72 hours")]
    InvalidBreakGlassWindow,
    /// 6006
    #[msg("signer is not the config's credential authority")]
    NotCredentialAuthority,
    /// 6007
    #[msg("roles must be a subset of the care role bits (0x3f), and roles and supply_roles together must not be empty")]
    InvalidRoles,
    /// 6008
    #[msg("credential_ref must be the 32-byte hash of a licence document, not all zeros")]
    InvalidCredentialRef,
    /// 6009
    #[msg("credential_expires_at must be in the future")]
    InvalidCredentialExpiry,
    /// 6010
    #[msg("provider is not verified by the credential authority")]
    ProviderNotVerified,
    /// 6011
    #[msg("provider is suspended")]
    ProviderSuspended,
    /// 6012
    #[msg("provider's credential has expired: re-verification needed")]
    CredentialExpired,
    /// 6013
    #[msg("provider lacks the role this instruction needs")]
    MissingRole,
    /// 6014
    #[msg("guardian must differ from the patient and from the default key")]
    InvalidGuardian,
    /// 6015
    #[msg("guardian_expires_at must be in the future and at most 21 years ahead")]
    InvalidGuardianExpiry,
    /// 6016
    #[msg("signer is neither the patient nor the patient's guardian")]
    NotPatientOrGuardian,
    /// 6017
    #[msg("the guardian's appointment has expired")]
    GuardianExpired,
    // ---- records (6018..)
    /// 6018
    #[msg("CID is longer than 40 bytes")]
    CidTooLong,
    /// 6019
    #[msg("CID ended before its digest was complete")]
    CidTruncated,
    /// 6020
    #[msg("CID has a malformed or non-minimal varint")]
    CidVarint,
    /// 6021
    #[msg("CID version must be 0 (bare sha2-256 multihash) or 1")]
    CidVersion,
    /// 6022
    #[msg("CID codec must be raw (0x55), dag-pb (0x70), dag-cbor (0x71) or dag-json (0x0129)")]
    CidCodec,
    /// 6023
    #[msg("CID uses the identity multihash, which would put content on chain")]
    CidIdentityHash,
    /// 6024
    #[msg("CID multihash must be sha2-256 (0x12) or blake3 (0x1e)")]
    CidHashFunction,
    /// 6025
    #[msg("CID digest must be exactly 32 bytes")]
    CidDigestLength,
    /// 6026
    #[msg("CID has bytes after its digest")]
    CidTrailingBytes,
    /// 6027
    #[msg("hash must not be all zeros")]
    ZeroHash,
    /// 6028
    #[msg("record class id must be below 16")]
    InvalidRecordClass,
    /// 6029
    #[msg("record is not current (superseded or entered in error): it accepts no change")]
    RecordNotCurrent,
    /// 6030
    #[msg("expected_version does not match the record's version (stale amend)")]
    StaleVersion,
    /// 6031
    #[msg("record belongs to another patient")]
    RecordPatientMismatch,
    /// 6032
    #[msg("only the patient or the record's author may mark it entered in error")]
    NotRecordAuthorOrPatient,
    /// 6033
    #[msg("a provider writing a record must pass its Provider account and a grant")]
    GrantRequired,
    // ---- consent (6034..)
    /// 6034
    #[msg("classes must be a non-empty bitmask")]
    InvalidClasses,
    /// 6035
    #[msg("actions must be a non-empty subset of read (1) | write (2)")]
    InvalidActions,
    /// 6036
    #[msg("purpose emergency is only granted through break-glass")]
    EmergencyPurposeReserved,
    /// 6037
    #[msg("expires_at must be in the future and at most 10 years ahead")]
    InvalidExpiry,
    /// 6038
    #[msg("not_before must be before expires_at")]
    InvalidNotBefore,
    /// 6039
    #[msg("record_scope must name an existing record of this patient")]
    InvalidRecordScope,
    /// 6040
    #[msg("a patient cannot grant access to themself")]
    SelfGrant,
    /// 6041
    #[msg("grant is revoked; revocation is final")]
    GrantRevoked,
    /// 6042
    #[msg("grant has expired")]
    GrantExpired,
    /// 6043
    #[msg("grant is not valid yet (before not_before)")]
    GrantNotYetValid,
    /// 6044
    #[msg("grant predates the patient's last revoke-all (older consent epoch)")]
    GrantStaleEpoch,
    /// 6045
    #[msg("grant does not cover this record class")]
    ClassNotGranted,
    /// 6046
    #[msg("grant does not allow this action")]
    ActionNotGranted,
    /// 6047
    #[msg("grant is scoped to a different record")]
    RecordOutOfScope,
    /// 6048
    #[msg("grant was given for a different purpose of use")]
    PurposeMismatch,
    /// 6049
    #[msg("signer is not the grantee of this grant")]
    GranteeMismatch,
    /// 6050
    #[msg("grant belongs to another patient")]
    GrantPatientMismatch,
    /// 6051
    #[msg("grant is still live: only revoked, expired or older-epoch grants can be closed")]
    GrantStillLive,
    /// 6052
    #[msg("an emergency grant must be reviewed by the patient before it is closed")]
    ReviewPending,
    /// 6053
    #[msg("grant is not a break-glass grant awaiting review")]
    NotAwaitingReview,
    /// 6054
    #[msg("break-glass window must be between 60 seconds and the config's max_break_glass_secs")]
    BreakGlassWindowTooLong,
    /// 6055
    #[msg("reason_code must be non-zero")]
    MissingReasonCode,
    /// 6056
    #[msg("requested duration must be between 60 seconds and 1 year")]
    InvalidRequestDuration,
    /// 6057
    #[msg("approval must not widen the request: classes and actions must be a subset, expiry within the requested duration")]
    ApprovalWidensRequest,
    /// 6058
    #[msg("update must change something and keep classes, actions and expiry valid")]
    EmptyUpdate,
    /// 6059
    #[msg("arithmetic overflow")]
    MathOverflow,
    /// 6060
    #[msg("rent destination must be the account that paid for it")]
    WrongRentDestination,
    /// 6061
    #[msg("account invariant violated")]
    InvariantViolated,
    /// 6062
    #[msg("action must be exactly one of read (1) or write (2)")]
    InvalidAccessAction,
    /// 6063
    #[msg("signer is not this policy's insurer")]
    NotPolicyInsurer,
    /// 6064
    #[msg("policy is suspended or closed")]
    PolicyNotActive,
    /// 6065
    #[msg("coverage must start before it ends, end in the future and last at most 10 years")]
    InvalidCoveragePeriod,
    /// 6066
    #[msg("benefit_cap must be non-zero and the deductible at most the cap")]
    InvalidPolicyAmounts,
    /// 6067
    #[msg("amount must be non-zero")]
    InvalidAmount,
    /// 6068
    #[msg("rule needs a non-zero allowed amount per unit and unit limit, coinsurance at most 10000 bps")]
    InvalidRuleTerms,
    /// 6069
    #[msg("rule_key must be the salted hash of a procedure code, not all zeros")]
    ZeroRuleKey,
    /// 6070
    #[msg("coverage rule is retired")]
    RuleRetired,
    /// 6071
    #[msg("coverage rule belongs to another policy")]
    RulePolicyMismatch,
    /// 6072
    #[msg("the insurer holds no payment grant from this patient")]
    NoPaymentConsent,
    /// 6073
    #[msg("patient or record is not the policy's member")]
    PolicyPatientMismatch,
    /// 6074
    #[msg("this provider already billed this record, rule and service date under this policy")]
    DuplicateClaim,
    /// 6075
    #[msg("service date is outside the policy's coverage period")]
    ServiceDateOutsideCoverage,
    /// 6076
    #[msg(
        "service date must be a whole UTC day (unix seconds divisible by 86400) not in the future"
    )]
    InvalidServiceDate,
    /// 6077
    #[msg("units and billed amount must be non-zero and the document commitment not all zeros")]
    InvalidClaimInput,
    /// 6078
    #[msg("token account or mint is not the policy's payment mint")]
    WrongMint,
    /// 6079
    #[msg("vault is not this policy's vault")]
    ForeignVault,
    /// 6080
    #[msg("payment token account is not owned by the claim's provider")]
    PayeeNotProvider,
    /// 6081
    #[msg("withdrawal would take funds owed to approved claims")]
    FundsOwed,
    /// 6082
    #[msg("claim is not pending review")]
    ClaimNotPendingReview,
    /// 6083
    #[msg(
        "approved amount exceeds what the rule allows after deductible, copay, coinsurance and cap"
    )]
    ApprovalExceedsRule,
    /// 6084
    #[msg("only a denied claim can be appealed, and only once")]
    NotAppealable,
    /// 6085
    #[msg("only a claim not yet paid or denied can be cancelled")]
    ClaimNotCancellable,
    /// 6086
    #[msg("signer is not the claim's provider")]
    NotClaimProvider,
    /// 6087
    #[msg("claim has nothing owed: it is not approved, or already paid")]
    ClaimNotOwed,
    /// 6088
    #[msg("vault holds too little for this claim: fund the policy, then settle")]
    VaultShort,
    /// 6089
    #[msg("policy has owed or pending-review claims")]
    PolicyHasOpenClaims,
    /// 6090
    #[msg("claim belongs to another policy")]
    ClaimPolicyMismatch,
    /// 6091
    #[msg("status change must be active to suspended or back")]
    PolicyNotSuspendable,
    /// 6092
    #[msg("signer is not this study's sponsor")]
    NotStudySponsor,
    /// 6093
    #[msg("study needs record classes, an enrolment reward or periodic rewards, periods of at least a day (at most 520), and a non-zero participant cap")]
    InvalidStudyTerms,
    /// 6094
    #[msg(
        "enrolment window must start before it ends, end in the future and last at most 10 years"
    )]
    InvalidEnrolmentWindow,
    /// 6095
    #[msg("study is not open for enrolment at this time")]
    EnrolmentClosed,
    /// 6096
    #[msg("study has reached its maximum number of participants")]
    StudyFull,
    /// 6097
    #[msg("this patient is already enrolled in this study")]
    AlreadyEnrolled,
    /// 6098
    #[msg("the sponsor holds no research grant from this patient")]
    NoResearchConsent,
    /// 6099
    #[msg("research grant must cover every class the study requires, for all records")]
    GrantDoesNotCoverStudy,
    /// 6100
    #[msg("no reward period is due yet, or every period is paid")]
    NothingDue,
    /// 6101
    #[msg("study still owes rewards participants can earn")]
    StudyHasOutstanding,
    /// 6102
    #[msg("withdraw after enrolment closes: open slots may still be filled")]
    EnrolmentStillOpen,
    /// 6103
    #[msg("participation has ended: its consent was withdrawn or every period is paid")]
    ParticipationEnded,
    /// 6104
    #[msg("the participant's research grant is still live: nothing to release")]
    ConsentStillLive,
    /// 6105
    #[msg("study is closed")]
    StudyClosed,
    /// 6106
    #[msg("token account or participation belongs to another patient or study")]
    WrongParticipant,
    /// 6107
    #[msg("the clock is outside 1970-2106, the range of the u32 timestamps accounts store")]
    TimestampOutOfRange,
    /// 6108
    #[msg("the program config is already initialised")]
    ConfigAlreadyInitialized,
    /// 6109
    #[msg("this wallet is already registered as a patient")]
    PatientAlreadyRegistered,
    /// 6110
    #[msg("this wallet is already registered as a provider")]
    ProviderAlreadyRegistered,
    /// 6111
    #[msg("a live grant for this grantee and purpose exists: update it, or revoke it first (a revoked, expired or void grant is replaced by a new grant at its address)")]
    GrantAlreadyExists,
    /// 6112
    #[msg("this provider already has a pending request with this patient")]
    RequestAlreadyPending,
    /// 6113
    #[msg("an account already exists at the patient's next record index")]
    RecordIndexTaken,
    /// 6114
    #[msg("this insurer already has a policy with this policy_id")]
    PolicyAlreadyExists,
    /// 6115
    #[msg("this policy already has a rule for this procedure key")]
    RuleAlreadyExists,
    /// 6116
    #[msg("this sponsor already has a study with this study_id")]
    StudyAlreadyExists,
    /// 6117
    #[msg("the billing provider neither authored the cited record nor holds a live treatment or operations grant from the member that covers it")]
    NoCareRelationship,
    /// 6118
    #[msg("this policy pays in-network providers only, and the billing provider is not in the insurer's network")]
    ProviderOutOfNetwork,
    /// 6119
    #[msg("this provider is already in the insurer's network")]
    NetworkMemberAlreadyAdded,
    /// 6120
    #[msg("the study's sponsor (or its site) has not invited this patient: enrolment needs an invitation")]
    NotInvited,
    /// 6121
    #[msg("this invitation has already been used to enrol")]
    InvitationUsed,
    /// 6122
    #[msg("this patient already has an invitation to this study")]
    InvitationAlreadyExists,
    /// 6123
    #[msg("only the study's sponsor or the site it delegated may invite participants")]
    NotStudySite,
    /// 6124
    #[msg("this invitation has expired")]
    InvitationExpired,
    /// 6125
    #[msg("the rule's terms are not the ones the claim expected (changed since the preview): review them and resubmit")]
    RuleTermsChanged,
    /// 6126
    #[msg("this research grant was narrowed after it was given, so it is no longer continuous consent: revoke it and grant anew to enrol")]
    GrantNarrowed,
    /// 6127
    #[msg("a grant the guardian gives, extends or approves cannot outlast the guardianship (guardian_expires_at)")]
    GuardianTermExceeded,
    /// 6128
    #[msg(
        "this mint has a freeze authority and is not on the admin's list of accepted payment mints"
    )]
    FreezableMintNotAccepted,
    /// 6129
    #[msg("this mint is already on the list of accepted payment mints")]
    MintAlreadyAccepted,
    /// 6130
    #[msg("an expired grant cannot be updated: consent that lapsed is not continued, grant anew")]
    GrantLapsed,
    /// 6131
    #[msg("the invitation's validity must end after now and within a year")]
    InvalidInvitationExpiry,
    /// 6132
    #[msg("the participation's research grant was closed and given again: a new consent does not continue the old participation")]
    GrantReplaced,
    /// 6133
    #[msg("the appeal window for this denial has closed (APPEAL_WINDOW_SECS after the decision)")]
    AppealWindowClosed,
    /// 6134
    #[msg(
        "a denied claim can still be appealed: the policy closes once its appeal window is over"
    )]
    AppealWindowOpen,
    /// 6135
    #[msg("retracting an amendment needs the version it replaced (it is reinstated as current)")]
    PreviousVersionRequired,
    /// 6136
    #[msg("a member cannot bill their own policy")]
    SelfBilling,
    /// 6137
    #[msg("the cited record does not document this service: it must be anchored on the service day or within DOCUMENTATION_WINDOW_SECS after it, and a care grant must predate the end of that day")]
    ServiceNotDocumented,
    /// 6138
    #[msg("this clinician's previous break-glass window with this patient is still open")]
    EmergencyStillOpen,
    /// 6139
    #[msg("the break-glass grant address is not this clinician's next emergency serial for the patient: read the marker again")]
    EmergencySerialMismatch,
    /// 6140
    #[msg("the X25519 key is unusable: all zero or a low-order point, whose shared secret anyone can compute")]
    UnusableEncryptionKey,
    /// 6141
    #[msg("this wallet's encryption key is already that key: a rotation needs a new key")]
    EncryptionKeyUnchanged,
    /// 6142
    #[msg("a signed grant must follow, in the same transaction and immediately, an Ed25519 precompile instruction that checks the consent statement's signature")]
    StatementCheckMissing,
    /// 6143
    #[msg("the Ed25519 check must hold exactly one signature, with its key, signature and message all in its own instruction data")]
    StatementCheckLayout,
    /// 6144
    #[msg("the consent statement was signed by a key other than this grant's signer (the patient or their guardian)")]
    StatementSignerMismatch,
    /// 6145
    #[msg("the signed text is not the consent statement of these terms, patient, grantee and nonce, byte for byte, nor that statement in a Solana off-chain message envelope")]
    StatementMismatch,
    /// 6146
    #[msg("a signed grant's transaction may hold only compute-budget instructions, the Ed25519 check and the grant: anything else would run with the patient's signature unseen in the statement")]
    StatementTransactionNotAlone,
    /// 6147
    #[msg("a signed grant starts when recorded (not_before 0) or at a time still to come: a start already past would put a date in the statement that the grant does not keep")]
    StatementStartPassed,
    /// 6148
    #[msg("this patient requires a signed consent statement for every new grant (grant_create_signed): plain grants, request approvals, updates that widen a grant and appointing a guardian are refused")]
    StatementRequired,
    /// 6149
    #[msg("the patient already requires signed consent statements")]
    ConsentModeUnchanged,
    /// 6150
    #[msg("supply_roles must be a subset of manufacturer (1), wholesaler (2) and dispenser (4)")]
    InvalidSupplyRoles,
    /// 6151
    #[msg("gtin_hash must be logic::supply::gtin_hash of a GTIN-14, not all zeros")]
    InvalidGtinHash,
    /// 6152
    #[msg("this GTIN is already registered to a manufacturer")]
    ProductAlreadyRegistered,
    /// 6153
    #[msg("this GTIN is registered to another manufacturer: only its own may commission batches of it")]
    NotProductManufacturer,
    /// 6154
    #[msg("lot must be 1 to 20 characters of GS1 character set 82")]
    InvalidLot,
    /// 6155
    #[msg("expires_at must be in the future (the first second after the pack's expiry day, UTC)")]
    InvalidBatchExpiry,
    /// 6156
    #[msg("a batch's depth must be 1 to MAX_BATCH_DEPTH (21) and its capacity 1 to 2^depth packs")]
    InvalidBatchShape,
    /// 6157
    #[msg("merkle_root must be the root of the batch's pack tree, not all zeros")]
    InvalidMerkleRoot,
    /// 6158
    #[msg("this product's lot is already commissioned")]
    BatchAlreadyCommissioned,
    /// 6159
    #[msg("the pack status map must be a new account owned by careledger, signing for itself, all zero, of exactly 40 + ceil(capacity / 8) bytes")]
    PackMapInvalid,
    /// 6160
    #[msg("this is not the batch's pack status map")]
    PackMapMismatch,
    /// 6161
    #[msg("the pack index is not below the batch's capacity")]
    PackIndexOutOfRange,
    /// 6162
    #[msg("the Merkle proof does not lead from this pack's leaf, at this index, to the batch's root: an unknown or counterfeit pack, or a proof from another batch")]
    InvalidPackProof,
    /// 6163
    #[msg("the pack is not active: it was already decommissioned")]
    PackNotActive,
    /// 6164
    #[msg("the new state must be one of the inactive states (supplied, exported, checked-out, stolen, sample, free sample, locked, destroyed)")]
    PackStateNotInactive,
    /// 6165
    #[msg(
        "the batch was recalled or withdrawn: its packs may only be destroyed or reported stolen"
    )]
    BatchRecalled,
    /// 6166
    #[msg("the pack has expired: it may only be destroyed or reported stolen")]
    PackExpired,
    /// 6167
    #[msg("the pack is active: there is no decommission to undo")]
    PackAlreadyActive,
    /// 6168
    #[msg("a decommission may be undone only within UNDO_WINDOW_SECS (10 days) of it")]
    UndoWindowPassed,
    /// 6169
    #[msg("only the premises that decommissioned the pack may undo it")]
    UndoByOtherPremises,
    /// 6170
    #[msg("a stolen or destroyed pack can never be set active again")]
    UndoFinalState,
    /// 6171
    #[msg("the batch is already recalled or withdrawn, which is final")]
    BatchAlreadyFinal,
    /// 6172
    #[msg("only the record of a supplied pack may be settled, once its undo window has passed")]
    PackRecordNotSettleable,
    /// 6173
    #[msg("this sender already anchored a shipment with this EPCIS hash")]
    ShipmentAlreadyAnchored,
    /// 6174
    #[msg("a shipment needs a non-zero EPCIS hash, at least one pack, and a receiver other than the sender")]
    ShipmentInvalid,
    /// 6175
    #[msg("only the shipment's receiver may acknowledge it")]
    NotShipmentReceiver,
    /// 6176
    #[msg("the shipment was already acknowledged")]
    ShipmentAlreadyReceived,
    /// 6177
    #[msg("the batch address is not [BATCH_SEED, gtin_hash, lot] (derive it with careledger_sdk::pda::batch)")]
    BatchAddressMismatch,
    /// 6178
    #[msg("a pack reported again after it was decommissioned (a clone of its serial is about) can never be set active again")]
    UndoAfterSuspect,
    /// 6179
    #[msg("the sender must be the batch's manufacturer or hold it: pass a shipment of this batch it received (custody)")]
    NotInCustody,
    /// 6180
    #[msg("a guardian cannot act for the ward where the guardian is the other party: a grant to itself, its own request or emergency access, a study it sponsors or runs")]
    GuardianIsParty,
    /// 6181
    #[msg("the signed message is a Solana off-chain message of a version careledger does not read: sign the statement as text, or in an off-chain message of version 0 or 1")]
    OffchainVersionUnknown,
    /// 6182
    #[msg("the off-chain message (version 0) names an application domain: a careledger statement is signed with the all-zero domain")]
    OffchainApplicationDomain,
    /// 6183
    #[msg("the off-chain message must name exactly one signer, the grant's signer")]
    OffchainSigners,
    /// 6184
    #[msg("the grantee holds no role that may receive records for this purpose: treatment needs a care role (clinician, lab, hospital, emergency), payment and operations an insurer or a care role, research a researcher, public health a care role or a researcher")]
    PurposeNotForRoles,
    /// 6185
    #[msg("the patient has given this grantee no grant for this purpose")]
    NoGrant,
    /// 6186
    #[msg("the study has no registered protocol: its sponsor registers one (protocol_register) before anyone enrols")]
    ProtocolNotRegistered,
    /// 6187
    #[msg("the registry identifier must be 1 to 24 characters of A-Z, 0-9 and '-' (an NCT, EU CT, ISRCTN or ACTRN number), zero-padded")]
    InvalidRegistryId,
    /// 6188
    #[msg("a protocol version needs a non-zero document SHA-256 and outcome commitments, and a planned enrolment from 1 to the study's maximum")]
    InvalidProtocolTerms,
    /// 6189
    #[msg("the protocol version or document hash named is not the study's current one: read the current protocol and consent to it")]
    ProtocolVersionStale,
    /// 6190
    #[msg("the protocol and the analysis plan cannot change once the data is locked")]
    ProtocolLocked,
    /// 6191
    #[msg("the statistical analysis plan must be anchored before the data lock")]
    AnalysisPlanRequired,
    /// 6192
    #[msg("results are reported only after the data lock")]
    DataNotLocked,
    /// 6193
    #[msg("the study's data is already locked")]
    DataAlreadyLocked,
    /// 6194
    #[msg("the study's results are already reported")]
    ResultsAlreadyReported,
    /// 6195
    #[msg("the revealed outcomes and salt do not open the pre-specified outcome commitment")]
    OutcomeRevealMismatch,
    /// 6196
    #[msg("at most 4 primary and 8 secondary outcomes, each revealed and reported (a results record fits one transaction)")]
    TooManyOutcomes,
    /// 6197
    #[msg("the protocol was amended since this participant consented: nothing accrues until they consent to the current version (participation_reconsent)")]
    ReconsentRequired,
    /// 6198
    #[msg("collect the rewards that came due before the amendment first (reward_claim), then consent again")]
    CollectDueFirst,
    /// 6199
    #[msg("the participant already consented to the current protocol version")]
    ReconsentNotNeeded,
    /// 6200
    #[msg("an amendment needs a non-zero reason code")]
    AmendmentReasonRequired,
    /// 6201
    #[msg("the study's protocol is registered already: amend it instead")]
    ProtocolAlreadyRegistered,
    /// 6202
    #[msg("the participant consented to an older protocol version: name the first material version after theirs (the SDK finds it)")]
    NextMaterialVersionRequired,
}
