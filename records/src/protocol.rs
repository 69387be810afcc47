//! The record gateway's wire protocol, the one module both ends import: the server
//! (`careledger serve`) and the client ([`crate::client`]). Routes, headers, the JSON of a
//! release request, the signed statements of each kind of request (Sign-In With Solana
//! messages whose resources name the record and grant), and the problem types a refusal is
//! answered with. docs/GATEWAY.md describes the same protocol for people.
use crate::RecordsError;
use careledger::logic::consent::Refusal;
use careledger_identity::siws::SignInMessage;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use std::str::FromStr;

/// `GET`: what the gateway says about itself (custodian, key, domain, limits).
pub const INFO_PATH: &str = "/v1/gateway";
/// `PUT` an upload, `GET|HEAD` a probe (axum's route syntax).
pub const RECORD_PATH: &str = "/v1/records/{record}";
/// `POST`: an author's staged upload, promoted once anchored.
pub const CONFIRM_PATH: &str = "/v1/records/{record}/confirm";
/// `POST`: a grantee's release request.
pub const RELEASE_PATH: &str = "/v1/records/{record}/release";
/// `GET`: a record's custody file (its anchor's CID, SHA-256 and size, and the data key
/// wrapped to the custodian), asked by another replica of the same custodian.
pub const CUSTODY_PATH: &str = "/v1/records/{record}/custody";

/// The query value of a release that answers with the wrapped data key alone
/// (`?content=key`): the grantee fetches the ciphertext by CID from any IPFS gateway.
pub const KEY_ONLY: &str = "key";

/// The JSON answer of a key-only release.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyRelease {
    pub record: String,
    pub grant: String,
    /// Base64 HPKE encapsulation and sealed data key, to the grantee's published key.
    pub wrapped_key: String,
    /// The version of the grantee's key it is wrapped to.
    pub key_version: u32,
    /// What the ciphertext must be: as anchored.
    pub cid: String,
    pub sha256: String,
    pub bytes: u64,
}

/// A route with its record filled in.
pub fn path_of(route: &str, record: &Pubkey) -> String {
    route.replace("{record}", &record.to_string())
}

/// Request headers of an upload.
pub const SIGN_IN_HEADER: &str = "x-careledger-sign-in";
pub const SIGNATURE_HEADER: &str = "x-careledger-signature";
pub const WRAPPED_KEY_HEADER: &str = "x-careledger-wrapped-key";
/// An upload before its anchor declares the record's identity (the ciphertext is bound to
/// it), the CID and SHA-256 it will anchor, and the grant a provider writes under.
pub const PATIENT_HEADER: &str = "x-careledger-patient";
pub const INDEX_HEADER: &str = "x-careledger-index";
pub const CLASS_HEADER: &str = "x-careledger-class";
pub const GRANT_HEADER: &str = "x-careledger-grant";
/// The CID and SHA-256 of a ciphertext: declared by a staged upload, answered by a release
/// and a probe.
pub const CID_HEADER: &str = "x-careledger-cid";
pub const SHA256_HEADER: &str = "x-careledger-sha256";
/// Response header of a release.
pub const KEY_VERSION_HEADER: &str = "x-careledger-key-version";

/// Where the problem types are documented (docs/GATEWAY.md lists every slug): a refusal's
/// `type` is this base and its slug.
pub const PROBLEM_TYPE_BASE: &str = "https://careledger.dev/problems/";

/// The `type` URI of a problem slug.
pub fn problem_type(slug: &str) -> String {
    format!("{PROBLEM_TYPE_BASE}{slug}")
}

/// The slug of a problem `type` (its last path segment).
pub fn problem_slug(problem_type: &str) -> &str {
    problem_type.rsplit('/').next().unwrap_or_default()
}

/// How the sign-in and wrapped-key headers carry bytes: standard base64, padded.
pub fn base64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Lowercase hex: how a SHA-256 travels in [`SHA256_HEADER`] (and how people are shown one).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A SHA-256 from its [`hex`] form (either case); `None` for anything else.
pub fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The body of `POST /v1/records/{record}/release`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    /// The Sign-In With Solana message, as signed.
    pub message: String,
    /// Its ed25519 signature by the grantee's wallet, base58.
    pub signature: String,
}

