//! Consent statements: the words a patient signs in a wallet before a grant, and the checks a
//! server runs on the signature. The rendering and the byte checks are the program's own
//! ([`careledger::logic::statement`], re-exported here), so what the SDK shows is what the
//! program verifies.
//!
//! ```
//! use careledger_sdk::statement::{for_grant, verify};
//! use careledger_sdk::{GrantCreateArgs, Keypair, Patient, Purpose, Signer, NO_RECORD_SCOPE};
//!
//! let wallet = Keypair::new();
//! let patient = Patient {
//!     wallet: wallet.pubkey(),
//!     guardian: Default::default(),
//!     guardian_expires_at: 0,
//!     consent_epoch: 0,
//!     record_count: 0,
//!     grant_count: 0,
//!     emergency_count: 0,
//!     registered_at: 0,
//!     bump: 255,
//!     epoch_changed_at: 0,
//!     consent_flags: 0,
//!     reserved: [0; 7],
//! };
//! let clinic = careledger_sdk::Pubkey::new_unique();
//! let args = GrantCreateArgs {
//!     purpose: Purpose::Treatment,
//!     classes: 0b1,
//!     actions: 1,
//!     record_scope: NO_RECORD_SCOPE,
//!     not_before: 0,
//!     expires_at: 1_900_000_000,
//! };
//! let text = for_grant(&patient, &wallet.pubkey(), &clinic, &args, 1_800_000_000).unwrap();
//! let signature = wallet.sign_message(&text);
//! let checked = verify(&text, &text, &wallet.pubkey(), signature.as_ref()).unwrap();
//! assert_eq!(checked, careledger_sdk::statement::SignedForm::Plain);
//! ```
pub use careledger::logic::statement::*;

use crate::{pda, GrantCreateArgs, Patient, Pubkey, SdkError};
use careledger::logic::authority::acting_for;

/// The statement terms of the grant `signer` would make for `patient` with `args` at `now`:
/// the patient's next serial, and whether the signer is the patient or their guardian.
pub fn terms_for_grant(
    patient: &Patient,
    signer: &Pubkey,
    grantee: &Pubkey,
    args: &GrantCreateArgs,
    now: i64,
) -> Result<StatementTerms, SdkError> {
    let actor =
        acting_for(patient, signer, now).map_err(|e| SdkError::InvalidInput(e.to_string()))?;
    let serial = patient
        .grant_count
        .checked_add(1)
        .ok_or_else(|| SdkError::InvalidInput("the patient has made u32::MAX grants".into()))?;
    Ok(StatementTerms {
        patient: patient.wallet,
        signer: *signer,
        actor,
        grantee: *grantee,
        grant: pda::grant(&patient.wallet, grantee, args.purpose).0,
        serial,
        classes: args.classes,
        actions: args.actions,
        purpose: args.purpose,
        record_scope: args.record_scope,
        not_before: args.not_before,
        expires_at: args.expires_at,
    })
}

/// The statement's bytes for that grant (see [`terms_for_grant`]).
pub fn for_grant(
    patient: &Patient,
    signer: &Pubkey,
    grantee: &Pubkey,
    args: &GrantCreateArgs,
    now: i64,
) -> Result<Vec<u8>, SdkError> {
    Ok(render(&terms_for_grant(
        patient, signer, grantee, args, now,
    )?))
}

/// Checks, before anything is sent, what the program will check: `signed_message` is
/// `statement` (plain or in an off-chain envelope naming `signer`) and `signature` is
/// `signer`'s Ed25519 signature over exactly those bytes.
pub fn verify(
    signed_message: &[u8],
    statement: &[u8],
    signer: &Pubkey,
    signature: &[u8],
) -> Result<SignedForm, SdkError> {
    let form = check_signed_form(signed_message, statement, signer).map_err(|e| match e {
        careledger::errors::CareledgerError::StatementMismatch => SdkError::InvalidInput(
            "the signed text is not the consent statement of these terms, byte for byte".into(),
        ),
        refused => SdkError::InvalidInput(refused.to_string()),
    })?;
    let signature = solana_signature::Signature::try_from(signature).map_err(|_| {
        SdkError::InvalidInput(format!("a signature is 64 bytes, not {}", signature.len()))
    })?;
    if !signature.verify(signer.as_ref(), signed_message) {
        return Err(SdkError::InvalidInput(format!(
            "the signature over the consent statement is not {signer}'s"
        )));
    }
    Ok(form)
}

/// The signed bytes among the forms a wallet may have signed `statement` in, for `signature`
/// by `signer`: the plain statement, its v1 envelope (wallet-standard's
/// `solana:signOffchainMessage`), its legacy envelope, or its v0 envelope with an
/// all-zero application domain (what wallets put there when the caller names none). A wallet's
/// `signMessage` returns only the signature, so a server finds the form this way.
pub fn signed_message_for(
    statement: &[u8],
    signer: &Pubkey,
    signature: &[u8],
) -> Result<(Vec<u8>, SignedForm), SdkError> {
    let candidates = [
        statement.to_vec(),
        offchain_v1(statement, signer),
        offchain_v0(statement, signer, &[0; 32]),
        offchain_legacy(statement),
    ];
    for message in candidates {
        if let Ok(form) = verify(&message, statement, signer, signature) {
            return Ok((message, form));
        }
    }
    Err(SdkError::InvalidInput(format!(
        "the signature is not {signer}'s over this consent statement, neither over its text nor in a Solana off-chain message envelope"
    )))
}
