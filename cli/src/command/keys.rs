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
