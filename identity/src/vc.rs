//! Provider credentials as W3C Verifiable Credentials.
//!
//! The credential authority vouches for a provider off chain with a `ProviderCredential`: a
//! credential of the W3C Verifiable Credentials Data Model 2.0 whose issuer is the authority's
//! did:sol DID and whose subject is the provider's, naming the provider's roles and the
//! period it is valid for. It is secured with a Data Integrity proof of the `eddsa-jcs-2022`
//! cryptosuite (W3C "Data Integrity EdDSA Cryptosuites v1.0"): the authority's wallet key
//! signs, with Ed25519, SHA-256(JCS(proof configuration)) ‖ SHA-256(JCS(credential without its
//! proof)), where JCS is the JSON Canonicalization Scheme of RFC 8785 ([`canonicalize`]).
//!
//! On chain the provider account holds [`credential_ref`], the SHA-256 of the signed
//! credential in JCS form, and `credential_expires_at`, the credential's `validUntil`. A
//! verifier runs two steps: [`verify_proof`] checks the credential on its own (shape, dates,
//! proof by the issuer's did:sol key), then [`check_status`] checks it against the provider
//! account read from chain (verified, not expired, the same credential, the same roles, issued
//! by the authority the verifier trusts).
//!
//! ```
//! use careledger::state::{Provider, ProviderStatus, ROLE_CLINICIAN, ROLE_LAB};
//! use careledger_identity::vc::{check_status, issue, verify_proof, ProviderClaims};
//! use solana_keypair::Keypair;
//! use solana_signer::Signer;
//!
//! let authority = Keypair::new();
//! let provider = Keypair::new().pubkey();
//! let claims = ProviderClaims {
//!     provider,
//!     roles: vec!["clinician".into(), "lab".into()],
//!     valid_from: 1_767_225_600,  // 2026-01-01T00:00:00Z
//!     valid_until: 1_798_761_600, // 2027-01-01T00:00:00Z
//! };
//! let credential = issue(&authority, &claims, 1_767_225_600).unwrap();
//! let verified = verify_proof(&credential).unwrap();
//! assert_eq!(verified.claims, claims);
//!
//! // What the provider account holds once the authority verified it on chain.
//! let account = Provider {
//!     wallet: provider,
//!     roles: ROLE_CLINICIAN | ROLE_LAB,
//!     status: ProviderStatus::Verified,
//!     bump: 255,
//!     credential_ref: verified.credential_ref,
//!     credential_expires_at: claims.valid_until,
//!     verified_by: authority.pubkey(),
//!     verified_at: 1_767_225_600,
//!     registered_at: 1_767_225_000,
//!     suspension_reason: 0,
//!     supply_roles: 0,
//!     reserved: [0; 15],
//! };
//! check_status(&verified, &account, &authority.pubkey(), 1_770_000_000).unwrap();
//! ```
use std::fmt::Write as _;

use chrono::{DateTime, Datelike};
use serde_json::{json, Map, Number, Value};
use sha2::{Digest, Sha256};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;

use crate::did::{self, DidError};
use careledger::state::{Provider, ProviderStatus, ROLE_NAMES as ROLES};

/// The VC Data Model 2.0 context, the first `@context` of a provider credential.
pub const CREDENTIALS_CONTEXT_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// The IRI under which careledger's terms are defined (a URN: nothing is fetched from it).
pub const CARELEDGER_VOCAB: &str = "urn:careledger:vocab:";

/// The IRI of careledger's JSON-LD context, the second `@context` of a provider credential.
/// A URN, not a web address: nothing is fetched from it; a verifier's document loader serves
/// [`careledger_context`] for it, as loaders serve the VC 2.0 context from a local copy. (An
/// embedded context object would need no loader, but Digital Bazaar's eddsa-jcs-2022 compares
/// the proof's and the credential's contexts with `===`, which no parsed object passes.)
pub const CARELEDGER_CONTEXT_V1: &str = "urn:careledger:context:v1";

/// The document [`CARELEDGER_CONTEXT_V1`] names: careledger's terms. The VC 2.0 context defines
/// neither `ProviderCredential` nor `roles`; without these definitions a JSON-LD verifier drops
/// the roles claim (and resolves the type against its base IRI). docs/contexts/careledger-v1.jsonld
/// is this document, checked by a test.
pub fn careledger_context() -> Value {
    json!({
        "@context": {
            "@protected": true,
            PROVIDER_CREDENTIAL: format!("{CARELEDGER_VOCAB}{PROVIDER_CREDENTIAL}"),
            "roles": { "@id": format!("{CARELEDGER_VOCAB}roles"), "@container": "@set" },
        }
    })
}

/// The `@context` of every provider credential: VC 2.0, then careledger's terms.
pub fn credential_context() -> Value {
    json!([CREDENTIALS_CONTEXT_V2, CARELEDGER_CONTEXT_V1])
}
/// The base type of every verifiable credential.
pub const VERIFIABLE_CREDENTIAL: &str = "VerifiableCredential";
/// The type of careledger's provider credentials.
pub const PROVIDER_CREDENTIAL: &str = "ProviderCredential";
/// The proof type of Data Integrity.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The cryptosuite of the proof.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";
/// The proof purpose of a credential's proof.
pub const PROOF_PURPOSE: &str = "assertionMethod";

const CREDENTIAL_MEMBERS: [&str; 7] = [
    "@context",
    "type",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSubject",
    "proof",
];
const SUBJECT_MEMBERS: [&str; 2] = ["id", "roles"];
const PROOF_MEMBERS: [&str; 7] = [
    "type",
    "cryptosuite",
    "created",
    "verificationMethod",
    "proofPurpose",
    "@context",
    "proofValue",
];

/// What a provider credential says about its subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderClaims {
    /// The provider's wallet (the subject is its did:sol DID).
    pub provider: Pubkey,
    /// Role names of [`careledger::state::ROLE_NAMES`] ("clinician", "lab", ...).
    pub roles: Vec<String>,
    /// Unix seconds from which the credential is valid (`validFrom`).
    pub valid_from: i64,
    /// Unix seconds until which it is valid (`validUntil`): the provider account's
    /// `credential_expires_at`.
    pub valid_until: i64,
}

impl ProviderClaims {
    /// The claims matching a provider account: its wallet, the roles of its bitmask and its
    /// `credential_expires_at`, valid from `valid_from`.
    pub fn of_provider(provider: &Provider, valid_from: i64) -> Self {
        Self {
            provider: provider.wallet,
            roles: role_names(provider.roles),
            valid_from,
            valid_until: provider.credential_expires_at,
        }
    }