/// How old an access event may be when its release is asked for, by default: 5 minutes.
pub const DEFAULT_MAX_EVENT_AGE_SECS: i64 = 300;

/// The URI schemes of a release message's resources.
const RECORD_RESOURCE: &str = "careledger:record:";
const GRANT_RESOURCE: &str = "careledger:grant:";

/// Each kind of signed request has its own statement, so that a message signed for one route
/// is never accepted by another (an upload and a probe both name one record).
const RELEASE_STATEMENT: &str = "Release a careledger record to me under my grant.";
const UPLOAD_STATEMENT: &str = "Store the ciphertext of a careledger record I wrote.";
const PROBE_STATEMENT: &str = "Tell me whether this gateway holds a careledger record.";
const CUSTODY_STATEMENT: &str =
    "Hand a careledger record's custody file to me, a replica of the same custodian.";

/// What a grantee asks for: one record, under one grant, against one access transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleaseRequest {
    /// The grantee's wallet: the message's signer.
    pub grantee: Pubkey,
    pub record: Pubkey,
    pub grant: Pubkey,
    /// The transaction that logged the access.
    pub transaction: Signature,
}

/// The Sign-In With Solana message a grantee signs to ask `domain` for a release. The
/// transaction's signature is its Request ID; the record and grant are its resources.
pub fn release_message(
    domain: &str,
    request: &ReleaseRequest,
    nonce: String,
    issued_at: String,
) -> SignInMessage {
    SignInMessage {
        domain: domain.to_string(),
        address: request.grantee,
        statement: Some(RELEASE_STATEMENT.into()),
        uri: None,
        version: "1".into(),
        chain_id: None,
        nonce: Some(nonce),
        issued_at: Some(issued_at),
        expiration_time: None,
        not_before: None,
        request_id: Some(request.transaction.to_string()),
        resources: vec![
            format!("{RECORD_RESOURCE}{}", request.record),
            format!("{GRANT_RESOURCE}{}", request.grant),
        ],
    }
}

/// Reads a release request back out of a verified message (the inverse of
/// [`release_message`]); anything else is refused with what is missing.
pub fn release_request_of(message: &SignInMessage) -> Result<ReleaseRequest, RecordsError> {
    let bad = |what: String| RecordsError::SignIn(format!("not a release request: {what}"));
    if message.statement.as_deref() != Some(RELEASE_STATEMENT) {
        return Err(bad("its statement is not a release's".into()));
    }
    let transaction = message
        .request_id
        .as_deref()
        .ok_or_else(|| bad("no Request ID (the access transaction's signature)".into()))?;
    let transaction = Signature::from_str(transaction).map_err(|_| {
        bad(format!(
            "Request ID {transaction} is not a transaction signature"
        ))
    })?;
    let [record, grant] = message.resources.as_slice() else {
        return Err(bad(format!(
            "{} resources; a release names exactly a record and a grant",
            message.resources.len()
        )));
    };
    let address = |text: &str, prefix: &str, what: &str| {
        text.strip_prefix(prefix)
            .and_then(|a| Pubkey::from_str(a).ok())
            .ok_or_else(|| bad(format!("resource {text} is not {prefix}<{what} address>")))
    };
    Ok(ReleaseRequest {
        grantee: message.address,
        record: address(record, RECORD_RESOURCE, "record")?,
        grant: address(grant, GRANT_RESOURCE, "grant")?,
        transaction,
    })
}

/// The message a record's author signs to store its ciphertext at `domain`: the record is its
/// one resource, and no Request ID.
pub fn upload_message(
    domain: &str,
    author: &Pubkey,
    record: &Pubkey,
    nonce: String,
    issued_at: String,
) -> SignInMessage {
    SignInMessage {
        domain: domain.to_string(),
        address: *author,
        statement: Some(UPLOAD_STATEMENT.into()),
        uri: None,
        version: "1".into(),
        chain_id: None,
        nonce: Some(nonce),
        issued_at: Some(issued_at),
        expiration_time: None,
        not_before: None,
        request_id: None,
        resources: vec![format!("{RECORD_RESOURCE}{record}")],
    }
}

/// The record an upload message names (the inverse of [`upload_message`]).
pub fn upload_record_of(message: &SignInMessage) -> Result<Pubkey, RecordsError> {
    one_record_of(message, UPLOAD_STATEMENT, "an upload")
}

