//! The SDK's typed error. Program failures come back as the program's own enum.
use careledger::errors::CareledgerError;
use solana_instruction::error::InstructionError;
use solana_transaction_error::TransactionError;

/// Anchor's custom error codes start here; ours follow in enum order.
const ERROR_CODE_OFFSET: u32 = anchor_lang::error::ERROR_CODE_OFFSET;

#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The program refused the instruction with one of its own errors.
    #[error("instruction {index} failed: {error} (careledger error {code})")]
    Program {
        index: u8,
        code: u32,
        error: CareledgerError,
    },
    /// Anchor's framework refused an account or the instruction data (codes 100..5000).
    #[error("instruction {index} failed: Anchor error {code} ({name})")]
    Anchor { index: u8, code: u32, name: String },
    /// Any other transaction error (signature, fees, system program, ...).
    #[error("transaction failed: {0}")]
    Transaction(TransactionError),
    #[error("account {0} does not exist")]
    AccountNotFound(solana_pubkey::Pubkey),
    #[error("account {address} is not a {expected}: {reason}")]
    Decode {
        address: solana_pubkey::Pubkey,
        expected: &'static str,
        reason: String,
    },
    #[error("invalid CID {0}")]
    InvalidCid(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The same message was already sent under this blockhash; re-sign with a fresh one.
    #[error("identical transaction already sent under this blockhash")]
    DuplicateTransaction,
    /// The RPC node or the connection to it failed; the RPC client's own error (its `kind()`
    /// tells an HTTP status such as a rate limit from an I/O failure). Transaction errors the
    /// node reports become [`SdkError::Program`], [`SdkError::Anchor`] or
    /// [`SdkError::Transaction`] instead: a blockhash already stale at preflight is
    /// `Transaction(BlockhashNotFound)`. One that expires while the client waits for
    /// confirmation is reported by the RPC client as `RpcError::ForUser("unable to confirm
    /// transaction ...")` and stays here: resend with a fresh blockhash.
    #[cfg(feature = "rpc")]
    #[error("rpc: {0}")]
    Rpc(#[from] Box<solana_rpc_client_api::client_error::Error>),
    /// The embedded bank failed outside a transaction.
    #[cfg(feature = "embedded")]
    #[error("embedded runtime: {0}")]
    Embedded(#[from] Box<solana_program_test::BanksClientError>),
    /// A node answered with something the SDK cannot read.
    #[error("transport: {0}")]
    Transport(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl SdkError {
    /// The error the program would return for `error` in a one-instruction transaction (what an
    /// SDK check that mirrors the program reports).
    pub fn rejected(error: CareledgerError) -> Self {
        SdkError::Program {
            index: 0,
            code: u32::from(error),
            error,
        }
    }

    /// The program error, if that is what this is.
    pub fn program_error(&self) -> Option<CareledgerError> {
        match self {
            SdkError::Program { error, .. } => Some(*error),
            _ => None,
        }
    }

    /// The raw custom code of a program or Anchor error.
    pub fn custom_code(&self) -> Option<u32> {
        match self {
            SdkError::Program { code, .. } | SdkError::Anchor { code, .. } => Some(*code),
            SdkError::Transaction(TransactionError::InstructionError(
                _,
                InstructionError::Custom(code),
            )) => Some(*code),
            _ => None,
        }
    }
}

/// Every program error in code order (the enum is append-only, so index = code - 6000).
pub fn program_error_from_code(code: u32) -> Option<CareledgerError> {
    let index = code.checked_sub(ERROR_CODE_OFFSET)?;
    ALL_ERRORS.get(index as usize).copied()
}

#[cfg(feature = "rpc")]
impl From<solana_rpc_client_api::client_error::Error> for SdkError {
    /// A transaction error the node reported keeps its program meaning; anything else stays
    /// the RPC client's typed error.
    fn from(err: solana_rpc_client_api::client_error::Error) -> Self {
        match err.get_transaction_error() {
            Some(tx_err) => SdkError::from(tx_err),
            None => SdkError::Rpc(Box::new(err)),
        }
    }
}

impl From<TransactionError> for SdkError {
    fn from(err: TransactionError) -> Self {
        if let TransactionError::InstructionError(index, InstructionError::Custom(code)) = &err {
            if let Some(error) = program_error_from_code(*code) {
                return SdkError::Program {
                    index: *index,
                    code: *code,
                    error,
                };
            }
            if (100..ERROR_CODE_OFFSET).contains(code) {
                let name = anchor_error_name(*code).to_string();
                return SdkError::Anchor {
                    index: *index,
                    code: *code,
                    name,
                };
            }
        }
        SdkError::Transaction(err)
    }
}

/// Names of the Anchor framework errors a careledger call can meet.
pub fn anchor_error_name(code: u32) -> &'static str {
    match code {
        100 => "InstructionMissing",
        101 => "InstructionFallbackNotFound",
        102 => "InstructionDidNotDeserialize",
        2000 => "ConstraintMut",
        2001 => "ConstraintHasOne",
        2002 => "ConstraintSigner",
        2003 => "ConstraintRaw",
        2006 => "ConstraintSeeds",
        2012 => "ConstraintAddress",
        2040 => "ConstraintDuplicateMutableAccount",
        3001 => "AccountDiscriminatorNotFound",
        3002 => "AccountDiscriminatorMismatch",
        3003 => "AccountDidNotDeserialize",
        3005 => "AccountNotEnoughKeys",
        3007 => "AccountOwnedByWrongProgram",
        3008 => "InvalidProgramId",
        3010 => "AccountNotSigner",
        3011 => "AccountNotSystemOwned",
        3012 => "AccountNotInitialized",
        3014 => "AccountNotAssociatedTokenAccount",
        4100 => "DeclaredProgramIdMismatch",
        4101 => "TryingToInitPayerAsProgramAccount",
        _ => "unknown",
    }
}

use CareledgerError::*;
const ALL_ERRORS: &[CareledgerError] = &[
    Paused,
    NotUpgradeAuthority,
    NotAdmin,
    NotPendingAdmin,
    InvalidAuthorityKey,
    InvalidBreakGlassWindow,
    NotCredentialAuthority,
    InvalidRoles,
    InvalidCredentialRef,
    InvalidCredentialExpiry,
    ProviderNotVerified,
    ProviderSuspended,
    CredentialExpired,
    MissingRole,
    InvalidGuardian,
    InvalidGuardianExpiry,
    NotPatientOrGuardian,
    GuardianExpired,
    CidTooLong,
    CidTruncated,
    CidVarint,
    CidVersion,
    CidCodec,
    CidIdentityHash,
    CidHashFunction,
    CidDigestLength,
    CidTrailingBytes,
    ZeroHash,
    InvalidRecordClass,
    RecordNotCurrent,
    StaleVersion,
    RecordPatientMismatch,
    NotRecordAuthorOrPatient,
    GrantRequired,
    InvalidClasses,
    InvalidActions,
    EmergencyPurposeReserved,
    InvalidExpiry,
    InvalidNotBefore,
    InvalidRecordScope,
    SelfGrant,
    GrantRevoked,
    GrantExpired,
    GrantNotYetValid,
    GrantStaleEpoch,
    ClassNotGranted,
    ActionNotGranted,
    RecordOutOfScope,
    PurposeMismatch,
    GranteeMismatch,
    GrantPatientMismatch,
    GrantStillLive,
    ReviewPending,
    NotAwaitingReview,
    BreakGlassWindowTooLong,
    MissingReasonCode,
    InvalidRequestDuration,
    ApprovalWidensRequest,
    EmptyUpdate,
    MathOverflow,
    WrongRentDestination,
    InvariantViolated,
    InvalidAccessAction,
    NotPolicyInsurer,
    PolicyNotActive,
    InvalidCoveragePeriod,
    InvalidPolicyAmounts,
    InvalidAmount,
    InvalidRuleTerms,
    ZeroRuleKey,
    RuleRetired,
    RulePolicyMismatch,
    NoPaymentConsent,
    PolicyPatientMismatch,
    DuplicateClaim,
    ServiceDateOutsideCoverage,
    InvalidServiceDate,
    InvalidClaimInput,
    WrongMint,
    ForeignVault,
    PayeeNotProvider,
    FundsOwed,
    ClaimNotPendingReview,
    ApprovalExceedsRule,
    NotAppealable,
    ClaimNotCancellable,
    NotClaimProvider,
    ClaimNotOwed,
    VaultShort,
    PolicyHasOpenClaims,
    ClaimPolicyMismatch,
    PolicyNotSuspendable,
    NotStudySponsor,
    InvalidStudyTerms,
    InvalidEnrolmentWindow,
    EnrolmentClosed,
    StudyFull,
    AlreadyEnrolled,
    NoResearchConsent,
    GrantDoesNotCoverStudy,
    NothingDue,
    StudyHasOutstanding,
    EnrolmentStillOpen,
    ParticipationEnded,
    ConsentStillLive,
    StudyClosed,
    WrongParticipant,
    TimestampOutOfRange,
    ConfigAlreadyInitialized,
    PatientAlreadyRegistered,
    ProviderAlreadyRegistered,
    GrantAlreadyExists,
    RequestAlreadyPending,
    RecordIndexTaken,
    PolicyAlreadyExists,
    RuleAlreadyExists,
    StudyAlreadyExists,
    NoCareRelationship,
    ProviderOutOfNetwork,
    NetworkMemberAlreadyAdded,
    NotInvited,
    InvitationUsed,
    InvitationAlreadyExists,
    NotStudySite,
    InvitationExpired,
    RuleTermsChanged,
    GrantNarrowed,
    GuardianTermExceeded,
    FreezableMintNotAccepted,
    MintAlreadyAccepted,
    GrantLapsed,
    InvalidInvitationExpiry,
    GrantReplaced,
    AppealWindowClosed,
    AppealWindowOpen,
    PreviousVersionRequired,
    SelfBilling,
    ServiceNotDocumented,
    EmergencyStillOpen,
    EmergencySerialMismatch,
    UnusableEncryptionKey,
    EncryptionKeyUnchanged,
    StatementCheckMissing,
    StatementCheckLayout,
    StatementSignerMismatch,
    StatementMismatch,
    StatementTransactionNotAlone,
    StatementStartPassed,
    StatementRequired,
    ConsentModeUnchanged,
    InvalidSupplyRoles,
    InvalidGtinHash,
    ProductAlreadyRegistered,
    NotProductManufacturer,
    InvalidLot,
    InvalidBatchExpiry,
    InvalidBatchShape,
    InvalidMerkleRoot,
    BatchAlreadyCommissioned,
    PackMapInvalid,
    PackMapMismatch,
    PackIndexOutOfRange,
    InvalidPackProof,
    PackNotActive,
    PackStateNotInactive,
    BatchRecalled,
    PackExpired,
    PackAlreadyActive,
    UndoWindowPassed,
    UndoByOtherPremises,
    UndoFinalState,
    BatchAlreadyFinal,
    PackRecordNotSettleable,
    ShipmentAlreadyAnchored,
    ShipmentInvalid,
    NotShipmentReceiver,
    ShipmentAlreadyReceived,
    BatchAddressMismatch,
    UndoAfterSuspect,
    NotInCustody,
    GuardianIsParty,
    OffchainVersionUnknown,
    OffchainApplicationDomain,
    OffchainSigners,
    PurposeNotForRoles,
    NoGrant,
    ProtocolNotRegistered,
    InvalidRegistryId,
    InvalidProtocolTerms,
    ProtocolVersionStale,
    ProtocolLocked,
    AnalysisPlanRequired,
    DataNotLocked,
    DataAlreadyLocked,
    ResultsAlreadyReported,
    OutcomeRevealMismatch,
    TooManyOutcomes,
    ReconsentRequired,
    CollectDueFirst,
    ReconsentNotNeeded,
    AmendmentReasonRequired,
    ProtocolAlreadyRegistered,
    NextMaterialVersionRequired,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_back_to_its_variant() {
        for (i, e) in ALL_ERRORS.iter().enumerate() {
            let code = ERROR_CODE_OFFSET + i as u32;
            assert_eq!(u32::from(*e), code, "{e:?} is out of order");
            assert_eq!(program_error_from_code(code), Some(*e));
        }
        assert_eq!(
            program_error_from_code(ERROR_CODE_OFFSET + ALL_ERRORS.len() as u32),
            None
        );
        // complete: the program's IDL (regenerated and checked in CI) lists every error
        let idl: serde_json::Value =
            serde_json::from_str(include_str!("../../idl/careledger.json"))
                .expect("the committed IDL");
        let names: Vec<String> = idl["errors"]
            .as_array()
            .expect("IDL errors")
            .iter()
            .map(|e| e["name"].as_str().unwrap_or_default().to_string())
            .collect();
        let ours: Vec<String> = ALL_ERRORS.iter().map(|e| format!("{e:?}")).collect();
        assert_eq!(
            ours, names,
            "ALL_ERRORS must list the program's errors in order"
        );
        let err = SdkError::from(TransactionError::InstructionError(
            1,
            InstructionError::Custom(ERROR_CODE_OFFSET),
        ));
        assert_eq!(err.program_error(), Some(Paused));
        let anchor = SdkError::from(TransactionError::InstructionError(
            0,
            InstructionError::Custom(3012),
        ));
        assert!(
            anchor.to_string().contains("AccountNotInitialized"),
            "{anchor}"
        );
    }
}
