//! `careledger did ADDRESS`: the did:sol DID document of an address, with the X25519 key it
//! publishes (if any) as its keyAgreement method.
use crate::session::{explain, Session};
use anyhow::{anyhow, Result};
use careledger_identity::did;
use careledger_sdk::{pda, EncryptionKey};
use serde_json::Value;
use solana_pubkey::Pubkey;
use std::path::Path;

/// The document (the JSON output in every case), and the document or what was written.
pub async fn execute(
    s: &Session,
    address: &Pubkey,
    out: Option<&Path>,
    force: bool,
) -> Result<(Value, String)> {
    let key: Option<EncryptionKey> = s
        .client
        .fetch_optional(&pda::encryption_key(address).0)
        .await
        .map_err(explain)?;
    let document = did::document(address, key.as_ref().map(|k| k.x25519));
    let text = serde_json::to_string_pretty(&document)?;
    let Some(out) = out else {
        return Ok((document, text));
    };
    write(out, &(text + "\n"), force)?;
    let agreement = match &key {
        Some(k) => format!("keyAgreement: its X25519 key v{}", k.key_version),
        None => "no keyAgreement: it has published no X25519 key".into(),
    };
    let summary = format!(
        "wrote {}: the DID document of {} ({agreement})",
        out.display(),
        did::did_of(address)
    );
    Ok((document, summary))
}

/// Writes the file, mode 0644; an existing one only with `force`.
fn write(path: &Path, text: &str, force: bool) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => anyhow!(
            "{} exists: refusing to overwrite it (pass --force to replace it)",
            path.display()
        ),
        _ => anyhow!("cannot write {}: {e}", path.display()),
    })?;
    file.write_all(text.as_bytes())?;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    file.sync_all()?;
    Ok(())
}