/// The message a replica signs, as the custodian's wallet, to ask another replica of that
/// custodian at `domain` for a record's custody file: the record is its one resource.
pub fn custody_message(
    domain: &str,
    custodian: &Pubkey,
    record: &Pubkey,
    nonce: String,
    issued_at: String,
) -> SignInMessage {
    SignInMessage {
        statement: Some(CUSTODY_STATEMENT.into()),
        ..upload_message(domain, custodian, record, nonce, issued_at)
    }
}

/// The record a custody request names (the inverse of [`custody_message`]).
pub fn custody_record_of(message: &SignInMessage) -> Result<Pubkey, RecordsError> {
    one_record_of(message, CUSTODY_STATEMENT, "a custody request")
}

/// The one record a message of `statement` names, and no Request ID.
fn one_record_of(
    message: &SignInMessage,
    statement: &str,
    what: &str,
) -> Result<Pubkey, RecordsError> {
    let bad = |why: String| RecordsError::SignIn(format!("not {what}: {why}"));
    if message.statement.as_deref() != Some(statement) {
        return Err(bad(format!("its statement is not {what}'s")));
    }
    if message.request_id.is_some() {
        return Err(bad("it has a Request ID (a release request?)".into()));
    }
    match message.resources.as_slice() {
        [one] => one
            .strip_prefix(RECORD_RESOURCE)
            .and_then(|a| Pubkey::from_str(a).ok())
            .ok_or_else(|| bad(format!("resource {one} is not {RECORD_RESOURCE}<address>"))),
        other => Err(bad(format!(
            "{} resources; {what} names exactly its record",
            other.len()
        ))),
    }
}

/// What a probe asks: whether the gateway holds `record`, asked by its patient or author, or
/// by the grantee of `grant` (whose read of the record must be allowed now).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeRequest {
    pub signer: Pubkey,
    pub record: Pubkey,
    pub grant: Option<Pubkey>,
}

/// The message that asks `domain` whether it holds a record, before anything is logged on
/// chain: the record, and the grant the signer would read under, are its resources.
pub fn probe_message(
    domain: &str,
    request: &ProbeRequest,
    nonce: String,
    issued_at: String,
) -> SignInMessage {
    let mut resources = vec![format!("{RECORD_RESOURCE}{}", request.record)];
    if let Some(grant) = request.grant {
        resources.push(format!("{GRANT_RESOURCE}{grant}"));
    }
    SignInMessage {
        domain: domain.to_string(),
        address: request.signer,
        statement: Some(PROBE_STATEMENT.into()),
        uri: None,
        version: "1".into(),
        chain_id: None,
        nonce: Some(nonce),
        issued_at: Some(issued_at),
        expiration_time: None,
        not_before: None,
        request_id: None,
        resources,
    }
}

/// The probe a message asks (the inverse of [`probe_message`]).
pub fn probe_request_of(message: &SignInMessage) -> Result<ProbeRequest, RecordsError> {
    let bad = |what: String| RecordsError::SignIn(format!("not a probe: {what}"));
    if message.statement.as_deref() != Some(PROBE_STATEMENT) || message.request_id.is_some() {
        return Err(bad(
            "its statement is not a probe's, or it has a Request ID".into(),
        ));
    }
    let address = |text: &str, prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|a| Pubkey::from_str(a).ok())
            .ok_or_else(|| bad(format!("resource {text} is not {prefix}<address>")))
    };
    let (record, grant) = match message.resources.as_slice() {
        [record] => (address(record, RECORD_RESOURCE)?, None),
        [record, grant] => (
            address(record, RECORD_RESOURCE)?,
            Some(address(grant, GRANT_RESOURCE)?),
        ),
        other => {
            return Err(bad(format!(
                "{} resources; a probe names its record, and the grant to read under",
                other.len()
            )))
        }
    };
    Ok(ProbeRequest {
        signer: message.address,
        record,
        grant,
    })
}