    /// The role bitmask of the claims; refuses unknown, repeated or no roles.
    pub fn role_mask(&self) -> Result<u8, VcError> {
        let mut mask = 0u8;
        for role in &self.roles {
            let bit = ROLES
                .iter()
                .find(|(name, _)| *name == role.as_str())
                .map(|(_, bit)| *bit)
                .ok_or_else(|| VcError::UnknownRole { role: role.clone() })?;
            if mask & bit != 0 {
                return Err(VcError::DuplicateRole { role: role.clone() });
            }
            mask |= bit;
        }
        if mask == 0 {
            return Err(VcError::NoRoles);
        }
        Ok(mask)
    }
}

/// A credential whose shape and proof [`verify_proof`] checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCredential {
    /// The issuer's wallet (its did:sol DID is the credential's `issuer`).
    pub issuer: Pubkey,
    /// The claims, roles in the order the credential lists them.
    pub claims: ProviderClaims,
    /// [`credential_ref`] of the credential.
    pub credential_ref: [u8; 32],
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VcError {
    #[error("malformed credential: `{path}` {reason}")]
    Malformed { path: String, reason: String },
    #[error("malformed credential: `{path}` is missing")]
    MissingMember { path: String },
    #[error("malformed credential: `{path}` is not a member of a careledger provider credential (allowed: {allowed})")]
    UnexpectedMember { path: String, allowed: String },
    #[error("the credential's @context is {found}, not [\"{CREDENTIALS_CONTEXT_V2}\", careledger's terms]")]
    WrongContext { found: String },
    #[error("the credential's type is {found}, not [\"{VERIFIABLE_CREDENTIAL}\", \"{PROVIDER_CREDENTIAL}\"]")]
    WrongType { found: String },
    #[error("the issuer is not a did:sol DID: {0}")]
    IssuerNotDidSol(DidError),
    #[error("the issuer `{issuer}` is not in the form did:sol:<address> that careledger issues")]
    IssuerNotPlain { issuer: String },
    #[error("the subject is not a did:sol DID: {0}")]
    SubjectNotDidSol(DidError),
    #[error("the subject `{subject}` is not in the form did:sol:<address> that careledger issues")]
    SubjectNotPlain { subject: String },
    #[error("`{field}` is `{value}`: {reason}")]
    BadDate {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("unix time {0} has no XML Schema date-time between the years 1 and 9999")]
    TimeOutOfRange(i64),
    #[error("validFrom ({valid_from}) is after validUntil ({valid_until})")]
    ValidityReversed { valid_from: i64, valid_until: i64 },
    #[error("unknown role `{role}`: use {}", ROLES.map(|(n, _)| n).join(", "))]
    UnknownRole { role: String },
    #[error("the role `{role}` is named twice")]
    DuplicateRole { role: String },
    #[error("a provider credential names at least one role")]
    NoRoles,
    #[error("the credential has no proof")]
    NoProof,
    #[error("the credential has a set of proofs; a provider credential has exactly one proof")]
    ProofSet,
    #[error("the proof type is `{found}`, not `{PROOF_TYPE}`")]
    WrongProofType { found: String },
    #[error("the proof's cryptosuite is `{found}`, not `{CRYPTOSUITE}`")]
    WrongCryptosuite { found: String },
    #[error("the proof purpose is `{found}`, not `{PROOF_PURPOSE}`")]
    WrongProofPurpose { found: String },
    #[error("the proof's verification method is `{found}`, not the issuer's key `{expected}`")]
    WrongVerificationMethod { found: String, expected: String },
    #[error("the credential's @context does not start with the proof's @context")]
    ProofContextMismatch,
    #[error("the proofValue is not a base58btc multibase Ed25519 signature: {reason}")]
    BadProofValue { reason: String },
    #[error("the proof does not verify: the credential was changed after it was signed, or the issuer's key did not sign it")]
    BrokenProof,
    #[error("the signer failed: {0}")]
    Signer(String),
    #[error("the credential was issued by {issuer}, not by the credential authority {expected}")]
    UnknownIssuer { issuer: Pubkey, expected: Pubkey },
    #[error("the provider account is {wallet}'s, but the credential's subject is {subject}")]
    WrongProvider { wallet: Pubkey, subject: Pubkey },
    #[error("the provider is suspended on chain (reason code {reason})")]
    Suspended { reason: u16 },
    #[error("the provider is not verified on chain (its registration is pending)")]
    NotVerified,
    #[error("the provider was last verified on chain by {verified_by}, not by the credential's issuer {issuer}")]
    VerifiedByOther { verified_by: Pubkey, issuer: Pubkey },
    #[error("the credential expired at {expired_at} (now {now})")]
    Expired { expired_at: i64, now: i64 },
    #[error("the credential is not valid before {valid_from} (now {now})")]
    NotYetValid { valid_from: i64, now: i64 },
    #[error("the on-chain credential_expires_at ({on_chain}) is not the credential's validUntil ({valid_until})")]
    ExpiryMismatch { on_chain: i64, valid_until: i64 },
    #[error("the on-chain credential_ref names a different credential (on chain {on_chain}, this credential {credential})")]
    RefMismatch {
        on_chain: String,
        credential: String,
    },
    #[error("the on-chain roles [{on_chain}] are not the credential's roles [{credential}]")]
    RolesMismatch {
        on_chain: String,
        credential: String,
    },
}

