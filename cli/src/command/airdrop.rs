//! `careledger airdrop`: SOL from a localnet's (or devnet's) faucet, so that the CLI walkthrough
//! runs on a cluster as it does on a ledger folder, whose own faucet pays.
use crate::session::{default_keypair, rpc_url};
use crate::Cli;
use anyhow::{anyhow, bail, Result};
use careledger_sdk::rpc::RpcTransport;
use careledger_sdk::Pubkey;
use serde_json::{json, Value};
use solana_signer::Signer;
use std::str::FromStr;

const LAMPORTS_PER_SOL: f64 = 1_000_000_000.0;

pub async fn execute(cli: &Cli, address: Option<Pubkey>, sol: f64) -> Result<(Value, String)> {
    if cli.url.starts_with("embedded:") {
        bail!("a ledger folder needs no airdrop: its faucet pays every wallet that uses it");
    }
    if !(sol.is_finite() && sol > 0.0 && sol * LAMPORTS_PER_SOL < u64::MAX as f64) {
        bail!("--sol {sol} is not an amount of SOL (more than 0)");
    }
    let to = match address {
        Some(address) => address,
        None => {
            let path = cli.keypair.clone().unwrap_or_else(default_keypair);
            solana_keypair::read_keypair_file(&path)
                .map_err(|e| {
                    anyhow!(
                        "name the address to fund, or pass --keypair: cannot read {}: {e}",
                        path.display()
                    )
                })?
                .pubkey()
        }
    };
    let url = rpc_url(&cli.url)?;
    let commitment = solana_commitment_config::CommitmentConfig::from_str(&cli.commitment)
        .map_err(|_| anyhow!("unknown commitment `{}`", cli.commitment))?;
    let lamports = (sol * LAMPORTS_PER_SOL).round() as u64;
    RpcTransport::new(url.clone(), commitment)
        .airdrop(&to, lamports)
        .await
        .map_err(|e| {
            anyhow!("{url} gave no airdrop ({e}): only a localnet, devnet or testnet has a faucet")
        })?;
    Ok((
        json!({"address": to.to_string(), "lamports": lamports}),
        format!("{sol} SOL airdropped to {to}"),
    ))
}