/// Why a gateway gives nothing out. Each has its HTTP status and a stable slug for the
/// `application/problem+json` type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("transaction {0} is unknown to the ledger, not yet confirmed, or failed")]
    UnknownTransaction(Signature),
    #[error("the access was refused on chain ({0:?}): a refused access releases nothing")]
    AccessRefusedOnChain(Refusal),
    #[error("transaction {0} logged no read of this record under this grant")]
    NoAccessEvent(Signature),
    #[error("the access event is grantee {0}'s, not the signing wallet's")]
    AnotherGrantee(Pubkey),
    #[error("the access was logged at {at}, {age} s ago; a release needs one from the last {max} s: log the access again")]
    StaleEvent { at: i64, age: i64, max: i64 },
    #[error("record {0} does not exist")]
    UnknownRecord(Pubkey),
    #[error("record {0} was entered in error: it is never released")]
    RecordRetracted(Pubkey),
    #[error("record {0} is superseded by an amendment: log access to the current version and ask for that")]
    RecordSuperseded(Pubkey),
    #[error("grant {0} does not exist (it was closed)")]
    UnknownGrant(Pubkey),
    #[error("the read was logged under grant {grant} #{logged}, which was closed and given again (now #{now}): log the access under the grant as it is now")]
    GrantReplaced {
        grant: Pubkey,
        logged: u32,
        now: u32,
    },
    #[error("the grant no longer allows this read: {0:?}")]
    GrantNotLive(Refusal),
    #[error("careledger is paused: no access is allowed")]
    Paused,
    #[error("{0} has published no usable X25519 key to release to: publish one with `careledger keys publish`")]
    NoRecipientKey(Pubkey),
    #[error("the uploader {uploader} is not the record's author {author}")]
    NotTheAuthor { uploader: Pubkey, author: Pubkey },
    #[error("the account at {0} is not what the ledger should hold there: {1}")]
    Corrupt(Pubkey, String),
    #[error("{0} is not a registered patient")]
    UnknownPatient(Pubkey),
    #[error("record {record} is not the patient's next record (that is index {next}): another record was anchored first")]
    NotNextRecord { record: Pubkey, next: u32 },
    #[error("{signer} is neither patient {patient}, nor a provider holding a grant from them that allows this")]
    NoStanding { signer: Pubkey, patient: Pubkey },
}

impl Refused {
    /// The HTTP status a gateway answers with.
    pub fn status(&self) -> u16 {
        match self {
            Refused::UnknownRecord(_) | Refused::UnknownGrant(_) | Refused::UnknownPatient(_) => {
                404
            }
            Refused::NotNextRecord { .. } => 409,
            Refused::RecordRetracted(_) | Refused::RecordSuperseded(_) => 410,
            Refused::Paused => 503,
            Refused::Corrupt(..) => 502,
            Refused::UnknownTransaction(_) | Refused::NoRecipientKey(_) => 422,
            _ => 403,
        }
    }

    /// A stable name for the problem type.
    pub fn slug(&self) -> &'static str {
        match self {
            Refused::UnknownTransaction(_) => "unknown-transaction",
            Refused::AccessRefusedOnChain(_) => "access-refused",
            Refused::NoAccessEvent(_) => "no-access-event",
            Refused::AnotherGrantee(_) => "another-grantee",
            Refused::StaleEvent { .. } => "stale-event",
            Refused::UnknownRecord(_) => "unknown-record",
            Refused::RecordRetracted(_) => "record-retracted",
            Refused::RecordSuperseded(_) => "record-superseded",
            Refused::UnknownGrant(_) => "unknown-grant",
            Refused::GrantReplaced { .. } => "grant-replaced",
            Refused::GrantNotLive(_) => "grant-not-live",
            Refused::Paused => "paused",
            Refused::NoRecipientKey(_) => "no-recipient-key",
            Refused::NotTheAuthor { .. } => "not-the-author",
            Refused::Corrupt(..) => "corrupt-account",
            Refused::UnknownPatient(_) => "unknown-patient",
            Refused::NotNextRecord { .. } => "not-next-record",
            Refused::NoStanding { .. } => "no-standing",
        }
    }
}

/// What an author declares when it stages a record's ciphertext before anchoring it: the
/// record's identity (the ciphertext is bound to it), and the grant it writes under when it
/// is not the patient. Version 1 only: `patient put` makes new records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StagingRequest {
    pub uploader: Pubkey,
    pub patient: Pubkey,
    pub index: u32,
    pub class: u8,
    pub grant: Option<Pubkey>,
}

impl StagingRequest {
    /// The address the record will be anchored at.
    pub fn record(&self) -> Pubkey {
        careledger_sdk::pda::record(&self.patient, self.index).0
    }
}