/// The names of the roles in a bitmask, in the order of [`ROLES`] (unknown bits are skipped).
pub fn role_names(mask: u8) -> Vec<String> {
    ROLES
        .iter()
        .filter(|(_, bit)| mask & bit != 0)
        .map(|(name, _)| (*name).to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// JCS (RFC 8785)

/// The JSON Canonicalization Scheme (RFC 8785) form of `value`: object members sorted by the
/// UTF-16 code units of their names, no white space, strings escaped as ECMAScript's
/// `JSON.stringify` does, numbers written as ECMAScript writes an IEEE 754 double.
pub fn canonicalize(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (name, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(n: &Number, out: &mut String) {
    // Integers a double holds exactly are written as they are; any other number is the double
    // nearest to it, written as ECMAScript's Number.prototype.toString writes it.
    const EXACT: u64 = 1 << 53;
    if let Some(u) = n.as_u64().filter(|u| *u <= EXACT) {
        let _ = write!(out, "{u}");
    } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= EXACT) {
        let _ = write!(out, "{i}");
    } else {
        match n.as_f64() {
            // 0.0 matches -0.0 too, which ECMAScript also writes as `0`.
            Some(0.0) => out.push('0'),
            Some(f) if f.is_finite() => out.push_str(ryu_js::Buffer::new().format_finite(f)),
            _ => out.push_str(&n.to_string()),
        }
    }
}

/// SHA-256 of the JCS form of the signed credential: what the provider account's
/// `credential_ref` holds.
pub fn credential_ref(credential: &Value) -> [u8; 32] {
    Sha256::digest(canonicalize(credential).as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

// ---------------------------------------------------------------------------------------------
// Dates

/// `unix` as an XML Schema `dateTimeStamp` in UTC with whole seconds, `YYYY-MM-DDTHH:MM:SSZ`.
pub fn xml_datetime(unix: i64) -> Result<String, VcError> {
    let t = DateTime::from_timestamp(unix, 0)
        .filter(|t| (1..=9999).contains(&t.year()))
        .ok_or(VcError::TimeOutOfRange(unix))?;
    Ok(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Parses an XML Schema `dateTimeStamp` (`YYYY-MM-DDTHH:MM:SS[.s+](Z|±HH:MM)`) into unix
/// seconds; with `whole_seconds`, refuses a fraction of a second.
fn parse_datetime(field: &'static str, value: &str, whole_seconds: bool) -> Result<i64, VcError> {
    let bad = |reason: &str| VcError::BadDate {
        field,
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let b = value.as_bytes();
    let shaped = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && !value.ends_with('z');
    if !shaped {
        return Err(bad(
            "not an XML Schema date-time with a time zone, YYYY-MM-DDTHH:MM:SS followed by Z or ±HH:MM",
        ));
    }
    let t = DateTime::parse_from_rfc3339(value).map_err(|e| bad(&e.to_string()))?;
    if whole_seconds && t.timestamp_subsec_nanos() != 0 {
        return Err(bad("careledger credentials carry whole seconds"));
    }
    Ok(t.timestamp())
}

// ---------------------------------------------------------------------------------------------
// Data Integrity, eddsa-jcs-2022

fn wrong_shape(path: &str, reason: &str) -> VcError {
    VcError::Malformed {
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

/// The hash data of the cryptosuite: SHA-256(JCS(proof configuration)) ‖ SHA-256(JCS(document)).
fn hash_data(proof_config: &Map<String, Value>, document: &Map<String, Value>) -> [u8; 64] {
    let config = canonicalize(&Value::Object(proof_config.clone()));
    let transformed = canonicalize(&Value::Object(document.clone()));
    let mut data = [0u8; 64];
    data[..32].copy_from_slice(&Sha256::digest(config.as_bytes()));
    data[32..].copy_from_slice(&Sha256::digest(transformed.as_bytes()));
    data
}

/// The checks of the cryptosuite's transformation and proof configuration algorithms.
fn check_proof_config(config: &Map<String, Value>) -> Result<(), VcError> {
    let text = |name: &str| match config.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "(none)".to_string(),
    };
    if config.get("type") != Some(&json!(PROOF_TYPE)) {
        return Err(VcError::WrongProofType {
            found: text("type"),
        });
    }
    if config.get("cryptosuite") != Some(&json!(CRYPTOSUITE)) {
        return Err(VcError::WrongCryptosuite {
            found: text("cryptosuite"),
        });
    }
    match config.get("created") {
        None => {}
        Some(Value::String(created)) => {
            parse_datetime("proof.created", created, false)?;
        }
        Some(_) => return Err(wrong_shape("proof.created", "must be a string")),
    }
    Ok(())
}

/// "Create Proof (eddsa-jcs-2022)": the proof of `document` (no `proof` member) under the proof
/// `options` (type, cryptosuite, created, verificationMethod, proofPurpose), signed by `signer`.
fn create_proof(
    document: &Map<String, Value>,
    options: &Map<String, Value>,
    signer: &dyn Signer,
) -> Result<Map<String, Value>, VcError> {
    let mut proof = options.clone();
    if let Some(context) = document.get("@context") {
        proof.insert("@context".into(), context.clone());
    }
    check_proof_config(&proof)?;
    let data = hash_data(&proof, document);
    let signature = signer
        .try_sign_message(&data)
        .map_err(|e| VcError::Signer(e.to_string()))?;
    proof.insert(
        "proofValue".into(),
        json!(format!(
            "z{}",
            bs58::encode(signature.as_ref()).into_string()
        )),
    );
    Ok(proof)
}

fn context_list(context: &Value) -> Vec<&Value> {
    match context {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// "Verify Proof (eddsa-jcs-2022)" of a secured document with one proof, against the Ed25519
/// key the proof's verification method resolved to.
fn verify_data_integrity(secured: &Map<String, Value>, key: &Pubkey) -> Result<(), VcError> {
    let mut unsecured = secured.clone();
    let proof = match unsecured.remove("proof") {
        None => return Err(VcError::NoProof),
        Some(Value::Object(proof)) => proof,
        Some(Value::Array(_)) => return Err(VcError::ProofSet),
        Some(_) => return Err(wrong_shape("proof", "must be an object")),
    };
    let mut options = proof;
    let proof_value = match options.remove("proofValue") {
        Some(Value::String(v)) => v,
        Some(_) => return Err(wrong_shape("proof.proofValue", "must be a string")),
        None => {
            return Err(VcError::MissingMember {
                path: "proof.proofValue".into(),
            })
        }
    };
    let signature = decode_proof_value(&proof_value)?;
    if let Some(proof_context) = options.get("@context") {
        let wanted = context_list(proof_context);
        let has = unsecured
            .get("@context")
            .map(context_list)
            .unwrap_or_default();
        if has.len() < wanted.len() || has.iter().zip(&wanted).any(|(a, b)| a != b) {
            return Err(VcError::ProofContextMismatch);
        }
        unsecured.insert("@context".into(), proof_context.clone());
    }
    check_proof_config(&options)?;
    let data = hash_data(&options, &unsecured);
    if signature.verify(key.as_ref(), &data) {
        Ok(())
    } else {
        Err(VcError::BrokenProof)
    }
}

fn decode_proof_value(value: &str) -> Result<Signature, VcError> {
    let bad = |reason: String| VcError::BadProofValue { reason };
    let encoded = value
        .strip_prefix('z')
        .ok_or_else(|| bad("it does not start with `z` (base58btc)".into()))?;
    // 64 bytes take at most 88 base58 characters.
    if encoded.len() > 88 {
        return Err(bad(format!("{} characters is too long", encoded.len())));
    }
    let bytes = bs58::decode(encoded)
        .into_vec()
        .map_err(|e| bad(format!("not base58: {e}")))?;
    let bytes: [u8; 64] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| bad(format!("{} bytes, not 64", b.len())))?;
    Ok(Signature::from(bytes))
}

// ---------------------------------------------------------------------------------------------
// Provider credentials

/// Issues the provider credential of `claims`, signed by the credential authority's wallet at
/// unix time `created`. Roles are written in the order of [`ROLES`]; unknown, repeated or no
/// roles, `valid_from` after `valid_until` and times without an XML Schema date-time (outside
/// the years 1 to 9999) are refused.
pub fn issue(
    authority: &dyn Signer,
    claims: &ProviderClaims,
    created: i64,
) -> Result<Value, VcError> {
    let mask = claims.role_mask()?;
    if claims.valid_from > claims.valid_until {
        return Err(VcError::ValidityReversed {
            valid_from: claims.valid_from,
            valid_until: claims.valid_until,
        });
    }
    let issuer = authority
        .try_pubkey()
        .map_err(|e| VcError::Signer(e.to_string()))?;
    let Value::Object(mut credential) = json!({
        "@context": credential_context(),
        "type": [VERIFIABLE_CREDENTIAL, PROVIDER_CREDENTIAL],
        "issuer": did::did_of(&issuer),
        "validFrom": xml_datetime(claims.valid_from)?,
        "validUntil": xml_datetime(claims.valid_until)?,
        "credentialSubject": {
            "id": did::did_of(&claims.provider),
            "roles": role_names(mask),
        },
    }) else {
        unreachable!("json! of an object literal is an object")
    };
    let Value::Object(options) = json!({
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": xml_datetime(created)?,
        "verificationMethod": did::default_method(&issuer),
        "proofPurpose": PROOF_PURPOSE,
    }) else {
        unreachable!("json! of an object literal is an object")
    };
    let proof = create_proof(&credential, &options, authority)?;
    credential.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(credential))
}

fn only_members(map: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), VcError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(member) => Err(VcError::UnexpectedMember {
            path: if path.is_empty() {
                member.clone()
            } else {
                format!("{path}.{member}")
            },
            allowed: allowed.join(", "),
        }),
        None => Ok(()),
    }
}

fn member<'a>(map: &'a Map<String, Value>, path: &str) -> Result<&'a Value, VcError> {
    let name = path.rsplit('.').next().unwrap_or(path);
    map.get(name).ok_or_else(|| VcError::MissingMember {
        path: path.to_string(),
    })
}

fn string_member<'a>(map: &'a Map<String, Value>, path: &str) -> Result<&'a str, VcError> {
    member(map, path)?
        .as_str()
        .ok_or_else(|| wrong_shape(path, "must be a string"))
}

fn plain_did(
    value: &str,
    not_did_sol: fn(DidError) -> VcError,
    not_plain: fn(String) -> VcError,
) -> Result<Pubkey, VcError> {
    let address = did::parse_did(value).map_err(not_did_sol)?;
    if did::did_of(&address) != value {
        return Err(not_plain(value.to_string()));
    }
    Ok(address)
}

/// Checks a provider credential on its own: its shape (contexts, types, a did:sol issuer and
/// subject, known roles, XML Schema dates with validFrom not after validUntil, nothing else),
/// then its `eddsa-jcs-2022` proof by the issuer's `#default` key, which is the issuer's
/// address (did:sol generative form). The on-chain checks are [`check_status`].
pub fn verify_proof(credential: &Value) -> Result<VerifiedCredential, VcError> {
    let doc = credential
        .as_object()
        .ok_or_else(|| wrong_shape("(credential)", "must be a JSON object"))?;
    only_members(doc, "", &CREDENTIAL_MEMBERS)?;

    let context = member(doc, "@context")?;
    if *context != credential_context() {
        return Err(VcError::WrongContext {
            found: context.to_string(),
        });
    }
    let types = member(doc, "type")?;
    let type_ok = types.as_array().is_some_and(|t| {
        t.len() == 2
            && t.contains(&json!(VERIFIABLE_CREDENTIAL))
            && t.contains(&json!(PROVIDER_CREDENTIAL))
    });
    if !type_ok {
        return Err(VcError::WrongType {
            found: types.to_string(),
        });
    }

    let issuer = plain_did(
        string_member(doc, "issuer")?,
        VcError::IssuerNotDidSol,
        |issuer| VcError::IssuerNotPlain { issuer },
    )?;
    let valid_from = parse_datetime("validFrom", string_member(doc, "validFrom")?, true)?;
    let valid_until = parse_datetime("validUntil", string_member(doc, "validUntil")?, true)?;
    if valid_from > valid_until {
        return Err(VcError::ValidityReversed {
            valid_from,
            valid_until,
        });
    }

    let subject = member(doc, "credentialSubject")?
        .as_object()
        .ok_or_else(|| wrong_shape("credentialSubject", "must be an object (one subject)"))?;
    only_members(subject, "credentialSubject", &SUBJECT_MEMBERS)?;
    let provider = plain_did(
        string_member(subject, "credentialSubject.id")?,
        VcError::SubjectNotDidSol,
        |subject| VcError::SubjectNotPlain { subject },
    )?;
    let roles = member(subject, "credentialSubject.roles")?
        .as_array()
        .and_then(|roles| {
            roles
                .iter()
                .map(|r| r.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>()
        })
        .ok_or_else(|| wrong_shape("credentialSubject.roles", "must be an array of strings"))?;
    let claims = ProviderClaims {
        provider,
        roles,
        valid_from,
        valid_until,
    };
    claims.role_mask()?;

    let proof = match member(doc, "proof") {
        Err(_) => return Err(VcError::NoProof),
        Ok(Value::Object(proof)) => proof,
        Ok(Value::Array(_)) => return Err(VcError::ProofSet),
        Ok(_) => return Err(wrong_shape("proof", "must be an object")),
    };
    only_members(proof, "proof", &PROOF_MEMBERS)?;
    check_proof_config(proof)?;
    let purpose = string_member(proof, "proof.proofPurpose")?;
    if purpose != PROOF_PURPOSE {
        return Err(VcError::WrongProofPurpose {
            found: purpose.to_string(),
        });
    }
    let method = string_member(proof, "proof.verificationMethod")?;
    let expected = did::default_method(&issuer);
    if method != expected {
        return Err(VcError::WrongVerificationMethod {
            found: method.to_string(),
            expected,
        });
    }
    verify_data_integrity(doc, &issuer)?;

    Ok(VerifiedCredential {
        issuer,
        claims,
        credential_ref: credential_ref(credential),
    })
}

/// Checks a verified credential against the provider account read from chain at unix time
/// `now`: the account is the subject's, verified (not pending, not suspended) by the
/// credential's issuer, which is `expected_authority`; the account's `credential_ref` is this
/// credential's; the credential is valid at `now` and its validUntil is the account's
/// `credential_expires_at`; and the roles are the account's. The checks run in that order, so
/// a credential the authority has since replaced is reported as another credential, not by
/// whichever of its dates or roles the new one changed.
pub fn check_status(
    verified: &VerifiedCredential,
    provider: &Provider,
    expected_authority: &Pubkey,
    now: i64,
) -> Result<(), VcError> {
    let claims = &verified.claims;
    if verified.issuer != *expected_authority {
        return Err(VcError::UnknownIssuer {
            issuer: verified.issuer,
            expected: *expected_authority,
        });
    }
    if provider.wallet != claims.provider {
        return Err(VcError::WrongProvider {
            wallet: provider.wallet,
            subject: claims.provider,
        });
    }
    match provider.status {
        ProviderStatus::Verified => {}
        ProviderStatus::Suspended => {
            return Err(VcError::Suspended {
                reason: provider.suspension_reason,
            })
        }
        ProviderStatus::Pending => return Err(VcError::NotVerified),
    }
    if provider.verified_by != verified.issuer {
        return Err(VcError::VerifiedByOther {
            verified_by: provider.verified_by,
            issuer: verified.issuer,
        });
    }
    if provider.credential_ref != verified.credential_ref {
        return Err(VcError::RefMismatch {
            on_chain: hex(&provider.credential_ref),
            credential: hex(&verified.credential_ref),
        });
    }
    if provider.credential_expires_at <= now {
        return Err(VcError::Expired {
            expired_at: provider.credential_expires_at,
            now,
        });
    }
    if provider.credential_expires_at != claims.valid_until {
        return Err(VcError::ExpiryMismatch {
            on_chain: provider.credential_expires_at,
            valid_until: claims.valid_until,
        });
    }
    if claims.valid_from > now {
        return Err(VcError::NotYetValid {
            valid_from: claims.valid_from,
            now,
        });
    }
    if provider.roles != claims.role_mask()? {
        return Err(VcError::RolesMismatch {
            on_chain: role_names(provider.roles).join(", "),
            credential: claims.roles.join(", "),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use careledger::state::{ROLE_CLINICIAN, ROLE_HOSPITAL, ROLE_LAB};
    use solana_keypair::Keypair;

    type Edit = Box<dyn Fn(&mut Value)>;

    const JAN_2026: i64 = 1_767_225_600;
    const JAN_2027: i64 = 1_798_761_600;

    fn authority() -> Keypair {
        Keypair::new_from_array([7; 32])
    }

    fn claims() -> ProviderClaims {
        ProviderClaims {
            provider: Keypair::new_from_array([8; 32]).pubkey(),
            roles: vec!["clinician".into(), "lab".into()],
            valid_from: JAN_2026,
            valid_until: JAN_2027,
        }
    }

    fn account(verified: &VerifiedCredential) -> Provider {
        Provider {
            wallet: verified.claims.provider,
            roles: ROLE_CLINICIAN | ROLE_LAB,
            status: ProviderStatus::Verified,
            bump: 254,
            credential_ref: verified.credential_ref,
            credential_expires_at: verified.claims.valid_until,
            verified_by: verified.issuer,
            verified_at: JAN_2026,
            registered_at: JAN_2026 - 600,
            suspension_reason: 0,
            supply_roles: 0,
            reserved: [0; 15],
        }
    }

    fn credential() -> Value {
        issue(&authority(), &claims(), JAN_2026).unwrap()
    }

    #[test]
    fn jcs_follows_rfc_8785() {
        let v: Value = serde_json::from_str(
            r#"{"b":[1,2.5,-0.0,1e21,1e-7,0.000001,9007199254740993,-12],"a":"é\u0001\n\"\\/","€":1,"\ud83d\ude00":2,"\ufb33":3,"c":{"z":null,"y":true,"x":false}}"#,
        )
        .unwrap();
        assert_eq!(
            canonicalize(&v),
            "{\"a\":\"é\\u0001\\n\\\"\\\\/\",\"b\":[1,2.5,0,1e+21,1e-7,0.000001,9007199254740992,-12],\
             \"c\":{\"x\":false,\"y\":true,\"z\":null},\"€\":1,\"\u{1f600}\":2,\"\u{fb33}\":3}"
        );
        // RFC 8785 section 3.2.3's sorting example: names sort by their UTF-16 code units, so
        // the emoji (the surrogate pair d83d de00) sorts before U+FB33.
        let sorting: Value = serde_json::from_str(
            r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#,
        )
        .unwrap();
        assert_eq!(
            canonicalize(&sorting),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
             \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
             \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        );
    }

    #[test]
    fn issue_then_verify_round_trips() {
        let credential = credential();
        let authority = authority().pubkey();
        let issuer = did::did_of(&authority);
        let provider = did::did_of(&claims().provider);
        assert_eq!(credential["@context"], credential_context());
        assert_eq!(credential["@context"][1], CARELEDGER_CONTEXT_V1);
        // the published copy of the context is the SDK's
        let published: Value =
            serde_json::from_str(include_str!("../../docs/contexts/careledger-v1.jsonld"))
                .expect("docs/contexts/careledger-v1.jsonld is JSON");
        assert_eq!(published, careledger_context());
        assert_eq!(
            credential["type"],
            json!(["VerifiableCredential", "ProviderCredential"])
        );
        assert_eq!(credential["issuer"], json!(issuer));
        assert_eq!(credential["validFrom"], "2026-01-01T00:00:00Z");
        assert_eq!(credential["validUntil"], "2027-01-01T00:00:00Z");
        assert_eq!(
            credential["credentialSubject"],
            json!({"id": provider, "roles": ["clinician", "lab"]})
        );
        let proof = &credential["proof"];
        assert_eq!(proof["type"], "DataIntegrityProof");
        assert_eq!(proof["cryptosuite"], "eddsa-jcs-2022");
        assert_eq!(proof["created"], "2026-01-01T00:00:00Z");
        assert_eq!(
            proof["verificationMethod"],
            json!(format!("{issuer}#default"))
        );
        assert_eq!(proof["proofPurpose"], "assertionMethod");
        assert_eq!(proof["@context"], credential_context());
        assert!(proof["proofValue"].as_str().unwrap().starts_with('z'));

        let verified = verify_proof(&credential).unwrap();
        assert_eq!(verified.issuer, authority);
        assert_eq!(verified.claims, claims());
        assert_eq!(verified.credential_ref, credential_ref(&credential));
        // The ref is of the signed credential: the proof counts.
        let mut unsigned = credential.clone();
        unsigned.as_object_mut().unwrap().remove("proof");
        assert_ne!(credential_ref(&unsigned), verified.credential_ref);
        // Through text and back (members in another order) the credential and ref stay.
        let text = serde_json::to_string_pretty(&credential).unwrap();
        let reread: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(verify_proof(&reread).unwrap(), verified);
        // Ed25519 is deterministic: the same inputs give the same credential.
        assert_eq!(credential, self::credential());
        check_status(&verified, &account(&verified), &authority, JAN_2026 + 1).unwrap();
    }

    #[test]
    fn roles_are_written_in_table_order_and_checked() {
        let mut c = claims();
        c.roles = vec!["hospital".into(), "clinician".into()];
        let credential = issue(&authority(), &c, JAN_2026).unwrap();
        assert_eq!(
            credential["credentialSubject"]["roles"],
            json!(["clinician", "hospital"])
        );
        assert_eq!(
            verify_proof(&credential)
                .unwrap()
                .claims
                .role_mask()
                .unwrap(),
            ROLE_CLINICIAN | ROLE_HOSPITAL
        );
        for (roles, want) in [
            (
                vec!["nurse"],
                "unknown role `nurse`: use clinician, lab, hospital",
            ),
            (vec!["lab", "lab"], "the role `lab` is named twice"),
            (vec![], "names at least one role"),
        ] {
            c.roles = roles.into_iter().map(String::from).collect();
            let e = issue(&authority(), &c, JAN_2026).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        let mut c = claims();
        c.valid_from = JAN_2027 + 1;
        assert!(matches!(
            issue(&authority(), &c, JAN_2026),
            Err(VcError::ValidityReversed { .. })
        ));
        let mut c = claims();
        c.valid_until = 253_402_300_800; // year 10000
        assert_eq!(
            issue(&authority(), &c, JAN_2026),
            Err(VcError::TimeOutOfRange(253_402_300_800))
        );
        assert_eq!(
            xml_datetime(253_402_300_799).unwrap(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(xml_datetime(0).unwrap(), "1970-01-01T00:00:00Z");
        let p = account(&verify_proof(&self::credential()).unwrap());
        assert_eq!(ProviderClaims::of_provider(&p, JAN_2026), claims());
        assert_eq!(role_names(0xff), ROLES.map(|(n, _)| n.to_string()).to_vec());
    }

    fn edited(edit: impl FnOnce(&mut Value)) -> Value {
        let mut c = credential();
        edit(&mut c);
        c
    }

    #[test]
    fn any_altered_field_breaks_the_proof() {
        let other = did::did_of(&Pubkey::new_unique());
        let edits: Vec<(&str, Edit)> = vec![
            (
                "roles",
                Box::new(|c| {
                    c["credentialSubject"]["roles"] = json!(["clinician", "lab", "emergency"])
                }),
            ),
            (
                "one role fewer",
                Box::new(|c| c["credentialSubject"]["roles"] = json!(["clinician"])),
            ),
            (
                "role order",
                Box::new(|c| c["credentialSubject"]["roles"] = json!(["lab", "clinician"])),
            ),
            (
                "validUntil",
                Box::new(|c| c["validUntil"] = json!("2030-01-01T00:00:00Z")),
            ),
            (
                "validFrom",
                Box::new(|c| c["validFrom"] = json!("2025-01-01T00:00:00Z")),
            ),
            (
                "subject",
                Box::new(move |c| c["credentialSubject"]["id"] = json!(other)),
            ),
            (
                "created",
                Box::new(|c| c["proof"]["created"] = json!("2026-01-02T00:00:00Z")),
            ),
            (
                "type order",
                Box::new(|c| c["type"] = json!(["ProviderCredential", "VerifiableCredential"])),
            ),
            (
                "proof context removed",
                Box::new(|c| {
                    c["proof"].as_object_mut().unwrap().remove("@context");
                }),
            ),
        ];
        for (what, edit) in edits {
            let c = edited(|c| edit(c));
            assert_eq!(verify_proof(&c), Err(VcError::BrokenProof), "{what}");
        }
        // A signature flipped in one bit.
        let c = edited(|c| {
            let value = c["proof"]["proofValue"].as_str().unwrap();
            let mut sig = bs58::decode(&value[1..]).into_vec().unwrap();
            sig[10] ^= 1;
            c["proof"]["proofValue"] = json!(format!("z{}", bs58::encode(sig).into_string()));
        });
        assert_eq!(verify_proof(&c), Err(VcError::BrokenProof));
    }

    #[test]
    fn a_proof_by_another_key_is_refused() {
        let mallory = Keypair::new_from_array([9; 32]);
        let forged = issue(&mallory, &claims(), JAN_2026).unwrap();
        // On its own it is a valid credential by mallory...
        assert_eq!(verify_proof(&forged).unwrap().issuer, mallory.pubkey());
        // ...which the status check refuses, since mallory is not the authority.
        let verified = verify_proof(&forged).unwrap();
        let e = check_status(
            &verified,
            &account(&verified),
            &authority().pubkey(),
            JAN_2026,
        )
        .unwrap_err();
        assert!(matches!(e, VcError::UnknownIssuer { .. }), "{e}");
        assert!(
            e.to_string().contains("not by the credential authority"),
            "{e}"
        );
        // Mallory's proof on a credential naming the authority as issuer does not verify.
        let mut claimed = forged.clone();
        let authority = authority().pubkey();
        claimed["issuer"] = json!(did::did_of(&authority));
        claimed["proof"]["verificationMethod"] = json!(did::default_method(&authority));
        assert_eq!(verify_proof(&claimed), Err(VcError::BrokenProof));
        // Nor does the authority's proof moved onto mallory's credential.
        let mut moved = forged;
        moved["proof"]["proofValue"] = credential()["proof"]["proofValue"].clone();
        assert_eq!(verify_proof(&moved), Err(VcError::BrokenProof));
    }

    #[test]
    fn malformed_credentials_are_refused_with_the_reason() {
        let cases: Vec<(&str, Edit)> = vec![
            ("must be a JSON object", Box::new(|c| *c = json!([1]))),
            (
                "`@context` is missing",
                Box::new(|c| {
                    c.as_object_mut().unwrap().remove("@context");
                }),
            ),
            (
                "@context is [\"https://www.w3.org/2018/credentials/v1\"]",
                Box::new(|c| c["@context"] = json!(["https://www.w3.org/2018/credentials/v1"])),
            ),
            (
                "@context is \"https://www.w3.org/ns/credentials/v2\"",
                Box::new(|c| c["@context"] = json!(CREDENTIALS_CONTEXT_V2)),
            ),
            (
                // without careledger's terms a JSON-LD verifier would drop the roles claim
                "@context is [\"https://www.w3.org/ns/credentials/v2\"], not",
                Box::new(|c| c["@context"] = json!([CREDENTIALS_CONTEXT_V2])),
            ),
            (
                "type is [\"VerifiableCredential\"]",
                Box::new(|c| c["type"] = json!(["VerifiableCredential"])),
            ),
            (
                "`id` is not a member",
                Box::new(|c| c["id"] = json!("urn:uuid:1")),
            ),
            (
                "`credentialStatus` is not a member",
                Box::new(|c| c["credentialStatus"] = json!({})),
            ),
            (
                "`credentialSubject.name` is not a member",
                Box::new(|c| c["credentialSubject"]["name"] = json!("x")),
            ),
            (
                "`proof.nonce` is not a member",
                Box::new(|c| c["proof"]["nonce"] = json!("x")),
            ),
            (
                "the issuer is not a did:sol DID: `did:key:z6Mk` is a did:key DID",
                Box::new(|c| c["issuer"] = json!("did:key:z6Mk")),
            ),
            (
                "`issuer` must be a string",
                Box::new(|c| c["issuer"] = json!({"id": "did:sol:x"})),
            ),
            (
                "is not in the form did:sol:<address>",
                Box::new(|c| {
                    let issuer = c["issuer"]
                        .as_str()
                        .unwrap()
                        .replace("did:sol:", "did:sol:devnet:");
                    c["issuer"] = json!(issuer);
                }),
            ),
            (
                "the subject is not a did:sol DID",
                Box::new(|c| c["credentialSubject"]["id"] = json!("https://example.org/p")),
            ),
            (
                "`credentialSubject` must be an object",
                Box::new(|c| c["credentialSubject"] = json!([{}])),
            ),
            (
                "`credentialSubject.roles` must be an array of strings",
                Box::new(|c| c["credentialSubject"]["roles"] = json!("clinician")),
            ),
            (
                "unknown role `nurse`",
                Box::new(|c| c["credentialSubject"]["roles"] = json!(["nurse"])),
            ),
            (
                "the role `lab` is named twice",
                Box::new(|c| c["credentialSubject"]["roles"] = json!(["lab", "lab"])),
            ),
            (
                "names at least one role",
                Box::new(|c| c["credentialSubject"]["roles"] = json!([])),
            ),
            (
                "`validUntil` is `2027-01-01`: not an XML Schema date-time",
                Box::new(|c| c["validUntil"] = json!("2027-01-01")),
            ),
            (
                "`validUntil` is `2027-01-01T00:00:00`",
                Box::new(|c| c["validUntil"] = json!("2027-01-01T00:00:00")),
            ),
            (
                "`validFrom` is `2026-01-01 00:00:00Z`",
                Box::new(|c| c["validFrom"] = json!("2026-01-01 00:00:00Z")),
            ),
            (
                "`validFrom` is `2026-02-30T00:00:00Z`",
                Box::new(|c| c["validFrom"] = json!("2026-02-30T00:00:00Z")),
            ),
            (
                "careledger credentials carry whole seconds",
                Box::new(|c| c["validUntil"] = json!("2027-01-01T00:00:00.5Z")),
            ),
            (
                "`proof.created` is `yesterday`",
                Box::new(|c| c["proof"]["created"] = json!("yesterday")),
            ),
            (
                "is after validUntil",
                Box::new(|c| c["validFrom"] = json!("2028-01-01T00:00:00Z")),
            ),
            (
                "the credential has no proof",
                Box::new(|c| {
                    c.as_object_mut().unwrap().remove("proof");
                }),
            ),
            (
                "a set of proofs",
                Box::new(|c| c["proof"] = json!([c["proof"].clone()])),
            ),
            (
                "the proof type is `Ed25519Signature2020`",
                Box::new(|c| c["proof"]["type"] = json!("Ed25519Signature2020")),
            ),
            (
                "the proof's cryptosuite is `eddsa-rdfc-2022`, not `eddsa-jcs-2022`",
                Box::new(|c| c["proof"]["cryptosuite"] = json!("eddsa-rdfc-2022")),
            ),
            (
                "the proof's cryptosuite is `(none)`",
                Box::new(|c| {
                    c["proof"].as_object_mut().unwrap().remove("cryptosuite");
                }),
            ),
            (
                "the proof purpose is `authentication`",
                Box::new(|c| c["proof"]["proofPurpose"] = json!("authentication")),
            ),
            (
                "verification method is `did:sol:x#key-1`, not the issuer's key",
                Box::new(|c| c["proof"]["verificationMethod"] = json!("did:sol:x#key-1")),
            ),
            (
                "does not start with the proof's @context",
                Box::new(|c| {
                    c["proof"]["@context"] =
                        json!(["https://www.w3.org/ns/credentials/examples/v2"])
                }),
            ),
            (
                "`proof.proofValue` is missing",
                Box::new(|c| {
                    c["proof"].as_object_mut().unwrap().remove("proofValue");
                }),
            ),
            (
                "does not start with `z`",
                Box::new(|c| c["proof"]["proofValue"] = json!("uAAAA")),
            ),
            (
                "not base58",
                Box::new(|c| c["proof"]["proofValue"] = json!("z0OIl")),
            ),
            (
                "3 bytes, not 64",
                Box::new(|c| {
                    c["proof"]["proofValue"] =
                        json!(format!("z{}", bs58::encode([1, 2, 3]).into_string()))
                }),
            ),
        ];
        for (want, edit) in cases {
            let c = edited(|c| edit(c));
            let e = verify_proof(&c).unwrap_err().to_string();
            assert!(e.contains(want), "want `{want}`, got: {e}");
        }
    }

    #[test]
    fn status_checks_name_what_is_wrong() {
        let verified = verify_proof(&credential()).unwrap();
        let authority = authority().pubkey();
        let ok = account(&verified);
        check_status(&verified, &ok, &authority, JAN_2027 - 1).unwrap();
        let check = |edit: &dyn Fn(&mut Provider), now: i64| {
            let mut p = ok.clone();
            edit(&mut p);
            check_status(&verified, &p, &authority, now).unwrap_err()
        };
        let e = check(
            &|p| {
                p.status = ProviderStatus::Suspended;
                p.suspension_reason = 3;
            },
            JAN_2026,
        );
        assert_eq!(e, VcError::Suspended { reason: 3 });
        assert!(
            e.to_string().contains("suspended on chain (reason code 3)"),
            "{e}"
        );
        let e = check(&|p| p.status = ProviderStatus::Pending, JAN_2026);
        assert_eq!(e, VcError::NotVerified);
        let e = check(&|_| {}, JAN_2027);
        assert_eq!(
            e,
            VcError::Expired {
                expired_at: JAN_2027,
                now: JAN_2027
            }
        );
        assert!(e.to_string().contains("expired"), "{e}");
        let e = check(&|_| {}, JAN_2026 - 1);
        assert!(matches!(e, VcError::NotYetValid { .. }), "{e}");
        let e = check(&|p| p.credential_expires_at = JAN_2027 + 86_400, JAN_2026);
        assert!(matches!(e, VcError::ExpiryMismatch { .. }), "{e}");
        let e = check(&|p| p.credential_ref = [1; 32], JAN_2026);
        assert!(
            e.to_string().contains(
                "the on-chain credential_ref names a different credential (on chain 0101"
            ),
            "{e}"
        );
        let e = check(&|p| p.roles = ROLE_CLINICIAN, JAN_2026);
        assert_eq!(
            e.to_string(),
            "the on-chain roles [clinician] are not the credential's roles [clinician, lab]"
        );
        let e = check(&|p| p.wallet = Pubkey::new_unique(), JAN_2026);
        assert!(matches!(e, VcError::WrongProvider { .. }), "{e}");
        let e = check(&|p| p.verified_by = Pubkey::new_unique(), JAN_2026);
        assert!(matches!(e, VcError::VerifiedByOther { .. }), "{e}");
        let stranger = Pubkey::new_unique();
        let e = check_status(&verified, &ok, &stranger, JAN_2026).unwrap_err();
        assert_eq!(
            e,
            VcError::UnknownIssuer {
                issuer: authority,
                expected: stranger
            }
        );
        // A credential re-issued with other dates is another credential: its ref differs
        // from the one on chain.
        let mut c = claims();
        c.valid_from += 1;
        let reissued = verify_proof(&issue(&self::authority(), &c, JAN_2026).unwrap()).unwrap();
        assert!(matches!(
            check_status(&reissued, &ok, &authority, JAN_2026 + 10),
            Err(VcError::RefMismatch { .. })
        ));
        // Once the authority has issued another credential (here with a later expiry and other
        // roles), the old one is named as another credential, not by what the new one changed.
        let e = check(
            &|p| {
                p.credential_ref = [1; 32];
                p.credential_expires_at = JAN_2027 + 86_400;
                p.roles = ROLE_CLINICIAN;
            },
            JAN_2026,
        );
        assert!(matches!(e, VcError::RefMismatch { .. }), "{e}");
    }

    // The W3C "Data Integrity EdDSA Cryptosuites v1.0" test vectors for eddsa-jcs-2022
    // (section "Representation: eddsa-jcs-2022"): the key pair, the unsigned credential, the
    // proof options, and what each step gives.
    const W3C_SECRET: &str = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq";
    const W3C_PUBLIC: &str = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";

    fn w3c_unsigned() -> Value {
        json!({
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://www.w3.org/ns/credentials/examples/v2"
            ],
            "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
            "type": ["VerifiableCredential", "AlumniCredential"],
            "name": "Alumni Credential",
            "description": "A minimum viable example of an Alumni Credential.",
            "issuer": "https://vc.example/issuers/5678",
            "validFrom": "2023-01-01T00:00:00Z",
            "credentialSubject": {
                "id": "did:example:abcdefgh",
                "alumniOf": "The School of Examples"
            }
        })
    }

    fn w3c_options() -> Map<String, Value> {
        let vm = format!("did:key:{W3C_PUBLIC}#{W3C_PUBLIC}");
        json!({
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": vm,
            "proofPurpose": "assertionMethod"
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn w3c_keypair() -> Keypair {
        let secret = bs58::decode(&W3C_SECRET[1..]).into_vec().unwrap();
        // Multicodec ed25519-priv (0x1300) as a varint, then the 32-byte seed.
        assert_eq!(secret[..2], [0x80, 0x26]);
        Keypair::new_from_array(secret[2..].try_into().unwrap())
    }

    #[test]
    fn w3c_eddsa_jcs_2022_test_vector() {
        let keypair = w3c_keypair();
        assert_eq!(
            did::ed25519_multikey(&keypair.pubkey().to_bytes()),
            W3C_PUBLIC
        );
        let unsigned = w3c_unsigned();
        let document = unsigned.as_object().unwrap();
        assert_eq!(
            canonicalize(&unsigned),
            r#"{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],"credentialSubject":{"alumniOf":"The School of Examples","id":"did:example:abcdefgh"},"description":"A minimum viable example of an Alumni Credential.","id":"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33","issuer":"https://vc.example/issuers/5678","name":"Alumni Credential","type":["VerifiableCredential","AlumniCredential"],"validFrom":"2023-01-01T00:00:00Z"}"#
        );
        let proof = create_proof(document, &w3c_options(), &keypair).unwrap();
        let mut config = proof.clone();
        config.remove("proofValue");
        assert_eq!(
            canonicalize(&Value::Object(config.clone())),
            r#"{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],"created":"2023-02-24T23:36:38Z","cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod","type":"DataIntegrityProof","verificationMethod":"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}"#
        );
        assert_eq!(
            hex(&hash_data(&config, document)),
            "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db\
             59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"
        );
        let value = proof["proofValue"].as_str().unwrap();
        assert_eq!(
            hex(decode_proof_value(value).unwrap().as_ref()),
            "407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b803\
             51da3f253d725c6f00b07c9e5448d50b3ef78012b9ab54255116d069c6dd2808"
        );
        assert_eq!(
            value,
            "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
        );

        // The signed credential of the test vectors verifies, and stops verifying when altered.
        let mut signed = unsigned.clone();
        signed["proof"] = Value::Object(proof);
        let key = keypair.pubkey();
        verify_data_integrity(signed.as_object().unwrap(), &key).unwrap();
        signed["credentialSubject"]["alumniOf"] = json!("Another School");
        assert_eq!(
            verify_data_integrity(signed.as_object().unwrap(), &key),
            Err(VcError::BrokenProof)
        );
    }

    /// Writes the fixture that `tests/vc/check.mjs` verifies with the W3C JavaScript libraries
    /// (`node tests/vc/check.mjs target/vc-fixture`).
    #[test]
    fn write_vc_fixture() {
        let dir =
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/vc-fixture"));
        std::fs::create_dir_all(dir).unwrap();
        let authority = authority();
        let credential = credential();
        let verified = verify_proof(&credential).unwrap();
        let mut tampered = credential.clone();
        tampered["credentialSubject"]["roles"] = json!(["clinician", "lab", "emergency"]);
        assert_eq!(verify_proof(&tampered), Err(VcError::BrokenProof));
        let write = |name: &str, value: &Value| {
            let text = serde_json::to_string_pretty(value).unwrap() + "\n";
            std::fs::write(dir.join(name), text).unwrap();
        };
        write("credential.json", &credential);
        write("tampered.json", &tampered);
        write(
            "did-authority.json",
            &did::document(&authority.pubkey(), None),
        );
        std::fs::write(
            dir.join("credential-ref.hex"),
            hex(&verified.credential_ref) + "\n",
        )
        .unwrap();
    }
}
