//! `careledger credential verify FILE`: does a provider credential hold, on its own and against
//! the ledger? An invalid credential prints why and exits 1; a file that cannot be checked (not
//! readable, not JSON) exits 2, as `verify` does.
use crate::session::{explain, Session};
use anyhow::{anyhow, Result};
use careledger_identity::did;
use careledger_identity::vc::{self, VcError, VerifiedCredential};
use careledger_sdk::accounts::decode_nth;
use careledger_sdk::{pda, Config, Provider, Transport};
use careledger_server::common::hex;
use clap::Subcommand;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum CredentialCmd {
    /// Checks a provider credential's proof, then the provider account and the credential
    /// authority on chain, at the chain's clock
    Verify { file: PathBuf },
}

/// The verdict, and whether the credential is valid.
pub async fn execute(s: &Session, cmd: &CredentialCmd) -> Result<(Value, String, bool)> {
    let CredentialCmd::Verify { file } = cmd;
    let credential = read(file)?;
    let verified = match vc::verify_proof(&credential) {
        Ok(verified) => verified,
        Err(e) => return Ok(invalid(&e, &vc::credential_ref(&credential))),
    };
    let subject = verified.claims.provider;
    let addresses = [pda::provider(&subject).0, pda::config()];
    let at = s
        .client
        .transport()
        .accounts_at(&addresses)
        .await
        .map_err(explain)?;
    let config: Config = decode_nth(&at, &addresses, 1)
        .map_err(|e| anyhow!("cannot read careledger's config: {}", explain(e)))?;
    let provider: Provider = match at.accounts[0] {
        Some(_) => decode_nth(&at, &addresses, 0).map_err(explain)?,
        None => {
            let reason = format!(
                "the credential's subject {} is not a registered provider on this cluster",
                did::did_of(&subject)
            );
            return Ok(verdict_invalid(reason, &verified.credential_ref));
        }
    };
    match vc::check_status(
        &verified,
        &provider,
        &config.credential_authority,
        at.unix_timestamp,
    ) {
        Ok(()) => valid(&verified),
        Err(e) => Ok(invalid(&e, &verified.credential_ref)),
    }
}

fn read(file: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow!("cannot read the credential {}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{} is not JSON ({e}): a provider credential is the JSON file `careledger authority issue-credential` writes",
            file.display()
        )
    })
}

fn valid(verified: &VerifiedCredential) -> Result<(Value, String, bool)> {
    let claims = &verified.claims;
    let subject = did::did_of(&claims.provider);
    let from = vc::xml_datetime(claims.valid_from)?;
    let until = vc::xml_datetime(claims.valid_until)?;
    let value = json!({
        "valid": true,
        "provider": subject,
        "issuer": did::did_of(&verified.issuer),
        "roles": claims.roles,
        "valid_from": from,
        "valid_until": until,
        "credential_ref": hex(&verified.credential_ref),
    });
    let text = format!(
        "valid: {subject} roles {} until {until} (issued by the credential authority {})",
        claims.roles.join(", "),
        did::did_of(&verified.issuer)
    );
    Ok((value, text, true))
}

fn invalid(e: &VcError, credential_ref: &[u8; 32]) -> (Value, String, bool) {
    verdict_invalid(e.to_string(), credential_ref)
}

fn verdict_invalid(reason: String, credential_ref: &[u8; 32]) -> (Value, String, bool) {
    let value = json!({
        "valid": false,
        "reason": reason,
        "credential_ref": hex(credential_ref),
    });
    (value, format!("invalid: {reason}"), false)
}
