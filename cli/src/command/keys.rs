//! `careledger keygen` and `careledger address`: keypair files, as the Solana CLI writes them.
use crate::session::default_keypair;
use crate::Cli;
use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};
use solana_keypair::{read_keypair_file, write_keypair_file, Keypair};
use solana_signer::Signer;
use std::path::Path;

pub fn keygen(outfile: &Path) -> Result<(Value, String)> {
    if outfile.exists() {
        bail!(
            "{} exists: refusing to overwrite a keypair",
            outfile.display()
        );
    }
    let k = Keypair::new();
    write_keypair_file(&k, outfile)
        .map_err(|e| anyhow!("cannot write {}: {e}", outfile.display()))?;
    Ok((
        json!({ "pubkey": k.pubkey().to_string() }),
        format!("wrote {} ({})", outfile.display(), k.pubkey()),
    ))
}

pub fn address(cli: &Cli) -> Result<(Value, String)> {
    let path = cli.keypair.clone().unwrap_or_else(default_keypair);
    let k = read_keypair_file(&path)
        .map_err(|e| anyhow!("cannot read the keypair {}: {e}", path.display()))?;
    Ok((
        json!({ "pubkey": k.pubkey().to_string() }),
        k.pubkey().to_string(),
    ))
}

/// `careledger keys`: the X25519 key records are released to (a wallet signs, it cannot
/// decrypt; RFC 9180 recommends a key per purpose).
#[derive(clap::Subcommand)]
pub enum KeysCmd {
    /// Writes a new X25519 secret key file (mode 0600)
    New {
        #[arg(long)]
        outfile: std::path::PathBuf,
    },
    /// Publishes (or rotates to) the key file's public key on chain, for --keypair's wallet
    Publish {
        #[arg(long)]
        x25519_key: std::path::PathBuf,
    },
    /// Shows a wallet's published key (default: --keypair's)
    Show {
        #[arg(value_parser = crate::session::address)]
        wallet: Option<solana_pubkey::Pubkey>,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KeyFile {
    kind: String,
    /// base64
    x25519_secret: String,
    /// base64, for reference: it is derived from the secret on load
    x25519_public: String,
}

const KEY_FILE_KIND: &str = "careledger-x25519-secret-key";

use careledger_server::common::b64;

/// Writes a new key file, readable by its owner only.
pub fn new_x25519(outfile: &Path) -> Result<(Value, String)> {
    use base64::Engine;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let secret = careledger_records::envelope::KeyAgreementSecret::generate();
    let public = b64().encode(secret.public());
    let file = KeyFile {
        kind: KEY_FILE_KIND.into(),
        x25519_secret: b64().encode(secret.to_bytes()),
        x25519_public: public.clone(),
    };
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(outfile)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                anyhow!("{} exists: refusing to overwrite a key", outfile.display())
            }
            _ => anyhow!("cannot write {}: {e}", outfile.display()),
        })?;
    out.write_all(serde_json::to_string_pretty(&file)?.as_bytes())?;
    out.sync_all()?;
    Ok((
        json!({ "x25519": public }),
        format!(
            "wrote {} (X25519 public key {public}); publish it, signed by the wallet it is for, with `careledger -k WALLET.json keys publish --x25519-key {}`",
            outfile.display(),
            outfile.display()
        ),
    ))
}

/// Reads a key file written by `keys new`.
pub fn read_x25519(path: &Path) -> Result<careledger_records::envelope::KeyAgreementSecret> {
    use base64::Engine;
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow!(
            "cannot read the X25519 key {}: {e}. Create one with `careledger keys new --outfile FILE`",
            path.display()
        )
    })?;
    let file: KeyFile = serde_json::from_str(&text)
        .ok()
        .filter(|f: &KeyFile| f.kind == KEY_FILE_KIND)
        .ok_or_else(|| anyhow!("{} is not a careledger X25519 key file", path.display()))?;
    let bytes: [u8; 32] = b64()
        .decode(&file.x25519_secret)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| anyhow!("{}: the secret is not 32 bytes of base64", path.display()))?;
    Ok(careledger_records::envelope::KeyAgreementSecret::from_bytes(bytes))
}

pub async fn execute(s: &crate::session::Session, cmd: &KeysCmd) -> Result<(Value, String)> {
    use base64::Engine;
    use careledger_sdk::{ix, pda, EncryptionKey};
    match cmd {
        KeysCmd::New { .. } => bail!("internal error: `keys new` needs no session"),
        KeysCmd::Publish { x25519_key } => {
            let public = read_x25519(x25519_key)?.public();
            if !careledger_sdk::program::logic::keys::is_usable_x25519(&public) {
                bail!(
                    "{} holds a low-order X25519 key: make a new one",
                    x25519_key.display()
                );
            }
            let out = s
                .send(
                    ix::EncryptionKeySet {
                        wallet: s.me(),
                        x25519: public,
                    }
                    .instruction(),
                )
                .await?;
            let stored: EncryptionKey = s
                .client
                .fetch(&pda::encryption_key(&s.me()).0)
                .await
                .map_err(crate::session::explain)?;
            let mut v = crate::session::sent(&out);
            v["x25519"] = json!(b64().encode(public));
            v["key_version"] = json!(stored.key_version);
            Ok((
                v,
                format!(
                    "published X25519 key v{} for {}",
                    stored.key_version,
                    s.me()
                ),
            ))
        }
        KeysCmd::Show { wallet } => {
            let wallet = s.wallet_or_mine(*wallet, "wallet whose key to show")?;
            let key: Option<EncryptionKey> = s
                .client
                .fetch_optional(&pda::encryption_key(&wallet).0)
                .await
                .map_err(crate::session::explain)?;
            let key = key.ok_or_else(|| anyhow!("{wallet} has published no X25519 key"))?;
            let public = b64().encode(key.x25519);
            Ok((
                json!({"wallet": wallet.to_string(), "x25519": public, "key_version": key.key_version, "set_at": key.set_at}),
                format!("{wallet}: X25519 {public} (v{})", key.key_version),
            ))
        }
    }
}

/// Checks that the key file at `path` (whose public key is `public`) is the one `wallet`
/// published. A mismatch is never fixed by publishing it: that would replace the wallet's key
/// (or make another party's key its own), so publishing is offered only as a deliberate
/// rotation; `rotated` says what a rotation would mean for this wallet's role.
pub fn check_published(
    path: &Path,
    wallet: &solana_pubkey::Pubkey,
    published: Option<[u8; 32]>,
    public: [u8; 32],
    rotated: &str,
) -> Result<()> {
    use base64::Engine;
    match published {
        Some(k) if k == public => Ok(()),
        Some(k) => bail!(
            "{} is not the X25519 key published for wallet {wallet} (published {}, this file's {}): pass the key file whose public key was published. Publishing this one (`careledger keys publish --x25519-key {}`) would replace the published key: do that only to rotate the key on purpose ({rotated})",
            path.display(),
            b64().encode(k),
            b64().encode(public),
            path.display()
        ),
        None => bail!(
            "wallet {wallet} has published no X25519 key: publish this one with `careledger keys publish --x25519-key {}`",
            path.display()
        ),
    }
}
